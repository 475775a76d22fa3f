"""The runtime living in this process, if any (embedded mode, tests)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from wbm.runtime.core import Runtime

_current: Runtime | None = None


def get() -> Runtime | None:
    return _current


def set_current(runtime: Runtime | None) -> None:
    global _current
    _current = runtime
