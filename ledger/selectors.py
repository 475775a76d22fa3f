"""Reads of the charging sessions: the filtered set, one page of it, its totals, whitelist names.

Built for a park with a long history (benchmarks/sessions.py: 100,000 sessions): every query
is served by an index of ``chargepoints.ChargingSession`` (started_at, chargepoint+started_at,
id_tag, evcc_id, ended_at), pages are keyset pages (no OFFSET scan however old the page), the
totals are one GROUP BY each in SQL with native functions (no per-row Python functions, which
SQLite's Django backend would use for ``TruncMonth`` or a datetime difference), and the whitelist
names of a page come in one query.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.core.cache import cache
from django.db import connection
from django.db.models import CharField, Count, F, FloatField, Func, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce, NullIf

from chargepoints.models import ChargePoint, ChargingSession
from ledger.models import SessionSample

PAGE_SIZE = 50
PAGE_SIZE_MAX = 500  # API
TOTALS_TAGS_MAX = 50  # the tags with the most energy; the rest is summed as one line
_HEX_SEPARATORS = re.compile(r"[\s:\-]")


# --- SQL helpers: native on SQLite and PostgreSQL ------------------------------------------


class _Month(Func):
    """'YYYY-MM' of a timestamp, in UTC (the controller's time zone)."""

    def __init__(self, expression: Any) -> None:
        super().__init__(expression, output_field=CharField())

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        # stored as 'YYYY-MM-DD HH:MM:SS[.ffffff]' in UTC
        return self.as_sql(compiler, connection, template="substr(%(expressions)s, 1, 7)", **extra)

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(
            compiler, connection, template="to_char(%(expressions)s AT TIME ZONE 'UTC', 'YYYY-MM')", **extra
        )


class _Seconds(Func):
    """Seconds between two timestamps (NULL when either is NULL)."""

    arity = 2

    def __init__(self, start: Any, end: Any) -> None:
        super().__init__(start, end, output_field=FloatField())

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(
            compiler,
            connection,
            template="((julianday(%(expressions)s)) * 86400.0)",
            arg_joiner=") - julianday(",
            **extra,
        )

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(
            compiler, connection, template="EXTRACT(EPOCH FROM (%(expressions)s))", arg_joiner=" - ", **extra
        )


def _duration_s() -> _Seconds:
    return _Seconds(F("ended_at"), F("started_at"))


# --- filters ---------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class SessionFilter:
    """What the page, the API and the export narrow the sessions by (all optional)."""

    chargepoint_id: int | None = None
    tag: str = ""  # an idTag or EVCC ID (any case, separators allowed) or part of a whitelist name
    since: date | None = None  # first day (UTC), inclusive
    until: date | None = None  # last day (UTC), inclusive
    running: bool = False  # only sessions that have not ended

    @property
    def active(self) -> bool:
        return bool(self.chargepoint_id or self.tag or self.since or self.until or self.running)


def normalised_tag(text: str) -> str:
    """A tag as the whitelist stores it: upper-case, without separators ("04:a1-b2" → "04A1B2")."""
    return _HEX_SEPARATORS.sub("", text).upper()


def _tag_candidates(text: str) -> set[str]:
    """The tags a filter text means: itself (as typed and normalised) and the tags of whitelist
    entries whose name contains it."""
    text = text.strip()
    candidates = {text, text.upper(), text.lower(), normalised_tag(text), normalised_tag(text).lower()}
    from whitelist.models import WhitelistEntry  # only `tag` and `name` (the app is being rebuilt)

    for tag in WhitelistEntry.objects.filter(name__icontains=text).values_list("tag", flat=True)[:500]:
        candidates |= {tag, tag.upper(), tag.lower()}
    candidates.discard("")
    return candidates


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def session_queryset(flt: SessionFilter) -> QuerySet[ChargingSession]:
    """The sessions ``flt`` selects, newest first (no rows fetched yet)."""
    qs = ChargingSession.objects.all()
    if flt.chargepoint_id:
        qs = qs.filter(chargepoint_id=flt.chargepoint_id)
    if flt.tag:
        tags = _tag_candidates(flt.tag)
        qs = qs.filter(Q(id_tag__in=tags) | Q(evcc_id__in=tags))
    if flt.since:
        qs = qs.filter(started_at__gte=_day_start(flt.since))
    if flt.until:
        qs = qs.filter(started_at__lt=_day_start(flt.until + timedelta(days=1)))
    if flt.running:
        qs = qs.filter(ended_at__isnull=True)
    return qs.order_by("-started_at", "-pk")


# --- one page --------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class SessionRow:
    """One session as the page and the API show it."""

    session: ChargingSession
    chargepoint_name: str
    whitelist_name: str

    @property
    def running(self) -> bool:
        return self.session.ended_at is None

    @property
    def identification(self) -> str:
        return self.session.id_tag or self.session.evcc_id

    def duration_s(self, now: datetime) -> float:
        end = self.session.ended_at or now
        return max(0.0, (end - self.session.started_at).total_seconds())


@dataclasses.dataclass(frozen=True, slots=True)
class SessionPage:
    rows: list[SessionRow]
    total: int  # sessions in the filtered set
    newer: int | None  # cursor (a session id) for the page before, None on the first page
    older: int | None  # cursor for the page after, None on the last page
    first: bool


def _page_ids(
    flt: SessionFilter,
    narrow: Callable[[QuerySet[ChargingSession]], QuerySet[ChargingSession]],
    size: int,
    *,
    newest: bool = True,
) -> list[int]:
    """The ids of up to ``size`` + 1 sessions of the set, ``narrow``ed (the keyset cursor), newest
    (or oldest) first. The tag filter is a UNION of its two columns, each served by its (tag,
    started_at, id) index: as one OR, PostgreSQL walked the started_at index backwards through
    ~17,000 sessions of other tags to find a page of one tag."""
    order = ("-started_at", "-pk") if newest else ("started_at", "pk")
    if not flt.tag:
        return list(narrow(session_queryset(flt)).order_by(*order).values_list("pk", flat=True)[: size + 1])
    tags = _tag_candidates(flt.tag)
    rest = narrow(session_queryset(dataclasses.replace(flt, tag="")).order_by())
    by_id_tag = rest.filter(id_tag__in=tags).values_list("pk", "started_at")
    by_evcc_id = rest.filter(evcc_id__in=tags).values_list("pk", "started_at")
    return [pk for pk, _started in by_id_tag.union(by_evcc_id).order_by(*order)[: size + 1]]


def _position(pk: int) -> tuple[datetime, int] | None:
    started = ChargingSession.objects.filter(pk=pk).values_list("started_at", flat=True).first()
    return None if started is None else (started, pk)


def session_page(
    flt: SessionFilter,
    *,
    older_than: int | None = None,
    newer_than: int | None = None,
    size: int = PAGE_SIZE,
    total: int | None = None,
) -> SessionPage:
    """One page of the filtered set, newest first: the ``size`` sessions after the session
    ``older_than`` (the "Older" link) or before ``newer_than`` ("Newer"), or the newest ones.
    ``total``: the size of the set when the caller knows it (the totals' count)."""
    # two steps: the page's ids, from an index alone where one covers filter and order (the tag
    # filter: (id_tag, started_at, id) and (evcc_id, …), ledger migration 0002), then those rows
    # with their charge point's name; joining and sorting every session of a tag took ~20 ms
    if total is None:
        total = session_queryset(flt).count()
    cursor = _position(older_than) if older_than else _position(newer_than) if newer_than else None
    if cursor is not None and older_than:
        started, pk = cursor
        # a range on the (started_at, id) index, not an OR the planner cannot use it for
        ids = _page_ids(
            flt, lambda qs: qs.filter(started_at__lte=started).exclude(started_at=started, pk__gte=pk), size
        )
        more_older, more_newer = len(ids) > size, True
        ids = ids[:size]
    elif cursor is not None:
        started, pk = cursor
        ids = _page_ids(
            flt,
            lambda qs: qs.filter(started_at__gte=started).exclude(started_at=started, pk__lte=pk),
            size,
            newest=False,
        )
        more_newer, more_older = len(ids) > size, True
        ids = list(reversed(ids[:size]))
    else:
        ids = _page_ids(flt, lambda qs: qs, size)
        more_older, more_newer = len(ids) > size, False
        ids = ids[:size]
    by_pk = {s.pk: s for s in _with_chargepoint(ChargingSession.objects.filter(pk__in=ids).order_by())} if ids else {}
    rows = [by_pk[pk] for pk in ids if pk in by_pk]
    names = whitelist_names(s.id_tag or s.evcc_id for s in rows)
    out = [
        SessionRow(s, chargepoint_label(s.chargepoint), names.get((s.id_tag or s.evcc_id).upper(), "")) for s in rows
    ]
    return SessionPage(
        rows=out,
        total=total,
        newer=out[0].session.pk if out and more_newer else None,
        older=out[-1].session.pk if out and more_older else None,
        first=not more_newer,
    )


_SESSION_FIELDS = tuple(f.name for f in ChargingSession._meta.concrete_fields)


def _with_chargepoint(qs: QuerySet[ChargingSession]) -> QuerySet[ChargingSession]:
    """Sessions with what ``chargepoint_label`` reads of their charge point (only that: the
    configuration has dozens of columns, each a value to convert for every row)."""
    return qs.select_related("chargepoint__config", "chargepoint__station").only(
        *_SESSION_FIELDS, "chargepoint__position", "chargepoint__station__hostname", "chargepoint__config__name"
    )


def chargepoint_label(cp: ChargePoint) -> str:
    config = getattr(cp, "config", None)
    return config.name if config is not None else f"{cp.station.hostname} #{cp.position}"


def whitelist_names(tags: Iterable[str]) -> dict[str, str]:
    """Whitelist names by upper-case tag, for the given idTags / EVCC IDs, in one query. Tags are
    matched case-insensitively (the whitelist stores them upper-case, older entries as typed)."""
    wanted = {t for t in tags if t}
    if not wanted:
        return {}
    from whitelist.models import WhitelistEntry  # only `tag` and `name`

    variants = wanted | {t.upper() for t in wanted} | {t.lower() for t in wanted}
    return {
        tag.upper(): name
        for tag, name in WhitelistEntry.objects.filter(tag__in=variants).values_list("tag", "name")
        if name
    }


def all_whitelist_names() -> dict[str, str]:
    """Every whitelist name by upper-case tag (the export: one query for any number of rows)."""
    from whitelist.models import WhitelistEntry

    return {tag.upper(): name for tag, name in WhitelistEntry.objects.values_list("tag", "name") if name}


def session_get(pk: int) -> SessionRow | None:
    session = (
        ChargingSession.objects.select_related("chargepoint__config", "chargepoint__station").filter(pk=pk).first()
    )
    if session is None:
        return None
    ident = session.id_tag or session.evcc_id
    return SessionRow(session, chargepoint_label(session.chargepoint), whitelist_names([ident]).get(ident.upper(), ""))


def running_session_id(chargepoint_id: int) -> int | None:
    """The open session of a charge point (the newest, should there be more)."""
    return (
        ChargingSession.objects.filter(chargepoint_id=chargepoint_id, ended_at__isnull=True)
        .order_by("-started_at", "-pk")
        .values_list("pk", flat=True)
        .first()
    )


def session_samples(session_id: int) -> list[tuple[datetime, float, float]]:
    """(time, power W, energy Wh) of a session's samples, oldest first."""
    return list(
        SessionSample.objects.filter(session_id=session_id).order_by("at").values_list("at", "power_w", "energy_wh")
    )


def chargepoint_choices() -> list[tuple[int, str]]:
    """Every charge point of the park (configured ones by name), in station and bus order."""
    rows = ChargePoint.objects.order_by("station__hostname", "position").values_list(
        "pk", "config__name", "station__hostname", "position"
    )
    return [(pk, name or f"{host} #{position}") for pk, name, host, position in rows]


# --- totals ----------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class TotalLine:
    key: str  # the tag / EVCC ID ("" none), or the month "YYYY-MM"
    count: int  # sessions (running ones included)
    energy_wh: int  # of the sessions that ended
    duration_s: float  # of the sessions that ended
    name: str = ""  # whitelist name of a tag


@dataclasses.dataclass(frozen=True, slots=True)
class Totals:
    overall: TotalLine
    by_tag: list[TotalLine]
    by_month: list[TotalLine]
    more_tags: int  # tags beyond TOTALS_TAGS_MAX, summed in ``other_tags``
    other_tags: TotalLine | None


def _aggregates() -> dict[str, Any]:
    return {
        "n": Count("pk"),
        "energy": Sum(F("meter_stop_wh") - F("meter_start_wh")),
        "duration": Sum(_duration_s()),
    }


def _line(key: str, row: dict[str, Any], name: str = "") -> TotalLine:
    return TotalLine(
        key=key,
        count=int(row["n"] or 0),
        energy_wh=int(row["energy"] or 0),
        duration_s=float(round(row["duration"] or 0.0)),
        name=name,
    )


def _version() -> tuple[Any, ...]:
    """Changes whenever a session is added or ends (the totals' cache key): the newest id, the
    latest end and the number of running sessions, each from an index."""
    # one statement (one round trip on PostgreSQL) of three scalar subqueries: each is answered
    # from its index (SQLite answers a lone MAX from the index, two MAX in one SELECT by a scan)
    table = connection.ops.quote_name(ChargingSession._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT (SELECT MAX(id) FROM {table}), (SELECT MAX(ended_at) FROM {table}),"
            f" (SELECT COUNT(*) FROM {table} WHERE ended_at IS NULL)"
        )
        newest, ended, running = cursor.fetchone()
    return (newest, ended, running)


def session_totals(flt: SessionFilter) -> Totals:
    """Count, energy and duration of the filtered set: overall, per tag (idTag, else EVCC ID)
    and per month (UTC). Energy and duration are of the sessions that ended; a running session
    counts, its energy is added when it ends. Kept in the cache until a session is added or
    ends (a page of a 100,000-session park then costs three index look-ups, not three scans)."""
    # a digest, not hash(): str hashes differ between processes (scaled mode shares Redis)
    key = "ledger:totals:" + hashlib.sha256(repr((flt, _version())).encode()).hexdigest()[:32]
    totals: Totals | None = cache.get(key)
    if totals is None:
        totals = _session_totals(flt)
        cache.set(key, totals, 300)
    return totals


def _session_totals(flt: SessionFilter) -> Totals:
    qs: Any = session_queryset(flt).order_by()  # Any: the annotations below are built from a dict
    overall = _line("", qs.aggregate(**_aggregates()))
    ident = Coalesce(NullIf(F("id_tag"), Value("")), NullIf(F("evcc_id"), Value("")), Value(""))
    tag_rows: list[dict[str, Any]] = list(
        qs.annotate(ident=ident).values("ident").annotate(**_aggregates()).order_by("-energy", "ident")
    )
    shown, rest = tag_rows[:TOTALS_TAGS_MAX], tag_rows[TOTALS_TAGS_MAX:]
    names = whitelist_names(r["ident"] for r in shown)
    by_tag = [_line(r["ident"], r, names.get(r["ident"].upper(), "")) for r in shown]
    other = None
    if rest:
        other = TotalLine(
            key="",
            count=sum(int(r["n"] or 0) for r in rest),
            energy_wh=sum(int(r["energy"] or 0) for r in rest),
            duration_s=float(round(sum(float(r["duration"] or 0.0) for r in rest))),
        )
    month_rows = qs.annotate(month=_Month(F("started_at"))).values("month").annotate(**_aggregates()).order_by("-month")
    by_month = [_line(r["month"], r) for r in month_rows]
    return Totals(overall=overall, by_tag=by_tag, by_month=by_month, more_tags=len(rest), other_tags=other)


def export_rows(flt: SessionFilter) -> Iterable[dict[str, Any]]:
    """Every session of the filtered set as plain values, newest first, fetched in chunks."""
    qs: Any = session_queryset(flt).values(
        "pk",
        "chargepoint_id",
        "chargepoint__config__name",
        "chargepoint__station__hostname",
        "chargepoint__position",
        "started_at",
        "ended_at",
        "meter_start_wh",
        "meter_stop_wh",
        "id_tag",
        "evcc_id",
        "released_by",
        "stop_reason",
    )
    rows: Iterable[dict[str, Any]] = qs.iterator(chunk_size=2000)
    return rows


def released_sources(value: str) -> Sequence[str]:
    return [s for s in value.split(",") if s]
