"""The one write path for charge points: validate, write once, record, tell the runtime."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from django.db import IntegrityError, transaction

from chargepoints.controller.commands import ConfigReload, CpAvailability, CpLock, CpRelease, CpUnlock
from chargepoints.forms import CONFIG_FIELDS, ChargePointConfigForm, Peers, config_validate
from chargepoints.importexport import ImportPlan, config_to_dict, import_plan
from chargepoints.importexport import values_to_dict as importexport_values_to_dict
from chargepoints.models import ChargePoint, ChargePointConfig, ChargingSession
from wbm.audit import Actor, record_change
from wbm.runtime import commands

log = logging.getLogger(__name__)


def chargepoint_release_set(*, chargepoint: ChargePoint, allow: bool, actor: Actor) -> None:
    """Allow or prohibit charging (the manual's charging release). The release lives in the
    runtime only (it ends at unplug), so the runtime's answer is the write: it is recorded once
    the runtime took it, and refused when the release mode does not permit it or no vehicle is
    connected (``CommandRejected``)."""
    commands.call(CpRelease(cp=chargepoint.pk, allow=allow))
    record_change(
        actor=actor, action="chargepoint.release.allow" if allow else "chargepoint.release.prohibit", obj=chargepoint
    )


def chargepoint_availability_set(*, chargepoint: ChargePoint, enabled: bool, actor: Actor) -> bool:
    """Disable (state F, shown as Error, charging aborted) or enable a charge point; kept
    across restarts. Written and recorded first; the runtime is told once that is committed.
    Returns False when the runtime could not be told now: it takes the stored state up by
    itself within ``WBM_PERSIST_EVERY_S`` (and at every start)."""
    with transaction.atomic():
        locked = ChargePoint.objects.select_for_update().get(pk=chargepoint.pk)
        before = locked.enabled
        if before != enabled:
            ChargePoint.objects.filter(pk=chargepoint.pk).update(enabled=enabled)
            record_change(
                actor=actor,
                action="chargepoint.enable" if enabled else "chargepoint.disable",
                obj=chargepoint,
                before={"enabled": before},
                after={"enabled": enabled},
            )
        told = commands.on_commit(CpAvailability(cp=chargepoint.pk, enabled=enabled))
    chargepoint.enabled = enabled
    return told.succeeded


def chargepoint_unlock_set(*, chargepoint: ChargePoint, enforce: bool, actor: Actor) -> None:
    """Enforce unlocking (charging aborted) or revert it. Lives in the runtime only, so the
    runtime's answer is the write, recorded once taken."""
    commands.call(CpUnlock(cp=chargepoint.pk, enforce=enforce))
    record_change(
        actor=actor, action="chargepoint.unlock.enforce" if enforce else "chargepoint.unlock.revert", obj=chargepoint
    )


# --- what the controller writes ------------------------------------------------------------------


def _utc(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, tz=UTC)


@transaction.atomic
def energy_registers_save(*, registers: Mapping[int, float]) -> int:
    """Persist the meters' energy registers (Wh). A stored register never goes down: a value
    below the stored one (a stale writer) is ignored. Returns how many rows changed."""
    stored = dict(
        ChargePoint.objects.select_for_update().filter(pk__in=list(registers)).values_list("pk", "energy_register_wh")
    )
    rows = [
        ChargePoint(pk=pk, energy_register_wh=int(wh))
        for pk, wh in registers.items()
        if pk in stored and int(wh) > stored[pk]
    ]
    ChargePoint.objects.bulk_update(rows, ["energy_register_wh"], batch_size=200)
    return len(rows)


def charging_session_open(
    *, chargepoint_id: int, started_at: float, meter_start_wh: float, id_tag: str = "", evcc_id: str = ""
) -> int:
    """Record the start of a plug-in (with the ISO 15118 vehicle's EVCC ID when it sent one);
    returns the session's primary key."""
    session = ChargingSession(
        chargepoint_id=chargepoint_id,
        started_at=_utc(started_at),
        meter_start_wh=int(meter_start_wh),
        id_tag=id_tag,
        evcc_id=evcc_id.upper(),
    )
    session.full_clean(exclude=["chargepoint"])
    session.save()
    return session.pk


def charging_session_released(*, session_id: int, sources: Sequence[str]) -> None:
    """Record who released charging during an open session (kept for resuming it)."""
    ChargingSession.objects.filter(pk=session_id, ended_at__isnull=True).update(released_by=",".join(sources))


def charging_session_close(*, session_id: int, ended_at: float, meter_stop_wh: float, id_tag: str, reason: str) -> None:
    """Record the end of a plug-in (once: a closed session stays as it was closed)."""
    with transaction.atomic():
        session = ChargingSession.objects.select_for_update().get(pk=session_id)
        if session.ended_at is not None:
            log.warning("session %s was already closed; not closing it again", session_id)
            return
        session.ended_at = _utc(ended_at)
        session.meter_stop_wh = max(int(meter_stop_wh), session.meter_start_wh)
        session.id_tag = id_tag or session.id_tag
        session.stop_reason = reason
        session.full_clean(exclude=["chargepoint"])
        session.save(update_fields=["ended_at", "meter_stop_wh", "id_tag", "stop_reason"])


def chargepoint_lock_set(*, chargepoint: ChargePoint, locked: bool, actor: Actor) -> None:
    """Lock or unlock the socket of a charge point in the locking mode "Remote control" (the
    manual: "controlled externally … via the REST API"). Lives in the runtime; recorded once it
    took it; refused for any other locking mode."""
    commands.call(CpLock(cp=chargepoint.pk, locked=locked))
    record_change(actor=actor, action="chargepoint.lock" if locked else "chargepoint.unlock", obj=chargepoint)


# --- configuration (create, edit, import, delete) ---------------------------------------------


class ConfigInvalid(Exception):
    """The configuration was refused; ``form`` holds the values and the errors at their fields."""

    def __init__(self, form: ChargePointConfigForm) -> None:
        super().__init__(form.errors.as_text())
        self.form = form


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class WriteConflict:
    """What someone else wrote since a writer read ``revision`` (from the audit trail)."""

    revision: int  # stored now; 0: nothing stored (no configuration / factory settings)
    changed: tuple[str, ...]  # the keys whose stored value differs from what the writer read
    at: datetime | None  # the latest of those writes, and who made it
    username: str
    deleted: bool = False  # the configuration was deleted meanwhile


class StaleRevision(Exception):
    """The write started from an older revision than the stored one; nothing was written.
    ``form`` (configuration only) holds the writer's values."""

    def __init__(self, conflict: WriteConflict, form: ChargePointConfigForm | None = None) -> None:
        super().__init__(f"stale revision (stored: {conflict.revision})")
        self.conflict = conflict
        self.form = form


def _conflict(
    *, object_id: int, actions: tuple[str, ...], since: int, current: int, diff: Any, deleted: bool = False
) -> WriteConflict:
    """Walk the audit records of ``actions`` newest first: within one lifetime every write made
    one record and one revision, so the newest ``current - since`` records are the writes since
    ``since`` (a create ends the walk: the writer read an earlier lifetime or nothing).
    ``diff(before, after)`` names the keys that differ."""
    from wbm.models import ChangeRecord

    records = list(ChangeRecord.objects.filter(object_id=str(object_id), action__in=actions).order_by("-pk")[:500])
    changed: set[str] = set()
    remaining = current - since
    for record in records if not deleted else []:
        if record.action.endswith(".delete"):
            break
        changed |= diff(record.before, record.after)
        remaining -= 1
        if remaining == 0 or record.before is None:
            break
    latest = records[0] if records else None
    return WriteConflict(
        revision=current,
        changed=tuple(sorted(changed)),
        at=latest.at if latest else None,
        username=latest.username if latest else "",
        deleted=deleted,
    )


_CONFIG_ACTIONS = (
    "chargepoint.config.create",
    "chargepoint.config.update",
    "chargepoint.config.import",
    "chargepoint.config.delete",
)


def _config_conflict(chargepoint: ChargePoint, *, since: int, current: int) -> WriteConflict:
    defaults = importexport_values_to_dict({}, chargepoint=chargepoint)

    def diff(before: Any, after: Any) -> set[str]:
        before, after = before or defaults, after or defaults
        return {name for name in CONFIG_FIELDS if before.get(name) != after.get(name)}

    return _conflict(
        object_id=chargepoint.pk, actions=_CONFIG_ACTIONS, since=since, current=current, diff=diff, deleted=current == 0
    )


def _next_revision(*, object_id: int, actions: tuple[str, ...]) -> int:
    """The revision of a newly created row: above any revision an earlier row had (each of its
    writes and its deletion left one audit record), so a page read before a deletion stays stale."""
    from wbm.models import ChangeRecord

    return ChangeRecord.objects.filter(object_id=str(object_id), action__in=actions).count() + 1


class NotConfigured(Exception):
    """The charge point has no configuration (it is in factory default)."""


class ImportRejected(Exception):
    """An import was refused; ``plan`` names the errors per charge point. Nothing was written."""

    def __init__(self, plan: ImportPlan) -> None:
        super().__init__("import rejected")
        self.plan = plan


class ImportOutdated(Exception):
    """The charge points changed between the preview and the confirmation; nothing was written."""

    def __init__(self, plan: ImportPlan) -> None:
        super().__init__("import outdated")
        self.plan = plan


def _reload_runtime() -> None:
    """Tell the runtime to re-read the configuration; a stopped runtime reads it when it starts."""
    try:
        commands.call(ConfigReload())
    except (commands.RuntimeUnavailable, commands.CommandRejected) as exc:
        log.warning("configuration saved, runtime not reloaded: %r", exc)


_READ = object()


def _config_locked(chargepoint: ChargePoint, *, revision: int | None) -> ChargePointConfig | None:
    """The stored configuration, locked until the transaction ends; raises ``StaleRevision``
    when ``revision`` (what the writer read; 0: none) is not the stored one (None: no check)."""
    existing = (
        ChargePointConfig.objects.select_for_update()
        .select_related("chargepoint__station")
        .filter(pk=chargepoint.pk)
        .first()
    )
    current = existing.revision if existing is not None else 0
    if revision is not None and revision != current:
        raise StaleRevision(_config_conflict(chargepoint, since=revision, current=current))
    return existing


def _config_write(
    *,
    chargepoint: ChargePoint,
    values: Mapping[str, Any],
    actor: Actor,
    action: str | None = None,
    before: Any = _READ,
    revision: int | None = None,
) -> ChargePointConfig:
    """Write validated values (cleaned data of the configuration form); audited as ``action``
    (default: create or update) with ``before`` (default: as stored now). The revision goes up
    by one with every write that changes something (one audit record each); with ``revision``
    the write is refused (``StaleRevision``) unless that is the stored one. The caller reloads
    the runtime."""
    existing = _config_locked(chargepoint, revision=revision)
    if before is _READ:
        before = config_to_dict(existing) if existing is not None else None
    config = existing or ChargePointConfig(chargepoint=chargepoint)
    for name in CONFIG_FIELDS:
        setattr(config, name, values[name])
    after = config_to_dict(config)
    if existing is None:
        config.revision = _next_revision(object_id=chargepoint.pk, actions=_CONFIG_ACTIONS)
        try:
            with transaction.atomic():  # another tab may have created it since we looked
                config.save(force_insert=True)
        except IntegrityError:
            stored = ChargePointConfig.objects.filter(pk=chargepoint.pk).values_list("revision", flat=True).first()
            if stored is None:
                raise
            if revision is not None:
                raise StaleRevision(_config_conflict(chargepoint, since=0, current=stored)) from None
            # no revision given: last write wins, as an update of what is stored now
            return _config_write(chargepoint=chargepoint, values=values, actor=actor, action=action)
    else:
        if after != before:
            config.revision += 1
        config.save()
    chargepoint.config = config
    if after != before:
        action = action or ("chargepoint.config.create" if existing is None else "chargepoint.config.update")
        record_change(actor=actor, action=action, obj=chargepoint, before=before, after=after)
    return config


@transaction.atomic
def chargepoint_config_save(
    *,
    chargepoint: ChargePoint,
    data: Mapping[str, Any],
    actor: Actor,
    peers: Peers | None = None,
    revision: int | None = None,
) -> ChargePointConfig:
    """Create or update the configuration of a charge point from form data (the page's POST, or
    values from the API). Validated with ``ChargePointConfigForm``; raises ``ConfigInvalid``.
    ``revision`` is the one the writer read (0: none existed): when someone else wrote since,
    nothing is written and ``StaleRevision`` names what they changed (None: last write wins).
    Takes effect in the runtime as soon as the transaction commits."""
    form = config_validate(chargepoint=chargepoint, data=data, peers=peers)
    try:
        _config_locked(chargepoint, revision=revision)
    except StaleRevision as exc:
        raise StaleRevision(exc.conflict, form) from None
    if form.errors:
        raise ConfigInvalid(form)
    try:
        config = _config_write(chargepoint=chargepoint, values=form.cleaned_data, actor=actor, revision=revision)
    except StaleRevision as exc:
        raise StaleRevision(exc.conflict, form) from None
    transaction.on_commit(_reload_runtime)
    return config


@transaction.atomic
def chargepoint_config_delete(*, chargepoint: ChargePoint, actor: Actor, revision: int | None = None) -> None:
    """Restore the delivery state (manual: "restores the charging point to its factory default
    configuration"): no configuration (not on the dashboard, no charging), enabled again, and
    the CHARX RFID/NFC board wired here back to its factory settings. Each part is recorded; the
    runtime is told once committed. Raises ``NotConfigured`` when there is nothing to delete,
    ``StaleRevision`` when ``revision`` is given and not the stored one."""
    from chargepoints.models import RfidBoard

    config = (
        ChargePointConfig.objects.select_for_update()
        .select_related("chargepoint__station")
        .filter(pk=chargepoint.pk)
        .first()
    )
    if config is None:
        raise NotConfigured
    if revision is not None and revision != config.revision:
        raise StaleRevision(_config_conflict(chargepoint, since=revision, current=config.revision))
    before = config_to_dict(config)
    config.delete()
    chargepoint._state.fields_cache.pop("config", None)
    record_change(actor=actor, action="chargepoint.config.delete", obj=chargepoint, before=before, after=None)
    board = RfidBoard.objects.select_for_update().filter(chargepoint=chargepoint).first()
    if board is not None:
        board_before = _board_dict(board)
        board.delete()  # its LED profiles with it
        record_change(actor=actor, action="rfidboard.delete", obj=chargepoint, before=board_before, after=None)
        transaction.on_commit(_notify_rfidboard)
    disabled = ChargePoint.objects.select_for_update().filter(pk=chargepoint.pk, enabled=False).exists()
    if disabled:
        ChargePoint.objects.filter(pk=chargepoint.pk).update(enabled=True)
        record_change(
            actor=actor,
            action="chargepoint.enable",
            obj=chargepoint,
            before={"enabled": False},
            after={"enabled": True},
        )
        commands.on_commit(CpAvailability(cp=chargepoint.pk, enabled=True))
    chargepoint.enabled = True
    transaction.on_commit(_reload_runtime)


def chargepoint_config_import(
    *,
    document: dict[str, Any],
    targets: Sequence[ChargePoint],
    suffix: bool,
    actor: Actor,
    fingerprint: str | None = None,
) -> ImportPlan:
    """Write one parsed configuration file to every target, or to none: every target is
    validated first (against the park as it will be afterwards), then all are written in one
    transaction. With ``fingerprint`` (from the preview) the import is refused when anything
    changed since the preview. Raises ``ImportRejected`` / ``ImportOutdated``."""
    actor = dataclasses.replace(actor, source="import") if actor.source == "web" else actor
    with transaction.atomic():
        # lock the targets' configurations so the plan stays true until written
        list(ChargePointConfig.objects.select_for_update().filter(pk__in=[cp.pk for cp in targets]))
        plan = import_plan(document=document, targets=targets, suffix=suffix)
        if not plan.ok:
            raise ImportRejected(plan)
        if fingerprint is not None and fingerprint != plan.fingerprint:
            raise ImportOutdated(plan)
        # names are unique in the database: park the old names so targets may swap names
        for target in plan.targets:
            ChargePointConfig.objects.filter(pk=target.chargepoint.pk).update(name=f"~import~{target.chargepoint.pk}")
        for target in plan.targets:
            assert target.form is not None
            _config_write(
                chargepoint=target.chargepoint,
                values=target.form.cleaned_data,
                actor=actor,
                action="chargepoint.config.import",
                before=target.before,
            )
        transaction.on_commit(_reload_runtime)
    return plan


# --- CHARX RFID/NFC board ----------------------------------------------------------------------


def _notify_rfidboard() -> None:
    """Open board pages reload their settings."""
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    from chargepoints.rfidboard import RFIDBOARD_GROUP

    layer = get_channel_layer()
    if layer is not None:
        async_to_sync(layer.group_send)(RFIDBOARD_GROUP, {"type": "rfidboard.changed"})


def _board_dict(board: Any) -> dict[str, Any]:
    return {
        "connection_type": board.connection_type,
        "buzzer_volume_pct": board.buzzer_volume_pct,
        "profiles": {row.profile: {f: getattr(row, f) for f in _LED_FIELDS} for row in board.profiles.all()},
    }


_LED_FIELDS = ("mode", "color", "brightness_pct", "period_ms", "min_brightness_pct", "max_brightness_pct")


_BOARD_ACTIONS = ("rfidboard.update", "rfidboard.delete")


def _board_flat(board: Mapping[str, Any] | None) -> dict[str, Any]:
    """A recorded board (``_board_dict``; None: factory settings) as ``key: value`` with the keys
    the API uses for errors; profiles without a row have their factory LED settings."""
    from chargepoints.models import RfidBoard
    from chargepoints.rfidboard import DEFAULT_LEDS

    board = board or {}
    factory = RfidBoard()
    flat: dict[str, Any] = {
        name: board.get(name, getattr(factory, name)) for name in ("connection_type", "buzzer_volume_pct")
    }
    rows = board.get("profiles") or {}
    for profile, leds in DEFAULT_LEDS.items():
        values = {**dataclasses.asdict(leds), **rows.get(profile.value, {})}
        flat.update({f"profiles.{profile.value}.{field}": values[field] for field in _LED_FIELDS})
    return flat


def _board_conflict(chargepoint: ChargePoint, *, since: int, current: int) -> WriteConflict:
    def diff(before: Any, after: Any) -> set[str]:
        old, new = _board_flat(before), _board_flat(after)
        return {key for key in new if old[key] != new[key]}

    return _conflict(object_id=chargepoint.pk, actions=_BOARD_ACTIONS, since=since, current=current, diff=diff)


@transaction.atomic
def rfid_board_update(
    *, chargepoint: ChargePoint, data: Mapping[str, Any], actor: Actor, revision: int | None = None
) -> Any:
    """Save the CHARX RFID/NFC board wired at ``chargepoint``: connection type, buzzer volume and
    the LED settings of the profiles given (others keep theirs). ``data`` is validated input
    (``forms_rfidboard``); the models validate again, all or nothing: their errors are keyed as
    the API names the fields (``buzzer_volume_pct``, ``profiles.<profile>.<field>``). Raises
    ValidationError when no board is wired there. Every save raises the board's revision by one;
    with ``revision`` (what the writer read; 0: factory settings) a save after someone else's
    is refused with ``StaleRevision`` and nothing is written."""
    from django.core.exceptions import ValidationError
    from django.utils.translation import gettext as _

    from chargepoints.models import RfidBoard, RfidLedProfile
    from chargepoints.rfidboard import DEFAULT_LEDS
    from chargepoints.selectors import rfid_board_list

    if chargepoint.pk not in {b.pk for b in rfid_board_list()}:
        raise ValidationError(_("No CHARX RFID/NFC board is wired at this charging point."))
    stored = RfidBoard.objects.select_for_update().filter(chargepoint=chargepoint).first()
    current = stored.revision if stored is not None else 0
    if revision is not None and revision != current:
        raise StaleRevision(_board_conflict(chargepoint, since=revision, current=current))
    before = None if stored is None else _board_dict(stored)
    board = stored or RfidBoard(
        chargepoint=chargepoint, revision=_next_revision(object_id=chargepoint.pk, actions=_BOARD_ACTIONS)
    )
    board.connection_type = data.get("connection_type", board.connection_type)
    board.buzzer_volume_pct = data.get("buzzer_volume_pct", board.buzzer_volume_pct)
    if stored is None:
        board.full_clean(validate_unique=False)
        try:
            with transaction.atomic():  # another tab may have saved it first since we looked
                board.save(force_insert=True)
        except IntegrityError:
            now = RfidBoard.objects.filter(chargepoint=chargepoint).values_list("revision", flat=True).first()
            if now is None:
                raise
            if revision is not None:
                raise StaleRevision(_board_conflict(chargepoint, since=0, current=now)) from None
            # no revision given: last write wins, as an update of what is stored now
            return rfid_board_update(chargepoint=chargepoint, data=data, actor=actor)
    else:
        board.revision += 1
        board.full_clean()
        board.save()
    existing = {row.profile: row for row in board.profiles.all()}
    for profile, values in (data.get("profiles") or {}).items():
        row = existing.get(profile)
        if row is None:
            row = RfidLedProfile(board=board, profile=profile, **dataclasses.asdict(DEFAULT_LEDS[profile]))
        for field in _LED_FIELDS:
            if field in values:
                setattr(row, field, values[field])
        try:
            row.full_clean()
        except ValidationError as exc:
            raise ValidationError(
                {f"profiles.{profile}.{field}": errors for field, errors in exc.error_dict.items()}
            ) from exc
        row.save()
    record_change(actor=actor, action="rfidboard.update", obj=board, before=before, after=_board_dict(board))
    transaction.on_commit(_notify_rfidboard)
    return board


# --- the simulated hardware ----------------------------------------------------------------------


def simulator_apply(*, chargepoint: ChargePoint, op: str, data: dict[str, Any], actor: Actor) -> None:
    """Run a validated simulator operation (``data`` is its form's cleaned_data); recorded once
    the runtime took it."""
    from chargepoints.simulator.forms import OPS

    commands.call(OPS[op].command(cp=chargepoint.pk, **data))
    record_change(actor=actor, action=f"simulator.{op}", obj=chargepoint, after=_jsonable(data))


def _jsonable(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v if isinstance(v, str | int | float | bool | type(None)) else str(v) for k, v in data.items()}
