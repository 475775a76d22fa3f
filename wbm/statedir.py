"""The state directory is private: it holds the database (password hashes, session keys, API
tokens), the secret key and the logs.

``settings`` sets the process umask to 0o077 before anything is created, so every file starts as
0600 and every directory as 0700; ``check_private`` (run at the start of ``runwbm`` and
``runcontroller``) finds entries someone loosened since, says so and tightens them again.

No Django import here: ``settings`` uses this module before Django is set up.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import stat
import sys
import tempfile
from pathlib import Path
from typing import NoReturn

log = logging.getLogger("wbm.statedir")

PRIVATE_UMASK = 0o077
DIR_MODE = 0o700
FILE_MODE = 0o600
_OTHERS = 0o077  # any access for the group or other users


def make_private_by_default() -> None:
    """From now on this process creates files 0600 and directories 0700."""
    os.umask(PRIVATE_UMASK)


def check_private(root: Path) -> list[Path]:
    """Tighten every directory (0700) and file (0600) under ``root`` (itself included) that the
    group or other users may access; log one warning naming them. Symbolic links are not followed.
    Returns the entries that were tightened."""
    loosened: list[Path] = []
    for path, is_dir in _entries(root):
        try:
            mode = path.lstat().st_mode
            if stat.S_ISLNK(mode) or not mode & _OTHERS:
                continue
            path.chmod(DIR_MODE if is_dir else FILE_MODE)
        except OSError as error:
            log.warning("state directory: cannot make %s private: %s", path, error.strerror or error)
            continue
        loosened.append(path)
    if loosened:
        shown = ", ".join(str(p) for p in loosened[:5]) + (
            f" and {len(loosened) - 5} more" if len(loosened) > 5 else ""
        )
        log.warning(
            "state directory %s: %d entries were accessible to other users (%s); made private again "
            "(directories 0700, files 0600)",
            root,
            len(loosened),
            shown,
        )
    return loosened


def _entries(root: Path) -> list[tuple[Path, bool]]:
    found: list[tuple[Path, bool]] = [(root, True)]
    for parent, dirs, files in os.walk(root):
        found += [(Path(parent, name), True) for name in dirs]
        found += [(Path(parent, name), False) for name in files]
    return found


# --- the secret key ----------------------------------------------------------------------------


def _usable(raw: bytes) -> str | None:
    """The key in a ``secret_key`` file, or None when the file is empty or damaged (what a crash
    during the first start leaves): such a file cannot have signed a valid session."""
    try:
        key = raw.decode("ascii").strip()
    except UnicodeDecodeError:
        return None
    # Django's own bar for a strong key (check --deploy): 50 characters, 5 different ones.
    if len(key) < 50 or len(set(key)) < 5 or not key.isprintable() or any(c.isspace() for c in key):
        return None
    return key


def secret_key(path: Path) -> str:
    """The secret key kept in ``path``: generated on the first start, generated again when the
    file is empty or damaged. Written atomically (a temporary file in the same directory, fsync,
    then link or replace), so a crash cannot leave an empty file. When it cannot be written the
    process ends with one line."""
    try:
        existing: bytes | None = path.read_bytes()
    except FileNotFoundError:
        existing = None
    except OSError as error:
        _refuse(f"WBM cannot start: the secret key file {path} cannot be read ({error.strerror or error}).")
    if existing is not None and (key := _usable(existing)) is not None:
        return key
    try:
        _write_new_key(path, replace=existing is not None)
        key = _usable(path.read_bytes())
    except OSError as error:
        _refuse(
            f"WBM cannot start: the secret key file {path} cannot be written ({error.strerror or error}); "
            "check that the state directory is writable and the disk is not full."
        )
    if key is None:  # pragma: no cover - written and read back just now
        _refuse(f"WBM cannot start: the secret key file {path} was written but reads back damaged.")
    if existing is not None:
        sys.stderr.write(f"WBM: the secret key file {path} was empty or damaged; a new key was generated.\n")
    return key


def _write_new_key(path: Path, *, replace: bool) -> None:
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=".secret_key.")  # mode 0600
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(secrets.token_urlsafe(50))
            fh.flush()
            os.fsync(fh.fileno())
        if replace:
            os.replace(tmp, path)
        else:
            # first start: another process starting at the same moment may win; then its key counts
            with contextlib.suppress(FileExistsError):
                os.link(tmp, path)
        _fsync_dir(path.parent)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _refuse(line: str) -> NoReturn:
    sys.stderr.write(line + "\n")
    raise SystemExit(1)
