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
    "role.city_admin": ("市级管理员", "city administrator"),
    "role.city_viewer": ("市级查看", "city viewer"),
    "role.region_admin": ("统筹区管理员", "region administrator"),
    "role.region_viewer": ("统筹区查看", "region viewer"),
    "role.hospital_user": ("医院用户", "hospital user"),
    "role.integrator": ("接口对接", "integrator"),
    "role.expert": ("评审专家", "review expert"),
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
