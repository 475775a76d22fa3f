"""The WebSocket to the backend: opening it (subprotocol ocpp1.6, Basic authentication, TLS with
the uploaded CA), back-off with jitter, pings, the frame tap that logs every frame in both
directions, and the background writer of the message log and the connection timeline.

The log writer never blocks the link: frames are queued, and each write keeps only what the
page shows (the last ``MESSAGE_LOG_KEEP`` messages, the last ``CONNECTION_EVENTS_KEEP`` events).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import random
import ssl
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus, InvalidURI
from websockets.typing import Subprotocol

messages_log = logging.getLogger("ocppcfg.messages")
log = logging.getLogger(__name__)
QUIET = logging.getLogger("ocppcfg.websocket")
QUIET.setLevel(logging.CRITICAL)

MAX_FRAME_BYTES = 2**20
OPEN_TIMEOUT_S = 10.0


def setting(name: str, default: float) -> float:
    return float(getattr(settings, name, default))


# --- back-off -----------------------------------------------------------------------------------
class Backoff:
    """Exponential back-off with full jitter between ``WBM_OCPP_BACKOFF_MIN_S`` and ``..._MAX_S``."""

    def __init__(self) -> None:
        self.failures = 0

    def reset(self) -> None:
        self.failures = 0

    def next(self) -> float:
        low = setting("WBM_OCPP_BACKOFF_MIN_S", 1.0)
        high = max(low, setting("WBM_OCPP_BACKOFF_MAX_S", 60.0))
        ceiling = min(high, low * (2**self.failures))
        self.failures = min(self.failures + 1, 30)
        return random.uniform(low, max(low, ceiling))


# --- opening ------------------------------------------------------------------------------------
def ssl_context(ca_pem: str) -> ssl.SSLContext:
    """The uploaded CA verifies the backend; the system's CAs when none is uploaded."""
    if ca_pem.strip():
        return ssl.create_default_context(cadata=ca_pem)
    return ssl.create_default_context()


