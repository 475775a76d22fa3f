"""Probes for a proxy or a process supervisor.

``/livez``: answers "ok" while the web process serves requests, and does nothing else (no
database, no Redis, no runtime). It is also the bare view the benchmark compares the dashboard
with: the same middleware, none of the page's work.

``/healthz``: whether this web process can do its work: the database (``SELECT 1``), the channel
layer (scaled: a PING to its Redis; embedded: in memory, always ok) and the controller runtime
(its heartbeat, ``wbm.runtime.bus.liveness``). 200 when every check is ok, else 503. JSON when the
client accepts it, else one line: ``ok`` or ``fail: database, runtime``. The checks run side by
side, each in a thread of its own, and one that has not answered after ``CHECK_TIMEOUT_S`` fails
as a timeout, so the probe answers within about that time whatever hangs.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import connections
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import View

from wbm.access import RoleRequiredMixin
from wbm.roles import Perm
from wbm.runtime import bus

log = logging.getLogger("wbm.health")

CHECK_TIMEOUT_S = 1.5
REDIS_TIMEOUT_S = 1.0


@dataclass
class Check:
    ok: bool = False
    ms: float | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"ok": self.ok, "ms": self.ms, **self.detail}
        if self.error:
            out["error"] = self.error
        return out


def _one_line(exc: BaseException) -> str:
    text = (str(exc).strip().splitlines() or [""])[0]
    return f"{type(exc).__name__}: {text}"[:200] if text else type(exc).__name__


def check_database() -> dict[str, Any]:
    connection = connections["default"]
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    finally:
        connection.close()  # this thread's connection: a probe leaves none behind
    return {}


@functools.cache
def _layer_redis(address: str) -> Any:  # redis.Redis: imported here, only in scaled mode
    """A client of its own to the channel layer's Redis, with short timeouts (the layer's own
    connections belong to the event loop and may block up to 15 s on purpose)."""
    import redis

    return redis.Redis.from_url(
        address,
        socket_connect_timeout=REDIS_TIMEOUT_S,
        socket_timeout=REDIS_TIMEOUT_S,
        health_check_interval=10,
    )


def check_channel_layer() -> dict[str, Any]:
    layer: dict[str, Any] = settings.CHANNEL_LAYERS["default"]
    if not layer["BACKEND"].startswith("channels_redis."):
        return {"backend": "in-memory"}
    host = layer["CONFIG"]["hosts"][0]
    address = host["address"] if isinstance(host, dict) else str(host)
    _layer_redis(address).ping()
    return {"backend": "redis"}


def check_runtime() -> dict[str, Any]:
    alive = bus.liveness()
    if not alive.alive:
        raise RuntimeError("no heartbeat" if alive.last_seen is None else f"last heartbeat {alive.age_s} s ago")
    return {"age_s": alive.age_s}


CHECKS: dict[str, Callable[[], dict[str, Any]]] = {
    "database": check_database,
    "channel_layer": check_channel_layer,
    "runtime": check_runtime,
}


def _run(func: Callable[[], dict[str, Any]]) -> Check:
    started = time.perf_counter()
    result = Check()
    try:
        result.detail = func()
        result.ok = True
    except Exception as exc:  # a failed check is the answer, not an error of the probe
        result.error = _one_line(exc)
    result.ms = round((time.perf_counter() - started) * 1000, 1)
    return result


# Long-lived worker threads: a thread's cache client (its Redis connection pool) is kept from one
# probe to the next. A check that hangs holds its worker until its own timeout ends it.
_executor = ThreadPoolExecutor(max_workers=2 * len(CHECKS), thread_name_prefix="healthz")


def run_checks(timeout_s: float | None = None) -> dict[str, Check]:
    """Every check side by side; one that has not answered within ``timeout_s`` fails."""
    timeout_s = CHECK_TIMEOUT_S if timeout_s is None else timeout_s
    futures = {name: _executor.submit(_run, func) for name, func in CHECKS.items()}
    wait(futures.values(), timeout=timeout_s)
    results: dict[str, Check] = {}
    for name, future in futures.items():
        if future.done():
            results[name] = future.result()
        else:
            future.cancel()  # still queued: never started; running: left to end on its own
            results[name] = Check(ok=False, ms=round(timeout_s * 1000, 1), error=f"no answer within {timeout_s} s")
    return results


class HealthView(RoleRequiredMixin, View):
    required = Perm.DASHBOARD_VIEW

    def get(self, request: HttpRequest) -> HttpResponse:
        results = run_checks()
        failed = [name for name, check in results.items() if not check.ok]
        status = 503 if failed else 200
        if "application/json" in request.headers.get("Accept", ""):
            body = {
                "status": "fail" if failed else "ok",
                "checks": {name: check.as_dict() for name, check in results.items()},
            }
            response: HttpResponse = JsonResponse(body, status=status)
        else:
            text = f"fail: {', '.join(failed)}" if failed else "ok"
            response = HttpResponse(text, status=status, content_type="text/plain; charset=utf-8")
        response["Cache-Control"] = "no-store"
        _log_change(failed, results)
        # a failing probe is its answer, and the change is logged once above: not one error line
        # with each probe from Django
        response._has_been_logged = True  # type: ignore[attr-defined]
        return response


_last_failed: list[str] = []


def _log_change(failed: list[str], results: dict[str, Check]) -> None:
    """One line when the set of failing checks changes (a proxy probes every few seconds)."""
    global _last_failed
    if failed == _last_failed:
        return
    _last_failed = failed
    if failed:
        log.warning("healthz: fail: %s", "; ".join(f"{name} ({results[name].error})" for name in failed))
    else:
        log.info("healthz: ok again")


class LiveView(RoleRequiredMixin, View):
    required = Perm.DASHBOARD_VIEW

    def get(self, request: HttpRequest) -> HttpResponse:
        return HttpResponse("ok", content_type="text/plain; charset=utf-8")
