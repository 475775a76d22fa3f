"""The OCPP API's serializers (names start with ``Ocpp``: one schema name each)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ocppcfg.models import NetworkInterface
from ocppcfg.services import validate_backend_url
from wbm.api.fields import StrictBooleanField
from wbm.api.serializers import RuntimeLivenessSerializer


class OcppCertificateSerializer(serializers.Serializer):
    subject = serializers.CharField(help_text="the certificate's subject (RFC 4514)")
    expires = serializers.DateTimeField(help_text="UTC")


class OcppCertificateStateSerializer(serializers.Serializer):
    certificate = OcppCertificateSerializer(allow_null=True, help_text="the stored CA certificate, or null")


class OcppSettingsSerializer(serializers.Serializer):
    """The backend connection. ``authorization_key`` is write-only: never answered; absent or
    empty keeps the stored one, ``clear_authorization_key: true`` removes it."""

    backend_url = serializers.CharField(
        max_length=512,
        allow_blank=True,
        validators=[validate_backend_url],
        help_text="ws:// or wss://, a host, the charge box ID as the last path segment; no spaces or shell "
        "characters; empty: no backend",
    )
    network_interface = serializers.ChoiceField(choices=NetworkInterface.choices)
    authorization_user = serializers.CharField(max_length=64, allow_blank=True, help_text="Basic authentication user")
    authorization_key = serializers.CharField(
        max_length=40,
        allow_blank=True,
        write_only=True,
        trim_whitespace=False,
        help_text="Basic authentication password (write-only); empty keeps the stored one",
    )
    clear_authorization_key = StrictBooleanField(write_only=True, required=False, help_text="remove the stored key")
    model = serializers.CharField(
        max_length=20, allow_blank=True, help_text="charging station model (BootNotification)"
    )
    vendor = serializers.CharField(max_length=20, allow_blank=True, help_text="charging station manufacturer")
    serial_number = serializers.CharField(max_length=25, allow_blank=True, help_text="optional")
    protocol = serializers.CharField(read_only=True, help_text="only ocpp1.6j")
    charge_box_id = serializers.CharField(read_only=True, help_text="the last path segment of backend_url")
    authorization_key_set = serializers.BooleanField(read_only=True)
    certificate = OcppCertificateSerializer(read_only=True, allow_null=True, help_text="the CA certificate, or null")


class OcppCertificateUploadSerializer(serializers.Serializer):
    pem = serializers.CharField(
        max_length=64 * 1024,
        trim_whitespace=False,
        help_text="the CA certificate in PEM (or multipart/form-data with a file field 'file'); "
        "only for a wss:// backend URL; checked: PEM, a certificate, not expired, at most 64 KB",
    )


class OcppVariableSerializer(serializers.Serializer):
    value = serializers.CharField(allow_blank=True, help_text='as GetConfiguration answers it (secrets "****")')
    readonly = serializers.BooleanField()
    meaning = serializers.CharField(help_text="in the language of Accept-Language")
    group = serializers.ChoiceField(choices=["ocpp", "charx"], help_text="ocpp: OCPP 1.6; charx: CHARX variable")
    unit = serializers.CharField(allow_blank=True)
    kind = serializers.ChoiceField(choices=["bool", "int", "string", "csl", "url"], help_text="csl: a comma list")
    minimum = serializers.IntegerField(allow_null=True)
    maximum = serializers.IntegerField(allow_null=True)


VARIABLES_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "configuration key → its value, ReadOnly flag, meaning, group and unit",
    "additionalProperties": {
        "type": "object",
        "properties": {
            "value": {"type": "string", "description": 'as GetConfiguration answers it (secrets "****")'},
            "readonly": {"type": "boolean"},
            "meaning": {"type": "string", "description": "in the language of Accept-Language"},
            "group": {"type": "string", "enum": ["ocpp", "charx"]},
            "unit": {"type": "string"},
            "kind": {"type": "string", "enum": ["bool", "int", "string", "csl", "url"]},
            "minimum": {"type": "integer", "nullable": True},
            "maximum": {"type": "integer", "nullable": True},
        },
        "required": ["value", "readonly", "meaning", "group", "unit", "kind", "minimum", "maximum"],
    },
}
VARIABLES_PATCH_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "configuration key → new value (string, integer or boolean); all or nothing: a 400 with "
    "errors per key changes none. AuthorizationKey is write-only (an empty string clears it).",
    "additionalProperties": {"oneOf": [{"type": "string"}, {"type": "integer"}, {"type": "boolean"}]},
    "example": {"HeartbeatInterval": 120, "FreeMode": False},
}


@extend_schema_field(
    {
        "type": "object",
        "additionalProperties": {},
        "properties": {
            "count": {"type": "integer"},
            "oldest": {"type": "string", "format": "date-time", "nullable": True},
            "items": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "seq": {"type": "integer", "nullable": True},
                        "action": {"type": "string"},
                        "age_s": {"type": "number", "nullable": True},
                        "attempts": {"type": "integer"},
                    },
                },
            },
        },
    }
)
class OcppQueueField(serializers.JSONField):
    pass


class OcppConnectorSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="the charging point's id")
    name = serializers.CharField()
    connector_id = serializers.IntegerField()
    status = serializers.CharField(allow_blank=True, help_text="OCPP ChargePointStatus")
    error_code = serializers.CharField(allow_blank=True, help_text="OCPP ChargePointErrorCode")
    transaction_id = serializers.IntegerField(allow_null=True)


class OcppStatusSerializer(serializers.Serializer):
    connected = serializers.BooleanField(help_text="the WebSocket to the backend is open")
    since = serializers.DateTimeField(allow_null=True, help_text="connected (or disconnected) since, UTC")
    url = serializers.CharField(allow_blank=True, help_text="the backend URL in use")
    registration = serializers.CharField(allow_blank=True, help_text="Accepted, Pending, Rejected or empty")
    last_heartbeat = serializers.DateTimeField(allow_null=True)
    last_error = serializers.CharField(allow_blank=True)
    queue = OcppQueueField(help_text="the offline queue: count, oldest, the first 20 messages")
    chargepoints = OcppConnectorSerializer(
        many=True, help_text="charging points with release 'By OCPP' and a connector ID ≥ 1"
    )
    without_connector_id = serializers.ListField(
        child=serializers.CharField(), help_text="names of charging points 'By OCPP' without a valid connector ID"
    )
    agent = serializers.CharField(allow_null=True, help_text="the OCPP service's state; null: runtime not running")
    runtime = RuntimeLivenessSerializer()


class OcppMessageSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    at = serializers.DateTimeField(help_text="time stamp of transmission")
    direction = serializers.ChoiceField(choices=["out", "in"], help_text="out: sent to the backend")
    message_type = serializers.IntegerField(help_text="2 CALL, 3 CALLRESULT, 4 CALLERROR")
    unique_id = serializers.CharField(help_text="the message ID")
    action = serializers.CharField(allow_blank=True)
    payload = serializers.CharField(help_text="the JSON as on the wire (cut at 20,000 characters)")


class OcppRestartSerializer(serializers.Serializer):
    detail = serializers.CharField()
