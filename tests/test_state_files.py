"""The state directory is private: a state directory prepared as runwbm prepares it (database,
secret key, logs, collected static files, the simulated hardware's file) has only 0600 files and
0700 directories, even when started with a permissive umask; entries someone loosened later are
named in a warning at start and made private again. An empty or damaged secret key file (a crash
during the first start) is replaced by a new key, so the WBM starts and answers again."""

from __future__ import annotations

import logging
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from wbm import statedir

ROOT = Path(__file__).resolve().parent.parent

PREPARE = """
import asyncio, logging, os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wbm.settings")
import django
django.setup()
from wbm.management.commands.runwbm import prepare_state
from wbm.runtime.backends.simulated import SimulatedBackend
prepare_state()
logging.getLogger("wbm").warning("a line in the log file")
asyncio.run(SimulatedBackend().poll(0.0))  # the simulated hardware writes its file
"""

SETTINGS_LOAD = """
import os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wbm.settings")
import django
django.setup()
from django.conf import settings
from django.core import signing
from django.test import Client
print(len(settings.SECRET_KEY))
assert signing.loads(signing.dumps("signed")) == "signed"
print(Client().get("/accounts/login/").status_code)
"""


def _env(state: Path) -> dict[str, str]:
    env = {**os.environ, "WBM_STATE_DIR": str(state), "WBM_ALLOWED_HOSTS": "testserver"}
    env.pop("WBM_SECRET_KEY", None)
    return env


def _run(code: str, state: Path) -> subprocess.CompletedProcess[str]:
    # umask 022, as a shell usually has: the WBM must not depend on the caller's umask
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=_env(state),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        umask=0o022,
    )


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def _not_private(root: Path) -> list[str]:
    wrong = [] if _mode(root) == 0o700 else [f"{root} {oct(_mode(root))}"]
    for parent, dirs, files in os.walk(root):
        wrong += [f"{Path(parent, d)} {oct(_mode(Path(parent, d)))}" for d in dirs if _mode(Path(parent, d)) != 0o700]
        wrong += [f"{Path(parent, f)} {oct(_mode(Path(parent, f)))}" for f in files if _mode(Path(parent, f)) != 0o600]
    return wrong


# --- item 9: private files ---------------------------------------------------------------------


def test_a_freshly_prepared_state_directory_is_private(tmp_path):
    state = tmp_path / "state"
    done = _run(PREPARE, state)
    assert done.returncode == 0, done.stderr

    for name in ("wbm.sqlite3", "secret_key", "logs/wbm.log", "simulated-hardware.json", "static/.fingerprint"):
        assert (state / name).is_file(), name
    assert any((state / "static").rglob("*.css")), "static files were collected"
    assert _not_private(state) == [], "every file 0600, every directory 0700"


def test_loosened_entries_are_named_and_made_private_again(tmp_path, caplog):
    (tmp_path / "logs").mkdir()
    log_file = tmp_path / "logs" / "wbm.log"
    log_file.write_text("x")
    database = tmp_path / "wbm.sqlite3"
    database.write_text("x")
    log_file.chmod(0o644)
    database.chmod(0o666)
    (tmp_path / "logs").chmod(0o755)
    tmp_path.chmod(0o755)

    with caplog.at_level(logging.WARNING, logger="wbm.statedir"):
        statedir.check_private(tmp_path)

    assert _not_private(tmp_path) == []
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "4 entries were accessible to other users" in warnings[0] and str(database) in warnings[0]

    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="wbm.statedir"):
        statedir.check_private(tmp_path)
    assert not caplog.records, "nothing to say when it is private"


def test_the_controller_checks_the_state_directory_when_it_starts(caplog):
    loosened = Path(settings.STATE_DIR) / "logs" / "loosened-by-someone.log"
    loosened.write_text("x")
    loosened.chmod(0o644)
    try:
        with caplog.at_level(logging.WARNING, logger="wbm.statedir"), pytest.raises(CommandError):
            call_command("runcontroller")  # embedded mode: refuses after the check
        assert _mode(loosened) == 0o600
        assert any(str(loosened) in r.getMessage() for r in caplog.records)
    finally:
        loosened.unlink()


# --- item 10: an empty or damaged secret key ---------------------------------------------------


@pytest.mark.parametrize("damaged", [b"", b"\n", b"\x00\xff\xfe\x13 half-written", b"short"], ids=repr)
def test_an_empty_or_damaged_secret_key_file_is_replaced(tmp_path, damaged):
    key_file = tmp_path / "secret_key"
    key_file.write_bytes(damaged)

    done = _run(SETTINGS_LOAD, tmp_path)

    assert done.returncode == 0, done.stderr
    length, status = done.stdout.split()
    assert int(length) >= 50 and status == "200"
    key = key_file.read_text()
    assert len(key) >= 50 and key.isprintable() and key.strip() == key
    assert _mode(key_file) == 0o600
    assert "secret key file" in done.stderr and "new key was generated" in done.stderr
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".secret_key")] == [], "no temporary file left"

    # the next start keeps that key
    again = _run(SETTINGS_LOAD, tmp_path)
    assert again.returncode == 0 and key_file.read_text() == key and "new key" not in again.stderr


def test_a_valid_secret_key_is_kept(tmp_path):
    key = "k" * 30 + "Ey-8_QzR2" * 3
    (tmp_path / "secret_key").write_text(key + "\n")
    done = _run(SETTINGS_LOAD, tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "secret_key").read_text() == key + "\n"
