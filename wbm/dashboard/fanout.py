"""The dashboard's fan-out: one hub per web process turns each publish into frames once per
(role, language) and hands the same text to every dashboard socket of that group.

Measured before (issue 13, 120 charge points charging, 50 browsers): each socket received the
runtime's message from the channel layer on its own and rendered its own frame, so the 50th
browser got an update about 115 ms after the first, and every card travelled as HTML every
second (71 KiB/s per browser) because the session energy and times change. Now:

- The hub is the process's only member of the park and system groups (one channel), so the
  runtime's publish costs the same whatever the number of browsers, and in scaled mode each web
  process receives one message per publish instead of one per browser.
- A whole card travels only when what it shows apart from its ticking values changes
  (``cards.shell_key``: status, fault, configuration, buttons); power and energy travel as
  compact values, and running times only when they stop, start or drift (the page counts them on,
  ``static/wbm/live.js``). The values ride on the heartbeat element every frame carries
  (``data-v``), with the hub's sequence number (``data-seq``): a page that sees a gap asks for
  the whole picture again (``{"resync": …}``), so a dropped frame is repaired by the next one.
- The hub's baseline (``cps``) is what every member has been told; a socket that joins gets the
  whole picture of that baseline, so the next update applies to it as to every other page.

Values are the same for every role (a Guest's dashboard shows them too); what a role shapes (the
buttons, the running session's link) is only in the cards, rendered per role.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import TYPE_CHECKING, Any

from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.safestring import mark_safe

from wbm import redis_errors
from wbm.dashboard.cards import live_texts, live_timers, render_card, render_cards_section, shell_key
from wbm.dashboard.liveness import ALIVE, watch
from wbm.dashboard.selectors import lm_banner_context, station_groups, station_names
from wbm.runtime.bus import PARK_GROUP, SYSTEM_GROUP, changed_states, read_snapshot
from wbm.runtime.snapshot import ChargePointState, summarize

if TYPE_CHECKING:
    from wbm.dashboard.consumers import DashboardConsumer

log = logging.getLogger(__name__)

Group = tuple[frozenset[str], str]  # (what the role may do, language)
Timer = tuple[int, bool, float]  # seconds, running, snapshot time they were sent with
REJOIN_S = 20.0  # a channel layer with group_expiry forgets members that do not re-join
RETRY_S = 0.5  # the channel layer (Redis) failed: try again this often
DRIFT_S = 1.5  # a running time is sent again when the page's count would be off by this much

TEMPLATE = "dashboard/index.html"


def _attr_json(data: dict[str, Any]) -> str:
    """JSON for a single-quoted HTML attribute (fewer bytes than escaping every double quote)."""
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    return text.replace("&", "&amp;").replace("'", "&#39;").replace("<", "&lt;").replace(">", "&gt;")


class DashboardHub:
    """One per event loop (= per web process under Daphne); see the module docstring."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.members: dict[Group, set[DashboardConsumer]] = {}
        self.task: asyncio.Task[None] | None = None
        self.channel: str | None = None
        self.seq = 0
        self.generated_at = 0.0
        self.cps: dict[int, ChargePointState] | None = None  # the baseline every member shows
        self.shells: dict[int, tuple[Any, ...]] = {}
        self.texts: dict[str, dict[int, tuple[str, str]]] = {}  # language -> cp -> (power, energy)
        self.timers: dict[int, tuple[Timer, Timer]] = {}
        self.counts: tuple[int, ...] | None = None
        self.total_power: dict[str, str] = {}
        self.banners: dict[str, str] = {}
        self._full: dict[Group, tuple[int, str]] = {}
        self._joined_at = 0.0

    # --- members -------------------------------------------------------------------------------
    async def join(self, consumer: DashboardConsumer) -> None:
        """Add a socket; starts the hub's subscription with the first one."""
        group: Group = (frozenset(consumer.can), consumer.language)
        self.members.setdefault(group, set()).add(consumer)
        if self.task is None or self.task.done():
            layer = get_channel_layer()
            # the default prefix: channels_redis reads every process-local channel through one
            # Redis list named after it, so a channel of another prefix ("dashboard-hub.")
            # received nothing while any other consumer of the process was receiving
            self.channel = await layer.new_channel()
            self.task = self.loop.create_task(self._run(layer), name="wbm-dashboard-hub")
        await self._join_groups(raise_errors=True)
        if self.cps is None:
            self._reset(read_snapshot())
        elif consumer.language not in self.texts:
            self._baseline_texts(consumer.language)

    def leave(self, consumer: DashboardConsumer) -> None:
        group: Group = (frozenset(getattr(consumer, "can", ())), getattr(consumer, "language", ""))
        members = self.members.get(group)
        if members is None:
            return
        members.discard(consumer)
        if not members:
            del self.members[group]
            self._full.pop(group, None)
        if not any(lang == group[1] for _can, lang in self.members):
            self.texts.pop(group[1], None)
            self.total_power.pop(group[1], None)
            self.banners.pop(group[1], None)
        if not self.members and self.task is not None:
            self.task.cancel()  # nobody follows: stop receiving (and start afresh with the next)
            self.task = None
            self.cps = None

    async def _join_groups(self, *, raise_errors: bool = False) -> None:
        if self.channel is None:
            return
        layer = get_channel_layer()
        try:
            for name in (PARK_GROUP, SYSTEM_GROUP):
                await layer.group_add(name, self.channel)
        except redis_errors.store_errors():
            if raise_errors:
                raise
            log.warning("dashboard hub: could not re-join the live groups")
            return
        self._joined_at = time.monotonic()

    # --- the baseline --------------------------------------------------------------------------
    def _reset(self, snapshot: Any) -> None:
        """Take ``snapshot`` as what every member is shown (None: no runtime yet)."""
        self.cps = None if snapshot is None else {cp.id: cp for cp in snapshot.chargepoints}
        self.generated_at = snapshot.generated_at if snapshot is not None else 0.0
        self.shells, self.timers, self.texts, self.total_power = {}, {}, {}, {}
        self.counts = None
        self._full.clear()
        if self.cps is None:
            return
        for cp in self._configured():
            self.shells[cp.id] = shell_key(cp)
            self.timers[cp.id] = self._timer_pair(cp, self.generated_at)
        self.counts = self._counts()
        for lang in {lang for _can, lang in self.members}:
            self._baseline_texts(lang)

    def _baseline_texts(self, lang: str) -> None:
        with translation.override(lang):
            self.texts[lang] = {cp.id: live_texts(cp) for cp in self._configured()}
            self.total_power[lang] = self._total_power_text()

    def _configured(self) -> list[ChargePointState]:
        return [cp for cp in (self.cps or {}).values() if cp.configured]

    def _counts(self) -> tuple[int, ...]:
        summary = summarize(self._configured())
        return (summary.available, summary.occupied, summary.charging, summary.error)

    def _total_power_text(self) -> str:
        from wbm.templatetags.wbm import kw

        return kw(summarize(self._configured()).total_power_w)

    @staticmethod
    def _timer_pair(cp: ChargePointState, generated_at: float) -> tuple[Timer, Timer]:
        charging, plugin = live_timers(cp)
        return (*charging, generated_at), (*plugin, generated_at)

    # --- the subscription ----------------------------------------------------------------------
    async def _run(self, layer: Any) -> None:
        channel = self.channel
        assert channel is not None
        while self.members:
            try:
                message = await layer.receive(channel)
            except asyncio.CancelledError:
                raise
            except redis_errors.store_errors():
                await asyncio.sleep(RETRY_S)  # the liveness watch tells the pages
                continue
            try:
                if message.get("type") == "park.update":
                    await self.park_update(message)
                elif message.get("type") == "system.update":
                    await self.system_update()
            except asyncio.CancelledError:
                raise
            except Exception:  # one bad update must not end the live path of every page
                log.exception("dashboard hub: an update failed; sending the whole picture")
                self._reset(read_snapshot())
                await self.resend_full()
            if time.monotonic() - self._joined_at >= REJOIN_S:
                await self._join_groups()

    async def resend_full(self) -> None:
        for group, members in list(self.members.items()):
            text = await self.full_picture(group)
            await self._send(members, text)

    async def _send(self, members: set[DashboardConsumer], text: str) -> None:
        view = watch().view or ALIVE
        for consumer in list(members):
            try:
                await consumer.send(text_data=text)
            except Exception:  # closed meanwhile: its disconnect removes it
                log.debug("dashboard hub: could not send to a socket", exc_info=True)
                continue
            consumer.shown_view = view

    # --- frames --------------------------------------------------------------------------------
    def _heartbeat(self, values: dict[str, Any] | None) -> str:
        view = watch().view or ALIVE
        context = {
            "generated_at": self.generated_at or "",
            "runtime": view,
            "seq": self.seq,
            "values": mark_safe(_attr_json(values)) if values else "",
        }
        return render_to_string("components/live_heartbeat.html", context)

    async def full_picture(self, group: Group) -> str:
        """Everything a dashboard of this group shows, as of the baseline (one render per
        group and update, shared by every socket that joins meanwhile)."""
        kept = self._full.get(group)
        if kept is not None and kept[0] == self.seq:
            return kept[1]
        if self.cps is None:
            return ""
        can, lang = group
        cps = self._configured()
        names = await database_sync_to_async(station_names)({cp.station_id for cp in cps})
        context = {"can": can, "oob": True, "generated_at": self.generated_at}
        with translation.override(lang):
            html: list[str] = [render_to_string(f"{TEMPLATE}#summary", {**context, "summary": summarize(cps)})]
            banner = self.banners.get(lang)
            if banner is None:
                banner = self.banners[lang] = self._banner(lang, read_snapshot())
            html.append(banner)
            html.append(
                render_cards_section(
                    cps, station_groups(cps, names), can=can, oob=True, generated_at=self.generated_at or None
                )
            )
            html.append(self._heartbeat(None))
        text = "".join(html)
        self._full[group] = (self.seq, text)
        return text

    async def park_update(self, event: dict[str, Any]) -> None:
        """One publish of the runtime: every group's frame, rendered once, sent to its sockets."""
        self.seq += 1
        g = float(event["generated_at"])
        if self.cps is None:
            self.cps = {}
        cards: dict[int, ChargePointState] = {}  # whole cards to send (what they show changed)
        moved: list[ChargePointState] = []  # changed values of cards that stay
        layout = False  # a card came or went: the whole cards section
        for cp in changed_states(event):
            old = self.cps.get(cp.id)
            self.cps[cp.id] = cp
            if not cp.configured:
                if old is not None and old.configured:
                    layout = True
                    self.shells.pop(cp.id, None)
                    self.timers.pop(cp.id, None)
                continue
            key = shell_key(cp)
            if old is None or not old.configured:
                layout = True
            elif self.shells.get(cp.id) != key:
                cards[cp.id] = cp
            else:
                moved.append(cp)
            self.shells[cp.id] = key
        self.generated_at = g
        langs = {lang for _can, lang in self.members}

        # compact values: power and energy per language, running times when they drift
        timers: dict[int, dict[str, list[int]]] = {}
        for cp in moved:
            now_pair = self._timer_pair(cp, g)
            sent = self.timers.get(cp.id)
            update: dict[str, list[int]] = {}
            kept: list[Timer] = []
            for i, name in enumerate(("c", "u")):
                now, before = now_pair[i], (sent[i] if sent else None)
                if (
                    before is None
                    or now[1] != before[1]
                    or (not now[1] and now[0] != before[0])
                    or (now[1] and abs(before[0] + (g - before[2]) - now[0]) >= DRIFT_S)
                ):
                    update[name] = [now[0], int(now[1])]
                    kept.append(now)
                else:
                    kept.append(before)
            self.timers[cp.id] = (kept[0], kept[1])
            if update:
                timers[cp.id] = update
        whole = self._configured() if layout else list(cards.values())
        for cp in whole:
            self.timers[cp.id] = self._timer_pair(cp, g)

        counts = self._counts()
        summary_changed = counts != self.counts
        self.counts = counts
        values: dict[str, dict[str, Any]] = {}
        for lang in langs:
            with translation.override(lang):
                sent_texts = self.texts.setdefault(lang, {})
                update_values: dict[str, Any] = {}
                for cp in moved:
                    texts = live_texts(cp)
                    entry: dict[str, Any] = dict(timers.get(cp.id, {}))
                    before_texts = sent_texts.get(cp.id)
                    if before_texts is None or texts[0] != before_texts[0]:
                        entry["p"] = texts[0]
                    if before_texts is None or texts[1] != before_texts[1]:
                        entry["e"] = texts[1]
                    sent_texts[cp.id] = texts
                    if entry:
                        update_values[str(cp.id)] = entry
                for cp in whole:
                    sent_texts[cp.id] = live_texts(cp)
                total = self._total_power_text()
                out: dict[str, Any] = {}
                if update_values:
                    out["c"] = update_values
                if total != self.total_power.get(lang) and not summary_changed:
                    out["P"] = total
                self.total_power[lang] = total
                values[lang] = out

        for group, members in list(self.members.items()):
            if not members:
                continue
            can, lang = group
            if layout:
                text = await self.full_picture(group)
                await self._send(members, text)
                continue
            html: list[str] = []
            with translation.override(lang):
                if summary_changed:
                    html.append(
                        render_to_string(
                            f"{TEMPLATE}#summary",
                            {"can": can, "oob": True, "summary": summarize(self._configured())},
                        )
                    )
                for cp in cards.values():
                    html.append(render_card(cp, can=can, swap="true", generated_at=g))
                html.append(self._heartbeat(values.get(lang)))
            await self._send(members, "".join(html))

    def _banner(self, lang: str, snapshot: Any) -> str:
        with translation.override(lang):
            return render_to_string(f"{TEMPLATE}#lm-banner", {"oob": True, **lm_banner_context(snapshot)})

    async def system_update(self) -> None:
        """Agent states changed: load management's banner, to every page of a language whose
        banner looks different now."""
        snapshot = read_snapshot()
        for lang in {lang for _can, lang in self.members}:
            html = self._banner(lang, snapshot)
            if self.banners.get(lang) == html:
                continue
            self.banners[lang] = html
            self._full.clear()
            for group, members in list(self.members.items()):
                if group[1] == lang:
                    await self._send(members, html)


_hub: DashboardHub | None = None


def hub() -> DashboardHub:
    """This process's hub (a new one for a new event loop, as in tests)."""
    global _hub
    loop = asyncio.get_running_loop()
    if _hub is None or _hub.loop is not loop:
        _hub = DashboardHub(loop)
    return _hub
