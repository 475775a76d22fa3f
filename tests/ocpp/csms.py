"""A scriptable OCPP 1.6J central system (CSMS) that the product's charge point is tested against.

The server side is the ``ocpp`` library's ``ChargePoint`` used as the central system's peer, one per
WebSocket connection, behind a ``websockets`` server on 127.0.0.1. On top of the library it

* answers every charge point → central system action with a default that each test can override,
* records every frame in both directions (``frames``) and lets a test wait for one (``wait_for``),
* collects protocol violations of the charge point (``violations``): schema failures of its CALLs
  and CALLRESULTs, CALLERRORs with codes OCPP 1.6 does not know, CALLs before an accepted boot,
  a second CALL while one is outstanding, frames that are not OCPP-J,
* checks the handshake: subprotocol ``ocpp1.6`` (else 400) and, if asked, HTTP Basic auth (else 401),
* serves TLS with a throw-away CA, and can go silent, drop a connection, or stop and come back on the
  same port (an outage).

``Csms`` runs on the caller's event loop; ``ThreadedCsms`` runs one in a thread of its own and offers
the same methods synchronously.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import dataclasses
import decimal
import functools
import hmac
import inspect
import ipaddress
import itertools
import json
import logging
import ssl
import tempfile
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from datetime import UTC, datetime, timedelta
from enum import IntEnum, StrEnum
from http import HTTPStatus
from pathlib import Path
from types import TracebackType
from typing import Any, Final, TypeVar
from urllib.parse import unquote

import ocpp.v16
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from jsonschema import Draft4Validator
from jsonschema.exceptions import best_match
from ocpp.charge_point import camel_to_snake_case
from ocpp.exceptions import OCPPError
from ocpp.messages import MessageType, unpack
from ocpp.v16 import ChargePoint, call, call_result
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.frames import Frame as WsFrame
from websockets.frames import Opcode
from websockets.http11 import Request, Response
from websockets.typing import Subprotocol

T = TypeVar("T")

Payload = dict[str, Any]
Reply = Payload | Awaitable[Payload]
Responder = Callable[[Payload], Reply] | Payload

SUBPROTOCOL: Final = "ocpp1.6"
HOST: Final = "127.0.0.1"

# Every action a charge point may send in OCPP 1.6 (with the security extension), and what this
# central system answers by default. Callables get the CALL's payload.
CP_ACTIONS: Final[tuple[str, ...]] = (
    "Authorize",
    "BootNotification",
    "DataTransfer",
    "DiagnosticsStatusNotification",
    "FirmwareStatusNotification",
    "Heartbeat",
    "MeterValues",
    "StartTransaction",
    "StatusNotification",
    "StopTransaction",
    "LogStatusNotification",
    "SecurityEventNotification",
    "SignCertificate",
    "SignedFirmwareStatusNotification",
)

# The codes OCPP 1.6 §4.2.3 allows in a CALLERROR ("FormatViolation" is 2.0's spelling, not 1.6's).
CALLERROR_CODES: Final = frozenset(
    {
        "NotImplemented",
        "NotSupported",
        "InternalError",
        "ProtocolError",
        "SecurityError",
        "FormationViolation",
        "PropertyConstraintViolation",
        "OccurenceConstraintViolation",
        "TypeConstraintViolation",
        "GenericError",
    }
)

MAX_UNIQUE_ID_LENGTH: Final = 36  # OCPP-J 1.6 §4.1.3

SCHEMAS_DIR: Final = Path(ocpp.v16.__file__).parent / "schemas"

# The library logs a traceback for every CALL it rejects and a warning for every CALLERROR: in a
# harness that provokes both on purpose that is noise, so its peers log here, and nowhere.
QUIET_LOGGER: Final = logging.getLogger("tests.ocpp.csms.peer")
QUIET_LOGGER.addHandler(logging.NullHandler())
QUIET_LOGGER.propagate = False
QUIET_LOGGER.setLevel(logging.CRITICAL)


def utc_now() -> str:
    """OCPP's dateTime: UTC, milliseconds, ``Z``."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class MessageTypeId(IntEnum):
    CALL = 2
    CALLRESULT = 3
    CALLERROR = 4


