"""Dashboard cards are rendered once per state and shared: they must be exactly what the card
partial renders, and never show an old value."""

from __future__ import annotations

import dataclasses
import re

import pytest
from django.template.loader import render_to_string
from django.utils import translation

from tests.conftest import cp_id
from wbm.dashboard.cards import CARD_TEMPLATE, NOT_SHOWN, VALUES_ONLY, forget_rendered_cards, render_card
from wbm.runtime.snapshot import ChargePointState

RELEASE = frozenset({"chargepoints.release"})


@pytest.fixture(autouse=True)
def _empty_memo():
    forget_rendered_cards()
    yield
    forget_rendered_cards()


def plain(cp: ChargePointState, *, can=frozenset(), swap: str = "") -> str:
    return render_to_string(CARD_TEMPLATE, {"cp": cp, "can": can, "swap": swap})


def busy_park(runtime) -> list[ChargePointState]:
    assert runtime.call("sim.plug_in", cp=cp_id("P1-01"), phases=3, max_current_a=32, ventilation=False)["ok"]
    assert runtime.call("sim.plug_in", cp=cp_id("P1-02"), phases=1, max_current_a=16, ventilation=False)["ok"]
    assert runtime.call("sim.plug_in", cp=cp_id("P1-03"), phases=3, max_current_a=16, ventilation=True)["ok"]
    assert runtime.call("sim.fault", cp=cp_id("Visitor-01"), code="GroundFailure", info="RCD")["ok"]
    return list(runtime.step().configured)


@pytest.mark.parametrize("language", ["en", "de"])
@pytest.mark.parametrize("can", [frozenset(), RELEASE], ids=["guest", "may release"])
@pytest.mark.parametrize("swap", ["", "true", "beforeend:#cp-cards"])
def test_a_kept_card_is_exactly_what_the_partial_renders(runtime, language, can, swap):
    cps = busy_park(runtime)
    with translation.override(language):
        for cp in cps:
            expected = plain(cp, can=can, swap=swap)
            assert render_card(cp, can=can, swap=swap) == expected
            assert render_card(cp, can=can, swap=swap) == expected  # from the memo
    allow_button = 'name="allow" value="1"'
    p101 = next(cp for cp in cps if cp.name == "P1-01")
    assert (allow_button in render_card(p101, can=can, swap=swap)) is bool(can)


def test_a_card_follows_every_second_of_charging(runtime):
    cp = next(c for c in busy_park(runtime) if c.name == "P1-02")
    first = render_card(cp, can=frozenset())
    later = dataclasses.replace(cp, charging_s=cp.charging_s + 61, plugin_s=cp.plugin_s + 61)
    html = render_card(later, can=frozenset())
    assert html != first
    assert html == plain(later)
    assert re.search(r'data-testid="charging-time"[^>]*>0:01:0\d<', html)


def test_a_status_change_is_not_hidden_by_a_kept_card(runtime):
    cp = next(c for c in busy_park(runtime) if c.name == "P1-02")
    render_card(cp, can=frozenset())
    faulted = dataclasses.replace(cp, dashboard_status="error", error_code="OverCurrentFailure")
    html = render_card(faulted, can=frozenset())
    assert 'data-status="error"' in html
    assert "OverCurrentFailure" in html


def test_what_jitters_every_tick_but_is_not_shown_is_not_part_of_a_card(runtime):
    """The kept cards ignore these; this fails when a card starts showing one of them."""
    for cp in busy_park(runtime):
        other = dataclasses.replace(cp, currents_a=(31.5, 0.25, 7.0), temperature_c=cp.temperature_c + 17.3)
        assert {f.name for f in dataclasses.fields(cp) if getattr(cp, f.name) != getattr(other, f.name)} == NOT_SHOWN
        assert plain(other) == plain(cp)
        if cp.meter is not None:
            other = dataclasses.replace(cp, meter=dataclasses.replace(cp.meter, voltages_v=(199.0, 251.5, 0.0)))
            assert plain(other) == plain(cp)


def test_only_the_values_part_shows_what_changes_every_second(runtime):
    """The rest of a card is kept apart from its values; this fails when it starts showing one
    of VALUES_ONLY."""
    values = re.compile(r'<dl class="kv">.*?</dl>', re.S)
    for cp in busy_park(runtime):
        changed = dataclasses.replace(
            cp,
            charging_s=cp.charging_s + 3599,
            plugin_s=cp.plugin_s + 7201,
            session_energy_wh=(cp.session_energy_wh or 0) + 12345.6,
            meter=None
            if cp.meter is None
            else dataclasses.replace(
                cp.meter,
                power_w=cp.meter.power_w + 4321.0,
                energy_wh=cp.meter.energy_wh + 99.0,
                currents_a=(1.0, 2.0, 3.0),
            ),
        )
        assert {
            f.name for f in dataclasses.fields(cp) if getattr(cp, f.name) != getattr(changed, f.name)
        } <= VALUES_ONLY
        assert values.sub("", plain(changed)) == values.sub("", plain(cp))


def test_a_name_cannot_pose_as_the_place_of_the_values(runtime):
    cp = next(c for c in busy_park(runtime) if c.name == "P1-02")
    tricky = dataclasses.replace(cp, name="<wbm-card-values/>")
    html = render_card(tricky, can=frozenset())
    assert html == plain(tricky)
    assert "&lt;wbm-card-values/&gt;" in html
