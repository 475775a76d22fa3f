"""/api/v1 for the charging park: the live state of every charge point, the charging release and
the simulator, through the same services and the same permission map as the pages."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.validators import RegexValidator
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from chargepoints import services as cp_services
from chargepoints.models import ChargePoint, Station
from chargepoints.simulator.forms import OPS
from wbm.api import serializers as s
from wbm.api.fields import StrictBooleanField
from wbm.api.liveness import runtime_liveness
from wbm.audit import Actor
from wbm.roles import Perm
from wbm.runtime.bus import require_snapshot as _snapshot


def _chargepoint(pk: int) -> ChargePoint:
    try:
        return ChargePoint.objects.get(pk=pk)
    except ChargePoint.DoesNotExist:
        raise NotFound(_("There is no charging point %(cp)s.") % {"cp": pk}) from None


class ParkApi(APIView):
    """Park summary, stations and the live state of every charge point, and whether the runtime
    that published it is running (`runtime.alive`; stale state is answered too, flagged)."""

    required = Perm.PARK_VIEW

    @extend_schema(responses=s.ParkSerializer)
    def get(self, request: Request) -> Response:
        snapshot = _snapshot()
        stations = [
            {
                "id": st.pk,
                "kind": st.kind,
                "hostname": st.hostname,
                "head_ip": st.head_ip,
                "head_mac": st.head_mac,
                "chargepoints": [cp.pk for cp in st.chargepoints.all()],
            }
            for st in Station.objects.prefetch_related("chargepoints")
        ]
        return Response(
            s.ParkSerializer(
                {
                    "generated_at": snapshot.generated_at,
                    "runtime": runtime_liveness(),
                    "summary": snapshot.summary,
                    "stations": stations,
                    "chargepoints": snapshot.chargepoints,
                }
            ).data
        )


class ChargePointStateApi(APIView):
    required = Perm.PARK_VIEW

    @extend_schema(responses=s.ChargePointLiveSerializer)
    def get(self, request: Request, pk: int) -> Response:
        cp = _snapshot().chargepoint(pk)
        if cp is None:
            raise Http404
        return Response(s.ChargePointLiveSerializer(cp, context={"runtime": runtime_liveness()}).data)


class ChargePointReleaseApi(APIView):
    """Allow or prohibit charging."""

    required = Perm.CHARGEPOINT_RELEASE

    @extend_schema(request=s.ReleaseSerializer, responses=s.ChargePointStateSerializer)
    def post(self, request: Request, pk: int) -> Response:
        incoming = s.ReleaseSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        chargepoint = _chargepoint(pk)
        cp_services.chargepoint_release_set(
            chargepoint=chargepoint, allow=incoming.validated_data["allow"], actor=Actor.from_request(request)
        )
        return Response(s.ChargePointStateSerializer(_snapshot().chargepoint(pk)).data)


class SimulatorApi(APIView):
    """Drive the simulated hardware: ``POST /api/v1/simulator/chargepoints/{id}/{op}/`` with the
    operation's values (``chargepoints.simulator.forms.OPS``, validated by the same form as the
    page). The schema lists one path per operation with its own body (``SIMULATOR_OP_APIS``);
    this generic route answers the same and 404 for an unknown operation."""

    required = Perm.SIMULATOR_USE
    op = ""  # set on the route of one operation

    def post(self, request: Request, pk: int, op: str = "") -> Response:
        op = op or self.op
        if op not in OPS:
            raise NotFound(_("The runtime does not know this operation."))
        chargepoint = _chargepoint(pk)
        data = request.data if isinstance(request.data, dict) else {}
        form_class = OPS[op].form
        not_boolean = [
            name
            for name, field in form_class.base_fields.items()
            if isinstance(field, forms.BooleanField) and name in data and not isinstance(data[name], bool)
        ]
        if not_boolean:  # the form would read "no", 0 or 1 as a boolean; the API takes JSON booleans only
            message = str(StrictBooleanField.default_error_messages["invalid"])
            raise ValidationError({name: [{"message": message, "code": "invalid"}] for name in not_boolean})
        form = form_class(data={k: ("" if v is None else v) for k, v in data.items()})
        if not form.is_valid():
            raise ValidationError(form.errors.get_json_data())
        cp_services.simulator_apply(
            chargepoint=chargepoint, op=op, data=form.cleaned_data, actor=Actor.from_request(request)
        )
        return Response(s.ChargePointStateSerializer(_snapshot().chargepoint(pk)).data)


def _documented_field(field: forms.Field) -> serializers.Field:
    """The schema of one simulator form field: the form validates, this only documents it (JSON
    booleans only; null or "" for an optional choice or number)."""
    common: dict[str, Any] = {"required": field.required, "help_text": field.help_text or field.label}
    if isinstance(field, forms.BooleanField):
        return StrictBooleanField(required=False, help_text=common["help_text"])
    if isinstance(field, forms.ChoiceField):
        keys = [key for key, _label in field.choices if key != ""]  # type: ignore[union-attr,misc]
        optional = not field.required
        return serializers.ChoiceField(choices=keys, allow_blank=optional, allow_null=optional, **common)
    if isinstance(field, forms.IntegerField | forms.FloatField):
        number = serializers.IntegerField if isinstance(field, forms.IntegerField) else serializers.FloatField
        bounds: dict[str, Any] = {"min_value": field.min_value, "max_value": field.max_value}
        return number(allow_null=not field.required, **bounds, **common)
    assert isinstance(field, forms.CharField)
    sizes: dict[str, Any] = {
        "max_length": field.max_length,
        "min_length": field.min_length,
        "allow_blank": not field.required,
    }
    patterns = [str(getattr(v.regex, "pattern", v.regex)) for v in field.validators if isinstance(v, RegexValidator)]
    if patterns:
        return serializers.RegexField(patterns[0], **sizes, **common)
    return serializers.CharField(**sizes, **common)


def _simulator_op_api(op: str) -> type[SimulatorApi]:
    """The route of one simulator operation, documented with its form's fields as the body."""
    camel = "".join(part.title() for part in op.split("_"))
    body = type(
        f"Sim{camel}Serializer",
        (serializers.Serializer,),
        {name: _documented_field(field) for name, field in OPS[op].form.base_fields.items()},
    )
    view = type(f"Simulator{camel}Api", (SimulatorApi,), {"op": op, "__doc__": str(OPS[op].title)})
    decorate = extend_schema_view(
        post=extend_schema(
            operation_id=f"simulator_{op}",
            summary=str(OPS[op].title),
            request=body if body.__dict__["_declared_fields"] else None,
            responses=s.ChargePointStateSerializer,
        )
    )
    return decorate(view)


SIMULATOR_OP_APIS: dict[str, type[SimulatorApi]] = {op: _simulator_op_api(op) for op in OPS}


@extend_schema(exclude=True)  # documented as the routes of SIMULATOR_OP_APIS
class SimulatorAnyOpApi(SimulatorApi):
    """``/simulator/chargepoints/{id}/{op}/`` for any ``op``: 404 for one that does not exist."""
