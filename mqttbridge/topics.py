"""Topics of the MQTT bridge: validation, the full remote topic, and the one mapping rule that
both the bridge agent and the rendered Mosquitto bridge follow. Pure functions, no I/O.

A forwarding row maps a local topic (as ``docs/mqtt.md`` lists them, e.g.
``wbm/chargepoint/+/status``) to a remote topic that the controller puts under
``<prefix>/<device type>/<device id>/``. A ``+`` (any charge point) must be matched in the remote
topic: from the first ``+`` on, local and remote topic end alike (``wbm/chargepoint/+/status`` →
``cp/+/status``), so each charge point keeps its own remote topic. That is exactly what Mosquitto's
``topic <pattern> <direction> 0 <local prefix> <remote prefix>`` can express.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.utils.translation import gettext as _

DEVICE_TYPE = "ev3000"  # the controller's type name (its factory host name), as in the manual's example
LOCAL_ROOT = "wbm"  # every topic the publisher puts on the local broker starts with it
MAX_TOPIC = 200
MAX_PREFIX = 64
_SEGMENT = re.compile(r"^[A-Za-z0-9_.:@=-]+\Z")  # no spaces, quotes, wildcards, "$" or control characters

OUT = "out"  # local → remote
IN = "in"  # remote → local
BOTH = "both"

BRIDGE_TOPICS = ("config", "VPN_Connection_State")  # provided by the bridge on both brokers
COMMAND = "command"  # read on the remote broker: the OpenVPN "On Request" signal


class TopicInvalid(ValueError):
    """A topic the bridge refuses; the message says why (translated)."""


def check_topic(topic: str, *, wildcard: bool) -> list[str]:
    """The topic's segments; ``TopicInvalid`` unless it is 1..MAX_TOPIC characters of segments of
    letters, digits and ``_ . : @ = -`` (``+`` alone as a segment where ``wildcard``)."""
    if not topic or len(topic) > MAX_TOPIC:
        raise TopicInvalid(_("A topic has 1 to %(max)s characters.") % {"max": MAX_TOPIC})
    segments = topic.split("/")
    for segment in segments:
        if segment == "+" and wildcard:
            continue
        if segment == "#":
            raise TopicInvalid(_("“#” is not supported; use “+” for one level."))
        if not _SEGMENT.match(segment):
            raise TopicInvalid(
                _(
                    "“%(topic)s” is not a valid topic: use levels of letters, digits and _ . : @ = - separated by /, and “+” for all devices."
                )
                % {"topic": topic[:80]}
            )
    return segments


def check_prefix(prefix: str) -> str:
    if not prefix:
        return ""
    if len(prefix) > MAX_PREFIX or "+" in prefix:
        raise TopicInvalid(_("The prefix has at most %(max)s characters and no wildcard.") % {"max": MAX_PREFIX})
    check_topic(prefix, wildcard=False)
    return prefix


def base(prefix: str, device_id: str) -> str:
    """``<prefix>/<device type>/<device id>`` (without the prefix when there is none)."""
    return "/".join(p for p in (prefix, DEVICE_TYPE, device_id) if p)


@dataclass(frozen=True, slots=True)
class Mapping:
    """One forwarding row, resolved: ``pattern`` is the common tail from the first ``+`` on ("" for
    exact topics); the topics are ``local_prefix + pattern`` and ``remote_prefix + pattern``."""

    local: str
    remote: str  # full remote topic (with the base)
    direction: str
    pattern: str
    local_prefix: str
    remote_prefix: str

    def matches_local(self, topic: str) -> bool:
        return _matches(self.local, topic)

    def matches_remote(self, topic: str) -> bool:
        return _matches(self.remote, topic)

    def to_remote(self, topic: str) -> str:
        return self.remote_prefix + topic[len(self.local_prefix) :] if self.pattern else self.remote

    def to_local(self, topic: str) -> str:
        return self.local_prefix + topic[len(self.remote_prefix) :] if self.pattern else self.local


def _matches(pattern: str, topic: str) -> bool:
    a, b = pattern.split("/"), topic.split("/")
    return len(a) == len(b) and all(p in ("+", t) for p, t in zip(a, b, strict=True))


def resolve(*, local: str, remote: str, direction: str, prefix: str, device_id: str) -> Mapping:
    """A row as the bridge uses it; ``TopicInvalid`` when the topics do not fit the rule above."""
    if direction not in (OUT, IN, BOTH):
        raise TopicInvalid(_("Choose a forwarding direction."))
    local_segments = check_topic(local, wildcard=True)
    remote_segments = check_topic(remote, wildcard=True)
    if local_segments[0].startswith("$"):
        raise TopicInvalid(_("System topics ($…) cannot be forwarded."))
    full = f"{base(prefix, device_id)}/{remote}"
    if "+" not in local_segments:
        if "+" in remote_segments:
            raise TopicInvalid(_("The remote topic has a “+” the local topic does not have."))
        return Mapping(local, full, direction, "", local, full)
    first = local_segments.index("+")
    tail = local_segments[first:]
    if (
        len(remote_segments) < len(tail)
        or remote_segments[-len(tail) :] != tail
        or "+" in remote_segments[: -len(tail)]
    ):
        raise TopicInvalid(
            _("With “+” the remote topic must end like the local topic from the “+” on, e.g. %(local)s → %(example)s.")
            % {"local": local, "example": "cp/" + "/".join(tail)}
        )
    pattern = "/".join(tail)
    local_prefix = "/".join(local_segments[:first]) + "/" if first else ""
    remote_prefix = full[: len(full) - len(pattern)]
    return Mapping(local, full, direction, pattern, local_prefix, remote_prefix)