class Direction(StrEnum):
    CP_TO_CS = "cp->cs"
    CS_TO_CP = "cs->cp"


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Frame:
    """One WebSocket text message as it crossed the wire; ``payload`` is None for non-OCPP frames."""

    time: float  # time.monotonic()
    charge_box_id: str
    direction: Direction
    message_type: int | None
    unique_id: str | None
    action: str | None  # for CALLRESULT/CALLERROR: the action of the CALL it answers
    payload: Any
    raw: str
    error_code: str | None = None  # CALLERROR only


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Violation:
    """Something the charge point sent that OCPP 1.6J does not allow."""

    charge_box_id: str
    action: str | None
    unique_id: str | None
    problem: str
    raw: str

    def __str__(self) -> str:
        return f"{self.charge_box_id} {self.action or '?'} [{self.unique_id}]: {self.problem} — {self.raw[:300]}"


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Handshake:
    """One opening handshake and how it ended (101 accepted, else the HTTP status sent)."""

    time: float  # time.monotonic()
    charge_box_id: str
    path: str
    subprotocols: tuple[str, ...]
    user: str | None
    status: int


class CallErrorReceived(Exception):
    """The charge point answered a CALL of the central system with a CALLERROR."""

    def __init__(self, *, action: str, code: str, description: str, details: Any) -> None:
        super().__init__(f"{action}: CALLERROR {code}: {description}")
        self.action = action
        self.code = code
        self.description = description
        self.details = details


@dataclasses.dataclass(frozen=True, slots=True)
class TestPki:
    """A throw-away CA and a server certificate for 127.0.0.1 and localhost, all PEM."""

    ca_pem: str
    cert_pem: str
    key_pem: str


def make_test_pki() -> TestPki:
    """Create a CA and a server certificate signed by it, valid for 30 days; nothing is written."""
    now = datetime.now(UTC)

    def build(subject: str, issuer: x509.Name | None, public_key: ec.EllipticCurvePublicKey) -> x509.CertificateBuilder:
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
        return (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(issuer or name)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(hours=1))
            .not_valid_after(now + timedelta(days=30))
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        )

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = (
        build("WBM test CA", None, ca_key.public_key())
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        build("127.0.0.1", ca_cert.subject, key.public_key())
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address(HOST))]),
            critical=False,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return TestPki(
        ca_pem=ca_cert.public_bytes(serialization.Encoding.PEM).decode(),
        cert_pem=cert.public_bytes(serialization.Encoding.PEM).decode(),
        key_pem=key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode(),
    )


