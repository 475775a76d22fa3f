"""Periodic jobs run as Celery tasks; in embedded mode (and the tests) they run eagerly."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.utils import timezone

from wbm.accounts.tasks import clear_expired_sessions


def test_clearing_expired_sessions_runs_eagerly_and_keeps_live_sessions(db):
    assert settings.CELERY_TASK_ALWAYS_EAGER
    live = SessionStore()
    live["who"] = "operator"
    live.create()
    for _ in range(2):
        gone = SessionStore()
        gone.create()
        Session.objects.filter(session_key=gone.session_key).update(expire_date=timezone.now() - timedelta(minutes=1))

    result = clear_expired_sessions.delay()

    assert result.successful()
    assert result.get() == 2
    assert list(Session.objects.values_list("session_key", flat=True)) == [live.session_key]


def test_clearing_sessions_is_scheduled_hourly_by_beat():
    entry = settings.CELERY_BEAT_SCHEDULE["clear-expired-sessions"]
    assert entry["task"] == clear_expired_sessions.name
    assert entry["schedule"] == timedelta(hours=1)
