"""Template helpers: durations, units, icons, and ``{% if "perm" in can %}`` comes from the
context processor."""

from __future__ import annotations

import functools
from datetime import UTC, datetime

from django import template
from django.templatetags.static import static
from django.utils.formats import number_format
from django.utils.html import format_html
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def duration(seconds: int | float | None) -> str:
    """1:02:03 style, hours not padded."""
    if seconds is None:
        return "–"
    s = int(seconds)
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


@register.filter
def kw(watts: float | None) -> str:
    if watts is None:
        return _("Not available")
    return f"{number_format(watts / 1000.0, 2)} kW"


@register.filter
def kwh(wh: float | None) -> str:
    if wh is None:
        return _("Not available")
    return f"{number_format(wh / 1000.0, 2)} kWh"


@register.filter
def amps(value: float | None) -> str:
    if value is None:
        return _("Not available")
    return f"{number_format(value, 1)} A"


@register.filter
def volts(value: float | None) -> str:
    if value is None:
        return _("Not available")
    return f"{number_format(value, 1)} V"


@register.filter
def index(seq: object, i: int) -> object:
    try:
        return seq[i]  # type: ignore[index]
    except (IndexError, KeyError, TypeError):
        return None


@register.filter
def clock(epoch: float | None) -> str:
    if not epoch:
        return "–"
    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%H:%M:%S")


@register.filter
def bytesize(n: int | None) -> str:
    if n is None:
        return "–"
    size = float(n)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size < 1024 or unit == "TB":
            return f"{number_format(size, 0 if unit == 'B' else 1)} {unit}"
        size /= 1024
    return str(n)


@functools.cache
def _sprite_url() -> str:
    # resolving a hashed static URL is slow and the answer never changes while the process runs;
    # a dashboard shows an icon on each of up to 120 cards
    return static("wbm/icons.svg")


@register.simple_tag
def icon(name: str, label: str = "") -> str:
    """An icon from the vendored sprite; decorative unless a label is given."""
    href = _sprite_url() + "#" + name
    if label:
        return format_html('<svg class="icon" role="img" aria-label="{}"><use href="{}"></use></svg>', label, href)
    return format_html('<svg class="icon" aria-hidden="true"><use href="{}"></use></svg>', href)


@register.filter
def get_item(mapping: object, key: object) -> object:
    try:
        return mapping.get(key)  # type: ignore[attr-defined]
    except AttributeError:
        return None


@register.filter
def why(decision: object) -> str:
    """What limits a charge point: "10 A, limited by load management" (a Decision)."""
    from wbm.runtime.claims import Decision
    from wbm.runtime.reasons import decision_text

    return decision_text(decision) if isinstance(decision, Decision) else ""


@register.filter
def fault_info(info: object) -> str:
    """The info of a fault in words (monitoring's keys translated, injected text as it is)."""
    from wbm.runtime.reasons import fault_info_text

    return fault_info_text(str(info or ""))
