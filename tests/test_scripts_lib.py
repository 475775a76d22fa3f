"""scripts/lib.sh's ensure_venv (used by run.sh and test.sh) says what it does while pip runs
quietly, and is silent once everything is installed. A fake Python stands in for venv and pip."""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Used as "python3 -m venv .venv" it makes a .venv whose python is itself; as .venv/bin/python it
# records the pip call instead of installing anything.
FAKE_PYTHON = """#!/bin/sh
if [ "$1" = "-m" ] && [ "$2" = "venv" ]; then
  mkdir -p "$3/bin" && cp "$0" "$3/bin/python" && exit 0
fi
echo "$*" >> "$PIP_CALLS"
"""


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    shutil.copy(ROOT / "requirements.lock", tmp_path / "requirements.lock")
    fake = tmp_path / "fake-python3"
    fake.write_text(FAKE_PYTHON)
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    return tmp_path


def ensure_venv(checkout: Path) -> list[str]:
    done = subprocess.run(
        ["bash", "-c", f"set -euo pipefail; source {ROOT / 'scripts' / 'lib.sh'}; ensure_venv"],
        cwd=checkout,
        env={**os.environ, "PYTHON": str(checkout / "fake-python3"), "PIP_CALLS": str(checkout / "pip-calls")},
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert done.stderr == ""
    return done.stdout.splitlines()


def package_count(lock: Path) -> int:
    return sum(1 for line in lock.read_text().splitlines() if re.match(r"[A-Za-z0-9]", line))


def test_a_first_start_says_each_step(checkout):
    count = package_count(checkout / "requirements.lock")

    assert ensure_venv(checkout) == [
        "Creating the virtual environment (.venv) …",
        f"Installing {count} Python packages (first start, about a minute) …",
        "Python packages installed.",
    ]
    assert "-r requirements.lock" in (checkout / "pip-calls").read_text()


def test_a_later_start_is_silent(checkout):
    ensure_venv(checkout)
    (checkout / "pip-calls").unlink()

    assert ensure_venv(checkout) == []
    assert not (checkout / "pip-calls").exists(), "pip ran although nothing changed"


def test_a_changed_lock_file_says_it_updates(checkout):
    ensure_venv(checkout)
    lock = checkout / "requirements.lock"
    lock.write_text(lock.read_text() + "extra-package==1.0\n")

    assert ensure_venv(checkout) == [
        f"Updating to the {package_count(lock)} Python packages of requirements.lock (it changed) …",
        "Python packages installed.",
    ]
