"""Dashboard cards, rendered once per state and shared by the page and every live connection.

A park of 120 charge points means 120 cards on the page and, while vehicles charge, 120 changed
cards a second for every open dashboard. Rendering each through the template engine per request
and per connection made the dashboard slow, so:

- a rendered card is kept for as long as what it shows stays the same (page requests and all
  connections of one language and role share it);
- a card is two parts of the same template: the values that change every second while charging
  (``#card-values``: power, energy, charging time, plug-in duration) and the rest (``#card``:
  name, status, error, buttons), which is kept separately and changes rarely.

The markup still comes from the partials in ``dashboard/index.html`` only; without this module
``{% partial card %}`` renders exactly the same card (tests/runtime/test_dashboard_cards.py).

Live updates (wbm.dashboard.fanout) send a card only when its rest changes; its values travel
as ``live_texts``/``live_timers``, which ``static/wbm/live.js`` writes into the elements marked
``data-live``. The values part is rendered once per language with placeholders
(``_values_skeleton``) and filled per card: the same markup, without a template render per card
and tick (600 cards at every page request).
"""

from __future__ import annotations

import dataclasses
import operator
from collections.abc import Iterable
from typing import Any

from django.template.loader import render_to_string
from django.utils import translation
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe

from wbm.runtime.snapshot import ChargePointState, MeterReading
from wbm.templatetags.wbm import duration, kw, kwh

CARD_TEMPLATE = "dashboard/index.html#card"
VALUES_TEMPLATE = "dashboard/index.html#card-values"
MAX_ENTRIES = 2000  # ~120 cards x a few variants x some ticks; a few MB at most
# Put into the card where its values go; user text cannot contain it (it would be escaped).
_VALUES_MARK = mark_safe("<wbm-card-values/>")
# What only the values part shows: left out of the key of the rest of the card.
VALUES_ONLY = frozenset({"meter", "session_energy_wh", "charging_s", "plugin_s"})
# What a card does not show although it changes every tick (measurement jitter, warming up);
# the same holds for the meter's voltages.
NOT_SHOWN = frozenset({"currents_a", "temperature_c"})

# Keys hold everything else in the state, so a field a card starts showing later is covered
# without touching this module (and tests/runtime/test_dashboard_cards.py fails if a card starts
# showing one of the fields left out).
_FIELDS = tuple(f.name for f in dataclasses.fields(ChargePointState))
_STATE_KEY = operator.attrgetter(*(f for f in _FIELDS if f != "meter" and f not in NOT_SHOWN))
_METER_KEY = operator.attrgetter(*(f.name for f in dataclasses.fields(MeterReading) if f.name != "voltages_v"))
_SHELL_KEY = operator.attrgetter(*(f for f in _FIELDS if f not in VALUES_ONLY and f not in NOT_SHOWN))

_cards: dict[tuple[Any, ...], str] = {}
_shells: dict[tuple[Any, ...], str] = {}
_pages: dict[tuple[Any, ...], tuple[tuple[ChargePointState, ...], str]] = {}  # (time, variant, ids) -> cards


def card_key(cp: ChargePointState) -> tuple[Any, ...]:
    """What a card's markup depends on, from the state (equal keys render equal cards)."""
    return (_STATE_KEY(cp), None if cp.meter is None else _METER_KEY(cp.meter))


def _keep(memo: dict[tuple[Any, ...], str], key: tuple[Any, ...], html: str) -> None:
    if len(memo) >= MAX_ENTRIES:
        memo.clear()
    memo[key] = html


def shell_key(cp: ChargePointState) -> tuple[Any, ...]:
    """What the card shows apart from its ticking values: a change here sends the whole card."""
    return _SHELL_KEY(cp)  # type: ignore[no-any-return]


# the dashboard's statuses, in the order the filter offers them (DashboardStatus values)
LIVE_STATUSES = ("available", "occupied", "charging", "reserved", "error")


# --- the values that tick ---------------------------------------------------------------------
# (key in the page's data-live, what the card shows); the page applies compact updates by key
LIVE_TEXTS = ("power", "energy")
LIVE_TIMERS = ("charging", "plugin")


def live_texts(cp: ChargePointState) -> tuple[str, str]:
    """Power and session energy as the card shows them, in the active language."""
    power = kw(cp.power_w) if cp.meter_configured else "–"
    energy = kwh(cp.session_energy_wh) if cp.meter_configured and cp.plugged_since else "–"
    return power, energy


def live_timers(cp: ChargePointState) -> tuple[tuple[int, bool], tuple[int, bool]]:
    """(seconds, counting up) of the charging time and the plug-in duration: the page counts a
    running one on by itself between updates."""
    charging = cp.vehicle is not None and cp.iec_state in ("C", "D")
    return (int(cp.charging_s), charging), (int(cp.plugin_s), cp.plugged_since is not None)


def _timer_attrs(timer: tuple[int, bool], generated_at: float | None) -> str:
    seconds, running = timer
    if not running or not generated_at:
        return ""
    return f' data-s="{seconds}" data-g="{generated_at:.3f}"'


def live_values(cp: ChargePointState, generated_at: float | None = None) -> dict[str, Any]:
    """What the values part of a card shows (``v`` in ``#card-values``), in the active language;
    with ``generated_at`` (the snapshot's time) the running timers carry what the page needs to
    count them on."""
    power, energy = live_texts(cp)
    charging, plugin = live_timers(cp)
    return {
        "power": power,
        "energy": energy,
        "charging": duration(charging[0]),
        "plugin": duration(plugin[0]),
        "charging_attrs": mark_safe(_timer_attrs(charging, generated_at)),
        "plugin_attrs": mark_safe(_timer_attrs(plugin, generated_at)),
    }


