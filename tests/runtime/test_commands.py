"""Typed commands: rebuilding them from the wire, and how the runtime turns a handler's refusal,
a refused claim and a bug into results."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import types
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

import pytest

from wbm.runtime import commands as commands_module
from wbm.runtime import local
from wbm.runtime import supervisor as supervisor_module
from wbm.runtime.agent import Agent
from wbm.runtime.backends.simulated import SimulatedBackend
from wbm.runtime.claims import Source
from wbm.runtime.clock import ManualClock
from wbm.runtime.commands import AgentStart, AgentStop, Command, Ping, Rejected, command_from_wire
from wbm.runtime.core import Runtime
from wbm.runtime.snapshot import AgentStatus


# --- commands of these tests (wire names under "test.") -----------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class Probe(Command):
    name = "test.probe"
    cp: int
    amps: float = 16.0
    limit: float | None = None
    label: str = ""
    flag: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Divide(Command):
    name = "test.divide"
    divisor: int


@dataclass(frozen=True, slots=True, kw_only=True)
class NoVehicle(Command):
    name = "test.no_vehicle"


@dataclass(frozen=True, slots=True, kw_only=True)
class CapUnknown(Command):
    name = "test.cap_unknown"
    cp: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Nap(Command):
    name = "test.nap"


@dataclass(frozen=True, slots=True, kw_only=True)
class Nobody(Command):
    """Handled by no agent at all."""

    name = "test.nobody"


@pytest.fixture
def command_types() -> Iterator[dict[str, type[Command]]]:
    """The registry of wire names, restored after the test (which defines commands of its own)."""
    saved = dict(commands_module.COMMAND_TYPES)
    try:
        yield commands_module.COMMAND_TYPES
    finally:
        commands_module.COMMAND_TYPES.clear()
        commands_module.COMMAND_TYPES.update(saved)


def refusal(name: str, args: Any) -> Rejected:
    with pytest.raises(Rejected) as refused:
        command_from_wire(name, args)
    return refused.value


# --- from the wire ------------------------------------------------------------------------------
def test_a_command_is_rebuilt_from_its_wire_form() -> None:
    command = Probe(cp=3, amps=10.5, limit=None, label="x", flag=True)
    assert command_from_wire(command.name, command.args()) == command


def test_an_unknown_name_is_refused() -> None:
    refused = refusal("test.no_such_command", {})
    assert refused.code == "unknown_command"
    assert refused.params == {"name": "test.no_such_command"}


def test_a_very_long_unknown_name_is_cut_in_the_refusal() -> None:
    assert len(refusal("x" * 10_000, {}).params["name"]) == 80


@pytest.mark.parametrize(
    ("args", "detail"),
    [
        pytest.param({"cp": 1, "colour": "red"}, "unknown argument colour", id="unknown argument"),
        pytest.param({"cp": 1, "name": "test.divide"}, "unknown argument name", id="the wire name is no argument"),
        pytest.param({"cp": "1"}, "cp has the wrong type", id="a string for an int"),
        pytest.param({"cp": True}, "cp has the wrong type", id="a bool for an int"),
        pytest.param({"cp": 1.0}, "cp has the wrong type", id="a float for an int"),
        pytest.param({"cp": None}, "cp has the wrong type", id="None for a non-optional int"),
        pytest.param({"cp": 1, "amps": None}, "amps has the wrong type", id="None for a non-optional float"),
        pytest.param({"cp": 1, "amps": "16"}, "amps has the wrong type", id="a string for a float"),
        pytest.param({"cp": 1, "amps": False}, "amps has the wrong type", id="a bool for a float"),
        pytest.param({"cp": 1, "limit": "6"}, "limit has the wrong type", id="a string for float | None"),
        pytest.param({"cp": 1, "label": 5}, "label has the wrong type", id="an int for a str"),
        pytest.param({"cp": 1, "flag": 1}, "flag has the wrong type", id="an int for a bool"),
    ],
)
def test_bad_arguments_are_refused(args: dict[str, Any], detail: str) -> None:
    refused = refusal("test.probe", args)
    assert refused.code == "bad_argument"
    assert refused.params == {"detail": detail}


def test_a_missing_argument_is_refused() -> None:
    refused = refusal("test.probe", {"amps": 10.0})
    assert refused.code == "bad_argument"
    assert "cp" in str(refused.params["detail"])


@pytest.mark.parametrize("args", [None, [], "cp=1", 7], ids=["None", "a list", "a string", "an int"])
def test_arguments_that_are_no_object_are_refused(args: Any) -> None:
    assert refusal("test.probe", args).code == "bad_argument"


def test_an_int_is_accepted_for_a_float_and_none_for_an_optional_float() -> None:
    command = command_from_wire("test.probe", {"cp": 1, "amps": 16, "limit": None})
    assert command == Probe(cp=1, amps=16, limit=None)
    assert command_from_wire("test.probe", {"cp": 1, "limit": 6}) == Probe(cp=1, limit=6)
    assert command_from_wire("test.probe", {"cp": 1, "limit": 6.5}) == Probe(cp=1, limit=6.5)


def test_two_commands_with_the_same_wire_name_are_a_type_error(command_types: dict[str, type[Command]]) -> None:
    # no slots=True here: in a function body that trips the bug below
    @dataclass(frozen=True, kw_only=True)
    class First(Command):
        name = "test.twice"

    with pytest.raises(TypeError, match=r"two commands are named .test\.twice."):

        @dataclass(frozen=True, kw_only=True)
        class Second(Command):
            name = "test.twice"

    assert command_types["test.twice"] is First
    assert command_from_wire("test.twice", {}) == First()


def test_a_slotted_command_defined_in_a_function_can_be_created(command_types: dict[str, type[Command]]) -> None:
    @dataclass(frozen=True, slots=True, kw_only=True)
    class Local(Command):
        name = "test.local"

    assert command_types["test.local"] is Local


def _command_class(module: str, qualname: str, wire: str) -> type[Command]:
    def body(namespace: dict[str, Any]) -> None:
        namespace.update({"__module__": module, "__qualname__": qualname, "name": wire})

    return types.new_class(qualname, (Command,), exec_body=body)


def test_same_wire_name_and_class_name_in_two_modules_is_a_type_error(
    command_types: dict[str, type[Command]],
) -> None:
    first = _command_class("ocpp_bridge.commands", "Reset", "test.reset")
    with pytest.raises(TypeError):
        _command_class("modbus_bridge.commands", "Reset", "test.reset")
    assert command_types["test.reset"] is first


# --- through a runtime --------------------------------------------------------------------------
class Worker(Agent):
    """Handles the test commands: one fails by a bug, one refuses, one puts a refused claim."""

    name: ClassVar[str] = "test-worker"
    title: ClassVar[str] = "Test worker"
    announces_ready: ClassVar[bool] = True
    commands: ClassVar[tuple[type[Command], ...]] = (Divide, NoVehicle, CapUnknown)

    async def run(self) -> None:
        self.ctx.handle(Divide, self.divide)
        self.ctx.handle(NoVehicle, self.no_vehicle)
        self.ctx.handle(CapUnknown, self.cap_unknown)
        self.mark_ready()
        await asyncio.Event().wait()

    async def divide(self, command: Divide) -> dict[str, Any]:
        return {"share": 100 // command.divisor}

    async def no_vehicle(self, command: NoVehicle) -> None:
        raise Rejected("no_vehicle", cp="X")

    async def cap_unknown(self, command: CapUnknown) -> None:
        self.ctx.claims.cap(command.cp, Source.USER, 10.0)


class Sleeper(Agent):
    name: ClassVar[str] = "test-sleeper"
    title: ClassVar[str] = "Test sleeper"
    announces_ready: ClassVar[bool] = True
    commands: ClassVar[tuple[type[Command], ...]] = (Nap,)

    async def run(self) -> None:
        self.ctx.handle(Nap, self.nap)
        self.mark_ready()
        await asyncio.Event().wait()

    async def nap(self, command: Nap) -> dict[str, Any]:
        return {"slept": True}


class Crasher(Agent):
    name: ClassVar[str] = "test-crasher"
    title: ClassVar[str] = "Test crasher"

    async def run(self) -> None:
        raise RuntimeError("sensor bus unplugged")


@contextlib.asynccontextmanager
async def running(*agents: type[Agent]) -> AsyncIterator[Runtime]:
    runtime = Runtime(
        SimulatedBackend(seed=1, state_file=None),
        clock=ManualClock(),
        tick_s=3600,
        serve_commands=False,
        agents=list(agents),
    )
    try:
        await runtime.start()
        yield runtime
    finally:
        await runtime.stop()
        local.set_current(None)


async def until(condition: Callable[[], bool], timeout_s: float = 5.0) -> None:
    async with asyncio.timeout(timeout_s):
        while not condition():  # noqa: ASYNC110 - the supervisor offers no event to wait on
            await asyncio.sleep(0.005)


def status_of(runtime: Runtime, name: str) -> AgentStatus:
    return next(s for s in runtime.supervisor.status() if s.name == name)


@pytest.mark.asyncio
async def test_a_handler_result_comes_back_ok() -> None:
    async with running(Worker) as runtime:
        assert await runtime.execute(Divide(divisor=4)) == {"ok": True, "share": 25}
        ping = await runtime.execute(Ping())
        assert ping["ok"] and ping["started_at"] == runtime.started_at


@pytest.mark.asyncio
async def test_a_bug_in_a_handler_is_an_internal_error_with_its_traceback_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with running(Worker) as runtime:
        with caplog.at_level(logging.ERROR, logger="wbm.runtime.core"):
            result = await runtime.execute(Divide(divisor=0))
        assert result == {"ok": False, "error": "internal_error", "params": {"name": "test.divide"}}
        bugs = [r for r in caplog.records if r.name == "wbm.runtime.core" and r.levelno == logging.ERROR]
        assert len(bugs) == 1
        assert "a bug" in bugs[0].getMessage()
        assert bugs[0].exc_info is not None and bugs[0].exc_info[0] is ZeroDivisionError
        assert "ZeroDivisionError" in caplog.text  # the traceback, not only a message
        # the agent is not harmed by a failing command
        assert await runtime.execute(Divide(divisor=5)) == {"ok": True, "share": 20}
        assert status_of(runtime, "test-worker").state == "running"


@pytest.mark.asyncio
async def test_a_refusal_returns_its_code_and_params_and_is_no_bug(caplog: pytest.LogCaptureFixture) -> None:
    async with running(Worker) as runtime:
        with caplog.at_level(logging.ERROR, logger="wbm.runtime.core"):
            result = await runtime.execute(NoVehicle())
        assert result == {"ok": False, "error": "no_vehicle", "params": {"cp": "X"}}
        assert not [r for r in caplog.records if r.name == "wbm.runtime.core"]


@pytest.mark.asyncio
async def test_a_refused_claim_in_a_handler_returns_its_code() -> None:
    async with running(Worker) as runtime:
        result = await runtime.execute(CapUnknown(cp=99))
        assert result == {"ok": False, "error": "unknown_chargepoint", "params": {"cp": 99}}
        assert runtime.claims.claims(99) == ()


@pytest.mark.asyncio
async def test_a_command_of_a_stopped_agent_is_agent_stopped() -> None:
    async with running(Worker, Sleeper) as runtime:
        assert await runtime.execute(Nap()) == {"ok": True, "slept": True}
        assert (await runtime.execute(AgentStop(agent="test-sleeper")))["ok"]
        assert await runtime.execute(Nap()) == {
            "ok": False,
            "error": "agent_stopped",
            "params": {"name": "test-sleeper"},
        }
        assert await runtime.execute(Divide(divisor=2)) == {"ok": True, "share": 50}  # the other one still runs
        assert (await runtime.execute(AgentStart(agent="test-sleeper")))["ok"]
        assert await runtime.execute(Nap()) == {"ok": True, "slept": True}


class Stumbler(Agent):
    """Handles Nap, then fails; the supervisor brings it back after its back-off."""

    name: ClassVar[str] = "test-stumbler"
    title: ClassVar[str] = "Test stumbler"
    commands: ClassVar[tuple[type[Command], ...]] = (Nap,)
    fail = asyncio.Event()

    async def run(self) -> None:
        self.ctx.handle(Nap, self.nap)
        await self.fail.wait()
        raise RuntimeError("lost the bus")

    async def nap(self, command: Nap) -> dict[str, Any]:
        return {"slept": True}


@pytest.mark.asyncio
async def test_a_command_of_an_agent_restarting_by_itself_says_so_not_start_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(supervisor_module, "BACKOFF_S", (0.3, 0.3, 0.3, 0.3, 0.3))
    Stumbler.fail = asyncio.Event()
    async with running(Stumbler) as runtime:
        assert await runtime.execute(Nap()) == {"ok": True, "slept": True}
        Stumbler.fail.set()
        await asyncio.sleep(0.05)
        refused = await runtime.execute(Nap())
        assert refused == {"ok": False, "error": "agent_restarting", "params": {"name": "test-stumbler"}}
        Stumbler.fail = asyncio.Event()
        await asyncio.sleep(0.5)  # the back-off is over: it runs again
        assert await runtime.execute(Nap()) == {"ok": True, "slept": True}


@pytest.mark.asyncio
async def test_a_command_nobody_handles_is_unknown() -> None:
    async with running(Worker) as runtime:
        result = await runtime.execute(Nobody())
        assert result == {"ok": False, "error": "unknown_command", "params": {"name": "test.nobody"}}


@pytest.mark.asyncio
async def test_an_agent_that_fails_on_start_is_isolated(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(supervisor_module, "BACKOFF_S", (0.01, 0.01, 0.01, 0.01, 0.01))
    seen: list[AgentStatus] = []

    def failed_twice(runtime: Runtime) -> bool:
        crasher = status_of(runtime, "test-crasher")
        if crasher.state in ("failed", "restarting"):
            seen.append(crasher)
        return crasher.restarts >= 2 and bool(seen)

    with caplog.at_level(logging.ERROR, logger="wbm.runtime.supervisor"):
        async with running(Crasher, Worker) as runtime:
            await until(lambda: failed_twice(runtime))
            crasher = seen[-1]
            assert crasher.last_error == "RuntimeError: sensor bus unplugged"
            worker = status_of(runtime, "test-worker")
            assert worker.state == "running"
            assert worker.restarts == 0
            assert worker.last_error == ""
            assert runtime.supervisor.running("test-worker")
            assert await runtime.execute(Divide(divisor=10)) == {"ok": True, "share": 10}
    failures = [r for r in caplog.records if r.name == "wbm.runtime.supervisor" and "test-crasher" in r.getMessage()]
    assert failures
    assert failures[0].exc_info is not None and failures[0].exc_info[0] is RuntimeError


class Reporter(Agent):
    name: ClassVar[str] = "test-reporter"
    title: ClassVar[str] = "Test reporter"

    async def run(self) -> None:
        self.ctx.set_status({"clients": 2})
        await self.ctx.publish()
        await asyncio.Event().wait()


@pytest.mark.asyncio
async def test_an_agent_publishes_its_own_state_with_the_snapshot_until_it_stops() -> None:
    async with running(Reporter) as runtime:
        for _ in range(50):
            if runtime.snapshot is not None and runtime.snapshot.agent_state("test-reporter"):
                break
            await asyncio.sleep(0.01)
        assert runtime.snapshot is not None
        assert runtime.snapshot.agent_state("test-reporter") == {"clients": 2}
        assert (await runtime.execute(AgentStop(agent="test-reporter")))["ok"]
        assert runtime.snapshot.agent_state("test-reporter") is None
