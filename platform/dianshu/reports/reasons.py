# ruff: noqa: E501  (catalogue entries: one message a line, long ones too)
"""The refusal reasons' message catalogue: every reason a refusal gives (dianshu.errors.Refused, a
refused row of an upload, an argument the API refuses), keyed by a stable code, in Chinese (the
default) and English. The sibling of dianshu.reports.labels (the labels' catalogue); one home for
the wording of refusals.

Gettext-style: the English template is the message id. The domain keeps raising its reasons in
English, as it always has (the API's `reason` and `message` fields, the stored refused rows and the
clients that read them stay as they were); at the edge (an API response, a download, the CLI's
line) `localize` finds the template an English reason was made from, which gives its code and
parameters, and renders the same template in the asked language (a nested reason in it too, and
a label-like parameter through TERMS; a placeholder of a known shape matches only that shape:
SHAPES); a "field: reason" is read after its prefix, and a prefix that is an upload column is
named in Chinese with its code ("性别(gend): …", `field_name`), and so is an argument the API or the
CLI refuses by (FIELDS: "年度(input.year): …"; a CLI line is "第 3 行: …"). A reason no template makes stays
in English and has no code. tests/test_reasons.py extracts every reason written in the source (as
xgettext would: the reason argument of each refusal, the message argument of each exception a
user reads (JobRejected, ExpectedError, AuthError, PermissionError … : its MESSAGE_ARG), each
`*_reason` / `*refusal` function's returns) and fails when one has no entry here, or an entry
lacks a language, or its Chinese keeps English words."""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from functools import lru_cache

from dianshu.cases.layout import COLUMNS
from dianshu.reports.labels import MESSAGES
from dianshu.tabular.write import Lang