def server_ssl_context(pki: TestPki) -> ssl.SSLContext:
    """The server side of TLS; the PEM files live only as long as loading them takes."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    with tempfile.TemporaryDirectory(prefix="csms-tls-") as tmp:
        cert_file, key_file = Path(tmp) / "server.pem", Path(tmp) / "server.key"
        cert_file.write_text(pki.cert_pem)
        key_file.write_text(pki.key_pem)
        context.load_cert_chain(cert_file, key_file)
    return context


@functools.cache
def schema_validator(name: str) -> Draft4Validator | None:
    """The bundled OCPP 1.6 schema ``name`` (``Authorize``, ``AuthorizeResponse``), or None if unknown.

    Loaded here, not with ``ocpp.messages.get_validator``: that one caches a schema under its name
    whatever float parser it was loaded with, and this module parses every number as Decimal (so
    ``multipleOf: 0.1`` holds for 21.4), which must not leak into the library's own validation.
    """
    path = SCHEMAS_DIR / f"{name}.json"
    if not path.is_file():
        return None
    return Draft4Validator(json.loads(path.read_text(encoding="utf-8-sig"), parse_float=decimal.Decimal))


def schema_problem(name: str, raw_payload: Any) -> str | None:
    """Why ``raw_payload`` (parsed with Decimal floats) fails schema ``name``; None if it passes."""
    validator = schema_validator(name)
    if validator is None:
        return f"no OCPP 1.6 schema {name}"
    error = best_match(validator.iter_errors(raw_payload))
    if error is None:
        return None
    return f"schema {name}: {error.json_path}: {error.message}"


def charge_box_id_from_path(path: str) -> str:
    """The last segment of ``/any/prefix/<chargeBoxId>``, URL-decoded; query string ignored."""
    return unquote(path.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1])


def basic_credentials(header: str | None) -> tuple[str, str] | None:
    """(user, password) of an ``Authorization: Basic`` header, None if absent or malformed."""
    if not header:
        return None
    scheme, _, encoded = header.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, sep, password = base64.b64decode(encoded.strip(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return (user, password) if sep else None


def default_responders() -> dict[str, Responder]:
    """The answers of a central system that accepts everything; one new transaction id per start."""
    transaction_ids = itertools.count(1)
    accepted = {"status": "Accepted"}
    return {
        "Authorize": {"idTagInfo": accepted},
        "BootNotification": lambda _: {"status": "Accepted", "currentTime": utc_now(), "interval": 300},
        "DataTransfer": {"status": "Accepted"},
        "DiagnosticsStatusNotification": {},
        "FirmwareStatusNotification": {},
        "Heartbeat": lambda _: {"currentTime": utc_now()},
        "MeterValues": {},
        "StartTransaction": lambda _: {"transactionId": next(transaction_ids), "idTagInfo": accepted},
        "StatusNotification": {},
        "StopTransaction": lambda payload: {"idTagInfo": accepted} if "idTag" in payload else {},
        "LogStatusNotification": {},
        "SecurityEventNotification": {},
        "SignCertificate": {"status": "Accepted"},
        "SignedFirmwareStatusNotification": {},
    }


@dataclasses.dataclass(eq=False)
class _Outstanding:
    unique_id: str
    action: str
    since: float


class _Session:
    """One WebSocket connection of one charge point, and the OCPP state this harness checks on it."""

    def __init__(self, charge_box_id: str, ws: ServerConnection) -> None:
        self.charge_box_id = charge_box_id
        self.ws = ws
        self.peer: _CentralSide | None = None
        self.cp_call: _Outstanding | None = None  # the CP's CALL this side has not answered yet
        self.cs_calls: dict[str, str] = {}  # unique id -> action of our CALLs not answered yet
        self.replies: dict[str, Frame] = {}  # unique id of our CALL -> the CP's answer
        self.call_payloads: dict[str, Payload] = {}  # unique id of a CP CALL -> its payload, as sent
        self.triggered: set[str] = set()  # actions asked for by TriggerMessage (allowed before boot)


class _RecordingConnection:
    """What the library's ``ChargePoint`` reads and writes: the WebSocket, every frame recorded."""

    def __init__(self, csms: Csms, session: _Session) -> None:
        self._csms = csms
        self._session = session

    async def recv(self) -> str:
        while True:
            message = await self._session.ws.recv()
            if isinstance(message, bytes):
                self._csms._violate(
                    self._session, None, None, "binary WebSocket frame (OCPP-J uses text)", repr(message)
                )
                continue
            frame = self._csms._record(self._session, Direction.CP_TO_CS, message)
            if frame.message_type == MessageTypeId.CALL and self._csms._silent:
                continue  # silent: the CALL is seen, never answered
            return message

    async def send(self, message: str) -> None:
        self._csms._record(self._session, Direction.CS_TO_CP, message)
        await self._session.ws.send(message)


class _CentralSide(ChargePoint):
    """The library's peer on the central system's side; its routes are the harness's responders."""

    def __init__(self, csms: Csms, session: _Session) -> None:
        super().__init__(
            session.charge_box_id,
            _RecordingConnection(csms, session),
            response_timeout=3600,  # callers bound their own wait
            logger=QUIET_LOGGER,
        )
        self._csms = csms
        self._session = session
        self._handlers: set[asyncio.Task[None]] = set()
        for action in CP_ACTIONS:
            self.route_map[action] = {"_on_action": self._handler(action), "_skip_schema_validation": False}

    def _handler(self, action: str) -> Callable[..., Coroutine[Any, Any, Any]]:
        async def handle(call_unique_id: str, **_snake_case: Any) -> Any:
            # The responder gets the payload as it came over the wire, not the library's snake_case.
            payload = self._session.call_payloads.pop(call_unique_id, {})
            responder = self._csms._responders.get(action)
            reply: Any = responder(payload) if callable(responder) else responder
            if inspect.isawaitable(reply):
                reply = await reply
            if dataclasses.is_dataclass(reply):
                return reply
            return getattr(call_result, action)(**camel_to_snake_case(dict(reply or {})))

        return handle

    async def route_message(self, raw_msg: str) -> None:
        # The library answers a CALL before it reads the next frame; a responder that takes its time
        # (to test the charge point's timeout) must not hold back the answers to our own CALLs.
        try:
            message = unpack(raw_msg)
        except OCPPError:
            return
        if message.message_type_id != MessageType.Call:
            await super().route_message(raw_msg)
            return
        task = asyncio.create_task(super().route_message(raw_msg))
        self._handlers.add(task)
        task.add_done_callback(self._handlers.discard)

    async def _send(self, message: str) -> None:
        # The library rejects an invalid CALL with "FormatViolation", OCPP 2.0's spelling; a 1.6
        # charge point must get 1.6's "FormationViolation".
        if message.startswith("[4,"):
            error = json.loads(message)
            if error[2] == "FormatViolation":
                error[2] = "FormationViolation"
                message = json.dumps(error)
        await super()._send(message)

    def cancel_handlers(self) -> None:
        for task in list(self._handlers):
            task.cancel()


