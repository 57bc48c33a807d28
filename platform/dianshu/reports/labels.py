"""The message catalogue: every label a report, a download's header or (later) a refusal reason
shows, keyed by message id, in Chinese (the default) and English. One home for wording: the
templates ask `t(id)`, table columns are made by `column(...)` from the same entries.

A checked-in module rather than gettext .po/.mo files: no compile step, a missing id is a KeyError
at once (tests render every report in both languages), and placeholders are str.format fields."""

from __future__ import annotations

from collections.abc import Callable

from dianshu.tabular.write import Column, Kind, Lang

MESSAGES: dict[str, tuple[str, str]] = {
    # Units and common words
    "unit.yuan": ("元", "yuan"),
    "unit.yuan_per_point": ("元/点", "yuan/point"),
    "unit.points": ("点", "points"),
    "axis": ("{label}（{unit}）", "{label} ({unit})"),
    "bureau": ("{city}医疗保障局", "{city} Healthcare Security Administration"),
    "page": ("第 {page} 页，共 {pages} 页", "Page {page} of {pages}"),
    "generated": ("生成时间", "Generated"),
    "run": ("结算批次", "Settlement run"),
    "version": ("版本", "Version"),
    "footer.trace": (
        "批次 {run} · 第 {version} 版 · 生成于 {when}",
        "Run {run} · version {version} · generated {when}",
    ),
    "none": ("—", "—"),
    # Run kinds, ledgers and statuses (the codes the runs store)
    "kind.monthly": ("月度预结算", "monthly pre-settlement"),
    "kind.annual": ("年终清算", "annual clearing"),
    "ledger.employee": ("职工医保", "employee insurance"),
    "ledger.resident": ("居民医保", "resident insurance"),
    "ledger.all": ("职工、居民合并", "employee and resident (merged)"),
    "status.draft": ("草稿（非最终结果）", "draft (not final)"),
    "status.published": ("已发布", "published"),
    "status.superseded": ("已被新版本取代", "superseded"),
    # The statement
    "doc.monthly": ("月度预结算单", "monthly pre-settlement statement"),
    "doc.annual": ("年终清算单", "annual clearing statement"),
    "statement.title": ("{hospital} {period} {doc}", "{hospital}: {doc}, {period}"),
    "statement.period.annual": ("{year}年度", "year {year}"),
    "statement.draft_notice": (
        "草稿：本批次尚未发布，数字可能变化，不作结算依据。",
        "Draft: this run is not published; its figures may change.",
    ),
    "statement.region": ("统筹区", "Region"),
    "statement.ledger": ("险种账户", "Ledger"),
    "statement.status": ("状态", "Status"),
    "statement.published_at": ("发布时间", "Published"),
    "statement.alliance": ("医联体", "Medical alliance"),
    "statement.hospital_section": ("本院结算", "This hospital"),
    "statement.months_section": ("按月点数与拨付", "Points and payment by month"),
    "statement.ledger_section": ("统筹区账户", "The region's ledger"),
    "statement.chart": ("按月点数（柱）与拨付金额（线）", "Points (bars) and payment (line) by month"),
    "statement.pv_chart": ("预结算点值（按月）", "Provisional point value by month"),
    "statement.summary": ("结算汇总", "Statement summary"),
    "statement.months": ("按月明细", "Monthly lines"),
    "statement.ledger_table": ("统筹区账户", "Region ledger"),
    "sign.clerk": ("经办人", "Prepared by"),
    "sign.reviewer": ("复核人", "Reviewed by"),
    "sign.hospital": ("医院确认（盖章）", "Hospital's confirmation (seal)"),
    "sign.date": ("日期", "Date"),
    # The city report
    "city.title": (
        "{city} {year}年度 DRG点数法年终清算（分统筹区）",
        "{city}: annual DRG points clearing {year}, by region",
    ),
    "city.note": (
        "各统筹区已发布的年终清算；尚未发布的列出最新草稿（见状态列）。",
        "Each region's published clearing, or its newest draft where none is published (status column).",
    ),
    "city.chart": (
        "{ledger}：各统筹区基金支付总额（柱）与点值（线）",
        "{ledger}: fund total (bars) and point value (line)",
    ),
    "city.table": ("各统筹区清算", "Regions' clearing"),
    "city.empty": ("本年度尚无清算。", "No clearing for this year yet."),
    # Columns: who and what
    "col.hospital": ("医院编码", "Hospital code"),
    "col.hospital_name": ("医院名称", "Hospital"),
    "col.region": ("统筹区编码", "Region code"),
    "col.region_name": ("统筹区", "Region"),
    "col.kind": ("结算类型", "Kind"),
    "col.year": ("年度", "Year"),
    "col.month": ("月份", "Month"),
    "col.ledger": ("险种账户", "Ledger"),
    "col.status": ("状态", "Status"),
    "col.version": ("版本", "Version"),
    "col.run": ("结算批次号", "Run id"),
    "col.alliance": ("医联体", "Alliance"),
    # A refused row (cases.refused; the two ids named as in the input layout, cases.layout)
    "col.row_no": ("行号", "Row"),
    "col.list_id": ("结算清单流水号", "Settlement list id"),
    "col.row_hospital": ("定点医药机构编号", "Hospital code"),
    "col.field": ("字段", "Field"),
    "col.reason": ("原因", "Reason"),
    "refused.title": ("批次 {batch} 拒收行", "Refused rows, batch {batch}"),
    # A grouping comparison (grouping.tables): a hospital's cases moving from one group to another
    "col.from_drg": ("原DRG组", "From DRG"),
    "col.to_drg": ("新DRG组", "To DRG"),
    "col.from_adrg": ("原ADRG组", "From ADRG"),
    "col.to_adrg": ("新ADRG组", "To ADRG"),
    "comparison.title": ("分组方案对比（{level}）", "Grouping comparison ({level})"),
    # A hospital's line (runs.figures.LINE_FIELDS)
    "col.cases": ("病例数", "Cases"),
    "col.points": ("点数", "Points"),
    "col.deductions": ("扣减点数", "Deducted points"),
    "col.self_pay": ("参保人自付", "Patients' own payments"),
    "col.fund_pay": ("基金支付", "Fund payments"),
    "col.due": ("应付金额", "Due"),
    "col.payable": ("应拨付（预拨比例后）", "Payable (after the prepay ratio)"),
    "col.holdback": ("质量保证金", "Quality holdback"),
    "col.paid_before": ("此前已拨付", "Paid before"),
    "col.payment": ("本期拨付", "Payment"),
    "col.prepaid": ("已预拨", "Prepaid"),
    "col.score": ("考核得分", "Evaluation score"),
    "col.balance": ("清算余额", "Year-end balance"),
    "col.withheld": ("考核扣留", "Withheld by evaluation"),
    "col.audit_deductions": ("稽核扣款", "Audit deductions"),
    # A ledger's figures (SPEC §6: T, R, B, E, F, P, S, PV)
    "fig.T": ("年度预算总额", "Budget total (T)"),
    "fig.R": ("调剂金", "Reserve (R)"),
    "fig.B": ("点数预算", "Points budget (B)"),
    "fig.E": ("按项目付费基金支出", "Fee-for-service fund spending (E)"),
    "fig.F": ("基金支付总额", "Fund total (F)"),
    "fig.P": ("总点数", "Total points (P)"),
    "fig.S": ("参保人自付总额", "Patients' own payments (S)"),
    "fig.PV": ("点值", "Point value (PV)"),
    "fig.PV_provisional": ("预结算点值", "Provisional point value"),
    "fig.due": ("应付总额", "Total due"),
    "fig.payable": ("应拨付总额", "Total payable"),
    "fig.holdback": ("质量保证金合计", "Total holdback"),
    "fig.payment": ("本期拨付合计", "Total payment"),
    "fig.balance": ("清算余额合计", "Total balance"),
    "fig.withheld": ("考核扣留合计", "Total withheld"),
    "fig.hospitals": ("医院数", "Hospitals"),
    # The portal's names of the API's enum values (roles, jobs, batches; a run's status in a table cell)
    "run_status.draft": ("草稿", "draft"),
    "run_status.published": ("已发布", "published"),
    "run_status.superseded": ("已取代", "superseded"),
    "version_status.draft": ("草稿", "draft"),
    "version_status.published": ("已发布", "published"),
    "version_status.retired": ("已停用", "retired"),
    "rule_level.case": ("病例", "case"),
    "rule_level.hospital": ("医院", "hospital"),
    "severity.high": ("高", "high"),
    "severity.medium": ("中", "medium"),
    "severity.low": ("低", "low"),
    "role.city_admin": ("市级管理员", "city administrator"),
    "role.city_viewer": ("市级查看", "city viewer"),
    "role.region_admin": ("统筹区管理员", "region administrator"),
    "role.region_viewer": ("统筹区查看", "region viewer"),
    "role.hospital_user": ("医院用户", "hospital user"),
    "role.integrator": ("接口对接", "integrator"),
    "role.expert": ("评审专家", "review expert"),
    # A case's payment type (settlement/arithmetic/points.py CasePoints.type)
    # An evaluation's quartile among peers (evaluation/scoring.py BAND_LABELS) and a hospital's level.
    "rank_band.Q1": ("前 25%", "top 25%"),
    "rank_band.Q2": ("25%–50%", "25%–50%"),
    "rank_band.Q3": ("50%–75%", "50%–75%"),
    "rank_band.Q4": ("后 25%", "bottom 25%"),
    "hospital_level.1": ("一级", "level 1"),
    "hospital_level.2": ("二级", "level 2"),
    "hospital_level.3": ("三级", "level 3"),
    "case_type.normal": ("正常", "normal"),
    "case_type.high_outlier": ("高倍率", "high outlier"),
    "case_type.low_outlier": ("低倍率", "low outlier"),
    "case_type.bed_day": ("床日付费", "bed-day"),
    "case_type.incomplete": ("未完成治疗", "incomplete"),
    "case_type.itemized": ("按项目付费", "itemized"),
    "case_type.special_review": ("特病单议", "special review"),
    "job_status.queued": ("排队中", "queued"),
    "job_status.running": ("运行中", "running"),
    "job_status.succeeded": ("已完成", "succeeded"),
    "job_status.failed": ("失败", "failed"),
    "batch_status.pending": ("处理中", "in progress"),
    "batch_status.done": ("已完成", "done"),
    "batch_status.refused": ("整批拒收", "refused whole"),
    "batch_status.failed": ("失败", "failed"),
    "job_kind.analytics_refresh": ("运营分析刷新", "analytics refresh"),
    "job_kind.anomaly_run": ("异常排序", "anomaly run"),
    "job_kind.cases_ingest": ("病例导入", "cases ingest"),
    "job_kind.evaluation_run": ("考核评价", "evaluation run"),
    "job_kind.grouping_compare": ("分组对比", "grouping compare"),
    "job_kind.grouping_group_cases": ("病例分组", "grouping group cases"),
    "job_kind.national_export": ("国家平台上传", "national export"),
    "job_kind.settlement_points": ("点数计算", "settlement points"),
    "job_kind.settlement_settle": ("结算", "settlement settle"),
    "job_kind.settlement_simulate": ("模拟测算", "settlement simulate"),
    "job_kind.signals_run": ("监测信号", "signals run"),
    "job_kind.standards_calibrate": ("标准测算", "standards calibrate"),
    "job_kind.supervision_run": ("智能监管", "supervision run"),
    "job_kind.tenancy_import_hospitals": ("医院名册导入", "tenancy import hospitals"),
    "tenant_kind.city": ("市", "city"),
    "tenant_kind.region": ("统筹区", "region"),
}


