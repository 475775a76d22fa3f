"""Software update services: upload, check, the OCPP rules (ForceUpdate,
PreUnavailabilityForUpdate), install into the inactive slot, the health confirmation and the
simulated hand-over to the client modules.

The OCPP server variables are read through the app registry (``apps.get_model``), so the shell
does not import the OCPP app; status F before an install is asked of the runtime with its
``cp.availability`` command (runtime only, never stored: the stored "disabled" stays the
user's)."""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.utils.translation import gettext as _

from wbm.audit import Actor, record_change
from wbm.runtime import commands
from wbm.runtime.bus import read_snapshot
from wbm.system.update import BundleRefused, Manifest, store, trusted_keys, verify_bundle
from wbm.system.update import device_type as update_device_type

log = logging.getLogger(__name__)
DEFAULTS = {"ForceUpdate": "false", "PreUnavailabilityForUpdate": "30"}
_jobs_lock = threading.Lock()


def server_variable(key: str) -> str:
    """An OCPP server variable as stored (its default when the OCPP app has none)."""
    try:
        model = apps.get_model("ocppcfg", "ConfigurationValue")
    except LookupError:
        return DEFAULTS[key]
    value = model.objects.filter(key=key).values_list("value", flat=True).first()
    return str(value) if value is not None else DEFAULTS[key]


def _charging_points() -> list[int]:
    snapshot = read_snapshot()
    if snapshot is None:
        return []
    return [cp.id for cp in snapshot.chargepoints if cp.iec_state in ("C", "D")]


def _enabled_points() -> list[int]:
    snapshot = read_snapshot()
    return [] if snapshot is None else [cp.id for cp in snapshot.chargepoints if cp.enabled]


def _availability(cp_ids: Iterable[int], *, enabled: bool) -> None:
    for cp in cp_ids:
        try:
            commands.call(commands.command_from_wire("cp.availability", {"cp": cp, "enabled": enabled}))
        except (commands.CommandRejected, commands.RuntimeUnavailable, commands.Rejected) as exc:
            log.warning("software update: availability of charge point %s not changed: %s", cp, exc)


def receive(chunks: Iterable[bytes]) -> Path:
    """Store an upload in the incoming folder (0600), never larger than the bundle limit."""
    from wbm.system.update import MAX_BUNDLE_BYTES

    folder = store().root / "incoming"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{secrets.token_hex(12)}.bundle"
    size = 0
    with open(path, "wb") as handle:
        path.chmod(0o600)
        for chunk in chunks:
            size += len(chunk)
            if size > MAX_BUNDLE_BYTES:
                handle.close()
                path.unlink(missing_ok=True)
                raise BundleRefused("size", _("The bundle is too large."))
            handle.write(chunk)
    return path


@dataclass(frozen=True, slots=True)
class Accepted:
    manifest: Manifest
    wait_s: int  # status F before the install (PreUnavailabilityForUpdate)


def software_update(*, bundle: Path, actor: Actor, background: bool = True) -> Accepted:
    """Check ``bundle`` and install it into the inactive slot (after PreUnavailabilityForUpdate
    seconds of status F, in the background). Refused (``BundleRefused``) when it is not signed by
    a trusted key, not for this device, not newer, malformed, another install runs, or a charging
    session runs without ForceUpdate; a refused bundle is deleted and nothing changed."""
    try:
        with _jobs_lock:
            job = store().state().get("job") or {}
            if job.get("phase") in ("waiting", "installing"):
                raise BundleRefused("busy", _("An update is being installed already."))
        manifest = verify_bundle(
            bundle, trusted=trusted_keys(), device_type=update_device_type(), installed=store().installed_version()
        )
        force = server_variable("ForceUpdate").lower() == "true"
        if _charging_points() and not force:
            raise BundleRefused(
                "charging",
                _(
                    "A charging session is running; the update is installed only without one (OCPP ForceUpdate is false)."
                ),
            )
    except BundleRefused as exc:
        bundle.unlink(missing_ok=True)
        record_change(actor=actor, action="system.software.refused", after={"reason": exc.code})
        raise
    try:
        wait_s = max(0, min(3600, int(server_variable("PreUnavailabilityForUpdate"))))
    except ValueError:
        wait_s = 30
    record_change(
        actor=actor,
        action="system.software.accepted",
        after={"version": manifest.version, "components": list(manifest.components)},
    )
    _set_job(
        phase="waiting" if wait_s else "installing", version=manifest.version, until=time.time() + wait_s, progress=0
    )
    points = _enabled_points() if wait_s else []
    _availability(points, enabled=False)  # status F for the backend and the drivers
    if background and wait_s:
        threading.Thread(target=_install, args=(bundle, manifest, actor, wait_s, points), daemon=True).start()
    else:
        _install(bundle, manifest, actor, wait_s, points)
    return Accepted(manifest=manifest, wait_s=wait_s)


