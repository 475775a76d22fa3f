"""/api/v1/vpn/: the OpenVPN page's data and actions with the page's rules and services.

GET status and settings (a pasted configuration is returned, an imported one never: only its
name); PUT activation mode and/or pasted configuration; DELETE the configuration;
POST ``import/`` a file (multipart ``file`` or JSON ``file_name`` + ``content``);
POST ``test/`` Test VPN connection with the given (unsaved) or the stored configuration."""

from __future__ import annotations

from typing import Any

from django.urls import path
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from vpn import config, selectors, services
from vpn.choices import Activation, Source
from wbm.api.parsers import SafeJSONParser
from wbm.audit import Actor
from wbm.roles import Perm


class VpnStatusOutSerializer(serializers.Serializer):
    connected = serializers.BooleanField(help_text="VPN Status: connected / not connected")
    server_ip = serializers.CharField(help_text="the OpenVPN server's IP from the configuration ('' if a host name)")
    private_ip = serializers.CharField(help_text="the address the server assigned ('' when not connected)")
    connected_since = serializers.FloatField(allow_null=True, help_text="UTC epoch seconds")
    last_error = serializers.CharField()


class VpnOutSerializer(serializers.Serializer):
    status = VpnStatusOutSerializer()
    config_source = serializers.ChoiceField(choices=Source.choices, help_text="'' none, 'paste' or 'import'")
    config = serializers.CharField(allow_null=True, help_text="the pasted configuration; null when imported or none")
    import_name = serializers.CharField(help_text="the imported file's name ('' when none)")
    activation = serializers.ChoiceField(choices=Activation.choices)
    revision = serializers.IntegerField()


class VpnPutSerializer(serializers.Serializer):
    activation = serializers.ChoiceField(choices=Activation.choices)
    config = serializers.CharField(
        required=False,
        allow_blank=True,
        trim_whitespace=False,
        max_length=config.MAX_BYTES,
        help_text="the pasted configuration; omitted: keep the stored one; '': remove a pasted one",
    )


class VpnImportInSerializer(serializers.Serializer):
    file_name = serializers.CharField(max_length=services.MAX_NAME, required=False)
    content = serializers.CharField(trim_whitespace=False, max_length=config.MAX_BYTES, required=False)
    activation = serializers.ChoiceField(choices=Activation.choices, default=Activation.DEACTIVATED)


class VpnTestInSerializer(serializers.Serializer):
    config = serializers.CharField(
        required=False,
        trim_whitespace=False,
        max_length=config.MAX_BYTES,
        help_text="the configuration to try (not stored); omitted: the stored one",
    )


class VpnTestOutSerializer(serializers.Serializer):
    connected = serializers.BooleanField()
    log = serializers.ListField(child=serializers.CharField())


def vpn_document() -> dict[str, Any]:
    stored = selectors.vpn_settings_get()
    live = selectors.vpn_status()
    return {
        "status": {k: live[k] for k in ("connected", "private_ip", "connected_since", "last_error")}
        | {"server_ip": live["server_ip"] or stored.server_ip},
        "config_source": stored.source,
        "config": stored.pasted if stored.source == Source.PASTE else None,
        "import_name": stored.import_name,
        "activation": stored.activation,
        "revision": stored.revision,
    }


def _refused(exc: services.VpnRefused) -> Response:
    return Response(
        {
            "detail": _("The configuration is refused; nothing was written."),
            "code": "invalid",
            "errors": {"config": exc.problems},
        },
        status=status.HTTP_400_BAD_REQUEST,
    )


class VpnApi(APIView):
    required = Perm.NETWORK_VIEW
    required_by_method = {"PUT": Perm.NETWORK_EDIT, "DELETE": Perm.NETWORK_EDIT}

    @extend_schema(responses=VpnOutSerializer)
    def get(self, request: Request) -> Response:
        return Response(vpn_document())

    @extend_schema(request=VpnPutSerializer, responses=VpnOutSerializer)
    def put(self, request: Request) -> Response:
        incoming = VpnPutSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        try:
            services.vpn_settings_update(
                activation=data["activation"], text=data.get("config"), actor=Actor.from_request(request)
            )
        except services.VpnRefused as exc:
            return _refused(exc)
        return Response(vpn_document())

    @extend_schema(responses={200: VpnOutSerializer})
    def delete(self, request: Request) -> Response:
        services.vpn_config_delete(actor=Actor.from_request(request))
        return Response(vpn_document())


class VpnImportApi(APIView):
    required = Perm.NETWORK_EDIT
    parser_classes = [SafeJSONParser, MultiPartParser]

    @extend_schema(request=VpnImportInSerializer, responses=VpnOutSerializer)
    def post(self, request: Request) -> Response:
        incoming = VpnImportInSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        # multipart ``file`` is taken too (like the page); the schema documents JSON only
        upload = request.FILES.get("file") if hasattr(request, "FILES") else None
        if upload is not None:
            if upload.size is not None and upload.size > config.MAX_BYTES:
                return _refused(
                    services.VpnRefused([_("The file is larger than %(max)s KiB.") % {"max": config.MAX_BYTES // 1024}])
                )
            name, raw = upload.name or "", upload.read()
        elif "content" in data and data.get("file_name"):
            name, raw = data["file_name"], data["content"].encode("utf-8", "surrogatepass")
        else:
            return Response(
                {"detail": _("Send a file, or file_name and content."), "code": "invalid", "errors": {}},
                status=status.HTTP_400_BAD_REQUEST,
            )
        try:
            services.vpn_config_import(
                name=name, raw=raw, activation=data["activation"], actor=Actor.from_request(request)
            )
        except services.VpnRefused as exc:
            return _refused(exc)
        return Response(vpn_document())


class VpnTestApi(APIView):
    required = Perm.NETWORK_EDIT

    @extend_schema(request=VpnTestInSerializer, responses=VpnTestOutSerializer)
    def post(self, request: Request) -> Response:
        incoming = VpnTestInSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        connected, log = services.vpn_connection_test(text=incoming.validated_data.get("config"))
        return Response({"connected": connected, "log": log})


urlpatterns = [
    path("vpn/", VpnApi.as_view(), name="vpn"),
    path("vpn/import/", VpnImportApi.as_view(), name="vpn-import"),
    path("vpn/test/", VpnTestApi.as_view(), name="vpn-test"),
]
