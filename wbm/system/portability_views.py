"""System Control / Import/Export page: export the chosen sub-registers, import a file in two
steps (check and show the changes per sub-register, then apply the chosen ones)."""

from __future__ import annotations

import secrets as token_source
import time
from pathlib import Path
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from wbm.access import RoleRequiredMixin
from wbm.audit import Actor
from wbm.roles import Perm, role_of
from wbm.system import portability, revisions
from wbm.system.update import write_atomic

SESSION_KEY = "wbm_import_upload"


def _choices() -> list[tuple[str, str]]:
    return [(key, str(s.title)) for key, s in portability.sections().items()]


class ExportForm(forms.Form):
    sections = forms.MultipleChoiceField(
        label=gettext_lazy("Sub-registers"), widget=forms.CheckboxSelectMultiple, choices=_choices
    )
    passphrase = forms.CharField(
        label=gettext_lazy("Passphrase for secrets"),
        required=False,
        strip=False,
        max_length=200,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=gettext_lazy(
            "Empty: passwords, keys and the OpenVPN configuration are left out. With a passphrase (at least "
            "10 characters) they are exported encrypted (AES-256-GCM, key derived with scrypt)."
        ),
    )

    def clean_passphrase(self) -> str:
        value = str(self.cleaned_data.get("passphrase") or "")
        if value and len(value) < 10:
            raise forms.ValidationError(_("Use at least 10 characters, or none."))
        return value


class UploadForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("Configuration file"))
    passphrase = forms.CharField(
        label=gettext_lazy("Passphrase"),
        required=False,
        strip=False,
        max_length=200,
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
        help_text=gettext_lazy("Only for a file with encrypted secrets; empty: the stored secrets stay."),
    )


def _upload_dir() -> Path:
    folder = Path(settings.STATE_DIR) / "imports"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder


def _stash(request: HttpRequest, raw: bytes) -> None:
    """Keep the checked upload for the confirmation step (a file, never the passphrase)."""
    old = request.session.get(SESSION_KEY)
    if old:
        (_upload_dir() / Path(str(old)).name).unlink(missing_ok=True)
    for stale in _upload_dir().glob("*.zip"):  # previews nobody confirmed: gone after an hour
        if stale.stat().st_mtime < time.time() - 3600:
            stale.unlink(missing_ok=True)
    name = token_source.token_hex(16) + ".zip"
    path = _upload_dir() / name
    write_atomic(path, raw)
    path.chmod(0o600)
    request.session[SESSION_KEY] = name


def _stashed(request: HttpRequest) -> bytes | None:
    name = request.session.get(SESSION_KEY)
    if not name:
        return None
    path = _upload_dir() / Path(str(name)).name
    return path.read_bytes() if path.is_file() else None


def _drop(request: HttpRequest) -> None:
    name = request.session.pop(SESSION_KEY, None)
    if name:
        (_upload_dir() / Path(str(name)).name).unlink(missing_ok=True)


class ImportExportView(RoleRequiredMixin, View):
    """Export and import of the sub-registers (Operator; importing a sub-register also needs the
    role that may edit it)."""

    required = Perm.SYSTEM_IMPORT_EXPORT
    template_name = "system/importexport.html"

    def _context(self, request: HttpRequest, **extra: Any) -> dict[str, Any]:
        role = role_of(request.user)
        rows = [
            {"key": key, "title": s.title, "may_import": portability.may_import(role, s)}
            for key, s in portability.sections().items()
        ]
        return {
            "export_form": extra.pop("export_form", None) or ExportForm(initial={"sections": [r["key"] for r in rows]}),
            "upload_form": extra.pop("upload_form", None) or UploadForm(),
            "sections": rows,
            "format_version": portability.FORMAT_VERSION,
            "device_type": portability.device_type(),
            **extra,
        }

    def get(self, request: HttpRequest) -> HttpResponse:
        return render(request, self.template_name, self._context(request))

    def post(self, request: HttpRequest) -> HttpResponse:
        action = request.POST.get("action", "")
        if action == "export":
            return self._export(request)
        if action == "preview":
            return self._preview(request)
        if action == "import":
            return self._import(request)
        if action == "cancel":
            _drop(request)
            return redirect("system:importexport")
        return render(request, self.template_name, self._context(request), status=400)

    def _export(self, request: HttpRequest) -> HttpResponse:
        form = ExportForm(request.POST)
        if not form.is_valid():
            return render(request, self.template_name, self._context(request, export_form=form))
        raw = portability.configuration_export(
            keys=form.cleaned_data["sections"],
            passphrase=form.cleaned_data["passphrase"],
            actor=Actor.from_request(request),
        )
        response = HttpResponse(raw, content_type="application/zip")
        response["Content-Disposition"] = f'attachment; filename="{portability.export_filename()}"'
        return response

    def _preview(self, request: HttpRequest) -> HttpResponse:
        form = UploadForm(request.POST, request.FILES)
        if not form.is_valid():
            return render(request, self.template_name, self._context(request, upload_form=form))
        upload = form.cleaned_data["file"]
        if upload.size > portability.MAX_FILE_BYTES:
            form.add_error("file", _("The file is too large."))
            return render(request, self.template_name, self._context(request, upload_form=form))
        raw = upload.read()
        return self._show(request, raw, passphrase=form.cleaned_data["passphrase"], upload_form=form, stash=True)

    def _show(
        self,
        request: HttpRequest,
        raw: bytes,
        *,
        passphrase: str,
        upload_form: UploadForm | None = None,
        stash: bool = False,
        errors: dict[str, list[str]] | None = None,
    ) -> HttpResponse:
        try:
            file = portability.read_file(raw, passphrase=passphrase)
        except portability.FileRefused as exc:
            _drop(request)
            return render(
                request, self.template_name, self._context(request, upload_form=upload_form, file_error=exc.message)
            )
        if stash:
            _stash(request, raw)
        plans = portability.import_plan(file, role=role_of(request.user))
        for plan in plans:
            plan.errors += (errors or {}).get(plan.key, [])
        return render(
            request,
            self.template_name,
            self._context(
                request,
                step="preview",
                file=file,
                plans=plans,
                general_errors=(errors or {}).get("", []),
                secrets_unlocked=file.secrets is not None,
            ),
        )

    def _import(self, request: HttpRequest) -> HttpResponse:
        raw = _stashed(request)
        if raw is None:
            messages.error(request, _("The uploaded file is gone; upload it again."))
            return redirect("system:importexport")
        passphrase = request.POST.get("passphrase", "")
        keys = request.POST.getlist("sections")
        try:
            file = portability.read_file(raw, passphrase=passphrase)
            revisions.baseline(keys)
            applied = portability.configuration_import(file=file, keys=keys, actor=Actor.from_request(request))
        except portability.FileRefused as exc:
            return self._show(request, raw, passphrase="", errors={"": [exc.message]})
        except portability.ImportInvalid as exc:
            return self._show(request, raw, passphrase=passphrase, errors=exc.errors)
        _drop(request)
        titles = [str(portability.sections()[k].title) for k in applied]
        messages.success(request, _("Imported: %(sections)s.") % {"sections": ", ".join(titles)})
        return redirect("system:importexport")
