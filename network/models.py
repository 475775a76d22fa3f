"""What the Network pages store: ETH0, WLAN, the port list, the modem configuration, the routing
table and a change that waits for its confirmation (the safety countdown).

Every value is checked by ``network.validation`` before ``network.services`` writes it; the OS
sees it only through ``network.osbackend``.
"""

from __future__ import annotations

import ipaddress
from typing import Any, ClassVar

from django.db import models
from django.utils.translation import gettext_lazy as _

DEFAULT_HOSTNAME = "ev3000"  # the manual's default (M:84)
DEFAULT_NETMASK = "255.255.255.0"


class Singleton(models.Model):
    """One row (pk 1); absent = the defaults. ``revision`` grows with every change."""

    SINGLETON_PK: ClassVar[int] = 1
    revision = models.PositiveIntegerField(default=0, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True

    @classmethod
    def load(cls) -> Any:
        obj, _created = cls.objects.get_or_create(pk=cls.SINGLETON_PK)  # type: ignore[attr-defined]
        return obj


class EthernetSettings(Singleton):
    """ETH0: DHCP (factory default, M:80) or a static address; host name and DNS servers."""

    dhcp = models.BooleanField(_("automatic assignment (DHCP)"), default=True)
    no_gateway = models.BooleanField(_("no gateway"), default=False)
    ip = models.CharField(_("IP address"), max_length=15, blank=True)
    netmask = models.CharField(_("subnet mask"), max_length=15, default=DEFAULT_NETMASK)
    gateway = models.CharField(_("gateway"), max_length=15, blank=True)
    hostname = models.CharField(_("host name"), max_length=63, default=DEFAULT_HOSTNAME)
    dns = models.JSONField(_("DNS name servers"), default=list, blank=True)  # up to 3 IPv4 strings

    class Meta:
        verbose_name = _("Ethernet settings")

    def __str__(self) -> str:
        return f"eth0 (revision {self.revision})"


class WlanMode(models.TextChoices):
    ACCESS_POINT = "ap", _("Access Point")
    INFRASTRUCTURE = "infra", _("Infrastructure")


class WlanEncryption(models.TextChoices):
    WPA2 = "wpa2", _("WPA2 (AES/CCMP)")
    WPA2_WPA3 = "wpa2-wpa3", _("WPA2/WPA3 mixed")


class WlanBand(models.TextChoices):
    GHZ_2_4 = "2.4", _("2.4 GHz")
    GHZ_5 = "5", _("5 GHz")


class WlanSettings(Singleton):
    """The USB WLAN dongle: off, an access point of its own, or a client of an existing network."""

    enabled = models.BooleanField(_("enable wireless connection"), default=False)
    mode = models.CharField(_("operation mode"), max_length=5, choices=WlanMode.choices, default=WlanMode.ACCESS_POINT)
    ap_ssid = models.CharField(_("network name"), max_length=32, default="ev3000")
    ap_password = models.CharField(_("password"), max_length=63, blank=True)
    ap_encryption = models.CharField(
        _("encryption"), max_length=10, choices=WlanEncryption.choices, default=WlanEncryption.WPA2
    )
    ap_network = models.CharField(_("network"), max_length=18, default="192.168.10.1/24")
    ap_ip = models.CharField(_("access point IP address"), max_length=15, default="192.168.10.1")
    dhcp_from = models.CharField(_("DHCP range from"), max_length=15, default="192.168.10.100")
    dhcp_to = models.CharField(_("DHCP range to"), max_length=15, default="192.168.10.200")
    band = models.CharField(_("band"), max_length=3, choices=WlanBand.choices, default=WlanBand.GHZ_2_4)
    country = models.CharField(_("country code"), max_length=2, default="DE")
    timeout_s = models.PositiveIntegerField(_("timeout in seconds"), default=0)  # 0 = never off
    infra_ssid = models.CharField(_("network"), max_length=32, blank=True)
    infra_password = models.CharField(_("password"), max_length=63, blank=True)
    infra_country = models.CharField(_("country code"), max_length=2, default="DE")

    class Meta:
        verbose_name = _("WLAN settings")

    def __str__(self) -> str:
        return f"wlan0 (revision {self.revision})"


class Protocol(models.TextChoices):
    TCP = "tcp", "TCP"
    UDP = "udp", "UDP"


class Direction(models.TextChoices):
    INCOMING = "in", _("Incoming")
    OUTGOING = "out", _("Outgoing")


class PortRule(models.Model):
    """One port of the port sharing list: the manual's twelve (``builtin``: they cannot be removed,
    only closed) and the ones a user added for their own software."""

    port = models.PositiveIntegerField(_("port"))
    protocol = models.CharField(_("protocol"), max_length=3, choices=Protocol.choices, default=Protocol.TCP)
    direction = models.CharField(_("direction"), max_length=3, choices=Direction.choices, default=Direction.INCOMING)
    open = models.BooleanField(_("open"), default=True)
    builtin = models.BooleanField(default=False, editable=False)
    purpose = models.CharField(_("purpose"), max_length=80, blank=True)

    class Meta:
        verbose_name = _("port")
        ordering: ClassVar[list[str]] = ["direction", "port", "protocol"]
        constraints: ClassVar[list[Any]] = [
            models.UniqueConstraint(fields=["port", "protocol", "direction"], name="network_port_unique")
        ]

    def __str__(self) -> str:
        return f"{self.port}/{self.protocol} {self.direction}"


class ModemSettings(Singleton):
    """The integrated cellular modem's configuration (M:2510-2661)."""

    service_active = models.BooleanField(_("service active"), default=False)
    sim_pin = models.CharField(_("SIM PIN"), max_length=8, blank=True)
    apn = models.CharField(_("APN"), max_length=100, blank=True)
    use_credentials = models.BooleanField(_("use credentials"), default=False)
    user = models.CharField(_("user"), max_length=64, blank=True)
    password = models.CharField(_("password"), max_length=64, blank=True)
    default_route = models.BooleanField(_("default route"), default=False)
    prefer_modem = models.BooleanField(_("prefer modem over ETH0"), default=False)

    class Meta:
        verbose_name = _("modem settings")

    def __str__(self) -> str:
        return f"modem (revision {self.revision})"


class RouteOrigin(models.TextChoices):
    SYSTEM = "system", _("System")
    MANUAL = "manual", _("Manual")


class RouteState(models.TextChoices):
    ACTIVE = "active", _("Active")
    REMOVED_UNTIL_RESTART = "removed-restart", _("Removed until restart")
    REMOVED = "removed", _("Removed")


class Route(models.Model):
    """One row of the routing table: a route the system derives from the interfaces (kept in step
    by the services) or one added by hand. Removed routes stay (``state``) for reactivation."""

    origin = models.CharField(max_length=6, choices=RouteOrigin.choices, default=RouteOrigin.MANUAL)
    destination = models.CharField(_("destination"), max_length=15)
    prefix = models.PositiveSmallIntegerField(_("prefix length"))
    gateway = models.CharField(_("gateway"), max_length=15, blank=True)  # "" = directly connected
    interface = models.CharField(_("interface"), max_length=8)
    metric = models.PositiveIntegerField(_("metric"), default=0)
    persistent = models.BooleanField(_("persistent"), default=False)
    state = models.CharField(max_length=16, choices=RouteState.choices, default=RouteState.ACTIVE)

    class Meta:
        verbose_name = _("route")
        ordering: ClassVar[list[str]] = ["-origin", "destination", "prefix", "metric", "pk"]

    def __str__(self) -> str:
        return f"{self.destination}/{self.prefix} via {self.gateway or '-'} dev {self.interface}"

    @property
    def display_destination(self) -> str:
        return "default" if self.prefix == 0 else self.destination

    @property
    def genmask(self) -> str:
        return str(ipaddress.IPv4Network(f"0.0.0.0/{self.prefix}").netmask)

    @property
    def flags(self) -> str:
        """As ``route -n`` shows them: U up, G via a gateway, H a host route, S added by hand."""
        flags = "U" if self.state == RouteState.ACTIVE else ""
        flags += "G" if self.gateway else ""
        flags += "H" if self.prefix == 32 else ""
        flags += "S" if self.origin == RouteOrigin.MANUAL else ""
        return flags or "-"


class PendingChange(models.Model):
    """A change that could cut the user off, applied and waiting for its confirmation: unless it is
    confirmed before ``deadline``, ``previous`` is put back (``network.services.pending_expire``,
    run by the network agent, so it survives a restart of the process)."""

    kind = models.CharField(max_length=16)  # ethernet | wlan | ports | routes
    previous = models.JSONField()
    reason = models.CharField(max_length=200)
    deadline = models.DateTimeField()
    created_by = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("change waiting for confirmation")
        ordering: ClassVar[list[str]] = ["deadline"]

    def __str__(self) -> str:
        return f"{self.kind} until {self.deadline:%H:%M:%S}"
