"""Shell-wide models: the audit trail of who changed what."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class ChangeRecord(models.Model):
    """One change made through a service, from any source (page, API, import, OCPP, ...)."""

    at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    username = models.CharField(_("user"), max_length=150, blank=True)
    # the role's stable key ("guest" … "manufacturer", see audit.role_key), never its translated label
    role = models.CharField(_("role"), max_length=20, blank=True)
    source = models.CharField(_("source"), max_length=20)
    action = models.CharField(_("action"), max_length=60)
    object_type = models.CharField(_("object type"), max_length=60, blank=True)
    object_id = models.CharField(_("object"), max_length=60, blank=True)
    # the Import/Export sub-register the action changes ("" when none): wbm.system.revisions
    section = models.CharField(_("sub-register"), max_length=40, blank=True, db_index=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.username or '-'} {self.action}"


class SectionRevision(models.Model):
    """The whole of one Import/Export sub-register (its export, without secrets) after a change
    from any source: the revisions a sub-register can be rolled back to. ``record`` is the audit
    record of the change that made it (the last one when a transaction held several)."""

    at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    section = models.CharField(_("sub-register"), max_length=40, db_index=True)
    record = models.ForeignKey(ChangeRecord, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    data = models.JSONField()
    digest = models.CharField(max_length=64)

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.section} {self.at:%Y-%m-%d %H:%M:%S}"
