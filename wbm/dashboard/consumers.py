"""Live pages: the browser's htmx WebSocket receives out-of-band swaps of the same partials the
page rendered first. Consumers only forward and render; after connecting they touch the database
only to re-check their session (``wbm.accounts.sockets``)."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any, ClassVar

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation.trans_real import parse_accept_lang_header

from wbm import redis_errors
from wbm.access import required_perm
from wbm.accounts.sockets import (
    SESSION_ENDED_CLOSE_CODE,
    session_group,
    session_still_grants,
    socket_perms,
    user_group,
)
from wbm.dashboard.fanout import hub
from wbm.dashboard.liveness import ALIVE, RuntimeView, scaled, unreachable_view, watch
from wbm.roles import Perm
from wbm.runtime.bus import PARK_GROUP

log = logging.getLogger(__name__)

# the channel layer's and the cache's errors when Redis cannot be reached

# "try again later" (1013 + 3000): Daphne sends no close code below 3000 but 1000, so the
# standard 1013 after which htmx would reconnect by itself cannot be sent; live.js reconnects
TRY_AGAIN_LATER = 4013


def _language(scope: dict[str, Any]) -> str:
    """The page's language, chosen as LocaleMiddleware chose it: the cookie, else Accept-Language."""
    lang = (scope.get("cookies") or {}).get(settings.LANGUAGE_COOKIE_NAME, "")
    if lang in dict(settings.LANGUAGES):
        return lang
    accept = dict(scope.get("headers") or []).get(b"accept-language", b"").decode("latin-1")
    for code, _q in parse_accept_lang_header(accept):
        if code == "*":
            break
        try:
            return translation.get_supported_language_variant(code)
        except LookupError:
            continue
    return settings.LANGUAGE_CODE


