"""The docs site builds with MkDocs, warnings as errors, and its generated pages hold
every setting and every check the code defines."""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
import sys

from support import BIN, ROOT
from zccache.core.doctor_command import CHECKS
from zccache.core.setting_defs import SETTINGS


def test_docs_build_strict_with_generated_reference(tmp_path):
    mkdocs = shutil.which("mkdocs", path=BIN) or shutil.which("mkdocs")
    command = [mkdocs] if mkdocs else [sys.executable, "-m", "mkdocs"]
    # as the README says: the venv's mkdocs in the checkout, nothing else on the module path
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run([*command, "build", "--strict", "-d", str(tmp_path / "site")], cwd=ROOT,
                          capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    configuration = (tmp_path / "site" / "configuration" / "index.html").read_text()
    for setting in SETTINGS:
        assert f"<code>{setting.name}</code>" in configuration, setting.name
    # code names as written: not bold DATE, not a swallowed <uid> tag
    assert "<code>__DATE__</code>" in configuration and "pyzccache-&lt;uid&gt;" in configuration
    pages = [p.read_text() for p in (tmp_path / "site").rglob("*.html")]
    assert not any("not yet" in re.sub(r"<[^>]+>", "", page) for page in pages)  # true: nothing landed is "not yet"
    assert "site/" in (ROOT / ".gitignore").read_text().split()
    page = (tmp_path / "site" / "troubleshooting" / "index.html").read_text()
    troubleshooting = html.unescape(re.sub(r"<[^>]+>", "", page))
    for finding, _fix in CHECKS:
        assert finding.replace("`", "") in troubleshooting, finding
    for page in ("build-systems/cmake", "build-systems/scons", "build-systems/pip", "build-systems/meson",
                 "build-systems/cargo", "sharing", "benchmarks"):
        assert (tmp_path / "site" / page / "index.html").is_file(), page