def text(msgid: str, lang: Lang, **fields: object) -> str:
    zh, en = MESSAGES[msgid]
    s = zh if lang is Lang.zh else en
    return s.format(**fields) if fields else s


def translator(lang: Lang) -> Callable[..., str]:
    """`t(id, **fields)` in one language (what the templates call)."""
    return lambda msgid, **fields: text(msgid, lang, **fields)


def column(key: str, kind: Kind = Kind.text, places: int | None = None, msgid: str | None = None) -> Column:
    """A table column labelled from the catalogue (`col.<key>` unless `msgid` names another)."""
    zh, en = MESSAGES[msgid or f"col.{key}"]
    return Column(key, zh, en, kind, places)


# The portal's page texts, gettext-style: the Chinese a template writes (`_("…")`) is the message id,
# the English beside it (placeholders are str.format fields). tests/portal/test_portal_lang.py finds
# every `_("…")` of the templates here, and no Chinese left outside one.
PAGES: dict[str, str] = {
    "点数 DRG 点数法付费平台": "Dianshu DRG point-method payment",
    "点数": "Dianshu",
    "DRG 点数法付费平台": "DRG point-method payment",
    "首页": "Home",
    "预算与点值": "Budget and point value",
    "结算批次": "Settlement runs",
    "考核排名": "Evaluation ranking",
    "DRG 盈亏": "DRG profit and loss",
    "运行中的任务": "Running jobs",
    "拒收行": "Refused rows",
    "结算单": "Statements",
    "退出登录": "Sign out",
    "数据来自本平台的 GraphQL 接口，按您的角色与权限范围显示。金额单位：元。": (
        "Figures from this platform's GraphQL API, shown for your role and scope. Amounts in yuan."
    ),
    "预算与点值 ·": "Budget and point value ·",
    "{year} 年度": "year {year}",
    "年度预算（最新版本）": "Budget of the year (latest version)",
    "险种": "Ledger",
    "版本": "Version",
    "上年支出": "Last year's spending",
    "增长率": "Growth rate",
    "预算总额": "Budget total",
    "调节金": "Reserve",
    "点数法预算": "Points budget",
    "本年度尚无预算。": "No budget for this year yet.",
    "点值（按月）": "Point value (by month)",
    "月份": "Month",
    "类型": "Kind",
    "状态": "Status",
    "总点数": "Total points",
    "预结算点值": "Provisional point value",
    "点值": "Point value",
    "全年": "whole year",
    "{month} 月": "month {month}",
    "本年度尚无结算。": "No settlement for this year yet.",
    "您好，{name}": "Hello, {name}",
    "角色": "Role",
    "单位": "Organisation",
    "医院": "Hospital",
    "年度": "Year",
    "可查看的内容（{year} 年度）": "What you can see (year {year})",
    "各险种年度预算、月度预结算点值与年度清算点值": (
        "Each ledger's budget, the monthly provisional point values and the annual point value"
    ),
    "月度预结算、年度清算及其状态": "Monthly pre-settlements, annual clearings and their status",
    "所辖医院按考核得分排名": "Your hospitals ranked by evaluation score",
    "本院按病组的预计支付、成本与盈亏，可下载 Excel": (
        "Your hospital's expected payment, cost and profit or loss by DRG; Excel download"
    ),
    "医院按病组的预计支付、成本与盈亏，可下载 Excel": (
        "Hospitals' expected payment, cost and profit or loss by DRG; Excel download"
    ),
    "导入、分组、结算等后台任务的进度": "Progress of background jobs: ingest, grouping, settlement and more",
    "病例导入中被拒收的行，可下载": "Rows refused by case ingest, to download",
    "本院的结算单，可打印": "Your hospital's statements, to print",
    "各医院的结算单，可打印": "Each hospital's statements, to print",
    "运行中": "Running",
    "排队中": "Queued",
    "任务": "Job",
    "进度": "Progress",
    "说明": "Message",
    "提交人": "Submitted by",
    "开始时间": "Started",
    "无。": "None.",
    "统筹区": "Region",
    "查看": "Show",
    "DRG 盈亏 ·": "DRG profit and loss ·",
    "{region}全部医院": "all hospitals of {region}",
    "全部医院": "All hospitals",
    "下载 Excel（按病组）": "Download Excel (by DRG)",
    "病例数": "Cases",
    "预计支付": "Expected payment",
    "成本（计价病例）": "Cost (priced cases)",
    "盈亏": "Profit or loss",
    "按病组": "By DRG",
    "成本": "Cost",
    "仅显示前 100 个病组，完整数据请下载 Excel。": "Only the first 100 DRGs are shown; download the Excel for all.",
    "本年度尚无运营分析数据。": "No analytics for this year yet.",
    "无法显示": "Cannot be shown",
    "返回首页": "Back to home",
    "考核排名 ·": "Evaluation ranking ·",
    "名次": "Rank",
    "级别": "Level",
    "考核得分": "Evaluation score",
    "档次": "Band",
    "奖惩系数": "Reward/penalty coefficient",
    "医院用户只看到本院的得分与档次，不显示名次。": "A hospital user sees its own score and band, without the rank.",
    "本年度尚无已发布的考核结果。": "No published evaluation for this year yet.",
    "病例导入时未通过校验的行；下载后按行号和原因更正，再重新导入。": (
        "Rows that failed validation on case ingest: download, correct them by row number and reason, and ingest again."
    ),
    "导入时间": "Ingested",
    "总行数": "Rows",
    "接收": "Accepted",
    "拒收": "Refused",
    "下载": "Download",
    "拒收行 CSV": "Refused rows CSV",
    "没有拒收行。": "No refused rows.",
    "结算批次 ·": "Settlement runs ·",
    "全市结算报告（{year} 年度，可打印）": "City settlement report (year {year}, to print)",
    "医院数": "Hospitals",
    "本期拨付": "Payment",
    "生成时间": "Generated",
    "发布时间": "Published",
    "本年度尚无结算批次。": "No settlement runs for this year yet.",
    "登录": "Sign in",
    "市医保局、统筹区和定点医院的用户登录后，可查看本单位权限范围内的预算、点值、结算、考核、盈亏和结算单。": (
        "Users of the city bureau, its regions and its hospitals sign in to see the budgets, point values, "
        "settlements, evaluations, profit and loss and statements within their scope."
    ),
    "通过统一身份认证登录": "Sign in with single sign-on",
    "访问令牌（开发环境：": "Access token (development:",
    "写入": "writes",
    "用令牌登录": "Sign in with the token",
    "未配置统一身份认证（DIANSHU_OIDC_ISSUER 等），生产环境无法登录门户。": (
        "No single sign-on is configured (DIANSHU_OIDC_ISSUER and the rest): nobody can sign in in production."
    ),
    "结算单 ·": "Statements ·",
    "第 {version} 版": "version {version}",
    "应付": "Due",
    "打印": "Print",
    "无结算单。": "No statements.",
    # The portal's own messages (dianshu_graphql.portal.pages: refusals and sign-in failures)
    "接口拒绝了本页的查询": "The API refused this page's query",
    "年度 {year} 不是 2000 到 2100 之间的年份": "Year {year} is not a year from 2000 to 2100",
    "无权查看 {tenant} 的数据，或该统筹区不存在": "You may not see {tenant}'s data, or there is no such region",
    "您的账号没有可查看的统筹区": "Your account sees no region",
    "门户未配置会话密钥（DIANSHU_PORTAL_SESSION_SECRET），无法登录": (
        "The portal has no session secret (DIANSHU_PORTAL_SESSION_SECRET): nobody can sign in"
    ),
    "会话已失效或请求来源不明（CSRF 校验未通过），请返回首页重新操作": (
        "The session has expired or the request's origin is unknown (CSRF check failed): go back home and try again"
    ),
    "生产环境请通过统一身份认证登录，不接受粘贴令牌": (
        "In production sign in with single sign-on; a pasted token is not accepted"
    ),
    "请粘贴访问令牌（Bearer token）": "Paste an access token (Bearer token)",
    "登录失败：令牌无效、已过期或权限不符（{why}）": (
        "Sign-in failed: the token is invalid, expired or not entitled ({why})"
    ),
    "登录失败：门户供市、统筹区和医院用户使用（此令牌的角色为 {role}）": (
        "Sign-in failed: the portal is for city, region and hospital users (this token's role is {role})"
    ),
    "未配置统一身份认证（DIANSHU_OIDC_ISSUER 等）": (
        "No single sign-on is configured (DIANSHU_OIDC_ISSUER and the rest)"
    ),
    "登录失败：{why}": "Sign-in failed: {why}",
    "未配置统一身份认证": "No single sign-on is configured",
    "登录失败：登录请求已失效或来源不明（state 不符），请重新登录": (
        "Sign-in failed: the sign-in request has expired or its origin is unknown (state mismatch); sign in again"
    ),
    "登录失败：统一身份认证服务拒绝（{why}）": "Sign-in failed: the single sign-on service refused ({why})",
    "登录失败：回调缺少授权码": "Sign-in failed: the callback has no authorisation code",
    "登录失败：访问令牌过大（{size} 字节），会话 Cookie 会超出浏览器 4 KB 上限，请联系管理员精简令牌": (
        "Sign-in failed: the access token is too large ({size} bytes); the session cookie would exceed"
        " the browser's 4 KB limit. Ask the administrator to trim the token's claims"
    ),
    # portal/oidc.py's OidcError: why a single sign-on cannot go on
    "无法连接统一身份认证服务（{kind}）": "cannot reach the single sign-on service ({kind})",
    "统一身份认证服务返回 {status}（{url}）": "the single sign-on service answered {status} ({url})",
    "统一身份认证服务的应答不是 JSON（{url}）": "the single sign-on service's answer is not JSON ({url})",
    "统一身份认证服务的应答不是 JSON 对象（{url}）": "the single sign-on service's answer is not a JSON object ({url})",
    "统一身份认证服务的配置缺少 {key}": "the single sign-on service's configuration has no {key}",
    "统一身份认证服务的 issuer（{theirs}）与配置（{ours}）不符": (
        "the single sign-on service's issuer ({theirs}) is not the one configured ({ours})"
    ),
    "统一身份认证服务的公钥（JWKS）无法读取": "the single sign-on service's keys (JWKS) cannot be read",
    "身份令牌格式错误": "the ID token is malformed",
    "身份令牌的签名密钥未知（kid {kid}）": "the ID token's signing key is unknown (kid {kid})",
    "身份令牌无效：{detail}": "the ID token is not valid: {detail}",
    "身份令牌的 nonce 与本次登录不符": "the ID token's nonce is not this sign-in's",
    "换取令牌失败（{status}：{said}）": "the token exchange failed ({status}: {said})",
    "换取令牌失败（{status}）": "the token exchange failed ({status})",
    "统一身份认证服务未返回身份令牌和访问令牌": "the single sign-on service returned no ID token and access token",
    "医院用户只能查看本院的盈亏": "A hospital user sees its own hospital's profit and loss only",
    "{tenant} 没有医院 {hospital}，或您无权查看": "{tenant} has no hospital {hospital}, or you may not see it",
    "没有这个下载：/{path}": "No such download: /{path}",
    "无法下载": "The file cannot be downloaded",
    "（": " (",
    "）": ")",
    "、": ", ",
}