class LiveConsumer(AsyncWebsocketConsumer):
    """Base: checks the role, joins groups, sends a full picture on connect and a heartbeat
    with every update so the page can tell when it is stale.

    Deny by default, as ``RoleRequiredMixin`` for views: a consumer that declares no
    ``required`` permission refuses every connection (4403) and logs it as a programming error.
    An account still on its default password is a Guest here (``socket_perms``). A logged-in
    socket ends with its session: it joins its session's and its account's groups, which logout
    and a password change close, and re-checks the session every ``WBM_SOCKET_RECHECK_S``
    seconds (expiry, account disabled, role changed); it closes with 4401.
    """

    required: ClassVar[Perm]  # no default: every consumer says what it needs
    groups_to_join: tuple[str, ...] = (PARK_GROUP,)
    # what the page was last told of the runtime (None: nothing yet); the process's liveness
    # watch (wbm.dashboard.liveness) tells it when that changes
    shown_view: RuntimeView | None = None

    async def connect(self) -> None:
        try:
            required = required_perm(self, "GET")  # the WebSocket handshake is a GET
        except ImproperlyConfigured as exc:
            log.error("programming error: %s, so it refuses every connection", exc)
            await self.close(code=4403)
            return
        user = self.scope.get("user")
        self.can = await database_sync_to_async(socket_perms)(user)
        if required.value not in self.can:
            await self.close(code=4403)
            return
        self.language = _language(self.scope)
        session = self.scope.get("session")
        session_key = getattr(session, "session_key", None)
        user_id = getattr(user, "pk", None) if getattr(user, "is_authenticated", False) else None
        self.session_groups: tuple[str, ...] = ()
        if session_key and user_id is not None:
            self.session_groups = (session_group(session_key), user_group(user_id))
        try:
            await self.rejoin_groups(raise_errors=True)
        except redis_errors.store_errors() as exc:
            await self._try_again_later(exc)
            return
        await self.accept()
        self._accepted = True
        if session_key and user_id is not None:
            self._recheck = asyncio.create_task(self._recheck_session(session_key, user_id))
        live = watch()
        live.add(self)
        view = await live.check()
        if not scaled() and not view.alive:
            # embedded mode without a runtime: the page says so already; nothing to stream
            self.shown_view = view
        try:
            await self.send_full()
            if self.shown_view != view:
                await self.send_runtime(view)
        except redis_errors.store_errors() as exc:
            await self._try_again_later(exc)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        """As Channels runs a consumer, but Redis going away under an open socket (the channel
        layer's receive fails) ends it as at connect: 4013, not a server error (1011)."""
        try:
            await super().__call__(scope, receive, send)
        except redis_errors.store_errors() as exc:
            await self._try_again_later(exc)

    async def _try_again_later(self, exc: BaseException) -> None:
        """Redis cannot be reached: not a failed handshake (500) or a server error, but the page
        told so and the socket closed with 4013 "try again later"; live.js reconnects."""
        if getattr(self, "_given_up", False):
            return
        self._given_up = True
        watch().discard(self)
        recheck: asyncio.Task[None] | None = getattr(self, "_recheck", None)
        if recheck is not None:
            recheck.cancel()
        log.warning(
            "live socket %s: the live data store cannot be reached (%r); closed with 4013", self.scope.get("path"), exc
        )
        try:
            if not getattr(self, "_accepted", False):
                await self.accept()
                self._accepted = True
            await self.send_runtime(unreachable_view())
            await self.close(code=TRY_AGAIN_LATER)
        except Exception:  # the client has gone meanwhile
            log.debug("could not close a live socket with 4013", exc_info=True)

    async def rejoin_groups(self, *, raise_errors: bool = False) -> None:
        """Join (again) this socket's groups: a channel layer with ``group_expiry`` forgets a
        member that has not re-joined for that long (the liveness watch calls this every 20 s)."""
        for group in (*self.groups_to_join, *getattr(self, "session_groups", ())):
            try:
                await self.channel_layer.group_add(group, self.channel_name)
            except redis_errors.store_errors():
                if raise_errors:
                    raise
                log.warning("live socket %s: could not re-join group %s", self.scope.get("path"), group)
                return

    async def disconnect(self, code: int) -> None:
        recheck: asyncio.Task[None] | None = getattr(self, "_recheck", None)
        if recheck is not None:
            recheck.cancel()
        watch().discard(self)
        for group in (*self.groups_to_join, *getattr(self, "session_groups", ())):
            try:
                await self.channel_layer.group_discard(group, self.channel_name)
            except redis_errors.store_errors():  # the group forgets it after group_expiry anyway
                break

    async def session_ended(self, event: dict[str, Any]) -> None:
        """The session logged out or the account's password changed: stop streaming."""
        await self.close(code=SESSION_ENDED_CLOSE_CODE)

    async def _recheck_session(self, session_key: str, user_id: int) -> None:
        """Close once the session no longer grants what this socket was opened with."""
        check = database_sync_to_async(session_still_grants)
        while True:
            await asyncio.sleep(settings.WBM_SOCKET_RECHECK_S)
            try:
                still = await check(session_key=session_key, user_id=user_id, can=self.can)
            except Exception:  # fail closed: a socket whose session cannot be checked stops
                log.exception("could not re-check the session of a live socket; closing it")
                still = False
            if not still:
                await self.close(code=SESSION_ENDED_CLOSE_CODE)
                return

    def render(self, template: str, context: dict[str, Any]) -> str:
        with translation.override(self.language):
            return render_to_string(template, {"can": self.can, "oob": True, **context})

    def heartbeat(self, generated_at: float | None = None) -> str:
        """The heartbeat element: when the state was generated and whether the runtime runs (as
        this process's liveness watch last saw it)."""
        view = watch().view or ALIVE
        self.shown_view = view
        context = {"generated_at": generated_at or "", "now": time.time(), "runtime": view}
        return self.render("components/live_heartbeat.html", context)

    async def send_runtime(self, view: RuntimeView) -> None:
        """Tell the page what became of the runtime (the heartbeat element alone)."""
        self.shown_view = view
        context = {"generated_at": "", "now": time.time(), "runtime": view}
        await self.send(text_data=self.render("components/live_heartbeat.html", context))

    async def runtime_changed(self, view: RuntimeView) -> None:
        """The runtime died or came back, or the live data store went away or came back (called
        by the liveness watch). Back: the whole picture again, as updates may have been missed."""
        if view.alive:
            if self.shown_view is not None and self.shown_view.state == "unreachable":
                await self.rejoin_groups()  # a restarted Redis has forgotten the groups
            await self.send_full()
        if self.shown_view != view:
            await self.send_runtime(view)

    async def send_full(self) -> None:
        """Send the whole picture this page shows (subclasses)."""

    async def park_update(self, event: dict[str, Any]) -> None:
        pass

    async def system_update(self, event: dict[str, Any]) -> None:
        pass


RESYNC_MIN_S = 1.0  # a page asks for the whole picture at most this often


class DashboardConsumer(LiveConsumer):
    """ws/dashboard/: follows the process's dashboard hub (``wbm.dashboard.fanout``), which
    renders each update once per role and language and sends it to every dashboard socket."""

    required = Perm.DASHBOARD_VIEW
    groups_to_join = ()  # the hub is the process's member of the park and system groups
    _resynced_at = 0.0

    async def send_full(self) -> None:
        live = hub()
        await live.join(self)
        text = await live.full_picture((frozenset(self.can), self.language))
        if text:
            await self.send(text_data=text)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        """``{"resync": <seq>}``: the page missed a frame (live.js saw a gap in the sequence)."""
        try:
            wanted = "resync" in json.loads(text_data or "{}")
        except (ValueError, TypeError):
            return
        if wanted and time.monotonic() - self._resynced_at >= RESYNC_MIN_S:
            self._resynced_at = time.monotonic()
            await self.send_full()

    async def disconnect(self, code: int) -> None:
        hub().leave(self)
        await super().disconnect(code)

    async def _try_again_later(self, exc: BaseException) -> None:
        hub().leave(self)
        await super()._try_again_later(exc)
