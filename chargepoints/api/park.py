"""/api/v1 for the charging park: the live state of every charge point, the charging release and
the simulator, through the same services and the same permission map as the pages."""

from __future__ import annotations

from django import forms
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from chargepoints import services as cp_services
from chargepoints.models import ChargePoint, Station
from chargepoints.simulator.forms import OPS
from wbm.api import serializers as s
from wbm.api.fields import StrictBooleanField
from wbm.audit import Actor
from wbm.roles import Perm
from wbm.runtime.bus import require_snapshot as _snapshot


def _chargepoint(pk: int) -> ChargePoint:
    try:
        return ChargePoint.objects.get(pk=pk)
    except ChargePoint.DoesNotExist:
        raise NotFound(_("There is no charging point %(cp)s.") % {"cp": pk}) from None


class ParkApi(APIView):
    """Park summary, stations and the live state of every charge point."""

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
                    "summary": snapshot.summary,
                    "stations": stations,
                    "chargepoints": snapshot.chargepoints,
                }
            ).data
        )


class ChargePointStateApi(APIView):
    required = Perm.PARK_VIEW

    @extend_schema(responses=s.ChargePointStateSerializer)
    def get(self, request: Request, pk: int) -> Response:
        cp = _snapshot().chargepoint(pk)
        if cp is None:
            raise Http404
        return Response(s.ChargePointStateSerializer(cp).data)


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
    """Drive the simulated hardware: plug_in {phases, max_current_a, ventilation}, unplug,
    vehicle {action: start|pause|finish}, rfid {tag}, input {index, value: high|low},
    analog {index, volts}, fault {code, info}, clear_fault, temperature {celsius|null}."""

    required = Perm.SIMULATOR_USE

    @extend_schema(
        parameters=[OpenApiParameter("op", str, OpenApiParameter.PATH, enum=sorted(OPS))],
        request=OpenApiTypes.OBJECT,
        responses=s.ChargePointStateSerializer,
    )
    def post(self, request: Request, pk: int, op: str) -> Response:
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
