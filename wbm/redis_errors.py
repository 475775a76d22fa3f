"""Redis's exception types, without importing redis where it is not used.

Importing ``redis.exceptions`` imports the whole client (some 60 modules, a few MB of an
embedded controller's memory). Embedded mode never talks to Redis, so nothing can raise a
Redis error there; scaled mode has imported redis (cache, channel layer) before any could.
These helpers read the types from ``sys.modules`` and give empty tuples when redis is not
loaded (``except ()`` catches nothing)."""

from __future__ import annotations

import sys


def connection_errors() -> tuple[type[BaseException], ...]:
    """Redis unreachable: refused, reset, timed out."""
    module = sys.modules.get("redis.exceptions")
    return (module.ConnectionError, module.TimeoutError) if module is not None else ()


def any_error() -> tuple[type[BaseException], ...]:
    """Every error of the redis client."""
    module = sys.modules.get("redis.exceptions")
    return (module.RedisError,) if module is not None else ()


def store_errors() -> tuple[type[BaseException], ...]:
    """Redis unreachable or failing, and the socket errors beneath it."""
    return (*any_error(), OSError)