# code -> (zh, en). Placeholders are str.format fields; a template's English is what the code raises.
REASONS: dict[str, tuple[str, str]] = {
    "not_one_of_got": (
        "应为 {join} 之一（实际为 {b}）",
        "one of {join} (got {b})",
    ),
    "given_twice": (
        "{b} 重复给出",
        "{b} is given twice",
    ),
    "must_text": (
        "应为文本",
        "must be text",
    ),
    "must_whole_number": (
        "应为整数",
        "must be a whole number",
    ),
    "must_year_from": (
        "应为 {YEAR_MIN} 至 {YEAR_MAX} 之间的年份（实际为 {value}）",
        "must be a year from {YEAR_MIN} to {YEAR_MAX} (got {value})",
    ),
    "must_month_from": (
        "应为 {MONTH_MIN} 至 {MONTH_MAX} 之间的月份（实际为 {value}）",
        "must be a month from {MONTH_MIN} to {MONTH_MAX} (got {value})",
    ),
    "must_month_yyyy_mm": (
        "应为 YYYY-MM 格式的月份（实际为 {value}）",
        "must be a month as YYYY-MM (got {value})",
    ),
    "must_hospital_level_one": (
        "应为医院等级 {join} 之一（实际为 {value}）",
        "must be a hospital level, one of {join} (got {value})",
    ),
    "must_finite_decimal": (
        "应为有限的小数（实际为 {value}）",
        "must be a finite decimal (got {value})",
    ),
    "must_below_size": (
        "绝对值应小于 {DECIMAL_MAX_ABS}",
        "must be below {DECIMAL_MAX_ABS} in size",
    ),
    "must_have_at_most_decimal": (
        "最多 {places} 位小数（实际为 {value}）",
        "must have at most {places} decimal places (got {value})",
    ),
    "must_not_contain_control_characters": (
        "不得含控制字符（第 {start} 位为 U+{ord}）",
        "must not contain control characters (U+{ord} at position {start})",
    ),
    "must_at_most_characters": (
        "最多 {max_chars} 个字符（实际为 {count} 个）",
        "must be at most {max_chars} characters (got {count})",
    ),
    "file_name_csv_jsonl_optionally": (
        "文件 {filename}：文件名应以 .csv 或 .jsonl 结尾（可再加 .gz）",
        "file {filename}: name it .csv or .jsonl (optionally .gz)",
    ),
    "not_valid_json_not_number": (
        "不是有效的 JSON：{name} 不是数字",
        "not valid JSON: {name} is not a number",
    ),
    "field_appears_twice": (
        "字段 {twice} 出现了两次",
        "field {twice} appears twice",
    ),
    "fields_header_has": (
        "有 {count} 个字段，表头有 {count2} 个",
        "{count} fields, the header has {count2}",
    ),
    "not_json_object": (
        "不是 JSON 对象",
        "not a JSON object",
    ),
    "unknown_field": (
        "未知字段 {join}",
        "unknown field(s) {join}",
    ),
    "not_valid_gzip_file": (
        "不是有效的 gzip 文件：{e}",
        "not a valid gzip file: {e}",
    ),
    "header_longer_than_characters": (
        "表头：超过 {MAX_LINE_CHARS} 个字符",
        "header: longer than {MAX_LINE_CHARS} characters",
    ),
    "header_line_holds_carriage_return": (
        "表头行含回车符：文件使用仅 CR 的（旧 Mac）换行符；请以 LF 或 CRLF 换行后重新发送",
        "the header line holds a carriage return: the file has CR-only (old Mac) line endings; send it with LF or CRLF line endings",
    ),
    "header_no_known_column": (
        "表头：没有已知的列名：第一行须为表头（setl_id、fixmedins_code 等）",
        "header: no known column name: the first line must be the header (setl_id, fixmedins_code, ...)",
    ),
    "header_unknown_column": (
        "表头：未知列 {join}",
        "header: unknown column(s) {join}",
    ),
    "header_missing_required_column": (
        "表头：缺少必填列 {join}",
        "header: missing required column(s) {join}",
    ),
    "header_column_appears_twice": (
        "表头：有列重复出现",
        "header: a column appears twice",
    ),
    "cannot_read_csv": (
        "无法按 CSV 读取：{reason}",
        "cannot be read as CSV: {reason}",
    ),
    "not_valid_json_at_column": (
        "不是有效的 JSON：{msg}，位于第 {colno} 列",
        "not valid JSON: {msg} at column {colno}",
    ),
    "not_valid_json": (
        "不是有效的 JSON：{reason}",
        "not valid JSON: {reason}",
    ),
    "compressed_file_truncated_gzip_stream": (
        "压缩文件不完整：gzip 数据在结束标记前中断（未接收任何内容；请重新发送完整文件）",
        "the compressed file is truncated: the gzip stream ends before its end marker (nothing was accepted; send the whole file again)",
    ),
    "header_cannot_read_csv": (
        "表头：无法按 CSV 读取：{e}",
        "header: cannot be read as CSV: {e}",
    ),
    "must_310_employee_390_resident": (
        "应为 310（职工）或 390（居民）（实际为 {insutype}）",
        "must be 310 (employee) or 390 (resident) (got {insutype})",
    ),
    "must_yibao_guolin": (
        "应为 yibao（医保版）或 guolin（国临版）（实际为 {coding}）",
        "must be yibao or guolin (got {coding})",
    ),
    "required_at_least_principal_diagnosis": (
        "必填：至少填写主要诊断",
        "required: at least the principal diagnosis",
    ),
    "values_for_diagnoses": (
        "{count} 个值，但有 {count2} 个诊断",
        "{count} values for {count2} diagnoses",
    ),
    "dates_for_procedures": (
        "{count} 个日期，但有 {count2} 个手术操作",
        "{count} dates for {count2} procedures",
    ),
    "one_level_1_4_per": (
        "每个手术操作一个级别（1-4）",
        "one level (1-4) per procedure",
    ),
    "longer_than_characters": (
        "超过 {max_len} 个字符（{count} 个）",
        "longer than {max_len} characters ({count})",
    ),
    "malformed_value": (
        "格式错误的值 {x}",
        "malformed value {x}",
    ),
    "not_a_whole_number_got": (
        "应为整数（实际为 {x}）",
        "must be a whole number (got {x})",
    ),
    "must_one": (
        "应为 {join} 之一（实际为 {n}）",
        "must be one of {join} (got {n})",
    ),
    "must_between": (
        "应在 {lo} 与 {hi} 之间（实际为 {n}）",
        "must be between {lo} and {hi} (got {n})",
    ),
    "not_the_expected_kind": (
        "应为{expected}（实际为 {x}）",
        "must be {expected} (got {x})",
    ),
    "must_non_negative": (
        "应为非负{noun}（实际为 {x}）",
        "must be a non-negative {noun} (got {x})",
    ),
    "must_less_than": (
        "应小于 {value} {unit}（实际为 {shown}）",
        "must be less than {value} {unit} (got {shown})",
    ),
    "date_before_earliest": (
        "{x} 早于 {EARLIEST}",
        "{x} is before {EARLIEST}",
    ),
    "future_after_beijing_time": (
        "{x} 在未来（晚于北京时间 {latest}）",
        "{x} is in the future (after {latest} Beijing time)",
    ),
    "items_at_most": (
        "{count} 项：最多 {MAX_ITEMS} 项",
        "{count} items: at most {MAX_ITEMS}",
    ),
    "subject_empty": (
        "{subject}为空",
        "{subject} is empty",
    ),
    "each_must_1_2_3": (
        "每项应为 1、2、3 或 4",
        "each must be 1, 2, 3 or 4",
    ),
    "procedure_empty": (
        "第 {i} 个手术操作为空",
        "procedure {i} is empty",
    ),
    "discharge_before_admission": (
        "出院时间 {discharge} 早于入院时间 {admit}",
        "discharge {discharge} is before admission {admit}",
    ),
    "birth_date_after_admission": (
        "出生日期 {date} 晚于入院时间 {date2}",
        "birth date {date} is after admission {date2}",
    ),
    "14_charge_categories_sum_not": (
        "14 类费用合计为 {s}，不等于 {total}",
        "the 14 charge categories sum to {s}, not {total}",
    ),
    "fund_self_pay_own_pay": (
        "基金支付 {fund} + 个人自付 {selfpay} + 个人自费 {ownpay} = {paid}，不等于总费用 {total}",
        "fund {fund} + self-pay {selfpay} + own-pay {ownpay} = {paid}, not the total {total}",
    ),
    "each_item": (
        "每一项{why}",
        "each item {why}",
    ),
    "required": (
        "必填",
        "required",
    ),
    "not_real_date_time": (
        "不是真实的日期/时间 {x}",
        "not a real date/time {x}",
    ),
    "given_for_patient_aged_years": (
        "患者年龄为 {age} 岁却填写了此项：仅适用于一岁以下（0 岁）患者",
        "given for a patient aged {age} years: only for patients under one year (age 0)",
    ),
    "item_longer_than_characters": (
        "有一项超过 {MAX_CODE_LEN} 个字符（{n} 个）",
        "an item is longer than {MAX_CODE_LEN} characters ({n})",
    ),
    "not_icd_10_v2_0": (
        "{diagnosis} {code} 不是医保版 ICD-10 v2.0 编码",
        "{diagnosis} {code} is not a 医保版 ICD-10 v2.0 code",
    ),
    "procedure_not_icd_9_cm": (
        "第 {i} 个手术操作 {code} 不是医保版 ICD-9-CM-3 v2.0 编码",
        "procedure {i} {code} is not a 医保版 ICD-9-CM-3 v2.0 code",
    ),
    "procedure_on_outside_stay": (
        "第 {i} 个手术操作的日期 {d} 不在住院期间内",
        "procedure {i} on {d} is outside the stay",
    ),
    "principal_diagnosis_grey_code_not": (
        "主要诊断 {code} 是灰码（不能作为主要诊断）",
        "principal diagnosis {code} is a grey code (not valid as principal)",
    ),
    "procedure_not_date": (
        "第 {i} 个手术操作：不是日期 {d}",
        "procedure {i}: not a date {d}",
    ),
    "days_but_dates_give": (
        "{v} 天，但按日期应为 {expected} 天",
        "{v} days, but the dates give {expected}",
    ),
    "hours_longer_than_stay_hours": (
        "{v} 小时，超过住院时长（{quantize} 小时）",
        "{v} hours, longer than the stay ({quantize} hours)",
    ),
    "principal_diagnosis": (
        "主要诊断 {code}：{why}",
        "principal diagnosis {code}: {why}",
    ),
    "external_cause_v01_y98_cannot": (
        "损伤中毒的外部原因（V01-Y98）不能作为主要诊断",
        "an external cause (V01-Y98) cannot be the principal diagnosis",
    ),
    "asterisk_manifestation_code_cannot_principal": (
        "星号（临床表现）编码不能作为主要诊断",
        "an asterisk (manifestation) code cannot be the principal diagnosis",
    ),
    "morphology_code_cannot_principal_diagnosis": (
        "形态学编码不能作为主要诊断",
        "a morphology code cannot be the principal diagnosis",
    ),
    "must_string_number_not_true": (
        "应为字符串或数字，不能是 true/false",
        "must be a string or a number, not true/false",
    ),
    "must_single_value_not_object": (
        "应为单个值，不能是对象",
        "must be a single value, not an object",
    ),
    "must_single_value_not_array": (
        "应为单个值，不能是数组",
        "must be a single value, not an array",
    ),
    "must_string_exact_number_not": (
        "应为字符串或精确数字，不能是二进制浮点数",
        "must be a string or an exact number, not a binary float",
    ),
    "must_string_number_not": (
        "应为字符串或数字，不能是 {name}",
        "must be a string or a number, not {name}",
    ),
    "contains_control_character_u_at": (
        "含控制字符（U+{ord}），位于第 {value} 位",
        "contains a control character (U+{ord}) at position {value}",
    ),
    "has_leading_trailing_spaces": (
        "首尾有空格",
        "has leading or trailing spaces",
    ),
    "columns_must_missing_unknown": (
        "列应为 {join}（缺少 {value}，未知 {value2}）",
        "columns must be {join} (missing {value}, unknown {value2})",
    ),
    "must_between_0_100": (
        "应在 0 与 100 之间（实际为 {value}）",
        "must be between 0 and 100 (got {value})",
    ),
    "each_dimension_once": (
        "每个维度只能出现一次",
        "each dimension once",
    ),
    "must_sum_100": (
        "合计应为 100（实际为 {sum}）",
        "must sum to 100 (got {sum})",
    ),
    "must_have_exactly_cells": (
        "应恰好有 {count} 个单元格",
        "must have exactly {count} cells",
    ),
    "must_decimal": (
        "应为小数（实际为 {value}）",
        "must be a decimal (got {value})",
    ),
    "code_both_names_are_required": (
        "编码和中英文名称均为必填",
        "code and both names are required",
    ),
    "appears_twice": (
        "重复出现",
        "appears twice",
    ),
    "already_another_indicator": (
        "{r} 已被另一指标使用",
        "{r} is already another indicator's",
    ),
    "monitor_only_indicator_weighs_0": (
        "仅监测的指标权重为 0（实际为 {weight}）",
        "a monitor-only indicator weighs 0 (got {weight})",
    ),
    "active_indicator_weighs_more_than": (
        "启用的指标权重应大于 0",
        "an active indicator weighs more than 0",
    ),
    "active_weights_must_sum_100": (
        "启用指标的权重合计应为 100（实际为 {total}）",
        "active weights must sum to 100 (got {total})",
    ),
    "decimal_string_integer_never": (
        "应为字符串形式的小数或整数，不能是 {name}",
        "a decimal as a string or an integer, never {name}",
    ),
    "not_decimal": (
        "{value} 不是小数",
        "{value} is not a decimal",
    ),
    "at_most_decimal_places": (
        "最多 {PLACES} 位小数（实际为 {v}）",
        "at most {PLACES} decimal places (got {v})",
    ),
    "not_indicator_catalogue": (
        "{code} 不是指标目录 {label} 中的指标",
        "{code} is not an indicator of the catalogue {label}",
    ),
    "computed_from_data_source_not": (
        "{code} 由数据计算得出（来源 {source}）：无需录入",
        "{code} is computed from the data (source {source}): it is not entered",
    ),
    "text_at_most_characters": (
        "最多 {NOTE_MAX} 个字符的文本",
        "text of at most {NOTE_MAX} characters",
    ),
    "not_hospital": (
        "不是 {tenant} 的医院",
        "not a hospital of {tenant}",
    ),
    "at_least_one_tenant_required": (
        "至少需要一个单位",
        "at least one tenant is required",
    ),
    "indicators_are_computed_for_region": (
        "指标按统筹区或全市计算：医院范围内没有可比较的同级医院",
        "indicators are computed for a region or the city: a hospital's scope sees no peers",
    ),
    "no_published_payment_standard_force": (
        "{city} 在 {on} 没有生效的已发布支付标准：分组类指标需要支付标准",
        "no published payment standard of {city} is in force on {on}: the grouping indicators need one",
    ),
    "no_evaluation_run": (
        "{tenant} 中没有考核批次 {run_id}",
        "no evaluation run {run_id} in {tenant}",
    ),
    "was_retired_by_newer_published": (
        "已被更新发布的版本取代",
        "it was retired by a newer published version",
    ),
    "version_not_newest_publish_newest": (
        "第 {version} 版不是最新版（最新为第 {newest} 版）：请发布最新批次",
        "version {version} is not the newest ({newest}): publish the newest run",
    ),
    "required_at_most_60_characters": (
        "必填，最多 60 个字符",
        "required, at most 60 characters",
    ),
    "already_label_another_catalogue": (
        "{label} 已是另一指标目录的名称",
        "{label} is already the label of another catalogue",
    ),
    "year_whole_number": (
        "应为整数年份（实际为 {value}）",
        "a year as a whole number (got {value})",
    ),
    "no_such_catalogue_version": (
        "没有该目录版本",
        "no such catalogue version",
    ),
    "must_after_effective_from_first": (
        "应晚于 effective_from（{start}）：这是不再生效的第一年",
        "must be after effective_from ({start}): it is the first year no longer in force",
    ),
    "force_only_draft_can_published": (
        "状态为 {status}（生效 {effective_from}–{value}）：只有草稿可以发布",
        "is {status} (in force {effective_from}–{value}): only a draft can be published",
    ),
    "no_evaluation_catalogue_published_for": (
        "{year} 年没有已发布的考核指标目录",
        "no evaluation catalogue is published for {year}",
    ),
    "must_string": (
        "应为字符串（实际为 {shown}）",
        "must be a string (got {shown})",
    ),
    "must_not_empty": (
        "不能为空",
        "must not be empty",
    ),
    "must_not_start_end_with": (
        "首尾不能有空格（实际为 {shown}）",
        "must not start or end with a space (got {shown})",
    ),
    "must_not_contain_invisible_characters": (
        "不得含不可见字符（实际为 {shown}）",
        "must not contain invisible characters (got {shown})",
    ),
    "no_such_review_not_yours": (
        "{tenant} 中没有该特病单议申请（或不属于您）",
        "no such review in {tenant} (or not yours)",
    ),
    "special_review_happens_region_not": (
        "特病单议在统筹区进行，而不是在市级",
        "special review happens in a region, not a city",
    ),
    "required_say_why_case_needs": (
        "必填：说明该病例需要单议的理由",
        "required: say why the case needs review",
    ),
    "no_current_active_case_not": (
        "{tenant} 中没有当前有效的该病例（或不属于您）",
        "no current, active case in {tenant} (or not yours)",
    ),
    "case_not_grouped_under_payment": (
        "该病例尚未按支付标准分组",
        "the case is not grouped under the payment standard yet",
    ),
    "not_eligible_case_drg_cases": (
        "不符合条件：DRG {drg} 的{type}病例（标准中 {drg_cases} 例），住院 {los_days} 天，无新技术",
        "not eligible: {type} case of DRG {drg} ({drg_cases} cases in the standard), {los_days} days, no new technology",
    ),
    "hospital_has_used_applications_for": (
        "该医院 {year} 年已使用 {used} 次申请，上限 {allowed} 次（出院 {discharges} 人次的 {review_quota_ratio}）",
        "the hospital has used {used} of {allowed} applications for {year} ({review_quota_ratio} of {discharges} discharges)",
    ),
    "required_every_step_says_why": (
        "必填：每一步都要说明理由",
        "required: every step says why",
    ),
    "pool_has_experts_are_needed": (
        "专家库有 {count} 位专家，需要 {need} 位",
        "the pool has {count} experts; {need} are needed",
    ),
    "review_not_review": (
        "该申请状态为{state}，不在评审中",
        "the review is {state}, not in review",
    ),
    "you_are_not_assigned_this": (
        "您未被分配到本轮评审",
        "you are not assigned to this round of the review",
    ),
    "already_given_opinions_are_not": (
        "已提交意见（{opinion}）；意见不可修改",
        "already given ({opinion}); opinions are not edited",
    ),
    "must_not_negative": (
        "不能为负数（实际为 {points}）",
        "must not be negative (got {points})",
    ),
    "experts_have_not_given_opinion": (
        "{count} 位专家中有 {missing} 位尚未提交意见",
        "{missing} of {count} experts have not given an opinion yet",
    ),
    "add_points_needs_points_review": (
        "add_points 需要给出评审确定的点数（实际为 {points}）",
        "add_points needs the points the review sets (got {points})",
    ),
    "cannot_review": (
        "{role}不能{action}特病单议申请",
        "a {role} cannot {action} a review",
    ),
    "cannot_review_that_only": (
        "不能{action}状态为{state}的申请（仅限{states}）",
        "cannot {action} a review that is {state} (only {states})",
    ),
    "review_can_appealed_once": (
        "每个申请只能申诉一次",
        "a review can be appealed once",
    ),
    "ungroupable_0000": (
        "无法入组（0000）",
        "ungroupable (0000)",
    ),
    "ambiguous_group": (
        "歧义组 {drg}",
        "ambiguous group {drg}",
    ),
    "drg_has_no_parameters_standard": (
        "标准中 DRG {drg} 没有参数",
        "DRG {drg} has no parameters in the standard",
    ),
    "drg_unstable": (
        "DRG {drg} 不稳定",
        "DRG {drg} is unstable",
    ),
    "no_cases_nothing_clear": (
        "没有病例：无可清算",
        "no cases: nothing to clear",
    ),
    "no_case": (
        "没有病例 {first}",
        "no case {first}",
    ),
    "not_an_allowed_value": (
        "应为 {join} 之一",
        "must be one of {join}",
    ),
    "required_ledger_has_cases": (
        "必填：该险种账户有病例",
        "required: a ledger has cases",
    ),
    "must_year": (
        "应为年份（实际为 {year}）",
        "must be a year (got {year})",
    ),
    "required_say_why_budget_set": (
        "必填：说明设定该预算的理由",
        "required: say why the budget is set",
    ),
    "must_between_0_5_0": (
        "应在 -0.5 与 0.5 之间（实际为 {g}）",
        "must be between -0.5 and 0.5 (got {g})",
    ),
    "must_list_item_amount": (
        '应为 {{"item": ..., "amount": ...}} 组成的列表',
        'must be a list of {{"item": ..., "amount": ...}}',
    ),
    "carve_outs_leave_no_budget": (
        "扣除项目后没有剩余预算（T = {total}）",
        "the carve-outs leave no budget (T = {total})",
    ),
    "required_name_what_paid_outside": (
        "必填：写明点数以外支付的项目",
        "required: name what is paid outside the points",
    ),
    "no_cases_enter_last_year": (
        "{tenant} 中没有 {value} 年的 {ledger} 病例：请录入上年支出",
        "no {ledger} cases of {value} in {tenant}: enter last year's spending",
    ),
    "must_positive": (
        "应为正数（实际为 {spent}）",
        "must be positive (got {spent})",
    ),
    "must_json_object_hospital_code": (
        "应为“医院编码 -> 系数”形式的 JSON 对象",
        "must be a JSON object of hospital code -> coefficient",
    ),
    "no_annual_clearing_run": (
        "{tenant} 中没有年终清算批次 {run_id}",
        "no annual clearing run {run_id} in {tenant}",
    ),
    "no_policy_for_run_ledger": (
        "该批次的险种账户 {ledger} 没有政策",
        "no policy for the run's ledger {ledger}",
    ),
    "changed_figures_are_too_large": (
        "变动后的数字过大，无法精确计算到分",
        "the changed figures are too large to compute to the fen",
    ),
    "required_say_why_parameters_change": (
        "必填：说明参数变更的理由",
        "required: say why the parameters change",
    ),
    "must_json_object_parameter_names": (
        "应为“参数名 -> 值”形式的 JSON 对象",
        "must be a JSON object of parameter names to values",
    ),
    "no_settlement_run": (
        "{tenant} 中没有结算批次 {run_id}",
        "no settlement run {run_id} in {tenant}",
    ),
    "version_not_newest_publish_newest_rerun": (
        "第 {version} 版不是最新版（最新为第 {newest} 版）：请发布最新的重算批次",
        "version {version} is not the newest ({newest}): publish the newest re-run",
    ),
    "already_published": (
        "{ledger} 的{what}已发布（{published}）",
        "{what} of {ledger} is already published ({published})",
    ),
    "must_plain_decimal_such_0": (
        '应为普通小数，例如 "0.6"（实际为 {value}）',
        'must be a plain decimal such as "0.6" (got {value})',
    ),
    "must_above_0_at_most": (
        "应大于 0 且不超过 1（实际为 {r}）",
        "must be above 0 and at most 1 (got {r})",
    ),
    "required_at_most_20_characters": (
        "必填，最多 20 个字符",
        "required, at most 20 characters",
    ),
    "must_json_object_hospital_ratio": (
        '应为“医院 -> 比例”形式的 JSON 对象：{{"H1": "0.6", ...}}',
        'must be a JSON object of hospital -> ratio: {{"H1": "0.6", ...}}',
    ),
    "alliance_has_at_least_two": (
        "医联体至少有两家成员医院",
        "an alliance has at least two member hospitals",
    ),
    "ratios_must_sum_exactly_1": (
        "比例合计应恰好为 1（实际为 {got}）",
        "the ratios must sum to exactly 1 (got {got})",
    ),
    "not_member": (
        "{lead} 不是成员",
        "{lead} is not a member",
    ),
    "must_year_from_2000_2100": (
        "应为 2000 至 2100 之间的年份（实际为 {year}）",
        "must be a year from 2000 to 2100 (got {year})",
    ),
    "at_most_2_decimal_places": (
        "最多 2 位小数（实际为 {s}）",
        "at most 2 decimal places (got {s})",
    ),
    "required_say_why_score_overrides": (
        "必填：说明该得分覆盖考核结果的理由",
        "required: say why the score overrides the evaluation",
    ),
    "at_most_1000_characters": (
        "最多 1000 个字符",
        "at most 1000 characters",
    ),
    "required_say_what_was_found": (
        "必填：说明发现的问题",
        "required: say what was found",
    ),
    "no_such_case": (
        "{tenant} 中没有该病例",
        "no such case in {tenant}",
    ),
    "violation_already_confirmed_on_this": (
        "该病例已确认一项 {kind} 违规",
        "a {kind} violation is already confirmed on this case",
    ),
    "required_audit_own_number_at": (
        "必填（稽核的编号），最多 100 个字符",
        "required (the audit's own number), at most 100 characters",
    ),
    "employee_resident_all": (
        "应为 employee（职工）、resident（居民）或 all（合并）（实际为 {ledger}）",
        "employee, resident or all (got {ledger})",
    ),
    "not_settlement_month": (
        "{year}-{month} 不是结算月份",
        "{year}-{month} is not a settlement month",
    ),
    "positive_amount_fen": (
        "应为以分计的正金额（实际为 {value}）",
        "a positive amount in fen (got {value})",
    ),
    "required_say_what_audit_found": (
        "必填：说明稽核发现的问题",
        "required: say what the audit found",
    ),
    "already_recorded_with_other_figures": (
        "已以不同的数字记录过",
        "already recorded with other figures",
    ),
    "already_alliance": (
        "{join} 已在医联体 {id} 中",
        "{join} already in alliance {id}",
    ),
    "must_json_object": (
        "应为 JSON 对象（实际为 {show}）",
        "must be a JSON object (got {show})",
    ),
    "must_json_array": (
        "应为 JSON 数组（实际为 {show}）",
        "must be a JSON array (got {show})",
    ),
    "must_json_boolean_true_false": (
        "应为 JSON 布尔值 true 或 false（实际为 {show}）",
        "must be a JSON boolean, true or false (got {show})",
    ),
    "out_of_bound": (
        "应 {sign} {get}（实际为 {show}）",
        "must be {sign} {get} (got {show})",
    ),
    "at_most_characters": (
        "最多 {get} 个字符",
        "at most {get} characters",
    ),
    "at_least_item": (
        "至少 {get} 项",
        "at least {get} item(s)",
    ),
    "at_most_items": (
        "最多 {get} 项",
        "at most {get} items",
    ),
    "no_such_finding_not_yours": (
        "没有该监管发现（或不属于您）",
        "no such finding (or not yours)",
    ),
    "list_finding_list_ids": (
        "该发现的结算清单流水号列表",
        "a list of the finding's list ids",
    ),
    "each_case_once": (
        "每个病例只能出现一次",
        "each case once",
    ),
    "required_say_why": (
        "必填：说明理由",
        "required: say why",
    ),
    "reason_at_most_characters": (
        "最多 {MAX_REASON} 个字符（实际为 {count} 个）",
        "at most {MAX_REASON} characters (got {count})",
    ),
    "confirmed_dismissed": (
        "应为 confirmed（确认）或 dismissed（排除）",
        "confirmed or dismissed",
    ),
    "already_by_on": (
        "已于 {decided_at} 由 {decided_by} {was}",
        "already {was} by {decided_by} on {decided_at}",
    ),
    "rule_confirms_no_case_violation": (
        "规则 {rule} 不确认病例违规：无可扣减",
        "rule {rule} confirms no case violation: nothing to deduct",
    ),
    "no_case_named_signal_alone": (
        "未指明病例：仅有信号无可扣减",
        "no case named: a signal alone has nothing to deduct",
    ),
    "cases_are_named_on_confirming": (
        "仅在确认时指明病例",
        "cases are named on confirming only",
    ),
    "rule_takes_no_named_cases": (
        "规则 {rule} 不接受指明病例（{what}）",
        "rule {rule} takes no named cases ({what})",
    ),
    "case_not_one_finding_cases": (
        "病例 {lid}：不是该发现的病例",
        "case {lid}: not one of the finding's cases",
    ),
    "case_refused": (
        "病例 {list_id}：{reason}",
        "case {list_id}: {reason}",
    ),
    "not_accepted_give_leave_out": (
        "不接受 {given}：请给出 {ACCEPTED}，或不填以自动识别",
        "{given} is not accepted: give {ACCEPTED}, or leave it out to detect",
    ),
    "declared_utf_8_but_file": (
        "声明为 utf-8，但文件从 {failed} 起不是 UTF-8；如果以中文 ANSI/GBK 保存，请声明 gb18030，或不填 encoding 以自动识别",
        "declared utf-8, but the file is not UTF-8 from {failed}; declare gb18030 if it was saved as Chinese ANSI/GBK, or leave encoding out to detect it",
    ),
    "utf_8_but_ends_inside": (
        "是 UTF-8 但在字符中间结束（{failed}）：文件可能不完整（未接收任何内容；请重新发送完整文件）",
        "is UTF-8 but ends inside a character ({failed}): the file may be cut short (nothing was accepted; send the whole file again)",
    ),
    "starts_with_utf_8_byte": (
        "以 UTF-8 字节顺序标记开头，但从 {failed} 起不是 UTF-8",
        "starts with a UTF-8 byte-order mark but is not UTF-8 from {failed}",
    ),
    "utf_16_excel_unicode_text": (
        "是 UTF-16（Excel 的“Unicode 文本”）：请另存为“CSV UTF-8”或 CSV",
        "is UTF-16 (Excel's 'Unicode Text'): save it as 'CSV UTF-8' or CSV",
    ),
    "declared_but_file_not_from": (
        "声明为 {enc}，但文件从 {position} 起不是 {upper}",
        "declared {enc}, but the file is not {upper} from {position}",
    ),
    "gb18030_but_ends_inside_character": (
        "是 GB18030 但在字符中间结束（{position}）：文件可能不完整（未接收任何内容；请重新发送完整文件）",
        "is GB18030 but ends inside a character ({position}): the file may be cut short (nothing was accepted; send the whole file again)",
    ),
    "neither_utf_8_nor_gb18030": (
        "既不是 UTF-8 也不是 GB18030 文本：从 {position} 起不是 GB18030",
        "neither UTF-8 nor GB18030 text: not GB18030 from {position}",
    ),
    "not_text_from": (
        "从 {where} 起不是 {upper} 文本",
        "not {upper} text from {where}",
    ),
    "must_one_1_2_3": (
        "应为 1、2、3 之一（实际为 {level}）",
        "must be one of 1, 2, 3 (got {level})",
    ),
    "longer_than_20_characters": (
        "超过 20 个字符",
        "longer than 20 characters",
    ),
    "must_positive_decimal_with_at": (
        "应为最多 4 位小数的正数（实际为 {raw_coef}）",
        "must be a positive decimal with at most 4 places (got {raw_coef})",
    ),
    "appears_twice_this_roster": (
        "在本名册中重复出现",
        "appears twice in this roster",
    ),
    "no_attendance_at_session": (
        "人员 {pid} 没有场次 {s_code} 的出勤记录",
        "no attendance of {pid} at session {s_code}",
    ),
    "must_text_not": (
        "应为文本，不能是 {name}",
        "must be text, not {name}",
    ),
    "must_code_1_30_letters": (
        "应为 1 至 30 位字母、数字、_ . - 组成的编码（实际为 {v}）",
        "must be a code of 1 to 30 letters, digits, _ . - (got {v})",
    ),
    "must_decimal_text_whole_number": (
        "应为小数（文本形式）或整数，不能是 {name}",
        "must be a decimal (as text) or a whole number, not {name}",
    ),
    "out_of_range": (
        "应在 {low}（{bound}）至 {high} 之间（实际为 {v}）",
        "must be {bound} {low} to {high} (got {v})",
    ),
    "at_most_decimal_place": (
        "最多 {places} 位小数（实际为 {v}）",
        "at most {places} decimal place(s) (got {v})",
    ),
    "must_date_yyyy_mm_dd": (
        "应为 YYYY-MM-DD 格式的日期",
        "must be a date YYYY-MM-DD",
    ),
    "not_region_training_records_are": (
        "{t} 不是统筹区：培训记录保存在医院所在的统筹区",
        "{t} is not a region: training records are kept in the hospitals' region",
    ),
    "required_for_hospital_level_session": (
        "医院级场次必填，且仅限医院级场次",
        "required for a hospital-level session, and only for one",
    ),
    "host_not_a_hospital_of": (
        "{host} 不是 {t} 的医院",
        "{host} is not a hospital of {t}",
    ),
    "no_course": (
        "{t} 中没有课程 {course_code}",
        "no course {course_code} in {t}",
    ),
    "must_true_false": (
        "应为 true 或 false",
        "must be true or false",
    ),
    "only_with_active_false_person": (
        "仅当 active 为 false（人员已离开）时填写",
        "only with active false (a person who left)",
    ),
    "coder_physician_has_hospital_bureau": (
        "编码员或医师有所属医院；医保局人员没有",
        "a coder or physician has a hospital; bureau staff have none",
    ),
    "before_activefrom": (
        "{left} 早于 activeFrom {start}",
        "{left} is before activeFrom {start}",
    ),
    "cannot_change_register_person_anew": (
        "为 {getattr}，不可更改（请以新的编号重新登记该人员）",
        "is {getattr} and cannot change (register the person anew under another id)",
    ),
    "must_date_yyyy_mm_dd_got": (
        "应为 YYYY-MM-DD 格式的日期（实际为 {value}）",
        "must be a date YYYY-MM-DD (got {value})",
    ),
    "must_pseudonymised_id_4_64": (
        "应为 4 至 64 位字母、数字、_ . - 组成的脱敏编号（不得为姓名；实际为 {v}）",
        "must be a pseudonymised id of 4 to 64 letters, digits, _ . - (never a name; got {v})",
    ),
    "looks_like_id_card_phone": (
        "疑似身份证号或电话号码：请给出脱敏编号，不得使用本人的号码",
        "looks like an ID-card or phone number: give the pseudonymised id, never the person's own numbers",
    ),
    "your_role_sees_no_hospital": (
        "您的角色看不到任何医院",
        "your role sees no hospital",
    ),
    "required_name_hospital_draft_for": (
        "必填：指明该草稿所属的医院",
        "required: name the hospital the draft is for",
    ),
    "no_hospital_that_you_may": (
        "没有您可查看的医院 {code}",
        "no hospital {code} that you may see",
    ),
    "check_cannot_price_draft": (
        "{problem}：无法为该草稿测算价格",
        "{problem}: the check cannot price the draft",
    ),
    "you_may_check_drafts_for": (
        "您只能检查本院（{hospital_id}）的草稿",
        "you may check drafts for your own hospital {hospital_id} only",
    ),
    "not_region": (
        "不是统筹区",
        "not a region",
    ),
    "not_id": (
        "不是编号",
        "not an id",
    ),
    "unknown": (
        "未知",
        "unknown",
    ),
    "give_either_scenario_file": (
        "请给出 scenario 或 file 之一",
        "give either scenario or file",
    ),
    "must_json_object_bare": (
        "应为 JSON 对象",
        "must be a JSON object",
    ),
    "larger_than_mib": (
        "超过 {value} MiB",
        "larger than {value} MiB",
    ),
    "role_may_not_do_this": (
        "{role}无权执行此操作（允许：{roles}）",
        "role {role} may not do this (allowed: {roles})",
    ),
    "tenant_outside_your_scope": (
        "单位 {tenant} 不在您的权限范围内",
        "tenant {tenant} is outside your scope",
    ),
    "more_than_2_decimal_places": (
        "有超过 2 位小数（实际为 {x}）",
        "has more than 2 decimal places (got {x})",
    ),
    "more_than_2_decimal_places_fen": (
        "有超过 2 位小数（实际为 {x}）：金额以分为单位",
        "has more than 2 decimal places (got {x}): amounts are in fen",
    ),
    "unknown_parameter_allowed": (
        "未知参数（允许：{allowed}）",
        "unknown parameter (allowed: {allowed})",
    ),
    "given_more_than_once": (
        "给出了不止一次",
        "given more than once",
    ),
    "one_of_list": (
        "应为 {formats} 之一",
        "one of {formats}",
    ),
    "zh_or_en": (
        "应为 zh 或 en",
        "zh or en",
    ),
    "required_yyyy_mm": (
        "必填（YYYY-MM）",
        "required (YYYY-MM)",
    ),
    "unknown_parameter_none_taken": (
        "未知参数（不接受任何参数）",
        "unknown parameter (none are taken)",
    ),
    "not_export_id": (
        "不是导出编号",
        "not an export id",
    ),
    "no_export_you_may_see": (
        "没有您可查看的 {tenant} 导出 {export_id}",
        "no export {export_id} of {tenant} that you may see",
    ),
    "not_batch_id": (
        "不是批次编号",
        "not a batch id",
    ),
    "no_batch_you_may_see": (
        "没有您可查看的 {tenant} 批次 {batch_id}",
        "no batch {batch_id} of {tenant} that you may see",
    ),
    "xlsx_at_most_refused_rows": (
        "XLSX 最多容纳 {rows} 条拒收行，本批次更多：请下载 format=csv",
        "an XLSX holds at most {rows} refused rows here and this batch has more: download format=csv",
    ),
    "must_drg_or_adrg": (
        "应为 drg 或 adrg",
        "must be drg or adrg",
    ),
    "not_job_id": (
        "不是任务编号",
        "not a job id",
    ),
    "one_of_path_ext_not": (
        "应为 {formats} 之一（路径的 .{ext} 不是）",
        "one of {formats} (the path's .{ext} is not)",
    ),
    "format_disagrees_path_ext": (
        "请求了 {fmt}，但路径以 .{ext} 结尾：只给一个，或使两者一致",
        "{fmt} asked for on a path ending .{ext}: give one or make them agree",
    ),
    "only_with_format_csv_xlsx": (
        "仅在 format 为 csv 或 xlsx 时可用",
        "only with format csv or xlsx",
    ),
    "not_run_id": (
        "不是批次编号",
        "not a run id",
    ),
    "no_statement_in_run": (
        "批次 {run_id} 中没有 {hospital} 的结算单（或不属于您）",
        "no statement of {hospital} in run {run_id} (or not yours)",
    ),
    "not_year": (
        "不是年份",
        "not a year",
    ),
    "must_json_object_draft": (
        '应为 JSON 对象：{{"draft": {{...}}, "hospital": ...}}',
        'must be a JSON object: {{"draft": {{...}}, "hospital": ...}}',
    ),
    "unknown_key_draft_hospital": (
        "未知键（允许：draft、hospital）",
        "unknown key (allowed: draft, hospital)",
    ),
    "must_hospital_code_string": (
        "应为医院编码（字符串）",
        "must be a hospital code (a string)",
    ),
    "must_whole_number_amount": (
        "应为整数 / 金额",
        "must be a whole number / an amount",
    ),
    "must_year_4_digits": (
        "应为 4 位数字的年份（实际为 {raw}）",
        "must be a year as 4 digits (got {raw})",
    ),
    "must_hospital_code": (
        "应为医院编码",
        "must be a hospital code",
    ),
    "no_region_you_may_see": (
        "没有您可查看的统筹区 {tenant}",
        "no region {tenant} that you may see",
    ),
    "no_hospital_of_you_may_see": (
        "没有您可查看的 {tenant} 医院 {hospital}",
        "no hospital {hospital} of {tenant} that you may see",
    ),
    "must_month_1_12": (
        "应为 1 至 12 的月份（实际为 {month}）",
        "must be a month from 1 to 12 (got {month})",
    ),
    # A job's refusal of a tenant it does not know (supervision/run.py: "tenant: {tenant} is unknown").
    "is_unknown": (
        "{name} 不存在",
        "{name} is unknown",
    ),
    # Validators' ValueErrors that "must be {expected} (got {x})" would read with English inside
    # (workstation/draft.py's sex, strict.py's decimals).
    "must_1_male_2_female": (
        "应为 1（男）或 2（女）（实际为 {value}）",
        "must be 1 (male) or 2 (female) (got {value})",
    ),
    "must_below_in_size": (
        "绝对值应小于 {limit}（实际为 {value}）",
        "must be below {limit} in size (got {value})",
    ),
    "must_decimal_string_or_integer": (
        "应为小数（以字符串表示）或整数（实际为 {kind}）",
        "must be a decimal as a string or an integer (got {kind})",
    ),
    # The CLI's bad input (dianshu_cli.errors.run): its usage errors as its Click (Typer's copy)
    # words them, an unknown standard, a file the system cannot find.
    "cli_help_hint": (
        "{reason}（-h 查看帮助）",
        "{reason} (-h for help)",
    ),
    "cli_invalid_value": (
        "{param} 的值无效：{reason}",
        "Invalid value for {param}: {reason}",
    ),
    "cli_invalid_value_env": (
        "{param}（环境变量 {env}）的值无效：{reason}",
        "Invalid value for {param} (env var: {env}): {reason}",
    ),
    "cli_value_error": (
        "取值有误：{reason}",
        "Value error, {reason}",
    ),
    "cli_not_one_of": (
        "{given} 不是 {choices} 之一。",
        "{given} is not one of {choices}.",
    ),
    "cli_path_does_not_exist": (
        "{path_kind} {path} 不存在。",
        "{path_kind} {path} does not exist.",
    ),
    "cli_path_is_directory": (
        "{path_kind} {path} 是目录。",
        "{path_kind} {path} is a directory.",
    ),
    "cli_path_is_file": (
        "{path_kind} {path} 是文件。",
        "{path_kind} {path} is a file.",
    ),
    "cli_path_not_readable": (
        "{path_kind} {path} 不可读。",
        "{path_kind} {path} is not readable.",
    ),
    "cli_path_not_writable": (
        "{path_kind} {path} 不可写。",
        "{path_kind} {path} is not writable.",
    ),
    "cli_missing_option": (
        "缺少选项 {option}。",
        "Missing option {option}.",
    ),
    "cli_missing_argument": (
        "缺少参数 {argument}。",
        "Missing argument {argument}.",
    ),
    "cli_no_such_option": (
        "没有选项 {option}",
        "No such option: {option}",
    ),
    "cli_no_such_option_possible": (
        "没有选项 {option}（可用的选项：{options}）",
        "No such option: {option} (Possible options: {options})",
    ),
    "cli_option_requires_argument": (
        "选项 {option} 需要一个值。",
        "Option {option} requires an argument.",
    ),
    "cli_no_such_command": (
        "没有命令 {name}。",
        "No such command {name}.",
    ),
    "cli_no_such_command_did_you_mean": (
        "没有命令 {name}。是否要输入 {suggestion}？",
        "No such command {name}. Did you mean {suggestion}?",
    ),
    "cli_extra_arguments": (
        "多余的参数（{args}）",
        "Got unexpected extra argument(s) ({args})",
    ),
    "cli_input_at_least": (
        "应大于或等于 {n}",
        "Input should be greater than or equal to {n}",
    ),
    "cli_input_integer": (
        "应为整数（无法读作整数）",
        "Input should be a valid integer, unable to parse string as an integer",
    ),
    "unknown_standard_nor_folder": (
        "未知的分组方案 {standard}：既不是 {schemes} 之一，也不是文件夹",
        "unknown standard {standard}: not one of {schemes} nor a folder",
    ),
    # `dianshu group`'s summary lines on stderr (said with Reason(...).text in the CLI's language).
    "cli_group_compiled": (
        "{compiled_standard}：已编译 {drgs} 个 DRG 组，用时 {seconds} 秒",
        "{compiled_standard}: {drgs} DRGs compiled in {seconds}s",
    ),
    "cli_group_summary": (
        "共 {records} 条记录：已入组 {grouped} 条，无法入组 {ungroupable} 条，歧义 {ambiguous} 条，无效行 {invalid} 条",
        "{records} records: {grouped} grouped, {ungroupable} ungroupable, {ambiguous} ambiguous, {invalid} invalid lines",
    ),
    "dir_has_no_manifest": (
        "{folder} 中没有 manifest.json（由 'dianshu generate' 生成）",
        "{folder} has no manifest.json (written by `dianshu generate`)",
    ),
    "required_or_schema": (
        "必填（或给出 --schema）",
        "required (or --schema)",
    ),
    "cannot_read_why": (
        "无法读取：{reason}",
        "cannot read: {reason}",
    ),
    # A scheme folder's table that is not there (standards/tables.py).
    "table_file_is_missing": (
        "文件缺失",
        "file is missing",
    ),
    # Python's json module's wording of a malformed file ("Expecting value: line 1 column 2 (char 1)").
    "json_error_at": (
        "{json_msg}（第 {line} 行第 {column} 列，第 {char} 个字符）",
        "{json_msg}: line {line} column {column} (char {char})",
    ),
    "no_such_file_or_directory": (
        "文件或目录不存在",
        "No such file or directory",
    ),
    # The audit log's filter (audit/query.py).
    "has_no_time_zone": (
        "{t} 没有时区（例如 2025-01-01T00:00:00+08:00）",
        "{t} has no time zone (e.g. 2025-01-01T00:00:00+08:00)",
    ),
    "is_not_after_since": (
        "{until} 不晚于 since {since}",
        "{until} is not after since {since}",
    ),
    "is_not_an_action": (
        "{value} 不是操作名（例如 cases.batch.submitted，或 cases.）",
        "{value} is not an action (e.g. cases.batch.submitted, or cases.)",
    ),
    "is_not_an_entity_type": (
        "{entity_type} 不是对象类型（例如 batch、job）",
        "{entity_type} is not an entity type (e.g. batch, job)",
    ),
    "needs_entity_type": (
        "需要 entityType（对象写作 类型:编号）",
        "needs entityType (a target is type:id)",
    ),
    "must_1_to_printable_characters": (
        "应为 1 至 {n} 个可打印字符",
        "must be 1 to {n} printable characters",
    ),
    # The audit log's download (graphql audit_downloads.py).
    "is_not_a_time": (
        "{value} 不是时间（例如 2025-01-01T00:00:00+08:00）",
        "{value} is not a time (e.g. 2025-01-01T00:00:00+08:00)",
    ),
    "more_than_entries_narrow_the_range": (
        "超过 {n} 条记录：请缩小时间范围（since、until）或其他筛选条件",
        "more than {n} entries: narrow the range (since, until) or the other filters",
    ),
    # settlement/runs/publish.py: the run's points were pruned after a newer points run.
    "points_run_superseded_settle_again": (
        "其点数计算 {points_run} 已被取代、病例点数已清理：请重新结算",
        "its points run {points_run} was superseded and its case points pruned: settle again",
    ),
    # Written by SQL in cases/ingest.py (the roster check of a batch), not a Python literal.
    "hospital_not_within_your_scope": (
        "医院 {hospital} 不是您权限范围内 {tenant} 的医院",
        "hospital {hospital} is not a hospital of {tenant} within your scope",
    ),
    # Issue 14: the reasons of the other refusals a user reads (a job's JobRejected, the API's
    # ExpectedError / InvalidId / BadRequest, a token's AuthError, PermissionError, SheetRefused).
    "unknown_parameter_allowed_year": (
        "{name}: 未知参数（允许：year）",
        "{name}: unknown parameter (allowed: year)",
    ),
    "no_tenant": (
        "单位 {tenant} 不存在",
        "no tenant {tenant}",
    ),
    "analytics_refreshed_for_whole_region": (
        "运营分析按整个统筹区（全部医院）刷新",
        "analytics are refreshed for a whole region (every hospital)",
    ),
    "jsonl_must_be_utf8": (
        "JSON Lines 文件应为 UTF-8 编码（RFC 8259），而此文件{why}",
        "JSON Lines must be UTF-8 (RFC 8259), and this file is {why}",
    ),
    "not_utf8_from": (
        "自 {failed} 起不是 UTF-8",
        "not UTF-8 from {failed}",
    ),
    "declared_encoding": (
        "声明为 {encoding}",
        "declared {encoding}",
    ),
    "is_empty": (
        "为空",
        "is empty",
    ),
    "ingestion_batch_not_found": (
        "未找到导入批次 {batch}",
        "ingestion batch {batch} not found",
    ),
    # A review's grounds (reviews/workflow.py `grounds`): why a case may be reviewed, not a refusal,
    # said at the edge like one (Review.localizedGrounds).
    "ground_high_outlier": (
        "高倍率病例",
        "high outlier",
    ),
    "ground_ungroupable": (
        "无法入组",
        "ungroupable",
    ),
    "ground_small_drg": (
        "DRG 组病例数少于 {small} 例（{cases} 例）",
        "DRG with fewer than {small} cases ({cases})",
    ),
    "ground_long_stay": (
        "住院超过 {days} 天（{los} 天）",
        "stay over {days} days ({los})",
    ),
    "ground_new_technology": (
        "新技术",
        "new technology",
    ),
    # A job's progress message (Job.message; ctx.progress in cases/ingest.py, settlement/runs/points.py,
    # ...): not a refusal, said at the edge like one (Job.localizedMessage, the portal's jobs page).
    "progress_validating_rows": ("正在校验数据行", "validating rows"),
    "progress_rows_read": ("已读取 {tally} 行", "{tally} rows read"),
    "progress_checking_hospitals": ("正在核对医院、重复记录和更正记录", "checking hospitals, repeats and corrections"),
    "progress_merging": ("正在合并入库", "merging"),
    "progress_reading_cases": ("正在读取病例", "reading cases"),
    "progress_cases": ("共 {tally} 个病例", "{tally} cases"),
    "progress_case_points": ("已计算 {tally} 个病例的点数", "{tally} case points"),
    "progress_reading_case_features": ("正在读取病例特征", "reading case features"),
    "progress_exporting_month": ("正在导出 {period}", "exporting {period}"),
    "progress_signals": (
        "正在计算 {year_from}—{year_to} 年度的监管信号（{tally} 个统筹区）",
        "signals {year_from}-{year_to} of {tally} region(s)",
    ),
    "progress_fitting_scoring": ("{tally} 个病例：正在拟合和评分", "{tally} cases: fitting and scoring"),
    "progress_grouping_history": ("正在对历史年度分组", "grouping the history years"),
    "progress_analytics_region": ("正在刷新运营分析：{region} {run_year} 年度", "analytics {region} {run_year}"),
    "progress_scored": ("已完成评分：{scored}", "scored {scored}"),
    "progress_importing_hospitals": ("正在导入医院", "importing hospitals"),
    "progress_simulating": ("正在测算", "simulating"),
    "progress_staging_hospitals": ("正在准备各医院的数据", "staging the hospitals' figures"),
    "progress_rule": ("正在执行监管规则 {rule_code}", "rule {rule_code}"),
    "progress_grouping": ("正在分组", "grouping"),
    "progress_groupings": ("已完成 {tally} 次分组", "{tally} groupings"),
    "ingestion_batch_already": (
        "导入批次 {batch} 已是{batch_status}状态",
        "ingestion batch {batch} is already {batch_status}",
    ),
    "required_at_most_200_characters": (
        "必填，最多 200 个字符",
        "required, at most 200 characters",
    ),
    "must_be_partial_or_all_or_nothing": (
        "应为 partial（部分接收）或 all_or_nothing（全部接收或全部拒收）（实际为 {value}）",
        "must be partial or all_or_nothing (got {value})",
    ),
    "must_be_whole_number_0_to_int_max": (
        "应为 0 至 2147483647 之间的整数",
        "must be a whole number from 0 to 2147483647",
    ),
    "must_be_amount_below_limit_2_decimals": (
        "应为小于 100,000,000,000,000 的非负金额，最多 2 位小数",
        "must be a non-negative amount below 100,000,000,000,000 with at most 2 decimals",
    ),
    "no_accepted_case_of_hospital": (
        "{period} 没有医院 {hospital} 已接收的病例 {list_id}（或不属于您）",
        "no accepted case {list_id} of hospital {hospital} in {period} (or not yours)",
    ),
    "case_settled_cannot_be_recalled": (
        "医院 {hospital} 的病例 {list_id} 于 {month} 出院，已由已发布的{run_kind}结算批次 {run_id}（第 {version} 版）结算：不能撤回",
        "case {list_id} of hospital {hospital} was discharged in {month}, already settled by the published {run_kind} run {run_id} (version {version}): it cannot be recalled",
    ),
    "role_may_not_enter_indicator_values": (
        "{role}无权录入指标值（由医保局录入）",
        "role {role} may not enter indicator values (the bureau enters them)",
    ),
    "unknown_parameters": (
        "未知参数 {names}",
        "unknown {names}",
    ),
    # strict.py: a JSON key the schema does not have (a scenario, a policy, any strict argument).
    "unknown_key_top_level": (
        "此处不应有键 {key}：它属于顶层",
        "unknown key here: {key} belongs at the top level",
    ),
    "unknown_key_did_you_mean": (
        "未知的键（是否要写 {suggestion}？）",
        "unknown key (did you mean {suggestion}?)",
    ),
    "unknown_key_allowed": (
        "未知的键（允许：{allowed}）",
        "unknown key (allowed: {allowed})",
    ),
    "unknown_key": (
        "未知的键",
        "unknown key",
    ),
    # strict.py's decimals (Dec, Money) and the scenario's cross-references (arithmetic/scenario.py).
    "decimals_travel_as_strings": (
        "小数应以字符串传递，不能是 {kind}（{value}）",
        "decimals travel as strings, not {kind} ({value})",
    ),
    "not_a_plain_decimal": (
        '{value} 不是普通小数（只含数字，小数点后至多 {places} 位，如 "{example}"）',
        '{value} is not a plain decimal (digits, at most {places} after the point: "{example}")',
    ),
    "decimal_too_many_places": (
        "{what}至多保留 {places} 位小数（实际为 {value}）",
        "{what} has at most {places} decimal places (got {value})",
    ),
    "duplicate_is_also": (
        "重复：{value} 已出现在 {other}",
        "duplicate: {value} is also {other}",
    ),
    "not_in_hospitals": (
        "{value} 不在 hospitals 中",
        "{value} is not in hospitals",
    ),
    "not_in_groups": (
        "{value} 不在 groups 中（无法入组的病例填 {ungroupable}）",
        "{value} is not in groups ({ungroupable} for an ungroupable case)",
    ),
    "case_cannot_readmit_itself": (
        "病例不能是自身的再入院",
        "a case cannot readmit itself",
    ),
    "spec_floor_is": (
        "SPEC 规定的下限为 {floor}（实际为 {x}）",
        "SPEC's floor is {floor} (got {x})",
    ),
    "cli_give_one_to_three_years": (
        "请给出一至三个 --year",
        "give one to three --year",
    ),
    "cli_give_dir_or_tenant_file": (
        "请给出 --dir，或同时给出 --tenant 和 --file",
        "give --dir, or --tenant and --file",
    ),
    "cli_monthly_or_annual": (
        "应为 monthly 或 annual",
        "monthly or annual",
    ),
    "cli_not_a_date": (
        "{value} 不是日期（YYYY-MM-DD）",
        "{value} is not a date (YYYY-MM-DD)",
    ),
    "cli_not_built_in_give_dir": (
        "{scheme} 不是内置方案：请给出 --dir",
        "{scheme} is not built in: give --dir",
    ),
    "cli_table_or_json": (
        "应为 table 或 json",
        "table or json",
    ),
    # db/guard.py: the API and the workers refuse a login that row-level security would not bind
    "refusing_to_start_unsafe_role": (
        "拒绝启动：{why}（行级安全将不起作用）。请以运行时角色连接（APP_DATABASE_URL / DIANSHU_APP_ROLE）。",
        "refusing to start: {why} (row-level security would not apply). "
        "Connect as the runtime role (APP_DATABASE_URL / DIANSHU_APP_ROLE).",
    ),
    # db/roles.py runtime_role_problems: why a login must not run the API or a worker
    "runtime_role_superuser": (
        "角色 {pg_role} 是超级用户",
        "role {pg_role} is a superuser",
    ),
    "runtime_role_bypassrls": (
        "角色 {pg_role} 具有 BYPASSRLS",
        "role {pg_role} has BYPASSRLS",
    ),
    "cli_configuration_error": (
        "配置错误：{reason}",
        "configuration error: {reason}",
    ),
    "must_be_true_or_false": (
        "应为 true 或 false（实际为 {show}）",
        "must be true or false (got {show})",
    ),
    "must_be_a_number_got": (
        "应为数值（实际为 {show}）",
        "must be a number (got {show})",
    ),
    "config_file_missing": (
        "DIANSHU_CONFIG_FILE={path}：文件不存在",
        "DIANSHU_CONFIG_FILE={path}: no such file",
    ),
    "config_jwt_algorithm": (
        "DIANSHU_JWT_ALGORITHM={value}：应为 HS256 或 RS256",
        "DIANSHU_JWT_ALGORITHM={value}: must be HS256 or RS256",
    ),
    "config_prod_database": (
        "生产环境（DIANSHU_PROFILE=prod）：必须设置 DATABASE_URL（生产环境不使用内嵌 PostgreSQL）",
        "profile prod: DATABASE_URL is required (no embedded PostgreSQL in production)",
    ),
    "config_prod_broker": (
        "生产环境（DIANSHU_PROFILE=prod）：必须设置 REDIS_URL 或 AMQP_URL（不使用内嵌 Redis）",
        "profile prod: REDIS_URL or AMQP_URL is required (no embedded Redis)",
    ),
    "config_prod_jwt_secret": (
        "生产环境（DIANSHU_PROFILE=prod）：使用 HS256 时必须设置 DIANSHU_JWT_SECRET",
        "profile prod: DIANSHU_JWT_SECRET is required with HS256",
    ),
    "config_prod_rs256_keys": (
        "生产环境（DIANSHU_PROFILE=prod）：RS256 需要 DIANSHU_JWT_JWKS_URL、DIANSHU_JWT_JWKS_FILE 或 DIANSHU_JWT_PUBLIC_KEY_FILE",
        "profile prod: RS256 needs DIANSHU_JWT_JWKS_URL, DIANSHU_JWT_JWKS_FILE or DIANSHU_JWT_PUBLIC_KEY_FILE",
    ),
    "config_prod_jwks_https": (
        "生产环境（DIANSHU_PROFILE=prod）：DIANSHU_JWT_JWKS_URL={url}：必须为 https://（经明文 http 获取的公钥可能在传输中被替换）",
        "profile prod: DIANSHU_JWT_JWKS_URL={url}: must be https:// (keys fetched over plain http could be replaced in transit)",
    ),
    "config_jwks_url": (
        "DIANSHU_JWT_JWKS_URL={url}：应为 http(s):// 地址",
        "DIANSHU_JWT_JWKS_URL={url}: must be an http(s):// URL",
    ),
    "config_jwks_needs_rs256": (
        "DIANSHU_JWT_JWKS_URL 需要 DIANSHU_JWT_ALGORITHM=RS256",
        "DIANSHU_JWT_JWKS_URL needs DIANSHU_JWT_ALGORITHM=RS256",
    ),
    "config_cors_origin": (
        "DIANSHU_CORS_ALLOWED_ORIGINS：{origin} 不是来源（scheme://host[:port]，不可用 '*'）",
        "DIANSHU_CORS_ALLOWED_ORIGINS: {origin} is not an origin (scheme://host[:port], no '*')",
    ),
    "config_oidc_missing": (
        "已设置 DIANSHU_OIDC_ISSUER：还须设置 {settings}",
        "DIANSHU_OIDC_ISSUER is set: {settings} also required",
    ),
    "config_oidc_secret": (
        "OIDC 登录：必须设置 DIANSHU_OIDC_CLIENT_SECRET 或 DIANSHU_OIDC_CLIENT_SECRET_FILE",
        "OIDC sign-in: DIANSHU_OIDC_CLIENT_SECRET or DIANSHU_OIDC_CLIENT_SECRET_FILE is required",
    ),
    "config_prod_oidc_https": (
        "生产环境（DIANSHU_PROFILE=prod）：DIANSHU_OIDC_ISSUER 必须为 https:// 地址",
        "profile prod: DIANSHU_OIDC_ISSUER must be an https:// URL",
    ),
    "config_otlp_endpoint": (
        "DIANSHU_OTEL_EXPORTER_OTLP_ENDPOINT={url}：应为 http(s):// 地址",
        "DIANSHU_OTEL_EXPORTER_OTLP_ENDPOINT={url}: must be an http(s):// URL",
    ),
    "config_one_broker": (
        "REDIS_URL 与 AMQP_URL 只能设置一个",
        "set only one of REDIS_URL and AMQP_URL",
    ),
    "config_one_psn_key": (
        "DIANSHU_PSN_KEY 与 DIANSHU_PSN_KEY_FILE 只能设置一个",
        "set only one of DIANSHU_PSN_KEY and DIANSHU_PSN_KEY_FILE",
    ),
    "config_psn_key_file_missing": (
        "DIANSHU_PSN_KEY_FILE={path}：文件不存在",
        "DIANSHU_PSN_KEY_FILE={path}: no such file",
    ),
    "config_prod_psn_key_why": (
        "生产环境（DIANSHU_PROFILE=prod）：必须设置 DIANSHU_PSN_KEY 或 DIANSHU_PSN_KEY_FILE（患者编号以带密钥的哈希保存）",
        "profile prod: DIANSHU_PSN_KEY or DIANSHU_PSN_KEY_FILE is required (patient ids are stored as a keyed hash)",
    ),
    "config_psn_key_short": (
        "DIANSHU_PSN_KEY：{n} 个字符，至少需要 {min}",
        "DIANSHU_PSN_KEY: {n} characters, at least {min} required",
    ),
    "config_prod_psn_dev_key": (
        "生产环境（DIANSHU_PROFILE=prod）：DIANSHU_PSN_KEY 是公开的开发密钥",
        "profile prod: DIANSHU_PSN_KEY is the published dev key",
    ),
    "config_prod_psn_key": (
        "生产环境（DIANSHU_PROFILE=prod）：必须设置 DIANSHU_PSN_KEY 或 DIANSHU_PSN_KEY_FILE",
        "profile prod: DIANSHU_PSN_KEY or DIANSHU_PSN_KEY_FILE is required",
    ),
    "layout_required": (
        "{setl_where}：{layout_section}.{layout_field}（{name_zh}）为必填",
        "{setl_where}: {layout_section}.{layout_field} ({name_zh}) is required",
    ),
    "layout_too_long": (
        "{setl_where}：{layout_section}.{layout_field} 超过 {length} 个字符",
        "{setl_where}: {layout_section}.{layout_field} longer than {length} characters",
    ),
    "layout_not_a_code": (
        "{setl_where}：{layout_section}.{layout_field}（{name_zh}）{value} 不是 {codes} 之一",
        "{setl_where}: {layout_section}.{layout_field} ({name_zh}) {value} is not one of {codes}",
    ),
    "layout_not_duration": (
        "{setl_where}：{layout_section}.{layout_field} 不符合格式 {format}",
        "{setl_where}: {layout_section}.{layout_field} is not {format}",
    ),
    "layout_not_a_number": (
        "{setl_where}：{layout_section}.{layout_field} 应为数值",
        "{setl_where}: {layout_section}.{layout_field} must be a number",
    ),
    "layout_too_many_places": (
        "{setl_where}：{layout_section}.{layout_field} 的小数超过 {scale} 位",
        "{setl_where}: {layout_section}.{layout_field} has more than {scale} places",
    ),
    "layout_too_many_digits": (
        "{setl_where}：{layout_section}.{layout_field} 超过 {precision} 位数字",
        "{setl_where}: {layout_section}.{layout_field} has more than {precision} digits",
    ),
    "layout_unknown_field": (
        "{setl_where}：{layout_field} 不是该表的字段",
        "{setl_where}: {layout_field} is not a field of the table",
    ),
    "scenario_bed_day_points_required": (
        "床日病组必填",
        "required for a bed-day group",
    ),
    "scenario_bed_day_points_only": (
        "仅用于床日病组（bed_day: true）",
        "only for a bed-day group (bed_day: true)",
    ),
    "scenario_review_points_or_review": (
        "special_review_points 与 special_review 只能给出一个",
        "give special_review_points or special_review, not both",
    ),
    "scenario_add_points_required": (
        "评审结果为 add_points 时必填",
        "required when the outcome is add_points",
    ),
    "scenario_only_with_add_points": (
        "仅用于 add_points（评审结果为 {outcome}）",
        "only with add_points (the outcome is {outcome})",
    ),
    "scenario_not_a_ledger": (
        "不是该政策的台账（{why}）",
        "not a ledger of this policy ({why})",
    ),
    "scenario_merged_one_budget": (
        "merge_ledgers 已开启：只有一个预算 all",
        "merge_ledgers is on: one budget, all",
    ),
    "scenario_only_with_merge": (
        "仅在 merge_ledgers 开启时使用",
        "only with merge_ledgers",
    ),
    "scenario_budget_required": (
        "必填：有 {fund} 病例",
        "required: there are {fund} cases",
    ),
    "scenario_not_utf8": (
        "不是 UTF-8（第 {byte} 个字节）",
        "not UTF-8 (byte {byte})",
    ),
    "scenario_file_too_large": (
        "超过 {limit} 字节（DIANSHU_SIMULATE_FILE_MAX_BYTES）",
        "larger than {limit} bytes (DIANSHU_SIMULATE_FILE_MAX_BYTES)",
    ),
    "standard_label_used": (
        "{scheme} 的版本标签 {label} 已用于不同的分组表或编码版本",
        "{scheme} version label {label} is already used for different tables or code editions",
    ),
    "standard_cannot_be_grouped": (
        "版本 {version} 无法分组：{reason}",
        "version {version} cannot be grouped: {reason}",
    ),
    "standard_no_such": (
        "没有支付标准 {standard_id}",
        "no payment standard {standard_id}",
    ),
    "standard_retire_published_only": (
        "版本 {label} 为{status}：只有已发布的版本可以停用",
        "version {label} is {status}: only a published version can be retired",
    ),
    "not_a_hospital_of_the_region": (
        "不是本统筹区的医院",
        "not a hospital of the region",
    ),
    "must_be_at_least_0_below_1": (
        "应不小于 0 且小于 1（实际为 {x}）",
        "must be at least 0 and below 1 (got {x})",
    ),
    "city_peer_scope_city_admin_runs": (
        "evaluation_peer_scope 为 city：同级医院为全市各统筹区的医院，须由市级管理员运行考核（于 {tenant}）",
        "evaluation_peer_scope is city: peers are every region's hospitals, so the city administrator runs the evaluation (on {tenant})",
    ),
    "has_no_regions_to_evaluate": (
        "{tenant} 下没有可考核的统筹区",
        "{tenant} has no regions to evaluate",
    ),
    "role_may_not_change_evaluation_catalogue": (
        "{role}无权修改考核指标目录（仅限市级管理员）",
        "role {role} may not change the evaluation catalogue (city_admin only)",
    ),
    "period_ends_before_it_starts": (
        "期间的结束早于开始",
        "the period ends before it starts",
    ),
    "compare_two_different_versions": (
        "请比较两个不同的版本",
        "compare two different versions",
    ),
    "no_scheme_version_to_group_with": (
        "没有可用于分组的方案版本：请发布一个支付标准或指定方案版本",
        "no scheme version to group with: publish a standard or name one",
    ),
    "no_scheme_version": (
        "方案版本 {version} 不存在",
        "no scheme version {version}",
    ),
    "two_scheme_version_ids_required": (
        "需要两个方案版本编号",
        "two scheme version ids are required",
    ),
    "tenant_outside_callers_scope": (
        "单位 {tenant} 不在调用方的权限范围内",
        "tenant {tenant} is outside the caller's scope",
    ),
    "job_message_without_tenant": (
        "未指明单位的任务消息被拒绝",
        "a job message without a tenant is refused",
    ),
    "job_does_not_exist_in_tenant": (
        "单位 {tenant} 中不存在任务 {job}",
        "job {job} does not exist in tenant {tenant}",
    ),
    "job_gave_up_after_attempts": (
        "尝试 {attempts} 次后放弃：运行此任务的工作进程每次都在完成前停止（被终止、内存不足或与数据库断开）",
        "gave up after {attempts} attempts: the worker running this job stopped each time before it finished (killed, out of memory, or cut off from the database)",
    ),
    "a_month_as_yyyy_mm_string": (
        "应为 YYYY-MM 格式的月份（字符串）",
        "a month as YYYY-MM (a string)",
    ),
    "month_the_year": (
        "年份{reason}",
        "the year {reason}",
    ),
    "is_not_a_month_01_12": (
        "{value} 不是月份（01-12）",
        "{value} is not a month (01-12)",
    ),
    "not_a_parameter_of_only_month": (
        "{name}：不是 {kind} 的参数（仅有 month）",
        "{name}: not a parameter of {kind} (only month)",
    ),
    "is_a_city_upload_per_region": (
        "{tenant} 是市：上传文件按统筹区一区一个",
        "{tenant} is a city; the upload is one file per region",
    ),
    "not_a_parameter_of": (
        "{name}：不是 {kind} 的参数",
        "{name}: not a parameter of {kind}",
    ),
    "upload_holds_every_hospital_of_region": (
        "上传文件包含统筹区的全部医院（按统筹区运行的任务）",
        "the upload holds every hospital of the region (a region-wide job)",
    ),
    "no_settlement_lists_discharged_in": (
        "{tenant} 没有 {month} 出院的结算清单",
        "no settlement lists of {tenant} discharged in {month}",
    ),
    "scope_does_not_include_tenant": (
        "{who} 的权限范围不包括单位 {tenant}",
        "scope of {who} does not include tenant {tenant}",
    ),
    "is_not_a_region_of_a_city": (
        "{tenant} 不是某市下的统筹区",
        "{tenant} is not a region of a city",
    ),
    "no_published_payment_standard_calibrate_first": (
        "{city} 在 {on} 没有生效的已发布支付标准：请先测算并发布",
        "no published payment standard of {city} is in force on {on}: calibrate and publish one first",
    ),
    "current_cases_not_grouped_under_scheme_version": (
        "{year}-01..{year2}-{month} 有 {count} 例当前病例未按支付标准的方案版本 {version} 分组：请先对该期间运行分组",
        "{count} current cases of {year}-01..{year2}-{month} are not grouped under the standard's scheme version {version}: run grouping for the period first",
    ),
    "whole_numbers_are_required": (
        "应为整数",
        "whole numbers are required",
    ),
    "bed_day_group_needs_base_points_per_day": (
        "支付标准 {standard}，DRG {drg}：床日付费组需要 base_points_per_day",
        "payment standard {standard}, DRG {drg}: a bed-day group needs base_points_per_day",
    ),
    "must_be_monthly_or_annual": (
        "应为 monthly（月度）或 annual（年度）（实际为 {value}）",
        "must be monthly or annual (got {value})",
    ),
    "no_points_run_in": (
        "{tenant} 中没有点数计算 {run_id}",
        "no points run {run_id} in {tenant}",
    ),
    "points_run_covers_other_period": (
        "其覆盖 {year} 年至 {month} 月，而非 {year2} 年至 {month2} 月",
        "it covers {year} through month {month}, not {year2} through {month2}",
    ),
    "points_run_superseded_pruned_on": (
        "{run_id} 已被取代，其病例点数已于 {on} 清理；请基于该年度最新的点数计算或新的点数计算结算",
        "{run_id} was superseded and its case points pruned on {on}; settle from the year's latest run or a new one",
    ),
    "no_provisional_point_value": (
        "{tenant} {year} 没有预结算点值：请发布 {year2} 年度清算，或设置政策参数 provisional_point_value",
        "no provisional point value for {tenant} {year}: publish {year2}'s annual clearing or set the policy parameter provisional_point_value",
    ),
    "no_budget_set_region_budget_first": (
        "{year} 年{ledger}没有预算：请先设置统筹区预算",
        "no budget for {ledger} {year}: set the region's budget first",
    ),
    "is_not_an_id": (
        "{value} 不是编号",
        "{value} is not an id",
    ),
    "is_not_a_ledger_of_in": (
        "{ledger} 不是 {tenant} {year} 年的基金账户",
        "{ledger} is not a ledger of {tenant} in {year}",
    ),
    "scenario_refused_issues": (
        "情景被拒绝：共 {count} 个问题，第一个为 {first}",
        "scenario refused: {count} issue(s), first {first}",
    ),
    "calibration_runs_for_city": (
        "测算按市（含其统筹区）运行，不能按统筹区运行",
        "a calibration runs for a city (with its regions), not for a region",
    ),
    "no_grouped_stays_to_calibrate_on": (
        "{tenant} 中没有已分组的住院病例可用于测算",
        "no grouped stays in {tenant} to calibrate on",
    ),
    "model_needs_at_least_2_grouped_cases": (
        "{tenant} 有 {count} 例病例按支付标准的方案版本 {version} 分组：模型至少需要 2 例（请先对该年度运行分组）",
        "{count} case(s) of {tenant} grouped under the standard's scheme version {version}: the model needs at least 2 (run grouping for the year first)",
    ),
    "months_non_empty_list": (
        "应为非空的月份列表（或不填：全年）",
        "a non-empty list of months (or left out: the whole year)",
    ),
    "neither_region_nor_city_with_regions": (
        "{tenant} 既不是统筹区，也不是下设统筹区的市",
        "{tenant} is neither a region nor a city with regions",
    ),
    "months_not_with_batch": (
        "不能与 batch 同时给出（按批次的月份判断）",
        "not with batch (the batch's months are judged)",
    ),
    "no_payment_standard_at_end_of_name_version": (
        "{tenant} 在 {period} 末没有生效的支付标准：请指定方案版本",
        "no payment standard of {tenant} is in force at the end of {period}: name the scheme version",
    ),
    "no_drg_scheme_version": (
        "DRG 方案版本 {version} 不存在",
        "no DRG scheme version {version}",
    ),
    "an_ingestion_batch_id": (
        "应为导入批次编号",
        "an ingestion batch id",
    ),
    "a_drg_scheme_version_id": (
        "应为 DRG 方案版本编号",
        "a DRG scheme version id",
    ),
    "invalid_roster_rows": (
        "花名册有 {count} 行无效",
        "{count} invalid roster rows",
    ),
    "first_row_names_no_column": (
        "第一行没有列名",
        "the first row names no column",
    ),
    "empty_no_header_row": (
        "文件为空：没有表头行",
        "empty: no header row",
    ),
    "missing_columns": (
        "缺少列：{columns}",
        "missing column(s): {columns}",
    ),
    "unknown_column_known": (
        "未知列 {column}（已知列：{known}）",
        "unknown column {column} (known: {known})",
    ),
    "column_appears_twice": (
        "列 {column} 重复出现",
        "column {column} appears twice",
    ),
    "more_than_rows": (
        "超过 {n} 行",
        "more than {n} rows",
    ),
    "not_an_xlsx_workbook": (
        "不是 XLSX 工作簿（不是 zip 文件）",
        "not an XLSX workbook (not a zip file)",
    ),
    "not_a_readable_xlsx_workbook": (
        "无法读取的 XLSX 工作簿（{detail}）",
        "not a readable XLSX workbook ({detail})",
    ),
    "workbook_unpacks_too_large": (
        "工作簿解压后过大",
        "the workbook unpacks too large",
    ),
    "role_may_not_save_this": (
        "{role}无权保存此项",
        "role {role} may not save this",
    ),
    "hospital_saves_own_people_only": (
        "医院只能保存本院人员（{hospital}）",
        "a hospital saves its own people only ({hospital})",
    ),
    "role_cannot_call_the_api": (
        "{role}不能调用接口",
        "role {role} cannot call the API",
    ),
    "token_names_unknown_tenant": (
        "令牌指定了不存在的单位 {tenant}",
        "token names unknown tenant {tenant}",
    ),
    "token_names_city_tenants_only": (
        "{role}令牌只能指定市级单位",
        "a {role} token names city tenants only",
    ),
    "token_names_a_region_not": (
        "{role}令牌应指定统筹区，而不是 {tenant}",
        "a {role} token names a region, not {tenant}",
    ),
    "token_names_hospital_not_of_tenant": (
        "令牌指定的医院 {hospital} 不是单位 {tenant} 的医院",
        "token names hospital {hospital}, not a hospital of tenant {tenant}",
    ),
    "service_account_unknown_or_deactivated": (
        "服务账号 {account} 不存在或已停用",
        "service account {account} is unknown or deactivated",
    ),
    "service_account_may_not_act_for": (
        "服务账号 {account} 无权代表 {tenant} 操作",
        "service account {account} may not act for {tenant}",
    ),
    "service_account_limited_to_hospital": (
        "服务账号 {account} 仅限医院 {hospital}",
        "service account {account} is limited to hospital {hospital}",
    ),
    "service_account_names_hospital_not_of": (
        "服务账号 {account} 指定的医院 {hospital} 不是 {tenant} 的医院",
        "service account {account} names hospital {hospital}, not a hospital of {tenant}",
    ),
    "token_claim_role_not_for_client": (
        "令牌声明 role={value} 不能由客户端使用",
        "token claim role={value} cannot be used by a client",
    ),
    "token_claim_tenants_non_empty_list": (
        "令牌声明 tenants 应为非空的单位编码列表",
        "token claim tenants must be a non-empty list of tenant codes",
    ),
    "token_claim_hospital_must_be_code": (
        "令牌声明 hospital 应为医院编码",
        "token claim hospital must be a hospital code",
    ),
    "hospital_user_token_one_tenant_hospital": (
        "医院用户令牌应恰好指定一个单位及其医院",
        "a hospital_user token names exactly one tenant and its hospital",
    ),
    "token_names_exactly_one_tenant": (
        "{role}令牌应恰好指定一个单位",
        "a {role} token names exactly one tenant",
    ),
    "token_cannot_name_hospital": (
        "{role}令牌不能指定医院",
        "a {role} token cannot name a hospital",
    ),
    "integrator_token_names_service_account": (
        "接口对接令牌应指定其服务账号（声明 sa）",
        "an integrator token names its service account (claim sa)",
    ),
    "authorization_header_must_be_bearer": (
        "Authorization 请求头应为 'Bearer <token>'",
        "Authorization header must be 'Bearer <token>'",
    ),
    "minting_rs256_needs_private_key": (
        "签发 RS256 令牌需要 DIANSHU_JWT_PRIVATE_KEY_FILE（通常由身份提供方签发）",
        "minting RS256 tokens needs DIANSHU_JWT_PRIVATE_KEY_FILE (normally the IdP mints them)",
    ),
    "token_claim_role_not_known": (
        "令牌声明 role={value} 不是已知角色",
        "token claim role={value} is not a known role",
    ),
    "rs256_needs_jwks_or_public_key": (
        "RS256 需要 DIANSHU_JWT_JWKS_URL、DIANSHU_JWT_JWKS_FILE 或 DIANSHU_JWT_PUBLIC_KEY_FILE",
        "RS256 needs DIANSHU_JWT_JWKS_URL, DIANSHU_JWT_JWKS_FILE or DIANSHU_JWT_PUBLIC_KEY_FILE",
    ),
    "token_expired": (
        "令牌已过期",
        "token expired",
    ),
    "token_unknown_key_id": (
        "令牌签名使用了未知的密钥编号 {kid}",
        "token signed with unknown key id {kid}",
    ),
    "token_unknown_key_id_not_at_provider": (
        "令牌签名使用了未知的密钥编号 {kid}：不在身份提供方 {url} 的密钥中",
        "token signed with unknown key id {kid}: not among the identity provider's keys at {url}",
    ),
    "identity_keys_not_fetched": (
        "无法获取身份提供方 {url} 的密钥（{reason}）",
        "the identity provider's keys at {url} could not be fetched ({reason})",
    ),
    "identity_keys_not_a_jwk_set": (
        "身份提供方 {url} 的密钥不是可用的 JWK 集：{reason}",
        "the identity provider's keys at {url} are not a usable JWK set: {reason}",
    ),
    "identity_keys_refused": (
        "身份提供方 {url} 的密钥：{reason}",
        "the identity provider's keys at {url}: {reason}",
    ),
    "authentication_required": (
        "需要身份认证：请发送 'Authorization: Bearer <token>'",
        "authentication required: send 'Authorization: Bearer <token>'",
    ),
    "empty_selection_set": (
        "第 {line} 行第 {column} 列的选择集 {{ }} 为空",
        "an empty selection set {{ }} at line {line}, column {column}",
    ),
    "document_has_operations_name_one": (
        "文档包含 {count} 个操作：请指定要运行的一个",
        "the document has {count} operations; name the one to run",
    ),
    "no_region_or_city": (
        "统筹区或市 {tenant} 不存在",
        "no region or city {tenant}",
    ),
    "not_a_cursor_for_this_list": (
        "{given} 不是本接口为此列表给出的游标",
        "{given} is not a cursor from this API for this list",
    ),
    "is_not_a_month_yyyy_mm": (
        "{value} 不是月份（YYYY-MM）",
        "{value} is not a month (YYYY-MM)",
    ),
    "version_only_with_drg": (
        "仅可与 drg 同时给出（该 DRG 所属的方案版本）",
        "only with drg (the scheme version the DRG belongs to)",
    ),
    "give_year_or_version": (
        "请给出年份或版本（二者之一）",
        "give a year or a version (one of them)",
    ),
    "case_required_or_tenant_and_case_id": (
        "必填（病例的 id），或同时给出 tenant 和 caseId",
        "required (the Case's id), or else both tenant and caseId",
    ),
    "case_names_another_case": (
        "与 tenant 和 caseId 所指的不是同一病例（请只给出 case）",
        "names another case than tenant and caseId (give case alone)",
    ),
    "unknown_tenant": (
        "单位 {tenant} 不存在",
        "unknown tenant {tenant}",
    ),
    "no_published_version_in_force_today": (
        "{scheme} 今天没有生效的已发布版本",
        "no published version of {scheme} is in force today",
    ),
    "no_standard_version": (
        "支付标准版本 {version} 不存在",
        "no standard version {version}",
    ),
    "no_payment_standard_for_your_city": (
        "您所在的市没有生效的支付标准；请指定方案或版本",
        "no payment standard is in force for your city; name a scheme or version",
    ),
    "body_not_json_numbers_finite": (
        "{value} 不是 JSON（数字应为有限值）",
        "{value} is not JSON (numbers must be finite)",
    ),
    "body_graphql_request_json_object": (
        "GraphQL 请求应为含 query、variables 和 operationName 的 JSON 对象，而不是 {kind}",
        "a GraphQL request is a JSON object with query, variables and operationName, not {kind}",
    ),
    "json_nested_too_deeply": (
        "JSON 嵌套过深",
        "JSON nested too deeply",
    ),
    "body_not_valid_json_detail": (
        "不是有效的 JSON（{detail}）",
        "not valid JSON ({detail})",
    ),
    "more_than_values": (
        "超过 {n} 个值",
        "more than {n} values",
    ),
    "nested_more_than_levels": (
        "嵌套超过 {n} 层",
        "nested more than {n} levels deep",
    ),
    "is_the_id_of_another_type": (
        "{value} 是 {kind} 的编号，不是 {expected} 的编号",
        "{value} is the id of a {kind}, not of a {expected}",
    ),
    "ids_at_most_at_once": (
        "一次最多 {n} 个（实际为 {count} 个）",
        "at most {n} at once (got {count})",
    ),
    "not_an_id_from_this_api": (
        "{value} 不是本接口的编号",
        "{value} is not an id from this API",
    ),
    "is_not_id_kind": (
        "{value} 不是{id_kind}",
        "{value} is not {id_kind}",
    ),
    "not_csv": (
        "不是 CSV：{reason}",
        "not CSV: {reason}",
    ),
    "token_scope_refused": (
        "令牌的权限范围被拒绝：{reason}",
        "token scope refused: {reason}",
    ),
    "token_claim_hospital_refused": (
        "令牌声明 hospital 有误：{problem}",
        "token claim hospital: {problem}",
    ),
    "invalid_token": (
        "令牌无效：{detail}",
        "invalid token: {detail}",
    ),
    # Where an upload stops decoding (tabular/encoding.py Position), inside the encoding reasons.
    "undecodable_bytes_at": (
        "第 {line} 行（偏移 {offset}）的字节 {shown}",
        "byte(s) {shown} at offset {offset} (line {line})",
    ),
    "file_ends_inside_character_at": (
        "第 {line} 行（偏移 {offset}）处的文件末尾（字符不完整）",
        "the end of the file (inside a character) at offset {offset} (line {line})",
    ),
}