_SKELETON_KEYS = ("power", "energy", "charging", "plugin", "charging_attrs", "plugin_attrs")
_skeletons: dict[str, list[str]] = {}


def _values_skeleton() -> list[str]:
    """``#card-values`` of the active language, split at its values: literal, key, literal, …"""
    language = translation.get_language() or ""
    parts = _skeletons.get(language)
    if parts is None:
        marks = {key: mark_safe(f"\x00{key}\x00") for key in _SKELETON_KEYS}
        parts = render_to_string(VALUES_TEMPLATE, {"v": marks}).split("\x00")
        _skeletons[language] = parts
    return parts


def render_values(cp: ChargePointState, generated_at: float | None = None) -> SafeString:
    """``#card-values`` for ``cp`` in the active language (the skeleton, filled)."""
    values = live_values(cp, generated_at)
    parts = _values_skeleton()
    out = []
    for i, part in enumerate(parts):
        out.append(part if i % 2 == 0 else conditional_escape(values[part]))
    return mark_safe("".join(out))


def render_card(
    cp: ChargePointState, *, can: frozenset[str] | set[str], swap: str = "", generated_at: float | None = None
) -> str:
    """The card of one charge point in the active language, as ``dashboard/index.html#card``
    renders it for a user who may do ``can``, with ``hx-swap-oob="<swap>"`` when given."""
    return _render(cp, (translation.get_language(), frozenset(can), swap), generated_at)


def render_cards(
    cps: Iterable[ChargePointState],
    *,
    can: frozenset[str] | set[str],
    swap: str = "",
    generated_at: float | None = None,
) -> str:
    """All cards, joined (each as ``render_card`` gives it). With ``generated_at`` (a page of one
    snapshot) the result is kept for that snapshot: page requests within a tick share it (600
    cards with values that change every tick cost ~100 ms to fill on a busy 2-core machine)."""
    variant = (translation.get_language(), frozenset(can), swap)
    if generated_at is None:
        return "".join(_render(cp, variant, generated_at) for cp in cps)
    cps = tuple(cps)
    # Kept by the states' identities (a snapshot's states are frozen and shared by every
    # request), not their hashes: hashing 600 states took longer than filling their cards.
    # The entry holds the states, so no identity is reused while it is kept; a manual clock
    # repeats times, so equal times with other states are other entries.
    key = (generated_at, variant, tuple(map(id, cps)))
    kept = _pages.get(key)
    if kept is not None:
        return kept[1]
    if any(k[0] != generated_at for k in _pages):
        _pages.clear()  # an older snapshot's cards: never shown again
    html = "".join(_render(cp, variant, generated_at) for cp in cps)
    if len(_pages) >= MAX_ENTRIES:
        _pages.clear()
    _pages[key] = (cps, html)
    return html


SECTION_TEMPLATE = "dashboard/index.html#cards"
_sections: dict[tuple[Any, ...], tuple[tuple[ChargePointState, ...], str]] = {}


def render_cards_section(
    cps: Iterable[ChargePointState],
    stations: Iterable[Any],
    *,
    can: frozenset[str] | set[str],
    oob: bool = False,
    generated_at: float | None = None,
) -> str:
    """The cards section (``#cards``: every station with its cards) in the active language. With
    ``generated_at`` it is kept for that snapshot: the page requests and full pictures of one
    tick share it (600 cards in 50 stations: ~10 ms of template work a page otherwise)."""
    cps = tuple(cps)
    stations = tuple(stations)
    context = {"cps": cps, "stations": stations, "can": can, "oob": oob, "generated_at": generated_at}
    if generated_at is None:
        return render_to_string(SECTION_TEMPLATE, context)
    key = (
        generated_at,
        translation.get_language(),
        frozenset(can),
        bool(oob),
        tuple(map(id, cps)),  # as in render_cards; the entry holds the states
        tuple((group.id, group.name, tuple(map(id, group.cps))) for group in stations),
    )
    kept = _sections.get(key)
    if kept is not None:
        return kept[1]
    if any(k[0] != generated_at for k in _sections):
        _sections.clear()
    html = render_to_string(SECTION_TEMPLATE, context)
    if len(_sections) >= MAX_ENTRIES:
        _sections.clear()
    _sections[key] = (cps, html)
    return html


def _render(cp: ChargePointState, variant: tuple[str, frozenset[str], str], generated_at: float | None) -> str:
    # variant: language, permissions (one set per role), swap
    context: dict[str, Any] = {"cp": cp, "can": variant[1], "swap": variant[2], "generated_at": generated_at}
    try:
        key = (_SHELL_KEY(cp), *variant)
        shell = _shells.get(key)
    except TypeError:  # an unhashable value (a list after a msgpack round trip): keep nothing
        return render_to_string(CARD_TEMPLATE, context)
    if shell is None:
        shell = render_to_string(CARD_TEMPLATE, {**context, "card_values": _VALUES_MARK})
        _keep(_shells, key, shell)
    return mark_safe(shell.replace(_VALUES_MARK, render_values(cp, generated_at), 1))


def forget_rendered_cards() -> None:
    """Drop every kept card (tests; a changed template needs a restart anyway)."""
    _cards.clear()
    _shells.clear()
    _pages.clear()
    _sections.clear()
    _skeletons.clear()