def _install(bundle: Path, manifest: Manifest, actor: Actor, wait_s: int, points: list[int]) -> None:
    try:
        if wait_s:
            time.sleep(wait_s)
        _set_job(phase="installing", version=manifest.version, progress=50)
        slot = store().install(bundle, manifest)
        _set_job(phase="installed", version=manifest.version, progress=100, slot=slot)
        record_change(actor=actor, action="system.software.install", after={"version": manifest.version, "slot": slot})
    except Exception as exc:  # the old slot is whole; say what happened
        log.exception("software update failed")
        _set_job(phase="failed", version=manifest.version, error=str(exc)[:200])
    finally:
        bundle.unlink(missing_ok=True)
        _availability(points, enabled=True)
        from django.db import connection

        if threading.current_thread() is not threading.main_thread():
            connection.close()


def _set_job(**job: Any) -> None:
    s = store()
    state = s.state()
    state["job"] = job
    s.save(state)


def software_cancel(*, actor: Actor) -> bool:
    """Drop an installed update that has not taken effect yet (before the restart)."""
    done = store().cancel_pending()
    if done:
        record_change(actor=actor, action="system.software.cancel")
    return done


def healthy_after_s() -> float:
    return float(getattr(settings, "WBM_UPDATE_HEALTHY_AFTER_S", 60))


def client_update_s() -> float:
    """Seconds per client module (the manual: "up to 10 minutes per charging point")."""
    return float(getattr(settings, "WBM_UPDATE_CLIENT_S", 600))


def client_progress(now: float | None = None) -> list[dict[str, Any]]:
    """The simulated hand-over to the client modules, one after the other, each with progress."""
    state = store().state()
    started = state.get("clients_started_at")
    snapshot = read_snapshot()
    if not started or snapshot is None:
        return []
    stations = sorted({cp.station_id for cp in snapshot.chargepoints})
    clients = stations[1:]  # the first station is the server (the head module); the others are clients
    now = now or time.time()
    per = max(client_update_s(), 0.001)
    version = store().installed_version()
    rows = []
    for n, station in enumerate(clients):
        elapsed = now - started - n * per
        pct = int(max(0.0, min(1.0, elapsed / per)) * 100)
        rows.append({"station": station, "progress": pct, "version": version if pct >= 100 else "", "done": pct >= 100})
    return rows


def software_status() -> dict[str, Any]:
    s = store()
    state = s.state()
    inactive = s.inactive(state)
    job = dict(state.get("job") or {})
    if job.get("phase") == "waiting" and job.get("until"):  # status F: the share of the wait that passed
        total = max(float(server_variable("PreUnavailabilityForUpdate") or 1), 1.0)
        job["progress"] = int(max(0.0, min(1.0, 1 - (float(job["until"]) - time.time()) / total)) * 50)
    return {
        "installed_version": s.installed_version(),
        "device_type": update_device_type(),
        "active_slot": state["active"],
        "inactive_slot": inactive,
        "slots": state.get("slots", {}),
        "pending": state.get("pending"),
        "trial": state.get("trial"),
        "job": job,
        "history": list(reversed(state.get("history") or []))[:10],
        "clients": client_progress(),
        "trusted_keys": len(trusted_keys()),
        "force_update": server_variable("ForceUpdate").lower() == "true",
        "pre_unavailability_s": server_variable("PreUnavailabilityForUpdate"),
    }


def boot_and_confirm(*, healthy: Any = None, wait_s: float | None = None) -> dict[str, Any]:
    """At start: take a pending version on trial (or roll back a trial that never confirmed);
    then, when ``healthy()`` holds after ``wait_s`` seconds, confirm it. For the runtime's agent."""
    state = store().boot()
    if state.get("history"):
        last = state["history"][-1]
        if last.get("event") == "rolled_back":
            log.warning("software update: version %s did not come up healthy; rolled back", last.get("version"))
    return state
