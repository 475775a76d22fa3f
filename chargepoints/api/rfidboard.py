"""/api/v1 for the CHARX RFID/NFC boards: read them with their live profile, change one."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from chargepoints import selectors, services
from chargepoints.forms_rfidboard import board_data_from_api
from chargepoints.models import ChargePoint, RfidBoard
from chargepoints.rfidboard import BoardInfo, board_live
from wbm.audit import Actor
from wbm.roles import Perm
from wbm.runtime.bus import read_snapshot


def board_document(board: BoardInfo) -> dict[str, Any]:
    live = board_live(board, read_snapshot())
    return {
        "chargepoint": board.pk,
        "name": board.title,
        "served": list(board.served),
        "firmware_version": live.firmware if live else None,
        "connection_type": board.connection_type,
        "buzzer_volume_pct": board.buzzer_volume_pct,
        "profiles": {p.value: {"name": str(p.label), **_led(board, p.value)} for p in board.profiles},
        "active_profile": (live.active.value if live.active else None) if live else None,
    }


def _led(board: BoardInfo, profile: str) -> dict[str, Any]:
    led = board.led(profile)
    return {
        "mode": led.mode,
        "color": led.color,
        "brightness_pct": led.brightness_pct,
        "period_ms": led.period_ms,
        "min_brightness_pct": led.min_brightness_pct,
        "max_brightness_pct": led.max_brightness_pct,
    }


def _board(pk: int) -> BoardInfo:
    board = next((b for b in selectors.rfid_board_list() if b.pk == pk), None)
    if board is None:
        raise Http404
    return board


class LedSerializer(serializers.Serializer):
    name = serializers.CharField(read_only=True, help_text="the profile as the manual names it")
    mode = serializers.ChoiceField(choices=["off", "on", "flashing", "fade"])
    color = serializers.ChoiceField(choices=["white", "red", "green", "blue"])
    brightness_pct = serializers.IntegerField(min_value=0, max_value=100)
    period_ms = serializers.IntegerField(min_value=100, max_value=10_000)
    min_brightness_pct = serializers.IntegerField(min_value=0, max_value=100)
    max_brightness_pct = serializers.IntegerField(min_value=0, max_value=100)


class BoardSerializer(serializers.Serializer):
    chargepoint = serializers.IntegerField(read_only=True, help_text="the charging point the board is wired at")
    name = serializers.CharField(read_only=True)
    served = serializers.ListField(child=serializers.IntegerField(), read_only=True)
    firmware_version = serializers.CharField(read_only=True, allow_null=True)
    connection_type = serializers.ChoiceField(choices=["standalone", "1:1", "1:n"])
    buzzer_volume_pct = serializers.IntegerField(min_value=0, max_value=100)
    profiles = serializers.DictField(
        child=LedSerializer(),
        help_text=(
            "by profile; the read gives exactly the profiles of the connection type, a write may give "
            "any of them (omitted profiles and values keep theirs)"
        ),
    )
    active_profile = serializers.CharField(read_only=True, allow_null=True)


class RfidBoardListApi(APIView):
    """Every CHARX RFID/NFC board with its settings and the profile it shows now."""

    required = Perm.RFID_BOARD_VIEW

    @extend_schema(responses=BoardSerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response([board_document(b) for b in selectors.rfid_board_list()])


class RfidBoardApi(APIView):
    """One board (by the charging point it is wired at); PUT changes it (Manufacturer)."""

    required = Perm.RFID_BOARD_VIEW
    required_by_method = {"PUT": Perm.RFID_BOARD_EDIT}
    model = RfidBoard  # the pk is the board's (= the charging point it is wired at)

    @extend_schema(responses=BoardSerializer)
    def get(self, request: Request, pk: int) -> Response:
        return Response(board_document(_board(pk)))

    @extend_schema(request=BoardSerializer, responses=BoardSerializer)
    def put(self, request: Request, pk: int) -> Response:
        board = _board(pk)
        payload = request.data if isinstance(request.data, dict) else {}
        data, errors = board_data_from_api(board, payload)
        if data is None:
            raise ValidationError(errors)
        services.rfid_board_update(
            chargepoint=ChargePoint.objects.select_related("station", "config").get(pk=pk),
            data=data,
            actor=Actor.from_request(request),
        )
        return Response(board_document(_board(pk)))
