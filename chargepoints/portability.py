"""Charging park and CHARX RFID/NFC boards as sections of System Control / Import/Export.

The park section holds every charge point's configuration as the charge point file does
(``importexport.config_to_dict``), keyed by the charge point's device UID; it is validated with
the configuration form against the park as the file leaves it, and written with
``chargepoint_config_save`` / ``chargepoint_config_delete`` (the one write path)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from chargepoints import importexport, services
from chargepoints.choices import ReleaseMode
from chargepoints.forms import Peers
from chargepoints.models import ChargePoint, ChargePointConfig, RfidBoard
from chargepoints.selectors import rfid_board_list
from wbm.audit import Actor
from wbm.roles import Perm
from wbm.system.portability import Section


def _points() -> dict[str, ChargePoint]:
    return {cp.device_uid: cp for cp in ChargePoint.objects.select_related("station")}


def park_export() -> dict[str, Any]:
    configs = ChargePointConfig.objects.select_related("chargepoint__station", "rfid_reader__station").order_by(
        "chargepoint__station_id", "chargepoint__position"
    )
    return {"chargepoints": {cfg.chargepoint.device_uid: importexport.config_to_dict(cfg) for cfg in configs}}


def _entries(data: dict[str, Any]) -> dict[str, Any]:
    entries = data.get("chargepoints")
    if not isinstance(entries, dict):
        raise ValueError("chargepoints must be an object")
    return entries


def _peers(entries: dict[str, Any], points: dict[str, ChargePoint], *, without: str) -> Peers:
    """The park as the file leaves it, without one charge point."""
    names: dict[str, str] = {}
    uids: dict[str, str] = {}
    connectors: dict[int, str] = {}
    for uid, cfg in entries.items():
        if uid == without or uid not in points or not isinstance(cfg, dict):
            continue
        label = f"{points[uid].station.hostname} / {points[uid].position}"
        names[str(cfg.get("name"))] = label
        uids[uid if cfg.get("controller_uid") == importexport.SELF else str(cfg.get("controller_uid"))] = label
        connector = cfg.get("ocpp_connector_id")
        if cfg.get("release_mode") == ReleaseMode.OCPP and isinstance(connector, int) and connector >= 1:
            connectors[connector] = label
    return Peers(names=names, controller_uids=uids, ocpp_connector_ids=connectors)


def park_validate(data: dict[str, Any], secrets: dict[str, Any] | None) -> list[str]:
    entries = _entries(data)
    points = _points()
    stored = park_export()["chargepoints"]
    errors: list[str] = []
    for uid, cfg in entries.items():
        if stored.get(uid) == cfg:
            continue  # unchanged: valid; a clash with a changed one is found on the changed one's side
        if uid not in points:
            errors.append(_("%(uid)s: there is no charge point with this device UID in the park.") % {"uid": uid[:40]})
            continue
        problems = importexport.check_config_dict(cfg, path=uid)
        if not problems:
            _form, problems = importexport.validate_for(
                cfg, target=points[uid], peers=_peers(entries, points, without=uid), path=uid
            )
        errors.extend(f"{p.path}: {p.message}" for p in problems)
    return errors


def park_apply(data: dict[str, Any], secrets: dict[str, Any] | None, actor: Actor) -> None:
    entries = _entries(data)
    points = _points()
    for uid, cp in points.items():
        if uid not in entries and ChargePointConfig.objects.filter(pk=cp.pk).exists():
            services.chargepoint_config_delete(chargepoint=cp, actor=actor)
    stored = park_export()["chargepoints"]
    for uid, cfg in entries.items():
        if stored.get(uid) == cfg:
            continue
        form_data, _problems = importexport.form_data_for(cfg, target=points[uid])
        services.chargepoint_config_save(
            chargepoint=points[uid], data=form_data, actor=actor, peers=_peers(entries, points, without=uid)
        )


def rfid_export() -> dict[str, Any]:
    boards = {b.pk for b in rfid_board_list()}
    stored = {
        board.chargepoint.device_uid: services._board_dict(board)
        for board in RfidBoard.objects.select_related("chargepoint").prefetch_related("profiles")
        if board.chargepoint_id in boards
    }
    return {"boards": stored}


def _boards(data: dict[str, Any]) -> dict[str, Any]:
    boards = data.get("boards")
    if not isinstance(boards, dict):
        raise ValueError("boards must be an object")
    return boards


def rfid_validate(data: dict[str, Any], secrets: dict[str, Any] | None) -> list[str]:
    wired = {b.device_uid for b in ChargePoint.objects.filter(pk__in=[b.pk for b in rfid_board_list()])}
    errors = []
    for uid, board in _boards(data).items():
        if uid not in wired:
            errors.append(_("%(uid)s: no CHARX RFID/NFC board is wired at this charging point.") % {"uid": uid[:40]})
        elif not isinstance(board, dict) or not isinstance(board.get("profiles", {}), dict):
            errors.append(_("%(uid)s: the board's settings are malformed.") % {"uid": uid[:40]})
    return errors


def rfid_apply(data: dict[str, Any], secrets: dict[str, Any] | None, actor: Actor) -> None:
    stored = rfid_export()["boards"]
    points = _points()
    for uid, board in _boards(data).items():
        if stored.get(uid) != board:
            services.rfid_board_update(chargepoint=points[uid], data=board, actor=actor)


SECTIONS = [
    Section(
        key="park",
        title=gettext_lazy("Charging park"),
        schema=1,
        edit_perm=Perm.CHARGEPOINT_CONFIGURE,
        export=park_export,
        validate=park_validate,
        apply=park_apply,
        audit_prefixes=("chargepoint.config.",),
        order=10,
        validated_by_apply=True,
    ),
    Section(
        key="rfid",
        title=gettext_lazy("CHARX RFID/NFC configuration"),
        schema=1,
        edit_perm=Perm.RFID_BOARD_EDIT,
        export=rfid_export,
        validate=rfid_validate,
        apply=rfid_apply,
        audit_prefixes=("rfidboard.",),
        order=20,
    ),
]
