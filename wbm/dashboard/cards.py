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
"""

from __future__ import annotations

import dataclasses
import operator
from collections.abc import Iterable
from typing import Any

from django.template.loader import render_to_string
from django.utils import translation
from django.utils.safestring import mark_safe

from wbm.runtime.snapshot import ChargePointState, MeterReading

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


def card_key(cp: ChargePointState) -> tuple[Any, ...]:
    """What a card's markup depends on, from the state (equal keys render equal cards)."""
    return (_STATE_KEY(cp), None if cp.meter is None else _METER_KEY(cp.meter))


def _keep(memo: dict[tuple[Any, ...], str], key: tuple[Any, ...], html: str) -> None:
    if len(memo) >= MAX_ENTRIES:
        memo.clear()
    memo[key] = html


def render_card(cp: ChargePointState, *, can: frozenset[str] | set[str], swap: str = "") -> str:
    """The card of one charge point in the active language, as ``dashboard/index.html#card``
    renders it for a user who may do ``can``, with ``hx-swap-oob="<swap>"`` when given."""
    return _render(cp, (translation.get_language(), frozenset(can), swap))


def render_cards(cps: Iterable[ChargePointState], *, can: frozenset[str] | set[str], swap: str = "") -> str:
    """All cards, joined (each as ``render_card`` gives it)."""
    variant = (translation.get_language(), frozenset(can), swap)
    return "".join(_render(cp, variant) for cp in cps)


def _render(cp: ChargePointState, variant: tuple[str, frozenset[str], str]) -> str:
    # variant: language, permissions (one set per role), swap
    context: dict[str, Any] = {"cp": cp, "can": variant[1], "swap": variant[2]}
    try:
        key = (card_key(cp), *variant)
        html = _cards.get(key)
        shell_key = (_SHELL_KEY(cp), *variant)
        shell = _shells.get(shell_key)
    except TypeError:  # an unhashable value (a list after a msgpack round trip): keep nothing
        return render_to_string(CARD_TEMPLATE, context)
    if html is not None:
        return html
    if shell is None:
        shell = render_to_string(CARD_TEMPLATE, {**context, "card_values": _VALUES_MARK})
        _keep(_shells, shell_key, shell)
    html = mark_safe(shell.replace(_VALUES_MARK, render_to_string(VALUES_TEMPLATE, context), 1))
    _keep(_cards, key, html)
    return html


def forget_rendered_cards() -> None:
    """Drop every kept card (tests; a changed template needs a restart anyway)."""
    _cards.clear()
    _shells.clear()
