"""System Control / Audit Trail: who changed what, from which source, with the values before and
after; the revisions of each sub-register, their differences, and a rollback to one of them."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views import View

from wbm.access import RoleRequiredMixin
from wbm.audit import Actor
from wbm.models import ChangeRecord, SectionRevision
from wbm.roles import Perm, role_of
from wbm.system import portability, revisions

SOURCES = ("web", "api", "import", "rollback", "ocpp", "modbus", "mqtt", "runtime", "system")
PAGE_SIZE = 50


def record_changes(record: ChangeRecord) -> list[portability.Change]:
    """The difference a record holds, by dotted path (values that are not objects whole)."""
    before = (
        record.before
        if isinstance(record.before, dict)
        else ({"value": record.before} if record.before is not None else {})
    )
    after = (
        record.after
        if isinstance(record.after, dict)
        else ({"value": record.after} if record.after is not None else {})
    )
    return portability.flat_diff(before, after)


def audit_records(params: Any) -> Any:
    """The audit trail, filtered by ``source``, ``user``, ``section``, ``action`` (a prefix)."""
    records = ChangeRecord.objects.all()
    if source := params.get("source"):
        records = records.filter(source=source)
    if user := params.get("user"):
        records = records.filter(username__iexact=user.strip()[:150])
    if section := params.get("section"):
        records = records.filter(section=section)
    if action := params.get("action"):
        records = records.filter(action__startswith=action.strip()[:60])
    return records.order_by("-at", "-pk")


def revision_changes(revision: SectionRevision) -> list[portability.Change]:
    previous = SectionRevision.objects.filter(section=revision.section, pk__lt=revision.pk).order_by("-pk").first()
    return portability.flat_diff(previous.data if previous else {}, revision.data)


class AuditView(RoleRequiredMixin, View):
    required = Perm.SYSTEM_AUDIT_VIEW
    required_by_method = {"POST": Perm.SYSTEM_IMPORT_EXPORT}
    template_name = "system/audit.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        known = portability.sections()
        section = request.GET.get("section", "")
        page = Paginator(audit_records(request.GET), PAGE_SIZE).get_page(request.GET.get("page"))
        rows = [
            {
                "record": r,
                "changes": record_changes(r)[:40],
                "section_title": known[r.section].title if r.section in known else "",
            }
            for r in page
        ]
        context: dict[str, Any] = {
            "page": page,
            "rows": rows,
            "sources": SOURCES,
            "sections": [(k, s.title) for k, s in known.items()],
            "filters": {k: request.GET.get(k, "") for k in ("source", "user", "section", "action")},
            "query": "&".join(
                f"{k}={v}" for k in ("source", "user", "section", "action") if (v := request.GET.get(k, ""))
            ),
        }
        if section in known:
            revisions.baseline([section])
            revs = list(SectionRevision.objects.filter(section=section).select_related("record").order_by("-pk")[:30])
            chosen = request.GET.get("revision", "")
            context.update(
                section_title=known[section].title,
                revisions=revs,
                may_rollback=portability.may_import(role_of(request.user), known[section]),
            )
            revision = next((r for r in revs if str(r.pk) == chosen), None)
            if revision is not None:
                context.update(revision=revision, revision_changes=revision_changes(revision)[:300])
        return render(request, self.template_name, context)

    def post(self, request: HttpRequest) -> HttpResponse:
        raw = request.POST.get("revision", "")
        if not raw.isdigit():
            messages.error(request, _("Choose a revision."))
            return redirect("system:audit")
        try:
            key = revisions.revision_rollback(revision_id=int(raw), actor=Actor.from_request(request))
        except revisions.RollbackRefused as exc:
            messages.error(request, exc.message)
            return redirect("system:audit")
        except portability.ImportInvalid as exc:
            problems = "; ".join(str(m) for msgs in exc.errors.values() for m in msgs)
            messages.error(
                request, _("The rollback was refused; nothing was changed: %(problems)s") % {"problems": problems}
            )
            return redirect("system:audit")
        messages.success(request, _("%(section)s was rolled back.") % {"section": portability.sections()[key].title})
        return redirect(f"{request.path}?section={key}")
