"""Loaded with ``-p tests.testenv`` before Django settings are read: a private state directory
and test-only switches, so a test run never touches ./var."""

from __future__ import annotations

import os
import tempfile

_state = tempfile.mkdtemp(prefix="wbm-test-")
os.makedirs(os.path.join(_state, "static"), exist_ok=True)
os.environ["WBM_STATE_DIR"] = _state
os.environ["WBM_STATICFILES_STORAGE"] = "django.contrib.staticfiles.storage.StaticFilesStorage"
os.environ["WBM_TEST_FAST_HASHING"] = "1"
# every request-error line is logged (tests/test_hostile_bodies.py checks the per-client limit)
os.environ["WBM_LOG_REPEAT_INTERVAL_S"] = "0"
# every runtime of the tests (in-process, runwbm, runcontroller) serves Modbus on a free port, not 502
os.environ["WBM_MODBUS_PORT"] = "0"
os.environ.pop("REDIS_URL", None)
os.environ.pop("DATABASE_URL", None)
# Playwright's sync API keeps a loop running in the main thread; the ORM must still work there.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
# the MQTT publisher of every test runtime talks to no broker of this machine (port 9 discards):
# tests that need a broker start their own and point the setting at it
os.environ["WBM_MQTT_LOCAL_URL"] = "mqtt://127.0.0.1:9"
