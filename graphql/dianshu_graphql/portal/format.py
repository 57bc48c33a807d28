"""How the portal shows figures (zh-CN: thousands separators, money to 2 places with 元, times in
Asia/Shanghai) and names the API's enum values in Chinese. The API answers Decimals as strings;
they are formatted from Decimal, never through float."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from babel.numbers import format_decimal

LOCALE = "zh_CN"
BEIJING = ZoneInfo("Asia/Shanghai")
DASH = "—"


def _decimal(value: object) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def number(value: object, places: int = 2) -> str:
    """1234567.8 → 1,234,567.80: zh-CN grouping, `places` fixed (Babel rounds half-even)."""
    d = _decimal(value)
    if d is None:
        return DASH
    pattern = "#,##0" + ("." + "0" * places if places else "")
    return format_decimal(d, format=pattern, locale=LOCALE, decimal_quantization=True)


def money(value: object) -> str:
    """An amount in yuan: 1,234,567.80 元."""
    d = _decimal(value)
    return DASH if d is None else f"{number(d, 2)} 元"


def integer(value: object) -> str:
    return number(value, 0)


def percent(value: object, places: int = 1) -> str:
    d = _decimal(value)
    return DASH if d is None else f"{number(d * 100, places)}%"


def share(value: object, places: int = 2) -> str:
    """A share the API gives already in percent (analytics: 54.3478 → 54.35%)."""
    d = _decimal(value)
    return DASH if d is None else f"{number(d, places)}%"


def when(value: object) -> str:
    """An ISO time from the API as Beijing time to the minute: 2025-04-30 18:05."""
    if not value:
        return DASH
    try:
        t = datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    if t.tzinfo is not None:
        t = t.astimezone(BEIJING)
    return t.strftime("%Y-%m-%d %H:%M")


LABELS: dict[str, dict[str, str]] = {
    "role": {
        "city_admin": "市级管理员",
        "city_viewer": "市级查看",
        "region_admin": "统筹区管理员",
        "region_viewer": "统筹区查看",
        "hospital_user": "医院用户",
        "integrator": "接口对接",
        "expert": "评审专家",
    },
    "ledger": {"employee": "职工医保", "resident": "居民医保", "all": "合计"},
    "kind": {"monthly": "月度预结算", "annual": "年度清算"},
    "run_status": {"draft": "草稿", "published": "已发布"},
    "job_status": {"queued": "排队中", "running": "运行中", "succeeded": "已完成", "failed": "失败"},
    "batch_status": {"pending": "处理中", "done": "已完成", "refused": "整批拒收", "failed": "失败"},
    "job_kind": {
        "analytics_refresh": "运营分析刷新",
        "anomaly_run": "异常排序",
        "cases_ingest": "病例导入",
        "evaluation_run": "考核评价",
        "grouping_compare": "分组对比",
        "grouping_group_cases": "病例分组",
        "national_export": "国家平台上传",
        "settlement_points": "点数计算",
        "settlement_settle": "结算",
        "settlement_simulate": "模拟测算",
        "signals_run": "监测信号",
        "standards_calibrate": "标准测算",
        "supervision_run": "智能监管",
        "tenancy_import_hospitals": "医院名册导入",
    },
    "tenant_kind": {"city": "市", "region": "统筹区"},
}


def label(value: object, group: str) -> str:
    """The Chinese name of an enum value (`value | label("ledger")` in a template); the value itself
    when there is none."""
    if value is None:
        return DASH
    return LABELS.get(group, {}).get(str(value), str(value))


FILTERS = {
    "number": number,
    "money": money,
    "integer": integer,
    "percent": percent,
    "share": share,
    "when": when,
    "label": label,
}