# Placeholders whose value is itself a reason (a nested refusal: "principal diagnosis X: {why}").
NESTED = frozenset({"why", "reason", "problem", "failed", "position"})  # and where a file stops decoding


def _fields(template: str) -> list[str]:
    return [name for _, name, _, _ in string.Formatter().parse(template) if name]


# Placeholders of a known shape, matched as only that shape: "must be {sign} {get} (got {show})"
# (strict.py's bounds) would otherwise take "must be an amount in yuan (got x)" from "must be
# {what} (got {x})", as it has more literal text. Any other placeholder is any text.
SHAPES: dict[str, str] = {
    "sign": "[≥>≤<]",
    # "{diagnosis} {code} is not a … code": where the label ends and the code begins.
    "diagnosis": r"principal diagnosis|diagnosis \d+",
    # A CLI path option's kind (Typer's "file '/x' does not exist.").
    "path_kind": "file|dir|path",
    # A value as Typer quotes it (its repr), so that "Value error, 'x' is not one of …" is a
    # value error about 'x'.
    "given": r"'[^']*'|\"[^\"]*\"",
    # What an id argument takes (graphql node.py's "{field}: 'x' is not a job id").
    "id_kind": "a batch id|a job id",
    # "{subject} is empty": a diagnosis or a column, never a "field: " prefix before it.
    "subject": r"(?:(?!: ).)+",
    # A job's progress: a count as it writes it ("12,345"), a month, a year.
    "tally": r"\d[\d,]*",
    "period": r"\d{4}-\d{2}",
    "year_from": r"\d{4}",
    "year_to": r"\d{4}",
    "run_year": r"\d{4}",
    "rule_code": r"[a-z][a-z0-9_]*",
    # evaluation/runs.py's "parameters: unknown a, b": parameter names, never other words.
    "names": r"[A-Za-z_]\w*(?:, [A-Za-z_]\w*)*",
    # `dianshu group`'s "{compiled_standard}: {drgs} DRGs compiled in {seconds}s": a scheme or a
    # folder (no colon), numbers; shaped so that this line is not tried at every ": " of a reason.
    "compiled_standard": r"[^:]+",
    "drgs": r"\d[\d,]*",
    "seconds": r"\d+\.\d+",
    # db/roles.py: a PostgreSQL login's name, one word.
    "pg_role": r"[^\s;:,]+",
    # national/layout.py's "{setl_where}: {layout_section}.{layout_field} …": a hospital/settlement
    # id and a national table's and field's names, never other words.
    "setl_where": r"[^\s:/]+/[^\s:/]+",
    "layout_section": r"[A-Za-z_]\w*",
    "layout_field": r"[A-Za-z_]\w*",
    # standards/service.py's "no payment standard {standard_id}": an id, never other words.
    "standard_id": r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
    # A folder the CLI names, never a "field: " prefix before it.
    "folder": r"(?:(?!: ).)+",
    # Python's json module's message (TERMS json_msg), never the text before it.
    "json_msg": r"Expecting [^:]+|Extra data|Unterminated string starting at|Invalid control character at"
    r"|Invalid \\escape|Illegal trailing comma before end of (?:object|array)",
}


