"""The CLI's wording in its language (`errors.lang()`): `t("中文", **fields)` says a table title, a
column header, a progress label or a summary line, its Chinese the id of its English in
dianshu.reports.labels.CLI (one home, as the portal's PAGES); `code_word("batch_status", value)` says a
stored code by the label catalogue (MESSAGES) in Chinese, and in English as the code itself (what
the options take: `--kind monthly`, `--role city_admin`), as it was before.
Machine-readable output (data files, JSON, CSV, `dianshu group`'s records) is never worded here."""

from __future__ import annotations


def t(zh: str, **fields: object) -> str:
    from dianshu.reports.labels import cli_text
    from dianshu_cli.errors import lang

    return cli_text(zh, lang(), **fields)


def en() -> bool:
    from dianshu.tabular.write import Lang
    from dianshu_cli.errors import lang

    return lang() is Lang.en


def code_word(kind: str, value: object) -> str:
    """A stored code in the CLI's language: its `kind.value` label of the catalogue in Chinese (the
    code where the catalogue has none), the code itself in English."""
    from dianshu.reports.labels import MESSAGES, text
    from dianshu.tabular.write import Lang

    msgid = f"{kind}.{value}"
    return text(msgid, Lang.zh) if not en() and msgid in MESSAGES else str(value)
