"""The whitelist pages: the list (search, sort, recently scanned, the OCPP list beside it),
one entry (new, edit, delete), the CSV export and the import with its preview."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views import View

from wbm.access import HtmxHttpRequest, RoleRequiredMixin
from wbm.audit import Actor
from wbm.roles import Perm
from wbm.runtime.bus import read_snapshot
from whitelist import csvio, selectors, services, tags
from whitelist.forms import EntryForm, ImportForm, permanent_initial
from whitelist.models import MAX_ENTRIES, EntryType, WhitelistEntry

RECENT_POLL_S = 5  # the "recently scanned" panel refreshes itself this often


def _entry(pk: int) -> WhitelistEntry:
    entry = WhitelistEntry.objects.filter(pk=pk).first()
    if entry is None:
        raise Http404
    return entry


def recent_scans() -> list[dict[str, Any]]:
    """The recently scanned RFID tags and EVCC IDs, newest first, with the entry each matches."""
    snapshot = read_snapshot()
    scans = snapshot.recent_scans if snapshot is not None else ()
    keys = {(s.kind, s.tag) for s in scans}
    listed = {
        (e.type, e.tag): e.pk
        for e in WhitelistEntry.objects.filter(tag__in=[t for _k, t in keys]).only("pk", "type", "tag")
    }
    return [
        {"scan": s, "at": datetime.fromtimestamp(s.at, tz=UTC), "entry_pk": listed.get((s.kind, s.tag))} for s in scans
    ]


class EntryListView(RoleRequiredMixin, View):
    """The local whitelist, recently scanned tags and the OCPP local authorization list."""

    required = Perm.WHITELIST_VIEW
    template_name = "whitelist/list.html"

    def get(self, request: HtmxHttpRequest) -> HttpResponse:
        search = request.GET.get("q", "")[:100]
        sort = request.GET.get("sort", selectors.DEFAULT_SORT)
        if sort.removeprefix("-") not in selectors.SORTS:
            sort = selectors.DEFAULT_SORT
        part = request.GET.get("part", "")
        context: dict[str, Any] = {
            "max_entries": MAX_ENTRIES,
            "search": search,
            "sort": sort,
            "recent_poll_s": RECENT_POLL_S,
        }
        if request.htmx and part == "recent":
            context["recent"] = recent_scans()
            return render(request, f"{self.template_name}#recent", context)
        context["entries"] = selectors.entry_list(search=search, sort=sort)
        context["count"] = selectors.entry_count()
        context["columns"] = [
            ("type", _("Type")),
            ("tag", _("RFID tag / EVCC ID")),
            ("name", _("Name")),
            ("allow_charging", _("Allow charging")),
            ("expires_at", _("Expires (UTC)")),
        ]
        context["now"] = timezone.now()
        if request.htmx and part == "entries":
            return render(request, f"{self.template_name}#entries", context)
        context["recent"] = recent_scans()
        context["ocpp_version"], context["ocpp_entries"] = selectors.ocpp_local_list()
        return render(request, self.template_name, context)


class EntryEditView(RoleRequiredMixin, View):
    """+ New entry, or edit one. "Permanent" fills in the far expiry date (one click, no save)."""

    required = Perm.WHITELIST_EDIT
    template_name = "whitelist/edit.html"

    def get(self, request: HttpRequest, pk: int | None = None) -> HttpResponse:
        entry = _entry(pk) if pk is not None else None
        if entry is not None:
            initial: dict[str, Any] = {
                "type": entry.type,
                "tag": entry.tag,
                "name": entry.name,
                "allow_charging": entry.allow_charging,
                "expires_at": entry.expires_at,
            }
        else:
            kind = request.GET.get("type", EntryType.RFID)
            initial = {
                "type": kind if kind in EntryType.values else EntryType.RFID,
                "tag": tags.normalize(request.GET.get("tag", ""))[:40],
                "allow_charging": True,
            }
        return self._page(request, EntryForm(initial=initial), entry)

    def post(self, request: HttpRequest, pk: int | None = None) -> HttpResponse:
        entry = _entry(pk) if pk is not None else None
        if request.POST.get("permanent"):
            form = EntryForm(initial=permanent_initial(request.POST))
            return self._page(request, form, entry)
        form = EntryForm(request.POST)
        if not form.is_valid():
            return self._page(request, form, entry)
        actor = Actor.from_request(request)
        try:
            if entry is None:
                entry = services.whitelist_entry_create(data=form.cleaned_data, actor=actor)
                messages.success(request, _("“%(tag)s” was added to the whitelist.") % {"tag": entry.tag})
            else:
                entry = services.whitelist_entry_update(entry=entry, data=form.cleaned_data, actor=actor)
                messages.success(request, _("“%(tag)s” was saved.") % {"tag": entry.tag})
        except services.EntryInvalid as exc:
            for name, errors in exc.errors.items():
                for error in errors:
                    form.add_error(name if name in form.fields else None, error)
            return self._page(request, form, entry)
        except services.WhitelistFull as exc:
            form.add_error(None, str(exc))
            return self._page(request, form, entry)
        return redirect("whitelist:list")

    def _page(self, request: HttpRequest, form: EntryForm, entry: WhitelistEntry | None) -> HttpResponse:
        return render(
            request,
            self.template_name,
            {
                "form": form,
                "entry": entry,
                "recent": recent_scans() if entry is None else [],
                "full": entry is None and selectors.entry_count() >= MAX_ENTRIES,
                "max_entries": MAX_ENTRIES,
            },
        )


class EntryDeleteView(RoleRequiredMixin, View):
    """Delete one entry (asks first)."""

    required = Perm.WHITELIST_EDIT

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        return render(request, "whitelist/delete.html", {"entry": _entry(pk)})

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        entry = _entry(pk)
        if request.POST.get("confirm") != "1":  # only the confirmation's own button deletes
            return render(request, "whitelist/delete.html", {"entry": entry})
        services.whitelist_entry_delete(entry=entry, actor=Actor.from_request(request))
        messages.success(request, _("“%(tag)s” was deleted from the whitelist.") % {"tag": entry.tag})
        return redirect("whitelist:list")


class EntryExportView(RoleRequiredMixin, View):
    """The whitelist as a CSV file (download)."""

    required = Perm.WHITELIST_VIEW

    def get(self, request: HttpRequest) -> HttpResponse:
        response = HttpResponse(csvio.export_csv(selectors.entry_list()), content_type=csvio.CONTENT_TYPE)
        response["Content-Disposition"] = f'attachment; filename="{csvio.export_filename(timezone.now())}"'
        return response


class EntryImportView(RoleRequiredMixin, View):
    """Import a CSV file: choose file and mode, see what is added, changed and removed, confirm."""

    required = Perm.WHITELIST_EDIT
    template_name = "whitelist/import.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        return self._form(request, ImportForm(), [])

    def post(self, request: HttpRequest) -> HttpResponse:
        if request.POST.get("step") == "confirm":
            return self._confirm(request)
        form = ImportForm(request.POST, request.FILES)
        if not form.is_valid():
            return self._form(request, form, [])
        upload = form.cleaned_data["file"]
        raw = upload.read(settings.WBM_MAX_UPLOAD_BYTES + 1)
        plan = services.whitelist_import_preview(raw=raw, mode=form.cleaned_data["mode"])
        if not plan.ok:
            return self._form(request, form, plan.errors)
        return self._preview(request, plan, raw)

    def _confirm(self, request: HttpRequest) -> HttpResponse:
        raw = request.POST.get("document", "").encode()
        mode = request.POST.get("mode", "")
        try:
            plan = services.whitelist_import(
                raw=raw, mode=mode, actor=Actor.from_request(request), fingerprint=request.POST.get("fingerprint", "")
            )
        except services.ImportRejected as exc:
            return self._form(request, ImportForm(initial={"mode": mode}), exc.plan.errors)
        except services.ImportOutdated as exc:
            return self._preview(request, exc.plan, raw, outdated=True)
        messages.success(
            request,
            _("Whitelist imported: %(added)s, %(changed)s, %(removed)s.")
            % {
                "added": ngettext("%(n)d entry added", "%(n)d entries added", len(plan.added)) % {"n": len(plan.added)},
                "changed": ngettext("%(n)d changed", "%(n)d changed", len(plan.changed)) % {"n": len(plan.changed)},
                "removed": ngettext("%(n)d removed", "%(n)d removed", len(plan.removed)) % {"n": len(plan.removed)},
            },
        )
        return redirect("whitelist:list")

    def _form(self, request: HttpRequest, form: ImportForm, file_errors: list[csvio.CsvError]) -> HttpResponse:
        return render(
            request,
            self.template_name,
            {"step": "select", "form": form, "file_errors": file_errors, "header": ",".join(csvio.HEADER)},
        )

    def _preview(
        self, request: HttpRequest, plan: csvio.ImportPlan, raw: bytes, *, outdated: bool = False
    ) -> HttpResponse:
        try:
            document = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            document = ""
        return render(
            request,
            self.template_name,
            {
                "step": "preview",
                "plan": plan,
                "document": document,
                "outdated": outdated,
                "max_entries": MAX_ENTRIES,
                "mode_label": _("Replace with import") if plan.mode == csvio.REPLACE else _("Add from import"),
            },
        )
