"""The supervisor: named agents that start, stop, restart, and come back after a crash."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, ClassVar

import pytest
import pytest_asyncio

from wbm.runtime import supervisor as supervisor_module
from wbm.runtime.agent import Agent
from wbm.runtime.supervisor import Supervisor


class Counter:
    """Shared record of what the agents did."""

    def __init__(self) -> None:
        self.runs: dict[str, int] = {}
        self.cancelled: dict[str, int] = {}
        self.crash_next: set[str] = set()


class Worker(Agent):
    name: ClassVar[str] = "worker"
    title: ClassVar[str] = "Worker"

    def __init__(self, counter: Counter) -> None:
        super().__init__(ctx=None)  # type: ignore[arg-type]
        self.counter = counter

    async def run(self) -> None:
        counter = self.counter
        counter.runs[self.name] = counter.runs.get(self.name, 0) + 1
        if self.name in counter.crash_next:
            counter.crash_next.discard(self.name)
            raise ValueError("sensor bus unplugged")
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            counter.cancelled[self.name] = counter.cancelled.get(self.name, 0) + 1
            raise


class Ocpp(Worker):
    name: ClassVar[str] = "ocpp"
    title: ClassVar[str] = "OCPP"


class Modbus(Worker):
    name: ClassVar[str] = "modbus"
    title: ClassVar[str] = "Modbus"


async def until(condition: Callable[[], bool], timeout_s: float = 5.0) -> None:
    async with asyncio.timeout(timeout_s):
        while not condition():  # noqa: ASYNC110 - the supervisor offers no event to wait on
            await asyncio.sleep(0.005)


def states_of(sup: Supervisor) -> dict[str, str]:
    return {a.name: a.state for a in sup.status()}


def agent(sup: Supervisor, name: str) -> Any:
    return next(a for a in sup.status() if a.name == name)


@pytest.fixture
def counter() -> Counter:
    return Counter()


@pytest.fixture
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(supervisor_module, "BACKOFF_S", (0.01, 0.01, 0.01, 0.01, 0.01))


@pytest_asyncio.fixture
async def sup(counter: Counter, fast_backoff: None):  # type: ignore[no-untyped-def]
    changes: list[int] = []
    s = Supervisor(on_change=lambda: changes.append(1))
    for cls in (Worker, Ocpp, Modbus):
        s.register(cls, lambda cls=cls: cls(counter))
    s.changes = changes  # type: ignore[attr-defined]
    yield s
    await s.stop_all()


@pytest.mark.asyncio
async def test_registered_agents_are_stopped_until_started(sup):
    assert sup.names == ["worker", "ocpp", "modbus"]
    assert states_of(sup) == {"worker": "stopped", "ocpp": "stopped", "modbus": "stopped"}
    assert all(a.started_at is None and a.last_error == "" for a in sup.status())


@pytest.mark.asyncio
async def test_start_all_runs_every_agent_and_reports_uptime(sup, counter):
    await sup.start_all()
    await until(lambda: counter.runs == {"worker": 1, "ocpp": 1, "modbus": 1})
    assert set(states_of(sup).values()) == {"running"}
    assert all(a.started_at is not None for a in sup.status())
    assert sup.changes  # the runtime is told, so the status page updates


@pytest.mark.asyncio
async def test_starting_a_running_agent_again_changes_nothing(sup, counter):
    await sup.start("ocpp")
    await until(lambda: counter.runs.get("ocpp") == 1)
    await sup.start("ocpp")
    await asyncio.sleep(0.05)
    assert counter.runs["ocpp"] == 1
    assert agent(sup, "ocpp").restarts == 0


@pytest.mark.asyncio
async def test_a_stopped_agent_stays_stopped(sup, counter):
    await sup.start_all()
    await until(lambda: counter.runs.get("modbus") == 1)
    await sup.stop("modbus")
    assert counter.cancelled == {"modbus": 1}
    await asyncio.sleep(0.05)  # longer than the back-off: no restart
    assert states_of(sup) == {"worker": "running", "ocpp": "running", "modbus": "stopped"}
    assert agent(sup, "modbus").started_at is None
    assert counter.runs["modbus"] == 1


@pytest.mark.asyncio
async def test_restarting_one_agent_by_name_leaves_the_others_running(sup, counter):
    await sup.start_all()
    await until(lambda: len(counter.runs) == 3)
    ocpp_started = agent(sup, "ocpp").started_at
    await sup.restart("modbus")
    await until(lambda: counter.runs["modbus"] == 2)
    assert counter.cancelled == {"modbus": 1}
    assert counter.runs == {"worker": 1, "ocpp": 1, "modbus": 2}
    assert set(states_of(sup).values()) == {"running"}
    assert agent(sup, "modbus").restarts == 1
    assert agent(sup, "ocpp").restarts == 0
    assert agent(sup, "ocpp").started_at == ocpp_started


@pytest.mark.asyncio
async def test_a_stopped_agent_can_be_started_again(sup, counter):
    await sup.start("worker")
    await until(lambda: counter.runs.get("worker") == 1)
    await sup.stop("worker")
    assert states_of(sup)["worker"] == "stopped"
    await sup.start("worker")
    await until(lambda: counter.runs.get("worker") == 2)
    assert states_of(sup)["worker"] == "running"


@pytest.mark.asyncio
async def test_a_crashing_agent_is_restarted_and_reports_its_last_error(sup, counter):
    counter.crash_next.add("ocpp")
    await sup.start_all()
    await until(lambda: counter.runs.get("ocpp") == 2)
    await until(lambda: states_of(sup)["ocpp"] == "running")
    ocpp = agent(sup, "ocpp")
    assert ocpp.last_error == "ValueError: sensor bus unplugged"
    assert ocpp.restarts == 1
    assert counter.runs["worker"] == 1 and counter.runs["modbus"] == 1
    assert counter.cancelled == {}


@pytest.mark.asyncio
async def test_an_agent_that_keeps_crashing_is_shown_as_failed_between_attempts(counter, monkeypatch):
    monkeypatch.setattr(supervisor_module, "BACKOFF_S", (0.05, 0.05, 0.05, 0.05, 3600.0))

    class Broken(Worker):
        name: ClassVar[str] = "broken"
        title: ClassVar[str] = "Broken"

        async def run(self) -> None:
            counter.runs["broken"] = counter.runs.get("broken", 0) + 1
            raise ConnectionRefusedError("backend refused")

    sup = Supervisor()
    sup.register(Broken, lambda: Broken(counter))
    await sup.start("broken")
    try:
        await until(lambda: counter.runs.get("broken", 0) >= 5)
        await until(lambda: agent(sup, "broken").state == "failed")
        broken = agent(sup, "broken")
        assert broken.last_error == "ConnectionRefusedError: backend refused"
        assert broken.restarts >= 5
    finally:
        await sup.stop("broken")
    assert agent(sup, "broken").state == "stopped"


@pytest.mark.asyncio
async def test_an_unknown_agent_name_is_an_error(sup):
    with pytest.raises(LookupError):
        await sup.restart("teapot")


@pytest.mark.asyncio
async def test_an_agent_that_swallows_its_cancellation_does_not_hold_up_the_stop(counter, monkeypatch, caplog):
    """A library that turns the cancellation into an error the agent catches (aiomqtt did) keeps
    the agent's task alive; stopping gives up on it after STOP_TIMEOUT_S and says so."""
    monkeypatch.setattr(supervisor_module, "STOP_TIMEOUT_S", 0.2)
    release = asyncio.Event()

    class Stubborn(Worker):
        name: ClassVar[str] = "stubborn"
        title: ClassVar[str] = "Stubborn"

        async def run(self) -> None:
            counter.runs["stubborn"] = 1
            while not release.is_set():
                try:
                    await asyncio.sleep(3600)
                except asyncio.CancelledError:
                    await release.wait()  # the cancellation is lost here

    sup = Supervisor()
    sup.register(Stubborn, lambda: Stubborn(counter))
    await sup.start("stubborn")
    await until(lambda: counter.runs.get("stubborn") == 1)
    async with asyncio.timeout(3):
        await sup.stop("stubborn")
    assert agent(sup, "stubborn").state == "stopped"
    assert "agent stubborn did not end within 0.2 s of being stopped" in caplog.text
    release.set()  # let the left-behind task end with the test