def page_text(zh: str, lang: Lang, **fields: object) -> str:
    """A portal page's text in `lang` (its Chinese is its id)."""
    s = zh if lang is Lang.zh else PAGES[zh]
    return s.format(**fields) if fields else s


# The CLI's wording (tables' titles and headers, progress labels, summary lines), as PAGES: the
# Chinese a command writes (`dianshu_cli.words.t("…")`) is the message id, the English beside it.
# tests/test_cli_words.py finds every `t("…")` of cli/dianshu_cli here, each with the same fields.
CLI: dict[str, str] = {
    # dianshu settlement
    "{year} 年{kind}": "{kind} settlement {year}",
    "结算批次": "Settlement runs",
    "批次编号": "id",
    "统筹区": "region",
    "类型": "kind",
    "年度": "year",
    "月份": "month",
    "基金": "ledger",
    "版本": "v",
    "状态": "status",
    "PV": "PV",
    "没有结算批次": "no settlement runs",
    "{year} 年终清算：各统筹区对比（已发布的，否则最新草稿；T、E、F 单位万元）": (
        "Annual clearing {year}: region by region (published, else the newest draft; T, E, F in 万元)"
    ),
    "T": "T",
    "E": "E",
    "F": "F",
    "医院数": "hosp.",
    "{tenant} 的{kind}批次 {id} 第 {version} 版：{status}": "{kind} run {id} v{version} of {tenant}: {status}",
    # dianshu standards
    "正在校验并载入 {folder} ...": "validating and loading {folder} ...",
    "拒收": "refused",
    "警告": "warning",
    "已载入": "loaded",
    "已载入过（文件相同）：未作改动": "already loaded (same files): nothing changed",
    "{scheme} {label}：{drgs} 个 DRG，版本 {id}：{what}": "{scheme} {label}: {drgs} DRGs, version {id}: {what}",
    "{scheme} {label} 已发布，{start} 起生效": "{scheme} {label} published, effective {start}",
    "DRG 标准版本": "DRG standard versions",
    "方案": "scheme",
    "标签": "label",
    "有效期": "effective",
    "DRG 数": "DRGs",
    "编号": "id",
    "{file} 所写内容被拒收：{problems}": "{file} as written is refused: {problems}",
    "{directory} 的编码版本": "code editions of {directory}",
    "表": "table",
    "编码": "codes",
    "其中编码数": "codes in it",
    "仅医保版": "医保版 only",
    "仅国临版": "国临版 only",
    "实测": "measured",
    "声明": "declared",
    "已写入 {path}": "wrote {path}",
    # dianshu generate, dianshu ingest
    "生成中": "generating",
    "试点城市数据已生成到 {out}": "Generated pilot city into {out}",
    "住院人次": "stays",
    "总费用（元）": "total cost (yuan)",
    "正在逐条分组以检查数据特征 ...": "grouping every stay to check the profile ...",
    "行数 {rows}，无效 {invalid}，入组率 {rate}，MDC {mdcs} 个，DRG {drgs} 个，高低倍率占比 {outliers}": (
        "rows {rows}, invalid {invalid}, grouping rate {rate}, MDCs {mdcs}, DRGs {drgs}, outlier share {outliers}"
    ),
    "导入中（校验、暂存、合并）": "ingesting (validate, stage, merge)",
    "导入批次": "Ingestion batches",
    "行数": "rows",
    "接收": "accepted",
    "更正": "corrected",
    "未变": "unchanged",
    "批次 {id}（{tenant}）：{status}": "batch {id} ({tenant}): {status}",
    "，按 {encoding} 读取": ", read as {encoding}",
    "；拒收行：{path}": "; refused rows: {path}",
    "；{reason}": "; {reason}",
    # waiting for jobs (the demo, dianshu settlement run)
    "正在导入医院名册": "importing hospital rosters",
    "{what}失败：{error}": "{what} failed: {error}",
    "{what}：任务未在 120 秒内完成": "{what}: jobs did not finish in 120 s",
    # dianshu group (its records on stdout are never worded)
    "分组中": "grouping",
    "{task.fields[n]:,} 条记录": "{task.fields[n]:,} records",
    # dianshu demo
    "点数演示：试点城市 金华市（330700）": "Dianshu demo: pilot city 金华市 (330700)",
    "内置 PostgreSQL": "embedded PostgreSQL",
    "内置 Redis": "embedded Redis",
    "数据库：{db}；消息队列：{broker}；状态目录：{state}": "database: {db}; broker: {broker}; state: {state}",
    "数据库迁移已完成": "migrations applied",
    "租户登记：市 + {n} 个统筹区（新增 {created} 个）": "tenant registry: city + {n} regions ({created} new)",
    "正在载入 DRG 标准（CHS-DRG 1.1、ZJ-DRG 2022）...": "loading the DRG standards (CHS-DRG 1.1, ZJ-DRG 2022) ...",
    "DRG 标准已发布：{versions}": "DRG standards published: {versions}",
    "正在为试点城市生成 2025 年 {stays} 人次住院 ...": "generating {stays} stays of 2025 for the pilot city ...",
    "结算清单已导入：{rows} 行，本次接收 {accepted}，未变 {unchanged}，拒收 {refused}": (
        "settlement lists ingested: {rows} rows, {accepted} accepted now, {unchanged} unchanged, {refused} refused"
    ),
    "按 ZJ-DRG 2022 和 CHS-DRG 1.1 分组": "grouping under ZJ-DRG 2022 and CHS-DRG 1.1",
    "2025 年分组：各方案的入组率和人次最多的五个 DRG": "Grouping of 2025: rate and the five largest DRGs per scheme",
    "入组率": "grouped",
    "DRG": "DRG",
    "试点城市 金华市：各统筹区的医院和住院人次": "Pilot city 金华市: hospitals and stays per pooling region",
    "代码": "code",
    "2025 年住院人次": "stays 2025",
    "合计": "total",
    "令牌（另存于 {file}）": "Tokens (also in {file})",
    "角色": "role",
    "范围": "scope",
    "{city} 及所有统筹区": "{city} and all regions",
    "{region}，经 {account}": "{region} via {account}",
    "查询示例：": "Example query:",
    "API 地址 http://{host}:{port}/graphql": "API on http://{host}:{port}/graphql",
    "（Ctrl-C 停止）": "(Ctrl-C to stop)",
    "门户地址 http://{host}:{port}/（用 {file} 中的令牌登录）": (
        "Portal on http://{host}:{port}/ (sign in with a token from {file})"
    ),
    "按 2025 年数据测算支付标准": "calibrating the payment standard on 2025",
    "{year} 年{kind}（截至 {month} 月）": "{kind} settlement of {year} through month {month}",
    "{hospital} 的结算单（含按月图表）：{path} 及 .pdf": (
        "statement of {hospital} (with its chart by month): {path} and .pdf"
    ),
    # dianshu demo: supervision and the evaluation
    "{year} 年病例点数": "case points of {year}",
    "{year} 年监管规则": "supervision rules of {year}",
    "{year} 年医院信号（PEPPER）": "hospital signals (PEPPER) of {year}",
    "{year} 年异常排序": "anomaly ranking of {year}",
    "考核指标目录 {label} 已发布（{n} 项指标）": "evaluation catalogue {label} published ({n} indicators)",
    "已录入 {n} 个指标值（演示数据）": "{n} entered indicator values (demo figures)",
    "{year} 年考核评价": "evaluation of {year}",
    "{year} 年考核评价结果已发布：年终清算读取其得分": (
        "evaluation runs of {year} published: the annual clearing reads their scores"
    ),
    "医院考核评价 {year}：各维度得分（{n} 家中的前后各 {k} 家）": (
        "医院考核评价 {year}: scores by dimension (top and bottom {k} of {n})"
    ),
    "医院": "hospital",
    "级": "level",
    "综合": "comp.",
    "DRGs": "DRGs",
    "审核": "audit",
    "效果": "outcome",
    "满意": "satisf.",
    "过程": "process",
    "总分": "total",
    "档": "band",
    "智能监管 {year}：待处理的主要疑点（按审核队列顺序）": "智能监管 {year}: top open findings (audit queue order)",
    "规则": "rule",
    "级别": "severity",
    "数值": "figure",
    "阈值": "threshold",
    "病例": "cases",
    # dianshu supervision
    "智能监管规则": "Supervision rules (智能监管规则)",
    "名称": "名称",
    "英文名称": "name",
    "层级": "level",
    "违规类型": "violation",
    "参数": "parameters",
    "{year} 年智能监管": "supervision {year}",
    "{year} 年监管疑点：按规则": "Supervision findings {year}: per rule",
    "待处理": "open",
    "已确认": "confirmed",
    "已排除": "dismissed",
    "待处理疑点前 {top} 条（按审核队列顺序）": "Top {top} open findings (audit queue order)",
    "单位": "unit",
    "详情": "detail",
    # dianshu evaluation
    "没有标签为 {label} 的指标目录版本": "no catalogue version labelled {label}",
    "已作为草稿载入": "loaded as a draft",
    "已存过（内容相同）：未作改动": "already stored (same content): nothing changed",
    "指标目录 {label}（{n} 项指标），版本 {id}：{what}；{status}": (
        "catalogue {label} ({n} indicators), version {id}: {what}; {status}"
    ),
    "没有指标目录版本 {version}": "no catalogue version {version}",
    "指标目录 {label} 已发布，适用 {start}–{end}": "catalogue {label} published, in force {start}–{end}",
    "考核指标目录版本": "evaluation catalogue versions",
    "适用年度": "in force",
    "指标数": "indicators",
    # dianshu migrate, token, accounts, sweep
    "system 角色不签发令牌": "role system is not for tokens",
    "服务账号 {account} 已启用，可代表 {tenants}": "service account {account} active for {tenants}",
    "服务账号 {account} 已停用": "service account {account} deactivated",
    "已重新发送 {n} 个任务": "re-sent {n} jobs",
    # dianshu doctor: the checks' names, what each found and how to fix it ("✗ 名称：详情——处理：…")
    "配置": "configuration",
    "数据库属主": "database owner",
    "运行时角色": "runtime role",
    "数据库迁移": "migrations",
    "消息代理": "broker",
    "身份认证": "identity",
    "患者标识密钥": "patient-id key",
    "{name}：{detail}": "{name}: {detail}",
    "——处理：{fix}": " — fix: {fix}",
    "更正其中指出的设置": "correct the setting it names",
    "无法以{what}连接 {url}：{reason}": "cannot connect as {what} to {url}: {reason}",
    "登录角色（{var}）": "{var}'s login",
    "运行时角色（{var}）": "the runtime role ({var})",
    "属主": "the owner",
    "生产环境（{var}）：数据库、消息代理和签名密钥均已配置": (
        "profile prod ({var}): database, broker and signing keys configured"
    ),
    "开发环境（允许内嵌 PostgreSQL 和 Redis；生产环境请设置 {var}）": (
        "profile dev (embedded PostgreSQL and Redis allowed; set {var} in production)"
    ),
    "检查 {var}": "check {var}",
    "检查 {var}，并确认 PostgreSQL 已启动": "check {var} and that PostgreSQL is up",
    "检查 {var}（或 {role_var} 和 {with_var}）": "check {var} (or {role_var} and {with_var})",
    "已以 {login} 连接；角色 {owner} 不存在": "connected as {login}; role {owner} does not exist",
    "运行 {command}（它会创建这些角色）": "run {command} (it creates the roles)",
    "已以 {login} 连接：{n} 张表的属主不是 {owner}：{tables}": (
        "connected as {login}: {n} table(s) not owned by {owner}: {tables}"
    ),
    "{statement}（迁移以属主角色创建每张表）": "{statement} (migrations create every table as the owner role)",
    "即属主角色本身": "the owner role itself",
    "超级用户，可作为 {owner} 操作": "a superuser, acts as {owner}",
    "{owner} 的成员": "a member of {owner}",
    "未检查：{var} 以运行时角色 {login} 连接，而不是以可作为 {owner} 操作的登录角色连接（Helm chart 的 pod "
    "只有运行时角色的连接；要检查属主，请用迁移 Job 的 {var} 运行 doctor）；以 {login} 读取的系统目录显示 "
    "{owner} 拥有全部 {n} 张表": (
        "not checked: {var} connects as {login}, the runtime role, not as a login that can act as {owner} (a chart "
        "pod has only the runtime role's; run doctor with the migration Job's {var} to check the owner); the "
        "catalogue, read as {login}, says {owner} owns the {n} tables"
    ),
    "{var} 以 {login} 连接，它不能作为 {owner} 操作（既不是其成员，也不是超级用户）": (
        "{var} connects as {login}, which can not act as {owner} (neither a member of it nor a superuser)"
    ),
    "执行 {statement}，或将 {var} 设为运行迁移所用的登录角色": (
        "{statement}, or set {var} to the login migrations run as"
    ),
    "已以 {login} 连接（{how}）；{owner} 拥有全部 {n} 张表": (
        "connected as {login} ({how}); {owner} owns the {n} tables"
    ),
    "角色 {role} 可作为属主 {owner} 操作（是其成员）": "role {role} may act as the owner {owner} (a member of it)",
    "角色 {role} 拥有 {n} 个对象：{objects}": "role {role} owns {n} object(s): {objects}",
    "；": "; ",
    "{problems}（行级安全将失效）": "{problems} (row-level security would not hold)",
    "执行 {alter}，从它收回 {owner} 并将它拥有的对象转给 {owner}；或改用不拥有任何对象的角色连接": (
        "{alter}, revoke {owner} from it and reassign what it owns to {owner}; or connect as a role that owns nothing"
    ),
    "{role}：{attributes}，不拥有任何对象": "{role}: {attributes}, owns nothing",
    "数据库位于 {current}，代码位于 {heads}": "database at {current}, code at {heads}",
    "尚无修订版本": "no revision",
    "运行 {command}（Helm chart 的迁移 Job 会在安装和升级时执行）": (
        "run {command} (the chart's migration Job does it on install and upgrade)"
    ),
    "已是最新修订版本 {heads}": "at head {heads}",
    "{broker} {url} 无法连接：{reason}": "{broker} at {url} unreachable: {reason}",
    "检查 {var}，并确认 {broker} 正在运行且从这里可以访问": (
        "check {var} and that {broker} is running and reachable from here"
    ),
    "{broker} {url} 有应答": "{broker} at {url} answers",
    "内嵌 Redis，位于 {dir}（开发环境；按需启动）": "embedded Redis under {dir} (dev; started on demand)",
    "检查 {url_var}（从这里可以访问）或密钥文件 {jwks_file_var} / {key_file_var}（可读）": (
        "check {url_var} (reachable from here) or the key files {jwks_file_var} / {key_file_var} (readable)"
    ),
    "{algorithm}，使用{keys}": "{algorithm} with {keys}",
    "共享密钥": "a shared secret",
    "{url} 的 {n} 个签名密钥": "{n} signing key(s) at {url}",
    "{var} 中的 {n} 个密钥": "{n} key(s) from {var}",
    "{var} 中的公钥": "a public key from {var}",
    "、": ", ",
    "{var} 无法读取：{reason}": "{var} unreadable: {reason}",
    "挂载该密钥文件，使当前用户可读": "mount the secret readable by this user",
    "开发用密钥（未设置 {var}；生产环境没有密钥时拒绝启动）": (
        "the dev key ({var} unset; production refuses to start without one)"
    ),
    "{source}：{n} 个字符（请妥善保留：换用其他密钥会得到不同的化名）": (
        "{source}: {n} characters (keep it: another key gives other pseudonyms)"
    ),
}


def cli_text(zh: str, lang: Lang, **fields: object) -> str:
    """A CLI text in `lang` (its Chinese is its id); without fields, the text as written (a Rich
    TextColumn formats its own `{task...}` fields)."""
    s = zh if lang is Lang.zh else CLI[zh]
    return s.format(**fields) if fields else s