def _pattern(template: str, i: int) -> str:
    parts = []
    for j, (literal, name, _, _) in enumerate(string.Formatter().parse(template)):
        parts.append(re.escape(literal))
        if name:
            parts.append(f"(?P<t{i}p{j}>{SHAPES.get(name, '.+?')})")
    return f"(?P<t{i}>{''.join(parts)})"


def _literal(template: str) -> int:
    return sum(len(literal) for literal, *_ in string.Formatter().parse(template))


# One alternation, the most specific templates (most literal text) first, so that a template of
# placeholders and little text ("{x} is before {y}") is tried after those it could shadow.
_ORDER = sorted(REASONS, key=lambda c: -_literal(REASONS[c][1]))


def _key(template: str) -> tuple[bool, str]:
    """Which templates a reason is tried against: (False, its first character) for a template that
    begins with text, else (True, its first text: a reason holds it somewhere)."""
    parsed = list(string.Formatter().parse(template))
    if parsed[0][0]:
        return False, parsed[0][0][:1]
    return True, next((literal for literal, *_ in parsed if literal), "")


# The alternation split by the templates' keys (a reason is tried against the templates that begin
# as it does and those that begin with a placeholder and hold text it holds; the first in _ORDER
# wins), so that a reason is not tried against the whole catalogue.
_BY_KEY: dict[tuple[bool, str], list[int]] = {}
for _i, _c in enumerate(_ORDER):
    _BY_KEY.setdefault(_key(REASONS[_c][1]), []).append(_i)
