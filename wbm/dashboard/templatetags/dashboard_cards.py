"""``{% dashboard_cards cps %}``: the card partial for each charge point, rendered once per state
(see wbm.dashboard.cards). One tag for all cards: a template loop costs more than the cards."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import template
from django.utils.safestring import SafeString, mark_safe

from wbm.dashboard.cards import render_cards

register = template.Library()


@register.simple_tag(takes_context=True)
def dashboard_cards(context: template.Context, cps: Iterable[Any]) -> SafeString:
    # render_to_string's (escaped, safe) output, joined
    return mark_safe(render_cards(cps, can=context.get("can") or frozenset(), swap=context.get("swap") or ""))
