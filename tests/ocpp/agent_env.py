"""The OCPP agent in a runtime (a thread) against the test CSMS (a thread): shared by the
``test_agent_*`` modules."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from chargepoints.choices import ReleaseMode
from ocppcfg.agent import OcppAgent
from ocppcfg.models import OcppSettings
from tests.conftest import RuntimeThread
from tests.factories import make_configured_chargepoint, vehicle_args
from tests.ocpp.csms import ThreadedCsms
from wbm import registry
from wbm.runtime import local

BOX = "CP1"
FAST = {
    "WBM_OCPP_BACKOFF_MIN_S": 0.05,
    "WBM_OCPP_BACKOFF_MAX_S": 0.3,
    "WBM_OCPP_CALL_TIMEOUT_S": 2.0,
    "WBM_OCPP_TICK_S": 0.05,
    "WBM_OCPP_BOOT_RETRY_S": 0.3,
    "WBM_OCPP_OPEN_TIMEOUT_S": 2.0,
    "WBM_OCPP_RESET_FLUSH_S": 2.0,
}


def wait_until(probe: Callable[[], Any], timeout: float = 5.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


@dataclass
class Env:
    csms: ThreadedCsms
    rt: RuntimeThread
    cps: list[int]
    state_file: Any = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def agent(self) -> OcppAgent:
        agent = self.rt.runtime.agent("ocpp")
        assert isinstance(agent, OcppAgent)
        return agent

    def status(self) -> dict[str, Any]:
        snapshot = self.rt.runtime.snapshot
        return (snapshot.agent_state("ocpp") if snapshot else None) or {}

    def iec_state(self, index: int = 0) -> str:
        snapshot = self.rt.runtime.snapshot
        state = snapshot.chargepoint(self.cps[index]) if snapshot else None
        assert state is not None
        return state.iec_state

    def plug(self, index: int = 0, **kw: Any) -> None:
        assert self.rt.call("sim.plug_in", cp=self.cps[index], **vehicle_args(**kw))["ok"]
        self.rt.step()

    def unplug(self, index: int = 0) -> None:
        assert self.rt.call("sim.unplug", cp=self.cps[index])["ok"]
        self.rt.step()

    def card(self, tag: str, index: int = 0) -> None:
        assert self.rt.call("sim.rfid", cp=self.cps[index], tag=tag)["ok"]
        self.rt.step()

    def steps(self, n: int = 3, pause: float = 0.1) -> None:
        for _ in range(n):
            self.rt.step()
            time.sleep(pause)

    def restart_runtime(self, *, kill: bool = False) -> None:
        if kill:
            self.rt.kill()
        else:
            self.rt.close()
            local.set_current(None)
        self.rt = RuntimeThread(state_file=self.state_file)

    def values(self, **changes: str) -> None:
        from ocppcfg import variables

        variables.change(changes, origin="backend", by="test")


def make_env(
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Any,
    *,
    connectors: int = 1,
    csms_options: dict[str, Any] | None = None,
    keys: dict[str, str] | None = None,
    user: str = "",
    password: str = "",
    ca: bool = False,
    url: str | None = None,
) -> Iterator[Env]:
    for name, value in FAST.items():
        setattr(settings, name, value)
    settings.STATE_DIR = str(tmp_path)
    agents = tuple(a for a in registry.agent_classes() if a.name in ("controller",))
    monkeypatch.setattr(registry, "agent_classes", lambda: (*agents, OcppAgent))
    csms = ThreadedCsms(**(csms_options or {}))
    csms.start()
    cps = [
        make_configured_chargepoint(release_mode=ReleaseMode.OCPP, ocpp_connector_id=i + 1, rfid_reader="self").pk
        for i in range(connectors)
    ]
    OcppSettings.objects.update_or_create(
        pk=1,
        defaults={
            "backend_url": url if url is not None else csms.url(BOX),
            "authorization_user": user,
            "authorization_key": password,
            "ca_certificate": csms.ca_pem if ca else "",
        },
    )
    if keys:
        from ocppcfg import variables

        variables.change(keys, origin="backend", by="test")
    state_file = tmp_path / "hardware.json"
    env = Env(csms=csms, rt=RuntimeThread(state_file=state_file), cps=cps, state_file=state_file)
    try:
        yield env
    finally:
        env.rt.close()
        local.set_current(None)
        csms.close()


def boot(env: Env, timeout: float = 5.0) -> None:
    """Until the CSMS accepted the boot and saw every connector's first status."""
    env.csms.wait_for("BootNotification", timeout=timeout)
    for connector in range(len(env.cps) + 1):

        def of(payload: dict[str, Any], wanted: int = connector) -> bool:
            return bool(payload["connectorId"] == wanted)

        env.csms.wait_for("StatusNotification", of, timeout=timeout)


running = contextlib.contextmanager(make_env)
