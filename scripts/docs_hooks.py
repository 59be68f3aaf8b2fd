"""MkDocs hooks: the configuration reference and the troubleshooting list come from
the code's own definitions (zccache.core.setting_defs, zccache.core.doctor_command),
so the docs cannot drift from what the program reads and checks."""

from __future__ import annotations


def _settings_table() -> str:
    from zccache.core.setting_defs import SETTINGS

    rows = ["| variable | default | meaning |", "|---|---|---|"]
    for s in SETTINGS:
        default = f"`{s.default}`" if s.default else "unset"
        rows.append(f"| `{s.name}` | {default} | {s.meaning.replace('|', '&#124;')} |")
    return "\n".join(rows)


def _doctor_list() -> str:
    from zccache.core.doctor_command import CHECKS

    return "\n".join(f"- {finding}. Fix: {fix}." for finding, fix in CHECKS)


def on_page_markdown(markdown: str, page, config, files) -> str:
    return markdown.replace("<!-- zccache:settings -->", _settings_table()).replace(
        "<!-- zccache:doctor -->", _doctor_list())
