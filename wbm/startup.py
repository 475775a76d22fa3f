"""A process that cannot reach its database does not start: one clear line, exit status 3.

Without this check a web process with a wrong ``DATABASE_URL`` starts, answers its probe and
then fails every request. Called where a process starts: ``wbm.asgi`` (Daphne imports it before
it listens, so the SystemExit ends Daphne), ``runwbm``, the Celery worker (``wbm.celery``) and
``runcontroller``."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any, NoReturn

EXIT_NO_DATABASE = 3


def describe_database(cfg: Mapping[str, Any]) -> str:
    """Where a database (a ``DATABASES`` entry) is, for a log line: never its password."""
    engine = str(cfg.get("ENGINE", "")).rsplit(".", 1)[-1]
    name = str(cfg.get("NAME") or "")
    if engine == "sqlite3":
        return f"sqlite:///{name}"
    user = str(cfg.get("USER") or "")
    host = str(cfg.get("HOST") or "")
    port = str(cfg.get("PORT") or "")
    where = (f"{user}@" if user else "") + host + (f":{port}" if port else "")
    hidden = " (password hidden)" if cfg.get("PASSWORD") else ""
    return f"{engine}://{where}/{name}{hidden}"


def _first_line(error: BaseException, secret: str) -> str:
    text = str(error).strip() or type(error).__name__
    line = text.splitlines()[0].strip()
    if secret:
        line = line.replace(secret, "***")  # a driver's message never shows it either, in case
    return line


def require_database(what: str, alias: str = "default") -> None:
    """Connect to the database once (a new connection, closed again) or end the process with
    one line on stderr: ``wbm: web process: cannot reach the database …; not starting``.

    A new raw connection rather than ``connection.ensure_connection()``: nothing is left open in
    the starting thread (``runwbm`` forks after this) and the test runner's guard against
    database access at import time is not involved; the driver's connect is the same."""
    from django.db import DatabaseError, connections

    connection = connections[alias]
    try:
        with connection.wrap_database_errors:
            raw = connection.get_new_connection(connection.get_connection_params())
    except (DatabaseError, OSError) as error:
        cfg = connection.settings_dict
        secret = str(cfg.get("PASSWORD") or "")
        _refuse(f"wbm: {what}: cannot reach the database {describe_database(cfg)}: {_first_line(error, secret)}")
    raw.close()


def _refuse(line: str) -> NoReturn:
    sys.stderr.write(line + "; not starting\n")
    sys.stderr.flush()
    raise SystemExit(EXIT_NO_DATABASE)
