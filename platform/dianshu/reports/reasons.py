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
SHAPES); a "field: reason" is read after its prefix. A reason no template makes stays in English
and has no code. tests/test_reasons.py extracts every reason written in the source (as
xgettext would: the reason argument of each refusal, each `*_reason` / `*refusal` function's
returns) and fails when one has no entry here, or an entry lacks a language."""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from functools import lru_cache

from dianshu.reports.labels import MESSAGES
from dianshu.tabular.write import Lang

# code -> (zh, en). Placeholders are str.format fields; a template's English is what the code raises.
REASONS: dict[str, tuple[str, str]] = {
    "one": (
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
        "不是有效的 JSON：{e}",
        "not valid JSON: {e}",
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
    "must_whole_number_2": (
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
    "must": (
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
    "before": (
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
    "empty": (
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
    "must_one_4": (
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
    "version_not_newest_publish_newest_2": (
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
    "must_3": (
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
    "at_most_characters_2": (
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
    "case": (
        "病例 {list_id}：{reason}",
        "case {list_id}: {reason}",
    ),
    "not_accepted_give_leave_out": (
        "不接受 {name}：请给出 {ACCEPTED}，或不填以自动识别",
        "{name} is not accepted: give {ACCEPTED}, or leave it out to detect",
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
    "must_4": (
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
    "not_hospital_2": (
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
    "must_date_yyyy_mm_dd_2": (
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
    "must_json_object_2": (
        "应为 JSON 对象",
        "must be a JSON object",
    ),
    "larger_than_mib": (
        "超过 {value} MiB",
        "larger than {value} MiB",
    ),
    "role_may_not_do_this": (
        "角色 {value} 无权执行此操作（允许：{join}）",
        "role {value} may not do this (allowed: {join})",
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
}

# Placeholders whose value is itself a reason (a nested refusal: "principal diagnosis X: {why}").
NESTED = frozenset({"why", "reason", "problem"})


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
_MATCHER = re.compile("|".join(_pattern(REASONS[c][1], i) for i, c in enumerate(_ORDER)), re.DOTALL)


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
    "state": _REVIEW_STATES,
    "states": _REVIEW_STATES,
    # training/service.py: a range with its low end included or not.
    "bound": {"from": "含", "above": "不含"},
    # the CLI's path options
    "path_kind": {"file": "文件", "dir": "目录", "path": "路径"},
}
_NUMBERED = {
    name: [(re.compile(re.escape(en).replace(r"\{n\}", r"(\d+)")), zh) for en, zh in terms.items() if "{n}" in en]
    for name, terms in TERMS.items()
}


def _term(name: str, value: str) -> str:
    """A parameter in Chinese when it is a listed label, else as written."""
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
        params = {k: localize(v, lang) if k in NESTED else _term(k, v) for k, v in self.params.items()}
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
    m = _MATCHER.fullmatch(reason)
    if m is None or m.lastgroup is None:
        return None
    i = int(m.lastgroup[1:])
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
    return reason if found is None else found[0] + found[1].text(lang)


def localize_message(message: str, lang: Lang) -> str:
    """A refusal's message ("field: reason; other.field: reason", or "line 3: field: reason") in
    `lang`: the whole, else each "; "-separated part as `localize` says it."""
    if lang is Lang.en:
        return message
    whole = parse(message)
    if whole is not None:
        return whole.text(lang)
    return "；".join(localize(part, lang) for part in message.split("; "))


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