_MATCHERS = {
    key: re.compile("|".join(_pattern(REASONS[_ORDER[i]][1], i) for i in indices), re.DOTALL)
    for key, indices in _BY_KEY.items()
}
_INSIDE = [(key[1], matcher) for key, matcher in _MATCHERS.items() if key[0]]


# Label-like parameters said in Chinese: placeholder -> {English value: Chinese}. A value not
# listed stays as written (a code, a number, a name someone gave); "{n}" in a key is a number; a
# ", "-separated list is said item by item when every item is listed. Placeholders are named for
# what they hold (a review's {state}, not a generic {what}) so that a word is never translated in
# a template where it is a literal the caller must type.
_REVIEW_STATES = {
    "submitted": "已提交",
    "prechecked": "已预审",
    "rejected": "已驳回",
    "in_review": "评审中",
    "decided": "已裁定",
    "appealed": "已申诉",
    "final": "已终裁",
}
_JSON_KINDS = {"an object": "对象", "an array": "数组", "a string": "字符串", "a boolean": "布尔值"}
_DIAGNOSES = {"principal diagnosis": "主要诊断", "diagnosis {n}": "第 {n} 个诊断"}
TERMS: dict[str, dict[str, str]] = {
    # cases/validation.py: a settlement list's amounts and hours, its diagnoses.
    "expected": {"an amount in yuan": "以元计的金额", "a number of hours": "小时数"},
    "noun": {"amount": "金额", "number of hours": "小时数"},
    "unit": {"yuan": "元", "hours": "小时"},
    "diagnosis": _DIAGNOSES,
    "subject": _DIAGNOSES,  # "{subject} is empty": a diagnosis, or (standards' tables) a column
    # reviews/workflow.py: who takes a step, the step, the states (roles: the labels' catalogue).
    "role": {k.removeprefix("role."): zh for k, (zh, _) in MESSAGES.items() if k.startswith("role.")},
    "action": {
        "precheck": "预审",
        "reject": "驳回",
        "assign": "分配",
        "decide": "裁定",
        "appeal": "申诉",
        "accept": "接受",
    },
    "roles": {k.removeprefix("role."): zh for k, (zh, _) in MESSAGES.items() if k.startswith("role.")},
    "state": _REVIEW_STATES,
    "states": _REVIEW_STATES,
    # training/service.py: a range with its low end included or not.
    "bound": {"from": "含", "above": "不含"},
    # the encodings an upload may declare (tabular/encoding.py ACCEPTED)
    "ACCEPTED": {
        "utf-8, gb18030 (gbk and gb2312 are read as gb18030)": "utf-8 或 gb18030（gbk、gb2312 按 gb18030 读取）"
    },
    # Python's json module's messages (json.decoder)
    "json_msg": {
        "Expecting value": "此处应有值",
        "Expecting property name enclosed in double quotes": "属性名应以双引号括起",
        "Expecting ',' delimiter": "此处应有逗号 ','",
        "Expecting ':' delimiter": "此处应有冒号 ':'",
        "Extra data": "有多余的数据",
        "Unterminated string starting at": "字符串未结束",
        "Invalid control character at": "含无效的控制字符",
        "Invalid \\escape": "含无效的转义",
        "Illegal trailing comma before end of object": "对象末尾有多余的逗号",
        "Illegal trailing comma before end of array": "数组末尾有多余的逗号",
    },
    # the CLI's path options
    "path_kind": {"file": "文件", "dir": "目录", "path": "路径"},
    "id_kind": {"a batch id": "批次编号", "a job id": "任务编号"},
    # a case's payment type (settlement/arithmetic/points.py): the labels' catalogue
    "type": {k.removeprefix("case_type."): zh for k, (zh, _) in MESSAGES.items() if k.startswith("case_type.")},
    "run_kind": {"monthly": "月度", "annual": "年度"},
    # an ingestion batch's status (the labels' catalogue)
    "batch_status": {
        k.removeprefix("batch_status."): zh for k, (zh, _) in MESSAGES.items() if k.startswith("batch_status.")
    },
    # Why a token was refused (dianshu_tenants.identity.JWT_FAILURES)
    "detail": {
        "expired": "已过期",
        "not valid yet (iat or nbf in the future)": "尚未生效（iat 或 nbf 在将来）",
        "wrong audience (aud)": "受众（aud）不符",
        "wrong issuer (iss)": "签发方（iss）不符",
        "a required claim is missing (exp, iat, sub, iss, aud)": "缺少必需的声明（exp、iat、sub、iss、aud）",
        "the signature does not verify": "签名校验失败",
        "its signing algorithm is not accepted": "签名算法不被接受",
        "the key does not fit the token": "密钥与令牌不匹配",
        "not a well-formed JWT": "不是格式正确的 JWT",
        "not accepted": "不被接受",
    },
    # strict.py's Dec and Money: what a decimal is
    "what": {"a decimal": "小数", "money": "金额"},
    # strict.py's _kind: what a JSON value was when it was the wrong kind
    "show": _JSON_KINDS,
    "kind": {**_JSON_KINDS, "float": "浮点数"},
    # settlement's ledgers (the labels' catalogue)
    "ledger": {k.removeprefix("ledger."): zh for k, (zh, _) in MESSAGES.items() if k.startswith("ledger.")},
}
_NUMBERED = {
    name: [(re.compile(re.escape(en).replace(r"\{n\}", r"(\d+)")), zh) for en, zh in terms.items() if "{n}" in en]
    for name, terms in TERMS.items()
}


