"""Charge point configuration pages: create/edit (with copy from another charge point), export,
import to one or several charge points with a preview, delete with an offer to export first."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.utils.translation import ngettext
from django.views import View
from django.views.decorators.http import require_safe

from chargepoints import importexport, services
from chargepoints.forms import (
    CONFIG_FIELDS,
    SECTIONS,
    TLS_POLICY_DISPLAY,
    ChargePointConfigForm,
    chargepoint_label,
    field_default,
)
from chargepoints.models import ChargePoint, ChargePointConfig
from wbm.access import RoleRequiredMixin, role_required
from wbm.audit import Actor
from wbm.roles import Perm, allows


def _chargepoint(pk: int) -> ChargePoint:
    try:
        return ChargePoint.objects.select_related("station", "config").get(pk=pk)
    except ChargePoint.DoesNotExist:
        raise Http404 from None


def _park() -> list[ChargePoint]:
    """Every charge point in backplane order (station, then position)."""
    return list(ChargePoint.objects.select_related("station", "config").order_by("station_id", "position"))


def _layout(form: ChargePointConfigForm) -> list[dict[str, Any]]:
    """Sections and groups of bound fields, with which fields are hidden for the current values."""
    hidden = form.hidden_fields_now()
    sections = []
    for section in SECTIONS:
        if section.key == "iso15118" and not form.supports_hlc:
            continue
        groups = []
        for group in section.groups:
            fields = [form[name] for name in group.fields]
            groups.append(
                {
                    "title": group.title,
                    "note": group.note,
                    "fields": fields,
                    "all_hidden": all(name in hidden for name in group.fields),
                }
            )
        sections.append({"key": section.key, "title": section.title, "intro": section.intro, "groups": groups})
    return sections


def posted_revision(request: HttpRequest) -> int | None:
    """The revision the page was read at (hidden field); None when not sent (no check)."""
    raw = request.POST.get("revision", "")
    return int(raw) if raw.isdigit() else None


def conflict_message(conflict: services.WriteConflict, labels: list[str]) -> str:
    """ "Someone else saved this … meanwhile (at 14:05, by operator): these settings changed: …"."""
    when = formats.time_format(timezone.localtime(conflict.at), "H:i") if conflict.at else "–"
    params = {"time": when, "user": conflict.username or "–", "fields": ", ".join(labels) or "–"}
    if conflict.deleted:
        return (
            _(
                "Someone else deleted this configuration meanwhile (at %(time)s, by %(user)s). Nothing was saved; "
                "click “Save” to create it with your values."
            )
            % params
        )
    return (
        _(
            "Someone else saved this configuration meanwhile (at %(time)s, by %(user)s): these settings changed: "
            "%(fields)s. Nothing was saved; your values are shown below. Click “Save” to overwrite them."
        )
        % params
    )


class ConfigView(RoleRequiredMixin, View):
    """ "Create configuration" / "Configuration" of one charge point.

    GET shows the form (``?copy_from=<pk>`` fills it from another charge point, not saved); to a
    role that may not configure (User, Operator) read-only: every value, disabled, no actions.
    POST with ``refresh`` re-renders the form for the changed controlling field without saving
    (htmx); any other POST saves through the service and takes effect in the runtime at once.
    The form carries the revision it was read at: a save after someone else's is refused, the
    person's values shown again with what the other one changed (and the current revision, so
    a second "Save" overwrites knowingly).
    """

    required = Perm.CHARGEPOINT_CONFIG_VIEW
    required_by_method = {"POST": Perm.CHARGEPOINT_CONFIGURE}
    template_name = "chargepoints/config.html"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        chargepoint = _chargepoint(pk)
        copied_from: ChargePoint | None = None
        copy_error = ""
        initial: dict[str, Any] = {}
        raw = request.GET.get("copy_from", "") if allows(request.user, Perm.CHARGEPOINT_CONFIGURE) else ""
        if raw:
            source = (
                ChargePointConfig.objects.select_related("chargepoint__station")
                .filter(pk=int(raw) if raw.isdigit() else 0)
                .exclude(pk=chargepoint.pk)
                .first()
            )
            if source is None:
                copy_error = _("There is no other configured charging point to copy from with this ID.")
            else:
                copied_from = source.chargepoint
                initial = self._copy_initial(source, chargepoint)
        form = ChargePointConfigForm(initial=initial, chargepoint=chargepoint)
        return self._render(request, chargepoint, form, copied_from=copied_from, copy_error=copy_error)

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        chargepoint = _chargepoint(pk)
        revision = posted_revision(request)
        if request.POST.get("refresh"):
            form = ChargePointConfigForm(initial=self._posted_initial(request), chargepoint=chargepoint)
            return self._render(request, chargepoint, form, revision=revision)
        created = not chargepoint.is_configured
        try:
            config = services.chargepoint_config_save(
                chargepoint=chargepoint, data=request.POST, actor=Actor.from_request(request), revision=revision
            )
        except services.ConfigInvalid as exc:
            return self._render(request, chargepoint, exc.form, status=200, revision=revision)
        except services.StaleRevision as exc:
            assert exc.form is not None
            labels = [importexport.field_label(name) for name in CONFIG_FIELDS if name in exc.conflict.changed]
            chargepoint = _chargepoint(pk)  # as stored now (it may have been created or deleted)
            return self._render(
                request,
                chargepoint,
                exc.form,
                revision=exc.conflict.revision,
                conflict=conflict_message(exc.conflict, labels),
            )
        if created:
            messages.success(request, _("The configuration of “%(name)s” was created.") % {"name": config.name})
        else:
            messages.success(request, _("The configuration of “%(name)s” was saved.") % {"name": config.name})
        return redirect("chargepoints:config", pk=chargepoint.pk)

    @staticmethod
    def _posted_initial(request: HttpRequest) -> dict[str, Any]:
        """The posted values as initial values: the form shows them without validating."""
        initial: dict[str, Any] = {}
        for name in CONFIG_FIELDS:
            field = ChargePointConfigForm.base_fields[name]
            if isinstance(field, forms.BooleanField):
                initial[name] = name in request.POST
            elif name in request.POST:
                initial[name] = request.POST.get(name)
        return initial

    @staticmethod
    def _copy_initial(source: ChargePointConfig, target: ChargePoint) -> dict[str, Any]:
        """Everything of ``source`` except what identifies a charge point (name, controller,
        OCPP connector ID); hardware references are carried over relative to the target."""
        data, problems = importexport.form_data_for(importexport.config_to_dict(source), target=target)
        if "rfid_reader" in problems:  # the source's reader has no counterpart here
            data["rfid_reader"] = ""
        own = getattr(target, "config", None)
        for name in ("name", "controller_uid", "ocpp_connector_id"):
            data[name] = getattr(own, name) if own is not None else field_default(name)
        if own is None:
            data["controller_uid"] = target.device_uid
            data["name"] = ""
        return data

    def _render(
        self,
        request: HttpRequest,
        chargepoint: ChargePoint,
        form: ChargePointConfigForm,
        *,
        copied_from: ChargePoint | None = None,
        copy_error: str = "",
        status: int = 200,
        revision: int | None = None,
        conflict: str = "",
    ) -> HttpResponse:
        """``revision``: what the form was read at (default: the stored one, 0 for none)."""
        if revision is None:
            config = getattr(chargepoint, "config", None) if chargepoint.is_configured else None
            revision = config.revision if config is not None else 0
        read_only = not allows(request.user, Perm.CHARGEPOINT_CONFIGURE)
        if read_only:
            for field in form.fields.values():
                field.disabled = True
        sources = [cp for cp in _park() if cp.is_configured and cp.pk != chargepoint.pk]
        context = {
            "read_only": read_only,
            "chargepoint": chargepoint,
            "configured": chargepoint.is_configured,
            "form": form,
            "sections": _layout(form),
            "hidden": form.hidden_fields_now(),
            "tls_policy": TLS_POLICY_DISPLAY,
            "sources": [(cp.pk, chargepoint_label(cp)) for cp in sources],
            "copied_from": chargepoint_label(copied_from) if copied_from else "",
            "copy_error": copy_error,
            "revision": revision,
            "conflict": conflict,
        }
        name = f"{self.template_name}#form" if getattr(request, "htmx", False) else self.template_name
        return render(request, name, context, status=status)


@role_required(Perm.CHARGEPOINT_CONFIG_EXPORT)
@require_safe
def export_config(request: HttpRequest, pk: int) -> HttpResponse:
    """Download the configuration as a versioned JSON file."""
    chargepoint = _chargepoint(pk)
    config = getattr(chargepoint, "config", None)
    if config is None:
        raise Http404(_("This charging point is not configured; there is nothing to export."))
    response = HttpResponse(importexport.export_bytes(config), content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{importexport.export_filename(config)}"'
    return response


class DeleteView(RoleRequiredMixin, View):
    """Restore the factory default after a confirmation that offers to export first."""

    required = Perm.CHARGEPOINT_CONFIGURE

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        chargepoint = _chargepoint(pk)
        if not chargepoint.is_configured:
            messages.info(request, _("This charging point is not configured; there is nothing to delete."))
            return redirect("chargepoints:overview")
        return render(request, "chargepoints/config_delete.html", {"chargepoint": chargepoint})

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        chargepoint = _chargepoint(pk)
        name = chargepoint.config.name if chargepoint.is_configured else ""
        try:
            services.chargepoint_config_delete(chargepoint=chargepoint, actor=Actor.from_request(request))
        except services.NotConfigured:
            messages.info(request, _("This charging point is not configured; there is nothing to delete."))
        else:
            messages.success(
                request,
                _(
                    "The configuration of “%(name)s” was deleted; the charging point is in "
                    "its factory default configuration."
                )
                % {"name": name},
            )
        return redirect("chargepoints:overview")


# --- import ----------------------------------------------------------------------------------------


class TargetsField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: ChargePoint) -> str:  # type: ignore[override]
        return chargepoint_label(obj)


class ImportForm(forms.Form):
    """(A) the file, (B) the charge points, (C) the incrementing name suffix."""

    file = forms.FileField(
        label=_lazy("Configuration file"),
        help_text=_lazy("A JSON file exported from a charging point (at most 64 KiB)."),
    )
    targets = TargetsField(
        label=_lazy("Charging points"),
        queryset=ChargePoint.objects.none(),
        error_messages={"required": _lazy("Select at least one charging point.")},
        help_text=_lazy("Their current configuration is overwritten and cannot be restored."),
    )
    suffix = forms.BooleanField(
        label=_lazy("Add an incrementing extension “-1”, “-2”, … to the name"),
        required=False,
        help_text=_lazy("For configuring several charging points with the same file: the names stay unique."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelMultipleChoiceField, self.fields["targets"]).queryset = ChargePoint.objects.select_related(
            "station", "config"
        ).order_by("station_id", "position")


def _ordered_targets(selected: Any) -> list[ChargePoint]:
    """The selected charge points in backplane order (the order the page lists them)."""
    return sorted(selected, key=lambda cp: (cp.station_id, cp.position))


class ImportView(RoleRequiredMixin, View):
    """Import a configuration file: choose file and charge points, see what changes, confirm."""

    required = Perm.CHARGEPOINT_CONFIGURE
    template_name = "chargepoints/config_import.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        preselected = [int(v) for v in request.GET.getlist("cp") if v.isdigit()]
        return self._form_page(request, ImportForm(), preselected, [])

    def post(self, request: HttpRequest) -> HttpResponse:
        if request.POST.get("step") == "confirm":
            return self._confirm(request)
        form = ImportForm(request.POST, request.FILES)
        selected = [int(v) for v in request.POST.getlist("targets") if v.isdigit()]
        if not form.is_valid():
            return self._form_page(request, form, selected, [])
        raw = form.cleaned_data["file"].read(importexport.MAX_BYTES + 1)
        try:
            document = importexport.parse_document(raw)
        except importexport.ConfigFileInvalid as exc:
            return self._form_page(request, form, selected, exc.errors)
        targets = _ordered_targets(form.cleaned_data["targets"])
        plan = importexport.import_plan(document=document, targets=targets, suffix=form.cleaned_data["suffix"])
        return self._preview(request, plan, raw.decode("utf-8-sig"))

    def _confirm(self, request: HttpRequest) -> HttpResponse:
        raw = request.POST.get("document", "").encode()
        try:
            document = importexport.parse_document(raw)
        except importexport.ConfigFileInvalid as exc:
            return self._form_page(request, ImportForm(), [], exc.errors)
        ids = [int(v) for v in request.POST.getlist("targets") if v.isdigit()]
        targets = _ordered_targets(ChargePoint.objects.select_related("station", "config").filter(pk__in=ids))
        if not targets or len(targets) != len(set(ids)):
            return self._form_page(
                request,
                ImportForm(),
                [],
                [
                    importexport.FieldError(
                        "targets", _("A selected charging point no longer exists. Select the charging points again.")
                    )
                ],
            )
        try:
            plan = services.chargepoint_config_import(
                document=document,
                targets=targets,
                suffix=request.POST.get("suffix") == "1",
                actor=Actor.from_request(request),
                fingerprint=request.POST.get("fingerprint", ""),
            )
        except services.ImportRejected as exc:
            return self._preview(request, exc.plan, raw.decode())
        except services.ImportOutdated as exc:
            return self._preview(request, exc.plan, raw.decode(), outdated=True)
        messages.success(
            request,
            ngettext(
                "The configuration was imported to %(count)d charging point: %(names)s.",
                "The configuration was imported to %(count)d charging points: %(names)s.",
                len(plan.targets),
            )
            % {"count": len(plan.targets), "names": ", ".join(t.name for t in plan.targets)},
        )
        return redirect("chargepoints:overview")

    def _form_page(
        self, request: HttpRequest, form: ImportForm, selected: list[int], file_errors: list[importexport.FieldError]
    ) -> HttpResponse:
        return render(
            request,
            self.template_name,
            {
                "step": "select",
                "form": form,
                "park": _park(),
                "selected": selected,
                "file_errors": file_errors,
                "max_kib": importexport.MAX_BYTES // 1024,
            },
        )

    def _preview(
        self, request: HttpRequest, plan: importexport.ImportPlan, raw: str, *, outdated: bool = False
    ) -> HttpResponse:
        return render(
            request,
            self.template_name,
            {
                "step": "preview",
                "plan": plan,
                "document_text": raw,
                "outdated": outdated,
                "source": plan.document.get("source") or {},
            },
        )