class Csms:
    """A scriptable OCPP 1.6J central system on 127.0.0.1, on the caller's event loop.

    ``users`` maps charge box id → password: when given, the handshake needs HTTP Basic auth with the
    charge box id as user name (OCPP 1.6 security profile 1/2), else 401. ``cp_response_timeout_s`` is
    how long the charge point is expected to wait for an answer before it may send its next CALL: a
    CALL sooner than that, while one is unanswered, is a violation.
    """

    def __init__(
        self,
        *,
        users: Mapping[str, str] | None = None,
        tls: bool = False,
        path: str = "/ocpp",
        ping_interval_s: float | None = None,
        cp_response_timeout_s: float = 30.0,
        max_frame_bytes: int = 2**20,
    ) -> None:
        self.users = dict(users) if users is not None else None
        self.path = "/" + path.strip("/") if path.strip("/") else ""
        self.ping_interval_s = ping_interval_s
        self.cp_response_timeout_s = cp_response_timeout_s
        self.max_frame_bytes = max_frame_bytes
        self.frames: list[Frame] = []
        self.violations: list[Violation] = []
        self.handshakes: list[Handshake] = []
        self._pki = make_test_pki() if tls else None
        self._ssl = server_ssl_context(self._pki) if self._pki else None
        self._responders: dict[str, Responder] = default_responders()
        self._sessions: dict[str, _Session] = {}
        self._boot_accepted: dict[str, bool] = {}  # kept over reconnects and restarts, as a CSMS would
        self._server: Server | None = None
        self._port: int | None = None
        self._silent = False
        self._waiters: list[asyncio.Future[None]] = []

    # -- lifecycle -------------------------------------------------------------------------------

    async def start(self) -> None:
        """Listen; the first start picks a free port, a start after ``stop()`` takes the same one."""
        if self._server is not None:
            raise RuntimeError("the CSMS is already running")
        self._server = await serve(
            self._serve_connection,
            HOST,
            self._port or 0,
            subprotocols=[Subprotocol(SUBPROTOCOL)],
            process_request=self._check_handshake,
            ssl=self._ssl,
            ping_interval=self.ping_interval_s,
            ping_timeout=self.ping_interval_s,
            close_timeout=2,
            max_size=self.max_frame_bytes,
            logger=QUIET_LOGGER,
        )
        self._port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Close every connection (1001 going away) and the listening socket; the port is free after."""
        server, self._server = self._server, None
        if server is None:
            return
        server.close(close_connections=True)
        await server.wait_closed()
        self._sessions.clear()
        self._wake()

    async def __aenter__(self) -> Csms:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("start() the CSMS first: the port is chosen then")
        return self._port

    def url(self, charge_box_id: str) -> str:
        """Where a charge point with this id connects: ``ws[s]://127.0.0.1:<port>/ocpp/<id>``."""
        scheme = "wss" if self._ssl else "ws"
        return f"{scheme}://{HOST}:{self.port}{self.path}/{charge_box_id}"

    @property
    def ca_pem(self) -> str:
        """The PEM of the CA that signed the server certificate (``tls=True`` only)."""
        if self._pki is None:
            raise RuntimeError("this CSMS was made without tls=True")
        return self._pki.ca_pem

    def client_ssl_context(self) -> ssl.SSLContext:
        """A client context that trusts exactly this CSMS's CA."""
        return ssl.create_default_context(cadata=self.ca_pem)

    # -- behaviour -------------------------------------------------------------------------------

    def respond(self, action: str, responder: Responder) -> None:
        """Answer ``action`` with a dict, or with ``responder(payload)`` (sync or async, may sleep).

        A responder that raises makes a CALLERROR (an ``OCPPError`` keeps its code, anything else is
        an InternalError). The answer is schema-checked by the library: an invalid one becomes a
        CALLERROR too, so send garbage with ``send_raw``.
        """
        if action not in CP_ACTIONS:
            raise ValueError(f"{action} is not an action a charge point sends in OCPP 1.6")
        self._responders[action] = responder

    def silent(self, on: bool = True) -> None:
        """While on: CALLs of the charge point are recorded but never answered, and its WebSocket
        pings get no pong (to test its response and ping timeouts). Handshakes still succeed."""
        self._silent = on

    async def disconnect(self, charge_box_id: str, code: int = 1001, reason: str = "") -> None:
        """Close the charge point's connection from the central system's side."""
        await self._session(charge_box_id).ws.close(code, reason)

    def connected(self, charge_box_id: str) -> bool:
        return charge_box_id in self._sessions

    def boot_accepted(self, charge_box_id: str) -> bool:
        return self._boot_accepted.get(charge_box_id, False)

    # -- what happened ---------------------------------------------------------------------------

    def calls(self, action: str, charge_box_id: str | None = None) -> list[Any]:
        """Payloads of the charge point's CALLs of ``action``, oldest first."""
        return [
            frame.payload
            for frame in self.frames
            if frame.direction is Direction.CP_TO_CS
            and frame.message_type == MessageTypeId.CALL
            and frame.action == action
            and charge_box_id in (None, frame.charge_box_id)
        ]

    async def wait_for(
        self,
        action: str,
        predicate: Callable[[Any], bool] | None = None,
        timeout: float = 5.0,
        after: int = 0,
        charge_box_id: str | None = None,
    ) -> Any:
        """The payload of the first CP CALL of ``action`` at index ``after`` or later in ``frames``
        that ``predicate`` accepts; waits up to ``timeout`` seconds for it."""

        def found() -> Any:
            for frame in self.frames[after:]:
                if (
                    frame.direction is Direction.CP_TO_CS
                    and frame.message_type == MessageTypeId.CALL
                    and frame.action == action
                    and charge_box_id in (None, frame.charge_box_id)
                    and (predicate is None or predicate(frame.payload))
                ):
                    return frame
            return None

        frame = await self._until(found, timeout, f"no {action} from the charge point within {timeout} s")
        return frame.payload

    async def wait_connected(self, charge_box_id: str, timeout: float = 5.0) -> None:
        """Until the charge point has an open connection."""
        await self._until(
            lambda: charge_box_id in self._sessions, timeout, f"{charge_box_id} did not connect within {timeout} s"
        )

    async def wait_disconnected(self, charge_box_id: str, timeout: float = 5.0) -> None:
        """Until the charge point has no open connection."""
        await self._until(
            lambda: charge_box_id not in self._sessions,
            timeout,
            f"{charge_box_id} still connected after {timeout} s",
        )

    # -- central system → charge point -----------------------------------------------------------

    async def call(self, charge_box_id: str, action: str, payload: Payload, timeout: float = 5.0) -> Payload:
        """Send a CALL and return the CALLRESULT's payload as sent by the charge point.

        Raises ``CallErrorReceived`` for a CALLERROR and ``TimeoutError`` without an answer. The
        request is schema-checked before sending (use ``send_raw`` for invalid ones); an invalid
        answer is returned all the same and lands in ``violations``.
        """
        session = self._session(charge_box_id)
        assert session.peer is not None
        try:
            request = getattr(call, action)(**camel_to_snake_case(payload))
        except (AttributeError, TypeError) as exc:
            raise ValueError(f"not a valid {action} request: {exc}; use send_raw for invalid frames") from exc
        unique_id = str(uuid.uuid4())
        try:
            await asyncio.wait_for(session.peer.call(request, suppress=False, unique_id=unique_id), timeout)
        except TimeoutError:
            raise TimeoutError(f"{charge_box_id} did not answer {action} within {timeout} s") from None
        except OCPPError:
            if unique_id not in session.replies:
                raise  # the library refused to send it
        reply = session.replies[unique_id]
        if reply.message_type == MessageTypeId.CALLERROR:
            raw = reply.payload if isinstance(reply.payload, list) else []
            raise CallErrorReceived(
                action=action,
                code=str(reply.error_code),
                description=str(raw[3]) if len(raw) > 3 else "",
                details=raw[4] if len(raw) > 4 else None,
            )
        return dict(reply.payload)

    async def send_raw(self, charge_box_id: str, text: str) -> None:
        """Send any text frame as is (invalid JSON, unknown actions, wrong types, huge frames)."""
        session = self._session(charge_box_id)
        self._record(session, Direction.CS_TO_CP, text)
        await session.ws.send(text)

    # -- internals -------------------------------------------------------------------------------

    def _session(self, charge_box_id: str) -> _Session:
        try:
            return self._sessions[charge_box_id]
        except KeyError:
            raise LookupError(f"{charge_box_id} is not connected") from None

    def _wake(self) -> None:
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    async def _until(self, condition: Callable[[], T], timeout: float, failure: str) -> T:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not (result := condition()):
            left = deadline - loop.time()
            if left <= 0:
                raise TimeoutError(failure)
            waiter = loop.create_future()
            self._waiters.append(waiter)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(waiter, left)
        return result

    def _check_handshake(self, connection: ServerConnection, request: Request) -> Response | None:
        charge_box_id = charge_box_id_from_path(request.path)
        offered = tuple(
            p.strip() for header in request.headers.get_all("Sec-WebSocket-Protocol") for p in header.split(",")
        )
        credentials = basic_credentials(request.headers.get("Authorization"))
        response: Response | None = None
        if not charge_box_id or not request.path.split("?", 1)[0].startswith(self.path + "/"):
            response = connection.respond(HTTPStatus.NOT_FOUND, "Connect to <path>/<chargeBoxId>.\n")
        elif SUBPROTOCOL not in offered:
            response = connection.respond(HTTPStatus.BAD_REQUEST, "Subprotocol ocpp1.6 required.\n")
        elif self.users is not None and not self._authorized(charge_box_id, credentials):
            response = connection.respond(HTTPStatus.UNAUTHORIZED, "Wrong charge box id or password.\n")
            response.headers["WWW-Authenticate"] = 'Basic realm="ocpp", charset="UTF-8"'
        self.handshakes.append(
            Handshake(
                time=time.monotonic(),
                charge_box_id=charge_box_id,
                path=request.path,
                subprotocols=offered,
                user=credentials[0] if credentials else None,
                status=response.status_code if response else HTTPStatus.SWITCHING_PROTOCOLS,
            )
        )
        return response

    def _authorized(self, charge_box_id: str, credentials: tuple[str, str] | None) -> bool:
        assert self.users is not None
        expected = self.users.get(charge_box_id)
        if credentials is None or expected is None:
            return False
        user, password = credentials
        return user == charge_box_id and hmac.compare_digest(password.encode(), expected.encode())

    async def _serve_connection(self, ws: ServerConnection) -> None:
        session = _Session(charge_box_id_from_path(ws.request.path if ws.request else ""), ws)
        session.peer = peer = _CentralSide(self, session)
        self._drop_pings_while_silent(ws)
        self._sessions[session.charge_box_id] = session  # a second connection replaces the first
        self._wake()
        try:
            await peer.start()
        except ConnectionClosed:
            pass
        finally:
            peer.cancel_handlers()
            if self._sessions.get(session.charge_box_id) is session:
                del self._sessions[session.charge_box_id]
            self._wake()

    def _drop_pings_while_silent(self, ws: ServerConnection) -> None:
        # websockets answers a ping inside its protocol object, before any recv(); a hung central
        # system is only convincing if that stops too.
        answer = ws.protocol.recv_frame

        def recv_frame(frame: WsFrame) -> None:
            if self._silent and frame.opcode is Opcode.PING:
                return
            answer(frame)

        ws.protocol.recv_frame = recv_frame  # type: ignore[method-assign]

    def _violate(self, session: _Session, action: str | None, unique_id: str | None, problem: str, raw: str) -> None:
        self.violations.append(
            Violation(charge_box_id=session.charge_box_id, action=action, unique_id=unique_id, problem=problem, raw=raw)
        )

    def _record(self, session: _Session, direction: Direction, raw: str) -> Frame:
        """Parse, check and keep one frame; wakes every ``wait_*``."""
        message_type: int | None = None
        unique_id: str | None = None
        action: str | None = None
        error_code: str | None = None
        payload: Any = None
        problem: str | None = None
        try:
            message = json.loads(raw, parse_float=decimal.Decimal)
        except ValueError:
            message, problem = None, "not JSON"
        if isinstance(message, list) and len(message) >= 3 and message[0] in (2, 3, 4) and isinstance(message[1], str):
            message_type, unique_id = message[0], message[1]
        elif problem is None:
            problem = "not an OCPP-J message [2|3|4, uniqueId, ...]"

        if message_type == MessageTypeId.CALL:
            action = message[2] if isinstance(message[2], str) else None
            payload = message[3] if len(message) == 4 else None
            if len(message) != 4 or action is None or not isinstance(payload, dict):
                problem = "a CALL is [2, uniqueId, action, {payload}]"
        elif message_type == MessageTypeId.CALLRESULT:
            payload = message[2]
            if len(message) != 3 or not isinstance(payload, dict):
                problem = "a CALLRESULT is [3, uniqueId, {payload}]"
        elif message_type == MessageTypeId.CALLERROR:
            payload = message
            error_code = message[2] if isinstance(message[2], str) else None
            if len(message) != 5 or error_code is None or not isinstance(message[3], str):
                problem = "a CALLERROR is [4, uniqueId, errorCode, description, {details}]"
            elif not isinstance(message[4], dict):
                problem = "CALLERROR details must be an object"
            elif error_code not in CALLERROR_CODES:
                problem = f"CALLERROR code {error_code!r} is not an OCPP 1.6 code"
        if unique_id is not None and len(unique_id) > MAX_UNIQUE_ID_LENGTH:
            problem = problem or f"unique id longer than {MAX_UNIQUE_ID_LENGTH} characters"

        if direction is Direction.CP_TO_CS:
            action, extra = self._check_from_cp(session, message_type, unique_id, action, payload, raw)
            problem = problem or extra
            if problem:
                self._violate(session, action, unique_id, problem, raw)
        else:
            action = self._track_to_cp(session, message_type, unique_id, action, payload)

        frame = Frame(
            time=time.monotonic(),
            charge_box_id=session.charge_box_id,
            direction=direction,
            message_type=message_type,
            unique_id=unique_id,
            action=action,
            payload=_plain(payload),
            raw=raw,
            error_code=error_code,
        )
        self.frames.append(frame)
        if direction is Direction.CP_TO_CS and unique_id is not None:
            if message_type == MessageTypeId.CALL and isinstance(frame.payload, dict):
                session.call_payloads[unique_id] = frame.payload
            elif message_type in (MessageTypeId.CALLRESULT, MessageTypeId.CALLERROR):
                session.replies[unique_id] = frame
        self._wake()
        return frame

    def _check_from_cp(
        self,
        session: _Session,
        message_type: int | None,
        unique_id: str | None,
        action: str | None,
        payload: Any,
        raw: str,
    ) -> tuple[str | None, str | None]:
        """The action this frame belongs to, and the first problem with it (or None)."""
        cp_id = session.charge_box_id
        if message_type == MessageTypeId.CALL and unique_id is not None and action is not None:
            outstanding, now = session.cp_call, time.monotonic()
            session.cp_call = _Outstanding(unique_id, action, now)
            if action not in CP_ACTIONS:
                return action, f"{action} is not an action a charge point sends in OCPP 1.6"
            if action != "BootNotification" and not self.boot_accepted(cp_id) and action not in session.triggered:
                return action, "CALL before a BootNotification was accepted"
            session.triggered.discard(action)
            if outstanding is not None and now - outstanding.since < self.cp_response_timeout_s:
                return action, (
                    f"second CALL while {outstanding.action} [{outstanding.unique_id}] is outstanding "
                    f"({now - outstanding.since:.1f} s < {self.cp_response_timeout_s} s)"
                )
            return action, schema_problem(action, payload) if isinstance(payload, dict) else None
        if message_type in (MessageTypeId.CALLRESULT, MessageTypeId.CALLERROR) and unique_id is not None:
            answered = session.cs_calls.pop(unique_id, None)
            if answered is None:
                return None, "answer to no outstanding CALL of the central system"
            if message_type == MessageTypeId.CALLRESULT and isinstance(payload, dict):
                return answered, schema_problem(f"{answered}Response", payload)
            return answered, None
        return None, None

    def _track_to_cp(
        self, session: _Session, message_type: int | None, unique_id: str | None, action: str | None, payload: Any
    ) -> str | None:
        """Note what our frame answers or asks; returns the action it belongs to."""
        if message_type == MessageTypeId.CALL and unique_id is not None and action is not None:
            session.cs_calls[unique_id] = action
            if action == "TriggerMessage" and isinstance(payload, dict):
                session.triggered.add(str(payload.get("requestedMessage")))
            return action
        if message_type in (MessageTypeId.CALLRESULT, MessageTypeId.CALLERROR) and session.cp_call is not None:
            if session.cp_call.unique_id != unique_id:
                return None
            answered, session.cp_call = session.cp_call.action, None
            if answered == "BootNotification" and message_type == MessageTypeId.CALLRESULT:
                status = payload.get("status") if isinstance(payload, dict) else None
                self._boot_accepted[session.charge_box_id] = status == "Accepted"
            return answered
        return None