# A list of values as the source joins it ("1, 2, 3 or 9": pydantic's Literal, a, b or c).
_OR = re.compile(r"(?<=\S) or (?=\S+$)")


def term(name: str, value: str, lang: Lang) -> str:
    """A label-like parameter (TERMS) in `lang`, outside a reason (a portal message's field)."""
    return value if lang is Lang.en else _term(name, value)


def _term(name: str, value: str) -> str:
    """A parameter in Chinese when it is a listed label, else as written; a {join} list with
    Chinese separators (its values as written)."""
    if name == "join":
        return _OR.sub(" 或 ", value).replace(", ", "、")
    terms = TERMS.get(name)
    if terms is None:
        return value
    if value in terms:
        return terms[value]
    for pattern, zh in _NUMBERED[name]:
        if m := pattern.fullmatch(value):
            return zh.replace("{n}", m.group(1))
    items = value.split(", ")
    if len(items) > 1 and all(item in terms for item in items):
        return "、".join(terms[item] for item in items)
    return value


@dataclass(frozen=True, slots=True)
class Reason:
    code: str
    params: dict[str, str]

    def text(self, lang: Lang) -> str:
        zh, en = REASONS[self.code]
        if lang is Lang.en:
            return en.format(**self.params)
        # A nested reason may be several ("a; b"): each said, as a message's parts are.
        params = {k: localize_message(v, lang) if k in NESTED else _term(k, v) for k, v in self.params.items()}
        return zh.format(**params)


