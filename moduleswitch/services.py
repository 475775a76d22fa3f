"""Module switch: prepare the controller for operation as a client in client/server mode, and
back to server.

Switching to client (simulated): the stations this controller managed as the server (its
clients) are no longer its own (a server will group it and take them over). They are parked
whole (every row that depends on them, serialized) in the state directory and removed from the
park; the controller's own station becomes a client module. Then the controller restarts (some
services shut down: the runtime starts again with the new topology). Switching back restores
the parked stations exactly and makes the own station the server again.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from django.core import serializers
from django.db import DEFAULT_DB_ALIAS, models, transaction
from django.db.models.deletion import Collector

from chargepoints import choices as c
from chargepoints.models import Station
from wbm.audit import Actor, record_change
from wbm.runtime.commands import CommandRejected, RuntimeUnavailable, on_commit
from wbm.system import osbackend
from wbm.system import services as system_services

MODE = "module_mode"
USB_ADDRESS = "192.168.5.1"
PARKED = "moduleswitch-parked.json"


class AlreadyInMode(ValueError):
    """The controller already runs in the mode asked for."""


# On a client the server does these: backend communication, load management, the whitelist
# (manual M:3119 "reduced scope of functions"; which menus remain is not listed, see README).
CLIENT_HIDDEN_SECTIONS = frozenset({"ocpp", "loadmgmt", "whitelist"})


def hidden_sections() -> frozenset[str]:
    """The menu sections a client module leaves to its server (none on a server)."""
    return CLIENT_HIDDEN_SECTIONS if module_mode() == "client" else frozenset()


def module_mode() -> str:
    """``server`` (the delivery state) or ``client``."""
    return osbackend.mode_get(MODE, "server")


def _own_station() -> Station | None:
    return (
        Station.objects.filter(kind=c.ModuleKind.SERVER).order_by("pk").first()
        or Station.objects.order_by("pk").first()
    )


def _collect(stations: Iterable[Station]) -> tuple[list[models.Model], Collector]:
    collector = Collector(using=DEFAULT_DB_ALIAS, origin=None)
    collector.collect(list(stations))
    rows: list[models.Model] = []
    for instances in collector.data.values():
        rows.extend(instances)
    for queryset in collector.fast_deletes:
        rows.extend(queryset)  # type: ignore[arg-type]
    return rows, collector


def _parked_path() -> Any:
    return osbackend.os_dir() / PARKED


@transaction.atomic
def module_switch(*, to: str, actor: Actor) -> dict[str, Any]:
    """Change the park topology for ``to`` ("client" or "server"), store the mode, restart the
    controller once committed. Raises ``AlreadyInMode``; ``ValueError`` for another mode."""
    if to not in ("client", "server"):
        raise ValueError(to)
    if module_mode() == to:
        raise AlreadyInMode(to)
    own = _own_station()
    if to == "client":
        others = Station.objects.exclude(pk=own.pk) if own is not None else Station.objects.none()
        rows, collector = _collect(others)
        document = {
            "own_station": own.pk if own is not None else None,
            "rows": json.loads(serializers.serialize("json", rows)),
        }
        collector.delete()
        if own is not None:
            Station.objects.filter(pk=own.pk).update(kind=c.ModuleKind.CLIENT)
        path = _parked_path()
        path.write_text(json.dumps(document), encoding="utf-8")
        path.chmod(0o600)
        moved = len({r["pk"] for r in document["rows"] if r["model"] == "chargepoints.station"})
    else:
        path = _parked_path()
        document = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {"own_station": None, "rows": []}
        for obj in serializers.deserialize("json", json.dumps(document["rows"])):
            obj.save()
        if document.get("own_station") is not None:
            Station.objects.filter(pk=document["own_station"]).update(kind=c.ModuleKind.SERVER)
        elif own is not None:
            Station.objects.filter(pk=own.pk).update(kind=c.ModuleKind.SERVER)
        moved = len({r["pk"] for r in document["rows"] if r["model"] == "chargepoints.station"})
        transaction.on_commit(lambda: path.unlink(missing_ok=True))
    osbackend.mode_set(MODE, to)
    record_change(
        actor=actor,
        action="system.moduleswitch",
        before={"mode": "server" if to == "client" else "client"},
        after={"mode": to, "stations_moved": moved},
    )
    transaction.on_commit(lambda: _restart(actor, to))
    return {"mode": to, "stations_moved": moved}


def _restart(actor: Actor, to: str) -> None:
    """The restart that makes the new topology the runtime's (the process comes back by itself);
    where the process cannot restart itself, the controller re-reads the park instead."""
    try:
        system_services.system_reboot(actor=actor, reason=f"module switch to {to}")
    except (
        CommandRejected,
        RuntimeUnavailable,
    ):  # no restarter (a test runtime) or no runtime: tell it to re-read the park
        from chargepoints.controller.commands import ConfigReload

        on_commit(ConfigReload())