def _plain(value: Any) -> Any:
    """The parsed JSON with plain floats (the Decimals were for schema checks only)."""
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


class ThreadedCsms:
    """A ``Csms`` on an event loop in a thread of its own, with synchronous methods.

    For charge points that run on another loop (``RuntimeThread``) or in another process (Daphne).
    The lists (``frames``, ``violations``, ``handshakes``) are the live ones: read, do not change.
    """

    def __init__(self, **options: Any) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="threaded-csms", daemon=True)
        self._thread.start()
        self.csms = Csms(**options)

    def _run(self, coro: Coroutine[Any, Any, T], timeout: float = 15.0) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def start(self) -> None:
        self._run(self.csms.start())

    def stop(self) -> None:
        self._run(self.csms.stop())

    def close(self) -> None:
        """Stop the server and end the thread."""
        if self._loop.is_closed():
            return
        self.stop()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self._loop.close()

    def __enter__(self) -> ThreadedCsms:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    @property
    def port(self) -> int:
        return self.csms.port

    def url(self, charge_box_id: str) -> str:
        return self.csms.url(charge_box_id)

    @property
    def ca_pem(self) -> str:
        return self.csms.ca_pem

    def client_ssl_context(self) -> ssl.SSLContext:
        return self.csms.client_ssl_context()

    @property
    def frames(self) -> list[Frame]:
        return self.csms.frames

    @property
    def violations(self) -> list[Violation]:
        return self.csms.violations

    @property
    def handshakes(self) -> list[Handshake]:
        return self.csms.handshakes

    def respond(self, action: str, responder: Responder) -> None:
        """As ``Csms.respond``; the responder runs on the CSMS's thread."""
        self.csms.respond(action, responder)  # one dict item: atomic, and in force before the next frame

    def silent(self, on: bool = True) -> None:
        self.csms.silent(on)

    def connected(self, charge_box_id: str) -> bool:
        return self.csms.connected(charge_box_id)

    def calls(self, action: str, charge_box_id: str | None = None) -> list[Any]:
        return self.csms.calls(action, charge_box_id)

    def wait_for(
        self,
        action: str,
        predicate: Callable[[Any], bool] | None = None,
        timeout: float = 5.0,
        after: int = 0,
        charge_box_id: str | None = None,
    ) -> Any:
        return self._run(self.csms.wait_for(action, predicate, timeout, after, charge_box_id), timeout + 5)

    def wait_connected(self, charge_box_id: str, timeout: float = 5.0) -> None:
        self._run(self.csms.wait_connected(charge_box_id, timeout), timeout + 5)

    def wait_disconnected(self, charge_box_id: str, timeout: float = 5.0) -> None:
        self._run(self.csms.wait_disconnected(charge_box_id, timeout), timeout + 5)

    def call(self, charge_box_id: str, action: str, payload: Payload, timeout: float = 5.0) -> Payload:
        return self._run(self.csms.call(charge_box_id, action, payload, timeout), timeout + 5)

    def send_raw(self, charge_box_id: str, text: str) -> None:
        self._run(self.csms.send_raw(charge_box_id, text))

    def disconnect(self, charge_box_id: str, code: int = 1001, reason: str = "") -> None:
        self._run(self.csms.disconnect(charge_box_id, code, reason))