# Bounds on the matching work (a template of several `.+?` placeholders is quadratic or worse in
# the text's length): a reason longer than MAX_REASON characters has no entry (the source cuts the
# values it quotes to tens of characters), a message is read part by part, and a part's reason is
# looked for after at most MAX_PREFIXES named prefixes ("line 3: diag_codes: …" has two).
MAX_REASON = 2000
MAX_PREFIXES = 4


@lru_cache(maxsize=8192)
def parse(reason: str) -> Reason | None:
    """The catalogue entry an English reason was made from, with its parameters as written."""
    if len(reason) > MAX_REASON:
        return None
    found = []
    first = _MATCHERS.get((False, reason[:1]))
    for matcher in ([first] if first else []) + [m for text, m in _INSIDE if text in reason]:
        if (m := matcher.fullmatch(reason)) is not None and m.lastgroup is not None:
            found.append((int(m.lastgroup[1:]), m))
    if not found:
        return None
    i, m = min(found, key=lambda f: f[0])
    template = REASONS[_ORDER[i]][1]
    names = [name for _, name, _, _ in string.Formatter().parse(template)]
    params = {name: m.group(f"t{i}p{j}") for j, name in enumerate(names) if name}
    return Reason(_ORDER[i], params)


def _find(reason: str) -> tuple[str, Reason] | None:
    """The entry a reason was made from, whole, else after its named prefixes ("tenant: …", a
    job's "field: reason", "principal diagnosis X: …" when that has no entry): (prefix, entry)."""
    if (found := parse(reason)) is not None:
        return "", found
    start = 0
    for _ in range(MAX_PREFIXES):
        if (at := reason.find(": ", start)) == -1:
            break
        if (found := parse(reason[at + 2 :])) is not None:
            return reason[: at + 2], found
        start = at + 2
    return None


