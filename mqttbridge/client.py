"""What both MQTT agents share: the local broker's address, reconnect back-off and the
translation of a broker's refusal into a sentence for the page."""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

import aiomqtt
from django.conf import settings
from django.utils.translation import gettext as _
from paho.mqtt.reasoncodes import ReasonCode

PENDING_CALLS_THRESHOLD = 10_000
BACKOFF_FIRST_S = 0.2
BACKOFF_MAX_S = 10.0
BAD_CREDENTIALS = {4, 5, 134, 135}  # MQTT 3.1.1 CONNACK 4/5, MQTT 5 0x86/0x87


@dataclass(frozen=True, slots=True)
class BrokerAddress:
    host: str
    port: int
    tls: bool


def local_broker() -> BrokerAddress:
    """``WBM_MQTT_LOCAL_URL`` (``mqtt://host:port`` or ``mqtts://…``), default mqtt://127.0.0.1:1883."""
    url = urlsplit(getattr(settings, "WBM_MQTT_LOCAL_URL", "mqtt://127.0.0.1:1883"))
    tls = url.scheme == "mqtts"
    return BrokerAddress(url.hostname or "127.0.0.1", url.port or (8883 if tls else 1883), tls)


def local_client(identifier: str) -> aiomqtt.Client:
    address = local_broker()
    mqtt = aiomqtt.Client(
        address.host,
        address.port,
        identifier=identifier,
        protocol=aiomqtt.ProtocolVersion.V5,
        tls_context=ssl.create_default_context() if address.tls else None,
        timeout=5,
        keepalive=30,
    )
    # the publisher hands a tick's messages over at once (three a charge point: 1,800 for a
    # park of 600); aiomqtt logs a warning for every publish beyond 10 pending
    mqtt.pending_calls_threshold = PENDING_CALLS_THRESHOLD
    return mqtt


class Backoff:
    """Doubling waits between connection attempts, from BACKOFF_FIRST_S to BACKOFF_MAX_S."""

    def __init__(self) -> None:
        self.wait_s = BACKOFF_FIRST_S

    def next(self) -> float:
        wait, self.wait_s = self.wait_s, min(self.wait_s * 2, BACKOFF_MAX_S)
        return wait

    def reset(self) -> None:
        self.wait_s = BACKOFF_FIRST_S


def raise_if_cancelled() -> None:
    """Re-raise a cancellation that aiomqtt turned into an ``MqttError``: a client leaving its
    ``async with`` because its task was cancelled waits for the disconnection, and an error of
    that disconnection replaces the ``CancelledError``. A loop that caught it as a broker error
    and connected again lived on beside its successor: the same client id on one broker, each
    connection closing the other's many times a second."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


def explain(exc: BaseException) -> str:
    """A broker error as the page shows it."""
    rc = getattr(exc, "rc", None)
    code = rc.value if isinstance(rc, ReasonCode) else rc
    if isinstance(code, int) and code in BAD_CREDENTIALS:
        return _("The broker refused the user name or password (not authorized).")
    text = str(exc)
    if "CERTIFICATE_VERIFY_FAILED" in text or isinstance(exc, ssl.SSLError):
        return _("The broker's certificate is not trusted by the uploaded certificate.")
    if isinstance(exc, aiomqtt.MqttError) and (
        "refused" in text.lower() or "timed out" in text.lower() or "Errno" in text
    ):
        return _("The broker cannot be reached (%(detail)s).") % {"detail": text[:120]}
    return text[:200] or exc.__class__.__name__
