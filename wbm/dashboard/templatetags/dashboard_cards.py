"""``{% dashboard_cards cps %}``: the card partial for each charge point, rendered once per state
(see wbm.dashboard.cards). One tag for all cards: a template loop costs more than the cards."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import template
from django.utils.safestring import SafeString, mark_safe

from wbm.dashboard.cards import live_values, render_cards, render_cards_section

register = template.Library()


@register.simple_tag(takes_context=True)
def dashboard_cards(context: template.Context, cps: Iterable[Any]) -> SafeString:
    # render_to_string's (escaped, safe) output, joined
    return mark_safe(
        render_cards(
            cps,
            can=context.get("can") or frozenset(),
            swap=context.get("swap") or "",
            generated_at=context.get("generated_at"),
        )
    )


@register.simple_tag(takes_context=True)
def card_live(context: template.Context, cp: Any) -> dict[str, Any]:
    """``{% card_live cp as v %}``: what the values part of a card shows (running times with the
    snapshot's time, ``generated_at`` in the context, so the page can count them on)."""
    return live_values(cp, context.get("generated_at"))


@register.simple_tag(takes_context=True)
def cards_section(context: template.Context) -> SafeString:
    """``{% cards_section %}``: the ``#cards`` partial with this context's charge points, kept
    per snapshot (``render_cards_section``)."""
    return mark_safe(
        render_cards_section(
            context.get("cps") or (),
            context.get("stations") or (),
            can=context.get("can") or frozenset(),
            oob=bool(context.get("oob")),
            generated_at=context.get("generated_at"),
        )
    )