def basic_auth(user: str, key: str, charge_box_id: str) -> dict[str, str]:
    """Security profile 1/2: Basic authentication (the user defaults to the charge box ID)."""
    if not key and not user:
        return {}
    token = base64.b64encode(f"{user or charge_box_id}:{key}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def _seconds(value: str | None) -> float | None:
    try:
        number = float(value or 0)
    except ValueError:
        return None
    return number if number > 0 else None


async def open_connection(
    url: str, *, user: str, key: str, ca_pem: str, charge_box_id: str, values: dict[str, str]
) -> ClientConnection:
    return await connect(
        url,
        subprotocols=[Subprotocol("ocpp1.6")],
        additional_headers=basic_auth(user, key, charge_box_id) or None,
        ssl=ssl_context(ca_pem) if url.startswith("wss://") else None,
        ping_interval=_seconds(values.get("WebSocketPingInterval")),
        ping_timeout=_seconds(values.get("WebSocketPingTimeout")),
        open_timeout=setting("WBM_OCPP_OPEN_TIMEOUT_S", OPEN_TIMEOUT_S),
        close_timeout=2,
        max_size=MAX_FRAME_BYTES,
        logger=QUIET,
    )


def describe_failure(exc: BaseException) -> str:
    """A short text for the page: "HTTP 401", "TLS: certificate verify failed", ..."""
    if isinstance(exc, InvalidStatus):
        return f"HTTP {exc.response.status_code}"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"TLS: {exc.verify_message or 'certificate verify failed'}"
    if isinstance(exc, ssl.SSLError):
        return f"TLS: {exc.reason or exc}"
    if isinstance(exc, InvalidURI):
        return "invalid URL"
    if isinstance(exc, TimeoutError):
        return "timeout"
    if isinstance(exc, InvalidHandshake):
        return f"handshake: {exc}"[:200]
    if isinstance(exc, OSError):
        return (exc.strerror or str(exc) or type(exc).__name__)[:200]
    return f"{type(exc).__name__}: {exc}"[:200]


def close_details(ws: ClientConnection, exc: BaseException | None) -> tuple[int | None, str, bool]:
    """(close code, reason, ping timed out) of a connection that ended."""
    sent = getattr(ws.protocol, "close_sent", None)
    rcvd = getattr(ws.protocol, "close_rcvd", None)
    if isinstance(exc, ConnectionClosed):
        sent, rcvd = exc.sent or sent, exc.rcvd or rcvd
    ping_timeout = sent is not None and sent.reason == "keepalive ping timeout"
    frame = rcvd or sent
    if frame is None:
        return 1006, "connection lost", ping_timeout
    return int(frame.code), frame.reason, ping_timeout


# --- the frame tap and its log ------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class LoggedFrame:
    at: datetime
    direction: str  # "out" | "in"
    message_type: int
    unique_id: str
    action: str
    payload: str


@dataclass(frozen=True, slots=True)
class TimelineEvent:
    at: datetime
    kind: str
    detail: str = ""
    close_code: int | None = None
    rtt_ms: float | None = None


class FrameLog:
    """Parses and logs every frame; queues rows for the database writer."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[LoggedFrame | TimelineEvent] = asyncio.Queue()
        self._actions: OrderedDict[str, str] = OrderedDict()  # unique id -> action of its CALL
        self.lines: list[str] = []  # for the message log, written by ``flush_lines`` in batches

    def _remember(self, unique_id: str, action: str) -> None:
        self._actions[unique_id] = action
        while len(self._actions) > 500:
            self._actions.popitem(last=False)

    def frame(self, direction: str, raw: str | bytes) -> None:
        text = raw if isinstance(raw, str) else raw.decode("utf-8", errors="replace")
        message_type, unique_id, action = 0, "", ""
        with contextlib.suppress(ValueError, TypeError, IndexError, RecursionError):
            message = json.loads(text)
            if isinstance(message, list) and message:
                message_type = int(message[0]) if isinstance(message[0], int) else 0
                unique_id = str(message[1])[:64] if len(message) > 1 else ""
                if message_type == 2 and len(message) > 2:
                    action = str(message[2])[:40]
                    self._remember(unique_id, action)
                elif message_type in (3, 4):
                    action = self._actions.pop(unique_id, "")
        arrow = "->" if direction == "out" else "<-"
        at = datetime.now(UTC)
        stamp = at.strftime("%H:%M:%S.%f")[:-3]
        if messages_log.isEnabledFor(logging.DEBUG):
            self.lines.append(f"{stamp} {arrow} {text[:20_000]}")
        else:
            self.lines.append(f"{stamp} {arrow} {message_type} {action} {unique_id}")
        from ocppcfg.models import PAYLOAD_KEEP

        self.queue.put_nowait(LoggedFrame(at, direction, message_type, unique_id, action, text[:PAYLOAD_KEEP]))

    def flush_lines(self) -> None:
        """Every frame since the last flush to the message log: one record (its lines carry each
        frame's own time). One record per frame cost about 0.3 ms of the link's time (the
        handlers write and flush each), more than the rest of a CALL's round trip on our side."""
        lines, self.lines = self.lines, []
        if lines:
            messages_log.info("%d frame(s)\n%s", len(lines), "\n".join(lines))

    def event(self, kind: str, detail: str = "", close_code: int | None = None, rtt_ms: float | None = None) -> None:
        log.info("ocpp link: %s %s %s", kind, close_code or "", detail)
        self.queue.put_nowait(TimelineEvent(datetime.now(UTC), kind, detail[:300], close_code, rtt_ms))


class Tap:
    """The connection as ``ChargePoint`` sees it: every frame passes the log."""

    def __init__(self, ws: ClientConnection, frames: FrameLog) -> None:
        self.ws = ws
        self.frames = frames

    async def recv(self) -> str:
        while True:
            raw = await self.ws.recv()
            self.frames.frame("in", raw)
            if isinstance(raw, bytes):  # OCPP-J is text: a binary frame is logged and ignored
                continue
            return raw

    async def send(self, message: str) -> None:
        self.frames.frame("out", message)
        await self.ws.send(message)


def write_rows(items: list[LoggedFrame | TimelineEvent]) -> tuple[int, int]:
    """Write a batch (only what the page keeps) and trim; returns the newest ids (0: unchanged)."""
    from ocppcfg.models import CONNECTION_EVENTS_KEEP, MESSAGE_LOG_KEEP, ConnectionEvent, MessageLog

    frames = [i for i in items if isinstance(i, LoggedFrame)][-MESSAGE_LOG_KEEP:]
    events = [i for i in items if isinstance(i, TimelineEvent)][-CONNECTION_EVENTS_KEEP:]
    log_seq = timeline_seq = 0
    if frames:
        MessageLog.objects.bulk_create(
            MessageLog(
                at=f.at,
                direction=f.direction,
                message_type=f.message_type,
                unique_id=f.unique_id,
                action=f.action,
                payload=f.payload,
            )
            for f in frames
        )
        ids = list(MessageLog.objects.order_by("-id").values_list("id", flat=True)[:MESSAGE_LOG_KEEP])
        log_seq = ids[0]
        if len(ids) == MESSAGE_LOG_KEEP:
            MessageLog.objects.filter(id__lt=ids[-1]).delete()
    if events:
        ConnectionEvent.objects.bulk_create(
            ConnectionEvent(at=e.at, kind=e.kind, detail=e.detail, close_code=e.close_code, rtt_ms=e.rtt_ms)
            for e in events
        )
        ids = list(ConnectionEvent.objects.order_by("-id").values_list("id", flat=True)[:CONNECTION_EVENTS_KEEP])
        timeline_seq = ids[0]
        if len(ids) == CONNECTION_EVENTS_KEEP:
            ConnectionEvent.objects.filter(id__lt=ids[-1]).delete()
    return log_seq, timeline_seq


async def log_writer(frames: FrameLog, db: Callable[..., Any], written: Callable[[int, int], None]) -> None:
    """Drain the frame queue into the database in batches, forever."""
    from ocppcfg.models import MESSAGE_LOG_KEEP

    while True:
        try:
            items = [await frames.queue.get()]
            await asyncio.sleep(0.05)  # gather a batch
            if frames.queue.qsize() >= MESSAGE_LOG_KEEP:  # a burst (a queue flushing): the page keeps 50
                await asyncio.sleep(0.45)  # anyway; a write per 0.5 s instead of 20 frees the GIL for the link
        finally:
            frames.flush_lines()
        while not frames.queue.empty():
            items.append(frames.queue.get_nowait())
        try:
            log_seq, timeline_seq = await db(write_rows, items)
        except Exception:  # logged by ctx.db; the page misses these rows, the log file has them
            continue
        written(log_seq, timeline_seq)
