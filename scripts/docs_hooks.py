"""MkDocs hooks: the configuration reference and the troubleshooting list come from
the code's own definitions (zccache.core.setting_defs, zccache.core.doctor_command),
so the docs cannot drift from what the program reads and checks."""

from __future__ import annotations

import html
import os
import re
import sys

# mkdocs run from a checkout (pip install -e '.[test]' has mkdocs): the project's
# modules are beside this directory, whether or not the package is installed
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _text(meaning: str) -> str:
    """A meaning as Markdown shows it as written: <uid> is text, __DATE__ is code."""
    return re.sub(r"(__\w+__)", r"`\1`", html.escape(meaning, quote=False)).replace("|", "&#124;")


def _settings_table() -> str:
    from zccache.core.setting_defs import SETTINGS

    rows = ["| variable | default | meaning | ccache's name |", "|---|---|---|---|"]
    for s in SETTINGS:
        default = f"`{s.default}`" if s.default else "unset"
        rows.append(f"| `{s.name}` | {default} | {_text(s.meaning)} | {f'`{s.ccache}`' if s.ccache else ''} |")
    return "\n".join(rows)


def _doctor_list() -> str:
    from zccache.core.doctor_command import CHECKS

    return "\n".join(f"- {finding}. Fix: {fix}." for finding, fix in CHECKS)


def on_page_markdown(markdown: str, page, config, files) -> str:
    return markdown.replace("<!-- zccache:settings -->", _settings_table()).replace(
        "<!-- zccache:doctor -->", _doctor_list())
