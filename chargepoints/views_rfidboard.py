"""Charging Stations / CHARX RFID/NFC Board: one form per board, its live (simulated) LED."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views import View

from chargepoints import selectors, services
from chargepoints.forms_rfidboard import BoardSettingsForm
from chargepoints.models import ChargePoint
from chargepoints.rfidboard import BoardInfo, board_live
from wbm.access import HtmxHttpRequest, RoleRequiredMixin
from wbm.audit import Actor
from wbm.roles import Perm, allows
from wbm.runtime.bus import read_snapshot

TEMPLATE = "chargepoints/rfidboard.html"


def board_item(board: BoardInfo, form: BoardSettingsForm | None = None, **extra: Any) -> dict[str, Any]:
    """What the ``board`` partial needs for one board."""
    return {
        "board": board,
        "form": form or BoardSettingsForm(board),
        "live": board_live(board, read_snapshot()),
        **extra,
    }


class RfidBoardView(RoleRequiredMixin, View):
    """Everyone from User up sees the boards; the Manufacturer changes them."""

    required = Perm.RFID_BOARD_VIEW
    required_by_method = {"POST": Perm.RFID_BOARD_EDIT}

    def get(self, request: HttpRequest) -> HttpResponse:
        boards = [board_item(board) for board in selectors.rfid_board_list()]
        return render(request, TEMPLATE, {"boards": boards, "can_edit": allows(request.user, Perm.RFID_BOARD_EDIT)})

    def post(self, request: HtmxHttpRequest) -> HttpResponse:
        boards = {board.pk: board for board in selectors.rfid_board_list()}
        raw = request.POST.get("board", "")
        if not raw.isdigit():
            return HttpResponseBadRequest(_("Which board? The form names none."))
        board = boards.get(int(raw))
        if board is None:
            raise Http404
        preview = request.POST.get("preview") == "1"  # the connection type changed: other profiles
        form = BoardSettingsForm(board, request.POST, preview=preview)
        saved, error = False, ""
        if not preview and form.is_valid():
            try:
                services.rfid_board_update(
                    chargepoint=ChargePoint.objects.select_related("station", "config").get(pk=board.pk),
                    data=form.cleaned(),
                    actor=Actor.from_request(request),
                )
            except ValidationError as exc:  # the model's rules: at their fields, nothing saved
                error = " ".join(form.add_service_errors(exc))
            else:
                saved = True
                board = next(b for b in selectors.rfid_board_list() if b.pk == board.pk)
                form = BoardSettingsForm(board)
        if not request.htmx:
            if saved:
                messages.success(request, _("The settings of the CHARX RFID/NFC board are saved."))
                return redirect("chargepoints:rfidboard")
            items = [
                board_item(b, form if b.pk == board.pk else None, action_error=error if b.pk == board.pk else "")
                for b in boards.values()
            ]
            return render(request, TEMPLATE, {"boards": items, "can_edit": True})
        item = board_item(board, form, saved=saved, action_error=error)
        return render(request, f"{TEMPLATE}#board", {"item": item, "can_edit": True})