# An upload column's Chinese name (cases/layout.py), for a refusal's field prefix and the refused
# rows' field column: "性别(gend)", the raw name kept so that integrators can still match it.
_COLUMN_NAMES = {name: zh for name, zh, _, _ in COLUMNS}

# The arguments and fields the API and the CLI refuse by (the `field=` of Refused, JobRejected,
# ExpectedError and the "name: " prefixes of reasons) that are not upload columns: name -> (zh, en).
# Said like an upload column, the raw name kept: "年度(year)", "年度(input.year)".
FIELDS: dict[str, tuple[str, str]] = {
    "after": ("游标", "after"),
    "age_days": ("年龄（天）", "age_days"),
    "age_years": ("年龄（岁）", "age_years"),
    "alliances": ("医共体", "alliances"),
    "amount": ("金额", "amount"),
    "base": ("基准版本", "base"),
    "base_points": ("基准点数", "base_points"),
    "base_points_per_day": ("床日基准点数", "base_points_per_day"),
    "batch": ("批次", "batch"),
    "birth_weight_g": ("新生儿出生体重（克）", "birth_weight_g"),
    "body": ("请求体", "body"),
    "budget": ("预算", "budget"),
    "case": ("病例", "case"),
    "cases": ("病例", "cases"),
    "catalogue": ("目录", "catalogue"),
    "charges": ("费用", "charges"),
    "clearScore": ("通过分数", "clearScore"),
    "coding": ("编码版本", "coding"),
    "coefficient": ("系数", "coefficient"),
    "database": ("数据库", "database"),
    "dept": ("科室", "dept"),
    "diagnoses": ("诊断", "diagnoses"),
    "discharge_way": ("离院方式", "discharge_way"),
    "effectiveTo": ("失效日期", "effectiveTo"),
    "evaluation_peer_scope": ("评价同级范围", "evaluation_peer_scope"),
    "file": ("文件", "file"),
    "finding": ("发现", "finding"),
    "first": ("每页条数", "first"),
    "format": ("格式", "format"),
    "fund_pay": ("基金支付", "fund_pay"),
    "grants": ("授权", "grants"),
    "groups": ("病组", "groups"),
    "header": ("表头", "header"),
    "hospital_code_patterns": ("医院编码规则", "hospital_code_patterns"),
    "hospitals": ("医院", "hospitals"),
    "icu_hours": ("重症监护时长（小时）", "icu_hours"),
    "id": ("编号", "id"),
    "ids": ("编号", "ids"),
    "input": ("输入", "input"),
    "job": ("任务", "job"),
    "kind": ("类型", "kind"),
    "ledgers": ("台账", "ledgers"),
    "level": ("等级", "level"),
    "line": ("行", "line"),
    "los_days": ("住院天数", "los_days"),
    "month": ("月份", "month"),
    "months": ("月份", "months"),
    "other": ("对比版本", "other"),
    "parameters": ("参数", "parameters"),
    "personId": ("人员编号", "personId"),
    "points_run": ("点数计算", "points_run"),
    "policy": ("政策参数", "policy"),
    "prepaid": ("预付", "prepaid"),
    "procedures": ("手术操作", "procedures"),
    "provisional_point_value": ("预估点值", "provisional_point_value"),
    "query": ("查询", "query"),
    "readmission_of": ("再入院对应病例", "readmission_of"),
    "reason": ("理由", "reason"),
    "record": ("记录", "record"),
    "reserve_ratio": ("预留比例", "reserve_ratio"),
    "review": ("审核", "review"),
    "revision": ("修订版", "revision"),
    "scenario": ("测算方案", "scenario"),
    "scheme": ("分组方案", "scheme"),
    "scope": ("范围", "scope"),
    "serious": ("是否严重", "serious"),
    "settlement": ("结算", "settlement"),
    "sex": ("性别", "sex"),
    "shares": ("分配比例", "shares"),
    "stable": ("是否稳定病组", "stable"),
    "standard": ("分组标准", "standard"),
    "tenant": ("单位", "tenant"),
    "to": ("截止", "to"),
    "total_cost": ("总费用", "total_cost"),
    "variables": ("变量", "variables"),
    "vent_hours": ("呼吸机使用时长（小时）", "vent_hours"),
    "version": ("版本", "version"),
    "versions": ("版本", "versions"),
    "violation": ("违规", "violation"),
    "year": ("年度", "year"),
    "year_weights": ("年度权重", "year_weights"),
    "years": ("年度", "years"),
}

_LINE = re.compile(r"line (\d[\d,]*)")
_NAME = re.compile(r"[A-Za-z_]\w*")
_INDICES = re.compile(r"(?:\[\d+\])*")


def field_name(field: str, lang: Lang) -> str:
    """A refused field as `lang` names it: in Chinese an upload column or an argument (FIELDS) with
    its Chinese name before it ("性别(gend)"; "诊断代码(diag_codes)[2]"; "年度(year)"), a dotted path
    by its last segment's name with the whole path kept ("年度(input.year)"), a CLI line as "第 3 行";
    any other field as given."""
    if lang is Lang.en:
        return field
    if (m := _LINE.fullmatch(field)) is not None:
        return f"第 {m.group(1)} 行"
    # The path's last name says what the value is ("cases[1].los_days" is a length of stay); an
    # index after it stays outside the brackets ("诊断代码(diag_codes)[2]").
    names = list(_NAME.finditer(field))
    if not names:
        return field
    last = names[-1]
    zh = _COLUMN_NAMES.get(last.group()) or (FIELDS[last.group()][0] if last.group() in FIELDS else None)
    if zh is None:
        return field
    named, rest = field[: last.end()], field[last.end() :]
    return f"{zh}({named}){rest}" if _INDICES.fullmatch(rest) else f"{zh}({field})"


def _prefix(prefix: str, lang: Lang) -> str:
    """A reason's "field: " prefixes ("line 3: gend: ") with each field named."""
    return "".join(field_name(p, lang) + ": " for p in prefix.split(": ")[:-1])


def code(reason: str) -> str | None:
    """A reason's stable code (of the reason after a field prefix), or None when the catalogue
    does not make it."""
    found = _find(reason)
    return None if found is None else found[1].code


def localize(reason: str, lang: Lang) -> str:
    """A reason in `lang` (English as given; unknown reasons as given); a "field: reason" keeps
    its prefix and says the reason."""
    if lang is Lang.en:
        return reason
    found = _find(reason)
    return reason if found is None else _prefix(found[0], lang) + found[1].text(lang)


def localize_message(message: str, lang: Lang) -> str:
    """A refusal's message ("field: reason; other.field: reason", or "line 3: field: reason") in
    `lang`: the whole, else each "; "-separated part as `localize` says it."""
    if lang is Lang.en:
        return message
    whole = parse(message)
    if whole is not None:
        return whole.text(lang)
    parts = message.split("; ")
    said = [localize(part, lang) for part in parts]
    # A message nothing here makes keeps its punctuation too.
    return message if said == parts else "；".join(said)


def negotiate(accept_language: str | None) -> Lang:
    """The language of an Accept-Language header: the highest q-value among zh and en (a tag's
    language part counts: en-US is en, zh-CN and zh-Hans-CN are zh); zh when neither is asked for."""
    best: tuple[float, int, Lang] | None = None
    for position, item in enumerate((accept_language or "").split(",")):
        tag, _, params = item.strip().partition(";")
        q = 1.0
        for p in params.split(";"):
            key, _, value = p.strip().partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        primary = tag.strip().lower().split("-")[0]
        if q <= 0 or primary not in ("zh", "en"):
            continue
        candidate = (q, -position, Lang(primary))
        if best is None or candidate[:2] > best[:2]:
            best = candidate
    return Lang.zh if best is None else best[2]


def lang_of(value: str | None, default: Lang = Lang.zh) -> Lang:
    """A language named by a setting (`en`, `zh`, `en_US.UTF-8`, `zh_CN`): its language part, or
    `default` when it names neither."""
    primary = re.split(r"[-_.@]", (value or "").strip().lower())[0]
    return Lang(primary) if primary in ("zh", "en") else default
