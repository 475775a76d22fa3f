"""Charging Stations / CHARX RFID/NFC Board: one form per board, its live (simulated) LED."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.views import View

from chargepoints import selectors, services
from chargepoints.forms_rfidboard import BoardSettingsForm, board_change_label
from chargepoints.models import ChargePoint, RfidBoard
from chargepoints.rfidboard import BoardInfo, board_live
from chargepoints.services import WriteConflict
from wbm.access import HtmxHttpRequest, RoleRequiredMixin
from wbm.audit import Actor
from wbm.roles import Perm, allows
from wbm.runtime.bus import read_snapshot

TEMPLATE = "chargepoints/rfidboard.html"


def _stored_revision(pk: int) -> int:
    """The saved board's revision; 0 while it runs its factory settings."""
    return RfidBoard.objects.filter(pk=pk).values_list("revision", flat=True).first() or 0


def board_item(board: BoardInfo, form: BoardSettingsForm | None = None, **extra: Any) -> dict[str, Any]:
    """What the ``board`` partial needs for one board."""
    return {
        "board": board,
        "form": form or BoardSettingsForm(board, revision=_stored_revision(board.pk)),
        "live": board_live(board, read_snapshot()),
        **extra,
    }


def _board_conflict_message(conflict: WriteConflict) -> str:
    when = formats.time_format(timezone.localtime(conflict.at), "H:i") if conflict.at else "–"
    labels = [board_change_label(key) for key in conflict.changed]
    return _(
        "Someone else saved the settings of this board meanwhile (at %(time)s, by %(user)s): these settings "
        "changed: %(fields)s. Nothing was saved; your values are shown below. Click “Save” to overwrite them."
    ) % {"time": when, "user": conflict.username or "–", "fields": ", ".join(labels) or "–"}


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
        raw_revision = request.POST.get("revision", "")
        revision = int(raw_revision) if raw_revision.isdigit() else None  # None: not sent, no check
        form = BoardSettingsForm(
            board, request.POST, preview=preview, revision=_stored_revision(board.pk) if revision is None else revision
        )
        saved, error = False, ""
        if not preview and form.is_valid():
            try:
                services.rfid_board_update(
                    chargepoint=ChargePoint.objects.select_related("station", "config").get(pk=board.pk),
                    data=form.cleaned(),
                    actor=Actor.from_request(request),
                    revision=revision,
                )
            except ValidationError as exc:  # the model's rules: at their fields, nothing saved
                error = " ".join(form.add_service_errors(exc))
            except services.StaleRevision as exc:  # someone else saved meanwhile: nothing saved
                error = _board_conflict_message(exc.conflict)
                form.revision = exc.conflict.revision  # a second "Save" overwrites knowingly
            else:
                saved = True
                board = next(b for b in selectors.rfid_board_list() if b.pk == board.pk)
                form = BoardSettingsForm(board, revision=_stored_revision(board.pk))
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
