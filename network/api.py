"""/api/v1/network/…: the Network pages for software (Operator and up), through the same services
and rules. Every write answers the document of its page; a change that can cut the caller off
answers ``pending`` with its deadline (confirm with POST /api/v1/network/pending/confirm/)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from django.urls import path
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from network import osbackend, services
from network.models import EthernetSettings, ModemSettings, PendingChange, PortRule, Route, WlanSettings
from network.services import ETH_FIELDS, MODEM_FIELDS, WLAN_FIELDS, Invalid
from wbm.audit import Actor
from wbm.roles import Perm


def _text(**kwargs: Any) -> serializers.CharField:
    """Text as sent (no trimming, long values reach the rules, which name the limit)."""
    return serializers.CharField(max_length=300, required=False, allow_blank=True, trim_whitespace=False, **kwargs)


class NetworkPendingSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text="ethernet, wlan, ports or routes")
    deadline = serializers.DateTimeField(help_text="the previous settings come back then unless confirmed")


class NetworkEthernetInSerializer(serializers.Serializer):
    dhcp = serializers.BooleanField(required=False)
    no_gateway = serializers.BooleanField(required=False)
    ip = _text()
    netmask = _text()
    gateway = _text()
    hostname = _text()
    dns = serializers.ListField(child=_text(), required=False, max_length=10)


class NetworkWlanInSerializer(serializers.Serializer):
    enabled = serializers.BooleanField(required=False)
    mode = serializers.ChoiceField(choices=["ap", "infra"], required=False)
    ap_ssid = _text()
    ap_password = _text(help_text="write-only; empty keeps the stored one")
    ap_encryption = serializers.ChoiceField(choices=["wpa2", "wpa2-wpa3"], required=False)
    ap_network = _text()
    ap_ip = _text()
    dhcp_from = _text()
    dhcp_to = _text()
    band = serializers.ChoiceField(choices=["2.4", "5"], required=False)
    country = _text()
    timeout_s = serializers.IntegerField(required=False)
    infra_ssid = _text()
    infra_password = _text(help_text="write-only; empty keeps the stored one")
    infra_country = _text()


class NetworkModemInSerializer(serializers.Serializer):
    service_active = serializers.BooleanField(required=False)
    sim_pin = _text(help_text="write-only; empty keeps the stored one")
    apn = _text()
    use_credentials = serializers.BooleanField(required=False)
    user = _text()
    password = _text(help_text="write-only; empty keeps the stored one")
    default_route = serializers.BooleanField(required=False)
    prefer_modem = serializers.BooleanField(required=False)


class NetworkSimUnlockSerializer(serializers.Serializer):
    pin = serializers.CharField(max_length=300, trim_whitespace=False)
    puk = _text(help_text="only when the SIM asks for its PUK; pin becomes the new PIN")


class NetworkModemTestSerializer(serializers.Serializer):
    host = serializers.CharField(max_length=300, trim_whitespace=False, help_text="IPv4 address or host name")


class NetworkPortInSerializer(serializers.Serializer):
    port = serializers.IntegerField()
    protocol = serializers.ChoiceField(choices=["tcp", "udp"])
    direction = serializers.ChoiceField(choices=["in", "out"], help_text="in: incoming, out: outgoing")


class NetworkPortStateSerializer(serializers.Serializer):
    open = serializers.BooleanField()


class NetworkPortSerializer(serializers.ModelSerializer):
    class Meta:
        model = PortRule
        fields = ("id", "port", "protocol", "direction", "open", "builtin", "purpose")


class NetworkRouteInSerializer(serializers.Serializer):
    network = serializers.CharField(max_length=300, help_text="a.b.c.d/n")
    gateway = _text()
    interface = serializers.CharField(max_length=300)
    metric = serializers.IntegerField(required=False, default=0)
    persistent = serializers.BooleanField(required=False, default=False)


class NetworkRouteRemoveSerializer(serializers.Serializer):
    persistently = serializers.BooleanField(required=False, default=False, help_text="false: until restart")


class NetworkRouteSerializer(serializers.ModelSerializer):
    genmask = serializers.CharField(read_only=True)
    flags = serializers.CharField(read_only=True)

    class Meta:
        model = Route
        fields = (
            "id",
            "origin",
            "destination",
            "prefix",
            "genmask",
            "gateway",
            "flags",
            "metric",
            "interface",
            "persistent",
            "state",
        )


class NetworkDocumentSerializer(serializers.Serializer):
    settings = serializers.DictField(required=False)
    status = serializers.DictField(required=False)
    pending = NetworkPendingSerializer(many=True)


def _pending() -> list[dict[str, Any]]:
    return [{"kind": p.kind, "deadline": p.deadline} for p in PendingChange.objects.all()]


def _invalid(exc: Invalid) -> Response:
    return Response(
        {"detail": _("Some values are not valid; nothing was written."), "code": "invalid", "errors": exc.errors},
        status=status.HTTP_400_BAD_REQUEST,
    )


def _not_found() -> Response:
    return Response({"detail": _("Not found."), "code": "not_found"}, status=status.HTTP_404_NOT_FOUND)


def ethernet_document() -> dict[str, Any]:
    eth = EthernetSettings.load()
    return {
        "settings": {f: getattr(eth, f) for f in ETH_FIELDS},
        "status": osbackend.backend().ethernet_status(),
        "pending": _pending(),
    }


def wlan_document() -> dict[str, Any]:
    wlan = WlanSettings.load()
    values = {f: getattr(wlan, f) for f in WLAN_FIELDS if not f.endswith("password")}
    values |= {"ap_password_set": bool(wlan.ap_password), "infra_password_set": bool(wlan.infra_password)}
    scan = [asdict(n) for n in services.wlan_scan()]
    return {"settings": values, "status": osbackend.backend().wlan_status(), "scan": scan, "pending": _pending()}


def modem_document() -> dict[str, Any]:
    modem = ModemSettings.load()
    values = {f: getattr(modem, f) for f in MODEM_FIELDS if f not in ("sim_pin", "password")}
    values |= {"sim_pin_set": bool(modem.sim_pin), "password_set": bool(modem.password)}
    return {"settings": values, "status": osbackend.backend().modem_status(), "pending": _pending()}


def ports_document() -> dict[str, Any]:
    services.ports_ensure()
    return {"ports": NetworkPortSerializer(PortRule.objects.all(), many=True).data, "pending": _pending()}


def routes_document() -> dict[str, Any]:
    services.routes_ensure()
    return {"routes": NetworkRouteSerializer(Route.objects.all(), many=True).data, "pending": _pending()}


def _served_port(request: Request) -> int | None:
    try:
        return int(request.get_port())
    except (TypeError, ValueError):
        return None


class NetworkApi(APIView):
    required = Perm.NETWORK_VIEW
    required_by_method = {"PATCH": Perm.NETWORK_EDIT, "POST": Perm.NETWORK_EDIT, "DELETE": Perm.NETWORK_EDIT}


class EthernetApi(NetworkApi):
    """ETH0: settings, status (IPv4, broadcast, IPv6, Rx/Tx, MAC), pending changes."""

    @extend_schema(responses=NetworkDocumentSerializer)
    def get(self, request: Request) -> Response:
        return Response(ethernet_document())

    @extend_schema(request=NetworkEthernetInSerializer, responses=NetworkDocumentSerializer)
    def patch(self, request: Request) -> Response:
        incoming = NetworkEthernetInSerializer(data=request.data, partial=True)
        incoming.is_valid(raise_exception=True)
        try:
            services.ethernet_update(data=incoming.validated_data, actor=Actor.from_request(request))
        except Invalid as exc:
            return _invalid(exc)
        return Response(ethernet_document())


class WlanApi(NetworkApi):
    """WLAN: settings (passwords never returned), status, the scanned networks."""

    @extend_schema(responses=NetworkDocumentSerializer)
    def get(self, request: Request) -> Response:
        return Response(wlan_document())

    @extend_schema(request=NetworkWlanInSerializer, responses=NetworkDocumentSerializer)
    def patch(self, request: Request) -> Response:
        incoming = NetworkWlanInSerializer(data=request.data, partial=True)
        incoming.is_valid(raise_exception=True)
        try:
            services.wlan_update(data=incoming.validated_data, actor=Actor.from_request(request))
        except Invalid as exc:
            return _invalid(exc)
        return Response(wlan_document())


class WlanScanApi(NetworkApi):
    """Scan again (existing WLAN connections may be disconnected)."""

    @extend_schema(request=None, responses=NetworkDocumentSerializer)
    def post(self, request: Request) -> Response:
        services.wlan_scan(refresh=True)
        return Response(wlan_document())


class PortsApi(NetworkApi):
    @extend_schema(responses=NetworkDocumentSerializer)
    def get(self, request: Request) -> Response:
        return Response(ports_document())

    @extend_schema(request=NetworkPortInSerializer, responses={201: NetworkDocumentSerializer})
    def post(self, request: Request) -> Response:
        incoming = NetworkPortInSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        try:
            services.port_add(**incoming.validated_data, actor=Actor.from_request(request))
        except Invalid as exc:
            return _invalid(exc)
        return Response(ports_document(), status=status.HTTP_201_CREATED)


class PortApi(NetworkApi):
    """One port: PATCH ``{"open": false}`` closes it; DELETE removes an own port."""

    api_error_statuses = {"DELETE": (409,)}

    @extend_schema(request=NetworkPortStateSerializer, responses=NetworkDocumentSerializer)
    def patch(self, request: Request, pk: int) -> Response:
        incoming = NetworkPortStateSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        try:
            services.port_set_open(
                pk=pk,
                open=incoming.validated_data["open"],
                actor=Actor.from_request(request),
                served_port=_served_port(request),
            )
        except services.NotFound:
            return _not_found()
        return Response(ports_document())

    @extend_schema(request=None, responses=NetworkDocumentSerializer)
    def delete(self, request: Request, pk: int) -> Response:
        try:
            services.port_remove(pk=pk, actor=Actor.from_request(request), served_port=_served_port(request))
        except services.NotFound:
            return _not_found()
        except services.Refused as exc:
            return Response({"detail": exc.message, "code": "builtin"}, status=status.HTTP_409_CONFLICT)
        return Response(ports_document())


class ModemApi(NetworkApi):
    """The modem: configuration (PIN and password never returned), status, connection, device."""

    @extend_schema(responses=NetworkDocumentSerializer)
    def get(self, request: Request) -> Response:
        return Response(modem_document())

    @extend_schema(request=NetworkModemInSerializer, responses=NetworkDocumentSerializer)
    def patch(self, request: Request) -> Response:
        incoming = NetworkModemInSerializer(data=request.data, partial=True)
        incoming.is_valid(raise_exception=True)
        try:
            services.modem_update(data=incoming.validated_data, actor=Actor.from_request(request))
        except Invalid as exc:
            return _invalid(exc)
        return Response(modem_document())


class ModemUnlockApi(NetworkApi):
    """Enter the SIM PIN once (or PUK + new PIN). 200 with ``ok`` false on a wrong code."""

    @extend_schema(request=NetworkSimUnlockSerializer, responses=NetworkDocumentSerializer)
    def post(self, request: Request) -> Response:
        incoming = NetworkSimUnlockSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        try:
            result = services.modem_unlock(**incoming.validated_data, actor=Actor.from_request(request))
        except Invalid as exc:
            return _invalid(exc)
        return Response({**asdict(result), **modem_document()})


class ModemRestartApi(NetworkApi):
    api_error_statuses = {"POST": (503,)}

    @extend_schema(request=None, responses=NetworkDocumentSerializer)
    def post(self, request: Request) -> Response:
        if not services.modem_restart(actor=Actor.from_request(request)):
            return Response(
                {"detail": _("The controller runtime is not running."), "code": "runtime_unavailable"},
                status=status.HTTP_503_SERVICE_UNAVAILABLE,
            )
        return Response(modem_document())


class ModemTestApi(NetworkApi):
    """Ping a validated address over the modem (an argument list, never a shell)."""

    @extend_schema(request=NetworkModemTestSerializer, responses=NetworkDocumentSerializer)
    def post(self, request: Request) -> Response:
        incoming = NetworkModemTestSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        try:
            result = services.modem_test(host=incoming.validated_data["host"], actor=Actor.from_request(request))
        except Invalid as exc:
            return _invalid(exc)
        return Response(asdict(result))


class RoutesApi(NetworkApi):
    @extend_schema(responses=NetworkDocumentSerializer)
    def get(self, request: Request) -> Response:
        return Response(routes_document())

    @extend_schema(request=NetworkRouteInSerializer, responses={201: NetworkDocumentSerializer})
    def post(self, request: Request) -> Response:
        incoming = NetworkRouteInSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        try:
            services.route_add(data=incoming.validated_data, actor=Actor.from_request(request))
        except Invalid as exc:
            return _invalid(exc)
        return Response(routes_document(), status=status.HTTP_201_CREATED)


class RouteRemoveApi(NetworkApi):
    """Remove a route (it stays listed for reactivation); a persistent one always persistently."""

    @extend_schema(request=NetworkRouteRemoveSerializer, responses=NetworkDocumentSerializer)
    def post(self, request: Request, pk: int) -> Response:
        incoming = NetworkRouteRemoveSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        try:
            services.route_remove(
                pk=pk, persistently=incoming.validated_data["persistently"], actor=Actor.from_request(request)
            )
        except services.NotFound:
            return _not_found()
        return Response(routes_document())


class RouteReactivateApi(NetworkApi):
    @extend_schema(request=None, responses=NetworkDocumentSerializer)
    def post(self, request: Request, pk: int) -> Response:
        try:
            services.route_reactivate(pk=pk, actor=Actor.from_request(request))
        except services.NotFound:
            return _not_found()
        return Response(routes_document())


class PendingApi(NetworkApi):
    @extend_schema(responses=NetworkPendingSerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response(NetworkPendingSerializer(_pending(), many=True).data)


class PendingConfirmApi(NetworkApi):
    """Keep every change waiting for confirmation."""

    @extend_schema(request=None, responses=NetworkPendingSerializer(many=True))
    def post(self, request: Request) -> Response:
        services.pending_confirm(actor=Actor.from_request(request))
        return Response(NetworkPendingSerializer(_pending(), many=True).data)


urlpatterns = [
    path("network/ethernet/", EthernetApi.as_view(), name="network-ethernet"),
    path("network/wlan/", WlanApi.as_view(), name="network-wlan"),
    path("network/wlan/scan/", WlanScanApi.as_view(), name="network-wlan-scan"),
    path("network/ports/", PortsApi.as_view(), name="network-ports"),
    path("network/ports/<int:pk>/", PortApi.as_view(), name="network-port"),
    path("network/modem/", ModemApi.as_view(), name="network-modem"),
    path("network/modem/unlock/", ModemUnlockApi.as_view(), name="network-modem-unlock"),
    path("network/modem/restart/", ModemRestartApi.as_view(), name="network-modem-restart"),
    path("network/modem/test/", ModemTestApi.as_view(), name="network-modem-test"),
    path("network/routes/", RoutesApi.as_view(), name="network-routes"),
    path("network/routes/<int:pk>/remove/", RouteRemoveApi.as_view(), name="network-route-remove"),
    path("network/routes/<int:pk>/reactivate/", RouteReactivateApi.as_view(), name="network-route-reactivate"),
    path("network/pending/", PendingApi.as_view(), name="network-pending"),
    path("network/pending/confirm/", PendingConfirmApi.as_view(), name="network-pending-confirm"),
]
