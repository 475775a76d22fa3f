"""/api/v1/modbus/: the Modbus page's data: start addresses, "allow restart registers" and the
Modbus/TCP server's state. GET (Operator and up), PATCH changes addresses and/or the switch with
the page's rules and service (all or nothing). GET answers an ``ETag`` (the settings' revision);
a PATCH with a stale ``If-Match`` is refused with 412."""

from __future__ import annotations

from typing import Any

from django.urls import path
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from modbus import addressing, selectors, services
from modbus.views import AGENT
from wbm.api.fields import StrictBooleanField
from wbm.api.schema import ErrorSerializer
from wbm.audit import Actor
from wbm.roles import Perm
from wbm.runtime.bus import read_snapshot

SERVER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "nullable": True,
    "description": "the Modbus/TCP server's live state as its agent publishes it; null while the server "
    "(or the controller runtime) does not run",
    "additionalProperties": {},
    "properties": {
        "running": {"type": "boolean"},
        "host": {"type": "string", "description": "the address it listens on (WBM_MODBUS_HOST)"},
        "port": {"type": "integer", "description": "the TCP port it listens on (WBM_MODBUS_PORT)"},
        "clients": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": {},
                "properties": {
                    "address": {"type": "string", "description": "the client's IP address and port"},
                    "connected_since": {"type": "number", "description": "UTC epoch seconds"},
                    "last_request_at": {"type": "number", "nullable": True, "description": "UTC epoch seconds"},
                    "requests": {"type": "integer"},
                },
            },
        },
        "requests": {"type": "integer", "description": "requests answered since the server started"},
        "requests_per_s": {"type": "number"},
        "writes_refused": {"type": "integer"},
        "last_error": {"type": "string"},
    },
}


@extend_schema_field(SERVER_SCHEMA)
class ServerStateField(serializers.JSONField):
    pass


class AddressOutSerializer(serializers.Serializer):
    chargepoint = serializers.IntegerField(help_text="the charging point's id")
    name = serializers.CharField()
    station = serializers.CharField(help_text="host name of its charging station")
    position = serializers.IntegerField(help_text="backplane bus position")
    start_address = serializers.IntegerField(help_text="as set: -1 automatic, or a multiple of 1000 (1000–48000)")
    effective_address = serializers.IntegerField(
        allow_null=True, help_text="what the Modbus server uses; null: not reachable via Modbus (mixed operation)"
    )


class ModbusOutSerializer(serializers.Serializer):
    addresses = AddressOutSerializer(many=True, help_text="every charging point of the park, in the automatic order")
    allow_restart = serializers.BooleanField(help_text="a client may write the restart registers 165/166")
    revision = serializers.IntegerField(help_text="the settings' revision (the ETag)")
    server = ServerStateField(allow_null=True)


class AddressInSerializer(serializers.Serializer):
    chargepoint = serializers.IntegerField()
    start_address = serializers.IntegerField(
        help_text="-1 (automatic) or an integer multiple of 1000 from 1000 to 48000; unique; all automatic "
        "or all manual (no mixed operation)"
    )


class ModbusPatchSerializer(serializers.Serializer):
    addresses = AddressInSerializer(
        many=True, required=False, help_text="the charging points to change; the others keep theirs"
    )
    allow_restart = StrictBooleanField(required=False)


class ModbusStaleSerializer(ErrorSerializer):
    revision = serializers.IntegerField(help_text="the stored revision now (its ETag)")


def _etag(revision: int) -> str:
    return f'"{revision}"'


def _if_match(request: Request) -> int | None:
    """The revision the client read, from ``If-Match``; None without it (last write wins);
    -1 when it names none that can match."""
    header = request.headers.get("If-Match")
    if header is None:
        return None
    tags = [tag.strip().removeprefix("W/").strip('"') for tag in header.split(",")]
    if "*" in tags:
        return None
    current = selectors.modbus_revision()
    numbers = [int(tag) for tag in tags if tag.isdigit()]
    if current in numbers:
        return current
    return -1


def modbus_document() -> dict[str, Any]:
    settings = selectors.modbus_settings_get()
    snapshot = read_snapshot()
    return {
        "addresses": [
            {
                "chargepoint": r.chargepoint,
                "name": r.name,
                "station": r.station,
                "position": r.position,
                "start_address": r.start_address,
                "effective_address": r.effective_address,
            }
            for r in selectors.address_rows()
        ],
        "allow_restart": settings.allow_restart,
        "revision": settings.revision,
        "server": snapshot.agent_state(AGENT) if snapshot is not None else None,
    }


def _invalid(errors: dict[str, list[str]], reason: str = "") -> Response:
    detail = _("Some values are not valid; nothing was written.")
    return Response(
        {"detail": f"{detail} {reason}".strip(), "code": "invalid", "errors": errors},
        status=status.HTTP_400_BAD_REQUEST,
    )


class ModbusApi(APIView):
    """The start addresses of every charging point, "allow restart registers" and the server's
    state. PATCH: ``{"addresses": [{"chargepoint": 3, "start_address": 2000}, …], "allow_restart":
    false}`` (either or both); refused as a whole (400) with the errors per charging point at
    ``addresses.<id>`` when a rule is broken."""

    required = Perm.MODBUS_VIEW
    required_by_method = {"PATCH": Perm.MODBUS_EDIT}
    api_error_statuses = {"PATCH": (412,)}  # a stale If-Match

    @extend_schema(responses=ModbusOutSerializer)
    def get(self, request: Request) -> Response:
        document = modbus_document()
        return Response(document, headers={"ETag": _etag(document["revision"])})

    @extend_schema(request=ModbusPatchSerializer, responses={200: ModbusOutSerializer, 412: ModbusStaleSerializer})
    def patch(self, request: Request) -> Response:
        incoming = ModbusPatchSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        entries = data.get("addresses")
        addresses: dict[int, int] | None = None
        if entries is not None:
            addresses = {}
            for entry in entries:
                cp = entry["chargepoint"]
                if cp in addresses:
                    return _invalid({f"addresses.{cp}": [_("This charging point is listed twice.")]})
                addresses[cp] = entry["start_address"]
        try:
            services.modbus_settings_update(
                addresses=addresses,
                allow_restart=data.get("allow_restart"),
                actor=Actor.from_request(request),
                revision=_if_match(request),
            )
        except services.UnknownChargePoint as exc:
            return _invalid(
                {f"addresses.{cp}": [_("There is no charging point %(id)s.") % {"id": cp}] for cp in exc.ids}
            )
        except services.AddressesInvalid as exc:
            return _invalid(
                {f"addresses.{cp}": messages for cp, messages in sorted(exc.errors.items())},
                addressing.mixed_explanation() if exc.mixed else "",
            )
        except services.StaleRevision as exc:
            return Response(
                {
                    "detail": _("Someone else changed the Modbus settings since you read them; nothing was written."),
                    "code": "precondition_failed",
                    "revision": exc.revision,
                },
                status=status.HTTP_412_PRECONDITION_FAILED,
                headers={"ETag": _etag(exc.revision)},
            )
        document = modbus_document()
        return Response(document, headers={"ETag": _etag(document["revision"])})


urlpatterns = [path("modbus/", ModbusApi.as_view(), name="modbus")]
