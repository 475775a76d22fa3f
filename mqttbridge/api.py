"""/api/v1/mqtt/: the MQTT bridge page's data and actions with the page's rules and services.

GET ``mqtt/`` broker settings (the password never: only ``password_set``), rows and status;
PUT ``mqtt/`` the broker (``password`` write-only: omitted or "" keeps it, ``clear_password``);
DELETE ``mqtt/`` Clear configuration; PUT ``mqtt/topics/`` the forwarding rows;
POST ``mqtt/certificate/`` the CA certificate (multipart ``certificate`` or JSON ``pem``)."""

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

from mqttbridge import selectors, services, topics
from mqttbridge.choices import Direction
from wbm.api.fields import StrictBooleanField
from wbm.api.parsers import SafeJSONParser
from wbm.audit import Actor
from wbm.roles import Perm


class MqttRowSerializer(serializers.Serializer):
    local_topic = serializers.CharField(max_length=topics.MAX_TOPIC, help_text="e.g. wbm/chargepoint/+/status")
    remote_topic = serializers.CharField(
        max_length=topics.MAX_TOPIC, help_text="under <prefix>/<device type>/<device id>/"
    )
    direction = serializers.ChoiceField(choices=Direction.choices)


class MqttRowOutSerializer(MqttRowSerializer):
    full_remote_topic = serializers.CharField(help_text="the topic at the remote broker")


class MqttBrokerOutSerializer(serializers.Serializer):
    host = serializers.CharField()
    port = serializers.IntegerField()
    username = serializers.CharField()
    password_set = serializers.BooleanField(help_text="a password is stored (it is never returned)")
    prefix = serializers.CharField()
    station_name = serializers.CharField()
    location = serializers.CharField()
    certificate_name = serializers.CharField(help_text="'' when none: no TLS")
    device_type = serializers.CharField()
    device_id = serializers.CharField()
    base_topic = serializers.CharField()


class MqttOutSerializer(serializers.Serializer):
    broker = MqttBrokerOutSerializer()
    topics = MqttRowOutSerializer(many=True)
    status = serializers.JSONField(help_text="the bridge agent's live state (remote, local, counts)")
    publisher = serializers.JSONField(help_text="the local publisher's live state")


class MqttBrokerInSerializer(serializers.Serializer):
    host = serializers.CharField(allow_blank=True, max_length=253)
    port = serializers.IntegerField(min_value=1, max_value=65535, default=1883)
    username = serializers.CharField(
        allow_blank=True, required=False, default="", max_length=128, trim_whitespace=False
    )
    password = serializers.CharField(
        allow_blank=True, required=False, max_length=128, trim_whitespace=False, write_only=True
    )
    clear_password = StrictBooleanField(required=False, default=False)
    prefix = serializers.CharField(allow_blank=True, required=False, default="", max_length=64)
    station_name = serializers.CharField(allow_blank=True, required=False, default="", max_length=64)
    location = serializers.CharField(allow_blank=True, required=False, default="", max_length=64)


class MqttTopicsInSerializer(serializers.Serializer):
    topics = serializers.ListField(child=MqttRowSerializer(), max_length=services.MAX_ROWS)


class MqttCertificateInSerializer(serializers.Serializer):
    pem = serializers.CharField(required=False, max_length=services.MAX_CA_BYTES, trim_whitespace=False)
    name = serializers.CharField(required=False, max_length=255, default="certificate.pem")


def mqtt_document() -> dict[str, Any]:
    s = selectors.bridge_settings_get()
    base = topics.base(s.prefix, s.device_id)
    bridge = selectors.agent_status(selectors.BRIDGE_AGENT)
    publisher = selectors.agent_status(selectors.PUBLISHER_AGENT)
    return {
        "broker": {
            "host": s.host,
            "port": s.port,
            "username": s.username,
            "password_set": bool(s.password),
            "prefix": s.prefix,
            "station_name": s.station_name,
            "location": s.location,
            "certificate_name": s.ca_name,
            "device_type": topics.DEVICE_TYPE,
            "device_id": s.device_id,
            "base_topic": base,
        },
        "topics": [
            {
                "local_topic": r.local_topic,
                "remote_topic": r.remote_topic,
                "direction": r.direction,
                "full_remote_topic": f"{base}/{r.remote_topic}",
            }
            for r in selectors.forward_rows()
        ],
        "status": bridge,
        "publisher": publisher,
    }


def _refused(exc: services.BridgeRefused) -> Response:
    return Response(
        {"detail": _("Some values are not valid; nothing was written."), "code": "invalid", "errors": exc.errors},
        status=status.HTTP_400_BAD_REQUEST,
    )


class MqttApi(APIView):
    required = Perm.NETWORK_VIEW
    required_by_method = {"PUT": Perm.NETWORK_EDIT, "DELETE": Perm.NETWORK_EDIT}

    @extend_schema(responses=MqttOutSerializer)
    def get(self, request: Request) -> Response:
        return Response(mqtt_document())

    @extend_schema(request=MqttBrokerInSerializer, responses=MqttOutSerializer)
    def put(self, request: Request) -> Response:
        incoming = MqttBrokerInSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = dict(incoming.validated_data)
        clear = data.pop("clear_password", False)
        try:
            services.bridge_settings_update(data=data, clear_password=clear, actor=Actor.from_request(request))
        except services.BridgeRefused as exc:
            return _refused(exc)
        return Response(mqtt_document())

    @extend_schema(responses={200: MqttOutSerializer})
    def delete(self, request: Request) -> Response:
        services.bridge_clear(actor=Actor.from_request(request))
        return Response(mqtt_document())


class MqttTopicsApi(APIView):
    required = Perm.NETWORK_EDIT

    @extend_schema(request=MqttTopicsInSerializer, responses=MqttOutSerializer)
    def put(self, request: Request) -> Response:
        incoming = MqttTopicsInSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        try:
            services.bridge_rows_replace(rows=incoming.validated_data["topics"], actor=Actor.from_request(request))
        except services.BridgeRefused as exc:
            return _refused(exc)
        return Response(mqtt_document())


class MqttCertificateApi(APIView):
    required = Perm.NETWORK_EDIT
    parser_classes = [SafeJSONParser, MultiPartParser]

    @extend_schema(request=MqttCertificateInSerializer, responses=MqttOutSerializer)
    def post(self, request: Request) -> Response:
        incoming = MqttCertificateInSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        # multipart ``certificate`` is taken too (like the page); the schema documents JSON only
        upload = request.FILES.get("certificate") if hasattr(request, "FILES") else None
        if upload is not None:
            if upload.size is not None and upload.size > services.MAX_CA_BYTES:
                return _refused(
                    services.BridgeRefused(
                        {
                            "certificate": [
                                _("The file is larger than %(max)s KiB.") % {"max": services.MAX_CA_BYTES // 1024}
                            ]
                        }
                    )
                )
            name, raw = upload.name or "certificate.pem", upload.read()
        elif data.get("pem"):
            name, raw = data["name"], data["pem"].encode("utf-8", "surrogatepass")
        else:
            return _refused(services.BridgeRefused({"certificate": [_("Send a certificate file or its PEM text.")]}))
        try:
            services.bridge_certificate_upload(name=name, raw=raw, actor=Actor.from_request(request))
        except services.BridgeRefused as exc:
            return _refused(exc)
        return Response(mqtt_document())


urlpatterns = [
    path("mqtt/", MqttApi.as_view(), name="mqtt"),
    path("mqtt/topics/", MqttTopicsApi.as_view(), name="mqtt-topics"),
    path("mqtt/certificate/", MqttCertificateApi.as_view(), name="mqtt-certificate"),
]
