"""Audit trail and revisions: every change from any source is recorded with actor, role, time,
source and before/after; each sub-register keeps revisions (one per transaction) and can be
rolled back to one, through its services, audited as a rollback."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from loadmgmt.services import load_circuit_update
from ocppcfg.services import ocpp_variables_update
from tests.conftest import make_user
from wbm.audit import Actor, record_change
from wbm.models import ChangeRecord, SectionRevision
from wbm.roles import Role
from wbm.system import portability, revisions
from whitelist import services as whitelist_services
from whitelist.models import WhitelistEntry

EXPIRY = (datetime.now(tz=UTC) + timedelta(days=10)).replace(microsecond=0)


@pytest.fixture
def operator(park) -> Actor:
    return Actor(username=make_user(Role.OPERATOR).username, role=Role.OPERATOR, source="web")


def _add(tag: str, actor: Actor) -> WhitelistEntry:
    return whitelist_services.whitelist_entry_create(
        data={"type": "rfid", "tag": tag, "name": tag, "expires_at": EXPIRY}, actor=actor
    )


def test_existing_call_sites_record_their_sub_register_and_one_revision_per_transaction(
    operator, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _add("04AA000001", operator)
    with django_capture_on_commit_callbacks(execute=True):
        load_circuit_update(data={"fuse_a": 40}, actor=operator)
    with django_capture_on_commit_callbacks(execute=True):
        ocpp_variables_update(
            changes={"HeartbeatInterval": "120"}, actor=Actor(username="", role=Role.MANUFACTURER, source="ocpp")
        )
    record = ChangeRecord.objects.get(action="whitelist.entry.create")
    assert record.section == "whitelist" and record.role == "operator" and record.source == "web"
    assert ChangeRecord.objects.get(action="loadmgmt.circuit.update").before == {"fuse_a": 32}
    assert ChangeRecord.objects.get(action="ocpp.variables.update").source == "ocpp"
    assert set(SectionRevision.objects.values_list("section", flat=True)) == {"whitelist", "loadmgmt", "ocpp"}
    # many changes in one transaction make one revision
    from django.db import transaction

    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        for n in range(5):
            _add(f"04AA00001{n}", operator)
    assert SectionRevision.objects.filter(section="whitelist").count() == 2


def test_a_change_outside_any_sub_register_makes_no_revision(operator, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        record_change(actor=operator, action="system.service.restart", after={"service": "ocpp"})
    assert callbacks == [] and not SectionRevision.objects.exists()


def test_a_sub_register_rolls_back_to_an_earlier_revision_audited_as_a_rollback(
    operator, django_capture_on_commit_callbacks
):
    revisions.baseline(["whitelist"])
    first = SectionRevision.objects.get(section="whitelist")
    before = set(WhitelistEntry.objects.values_list("tag", flat=True))
    with django_capture_on_commit_callbacks(execute=True):
        _add("04BB000001", operator)
    with django_capture_on_commit_callbacks(execute=True):
        _add("04BB000002", operator)
    assert WhitelistEntry.objects.count() == len(before) + 2
    with django_capture_on_commit_callbacks(execute=True):
        assert revisions.revision_rollback(revision_id=first.pk, actor=operator) == "whitelist"
    assert set(WhitelistEntry.objects.values_list("tag", flat=True)) == before
    rollback = ChangeRecord.objects.get(action="system.revision.rollback")
    assert rollback.username == operator.username and rollback.source == "rollback"
    assert (rollback.after or {})["sections"] == ["whitelist"]
    latest = SectionRevision.objects.filter(section="whitelist").order_by("-pk").first()
    assert latest is not None and latest.digest == first.digest


def test_a_rollback_needs_the_role_that_may_edit_the_sub_register(operator, django_capture_on_commit_callbacks):
    revisions.baseline(["park"])
    revision = SectionRevision.objects.get(section="park")
    with pytest.raises(portability.ImportInvalid):
        revisions.revision_rollback(revision_id=revision.pk, actor=operator)


def test_operators_see_filter_and_diff_the_audit_trail_and_roll_back_from_the_page(
    operator, client_as, django_capture_on_commit_callbacks
):
    revisions.baseline(["loadmgmt"])
    with django_capture_on_commit_callbacks(execute=True):
        load_circuit_update(data={"fuse_a": 40}, actor=operator)
    client = client_as(Role.OPERATOR)
    page = client.get("/system/audit/?section=loadmgmt")
    body = page.content.decode()
    assert page.status_code == 200 and "loadmgmt.circuit.update" in body and 'id="revisions"' in body
    revs = list(SectionRevision.objects.filter(section="loadmgmt").order_by("pk"))
    assert len(revs) == 2 and f'data-testid="rollback-{revs[0].pk}"' in body
    diff = client.get(f"/system/audit/?section=loadmgmt&revision={revs[1].pk}")
    assert 'id="revision-diff"' in diff.content.decode() and "circuit.fuse_a" in diff.content.decode()
    assert "fuse_a" in client.get("/system/audit/?source=web").content.decode()
    assert "loadmgmt.circuit.update" not in client.get("/system/audit/?source=ocpp").content.decode()
    api = client.get("/api/v1/system/audit/?section=loadmgmt").json()
    assert api["results"][0]["changes"] == [{"path": "fuse_a", "before": 32, "after": 40}]
    assert client_as(Role.USER).get("/system/audit/").status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post("/system/audit/", {"revision": revs[0].pk})
    assert done.status_code == 302
    from loadmgmt.models import LoadCircuit

    assert LoadCircuit.objects.get().fuse_a == 32


def test_the_api_lists_revisions_and_rolls_back(operator, client_as, django_capture_on_commit_callbacks):
    revisions.baseline(["loadmgmt"])
    with django_capture_on_commit_callbacks(execute=True):
        load_circuit_update(data={"fuse_a": 40}, actor=operator)
    client = client_as(Role.OPERATOR)
    listed = client.get("/api/v1/system/revisions/?section=loadmgmt").json()["results"]
    assert len(listed) == 2 and listed[0]["changes"] == [{"path": "circuit.fuse_a", "before": 32, "after": 40}]
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(
            "/api/v1/system/revisions/rollback/", {"revision": listed[1]["id"]}, content_type="application/json"
        )
    assert done.status_code == 200 and done.json()["section"] == "loadmgmt"
    from loadmgmt.models import LoadCircuit

    assert LoadCircuit.objects.get().fuse_a == 32
