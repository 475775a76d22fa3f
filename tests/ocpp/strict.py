"""The third-party strict central system: ocpp-rpc (Node) in strictMode, driven from Python.

A second opinion on the charge point's OCPP 1.6J: ocpp-rpc validates every frame in both directions
with its own schemas (ajv) and answers a wrong one with a CALLERROR. ``StrictCsms`` starts
``node/strict_cs.js`` on a free port, reads its JSON event lines in a thread and sends it commands
on stdin. Installed by ``scripts/test.sh`` (``ensure_node_peer`` in ``scripts/lib.sh``).
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, Final

NODE_DIR: Final = Path(__file__).parent / "node"
SCRIPT: Final = NODE_DIR / "strict_cs.js"
NOT_INSTALLED: Final = (
    "The strict OCPP peer (ocpp-rpc) is not installed: {missing} is missing. "
    "Run scripts/test.sh once (it installs nodejs/npm and runs `npm ci --prefix tests/ocpp/node`)."
)


class StrictCallError(Exception):
    """ocpp-rpc reported an error for a CALL: the charge point's CALLERROR, a timeout, a strict failure."""

    def __init__(self, event: Mapping[str, Any]) -> None:
        super().__init__(f"{event.get('code')}: {event.get('message')}")
        self.code = str(event.get("code"))
        self.message = str(event.get("message"))
        self.details = event.get("details")


class StrictCsms:
    """ocpp-rpc's strict OCPP 1.6J central system in a Node process on 127.0.0.1.

    ``events`` is every line the process printed (parsed), ``violations`` the strictValidationFailure
    and badMessage events: both directions, so an invalid answer of the charge point to our CALL
    counts too. ``users`` (charge box id → password) turns on HTTP Basic auth.
    """

    def __init__(self, *, users: Mapping[str, str] | None = None, path: str = "/ocpp") -> None:
        self.users = dict(users) if users is not None else None
        self.path = "/" + path.strip("/") if path.strip("/") else ""
        self.events: list[dict[str, Any]] = []
        self.stderr: list[str] = []
        self._process: subprocess.Popen[str] | None = None
        self._port: int | None = None
        self._ids = itertools.count(1)
        self._changed = threading.Condition()
        self._write = threading.Lock()

    def start(self, timeout: float = 15.0) -> None:
        """Start the Node process and wait until it listens; fails clearly if it is not installed.
        A second start (after ``stop()``) listens on the same port: the backend is back after an
        outage. ``events`` go on from where they were, so ``violations`` covers every run."""
        node = shutil.which("node")
        if node is None:
            raise RuntimeError(NOT_INSTALLED.format(missing="the `node` command"))
        if not (NODE_DIR / "node_modules" / "ocpp-rpc").is_dir():
            raise RuntimeError(NOT_INSTALLED.format(missing=NODE_DIR / "node_modules" / "ocpp-rpc"))
        env = dict(os.environ)
        env.pop("STRICT_CS_USERS", None)
        if self.users is not None:
            env["STRICT_CS_USERS"] = json.dumps(self.users)
        self._process = subprocess.Popen(
            [node, str(SCRIPT), str(self._port or 0)],
            cwd=NODE_DIR,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        first = len(self.events)
        threading.Thread(
            target=self._read_events, args=(self._process,), name="strict-csms-stdout", daemon=True
        ).start()
        threading.Thread(
            target=self._read_stderr, args=(self._process,), name="strict-csms-stderr", daemon=True
        ).start()
        listening = self._wait(
            lambda: self._first(event="listening", after=first), timeout, "ocpp-rpc did not start listening"
        )
        self._port = int(listening["port"])

    def stop(self) -> None:
        """End the process (closing stdin ends it cleanly; killed if it hangs)."""
        process, self._process = self._process, None
        if process is None:
            return
        if process.stdin:
            process.stdin.close()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)

    def __enter__(self) -> StrictCsms:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("start() the strict CSMS first: the port is chosen then")
        return self._port

    def url(self, charge_box_id: str) -> str:
        return f"ws://127.0.0.1:{self.port}{self.path}/{charge_box_id}"

    @property
    def violations(self) -> list[dict[str, Any]]:
        with self._changed:
            return [e for e in self.events if e["event"] in ("strictValidationFailure", "badMessage")]

    def calls(self, method: str, identity: str | None = None) -> list[Any]:
        """Params of the charge point's CALLs of ``method``, oldest first."""
        with self._changed:
            return [
                e["params"]
                for e in self.events
                if e["event"] == "call" and e["method"] == method and identity in (None, e["identity"])
            ]

    def wait_for(
        self,
        method: str,
        timeout: float = 5.0,
        predicate: Callable[[Any], bool] | None = None,
        after: int = 0,
    ) -> Any:
        """Params of the first CALL of ``method`` at index ``after`` or later in ``events``."""
        event = self._wait(
            lambda: self._first(event="call", method=method, after=after, predicate=predicate),
            timeout,
            f"no {method} from the charge point within {timeout} s",
        )
        return event["params"]

    def wait_connected(self, identity: str, timeout: float = 5.0) -> None:
        self._wait(
            lambda: self._first(event="connected", identity=identity),
            timeout,
            f"{identity} did not connect within {timeout} s",
        )

    def call(self, identity: str, method: str, params: Mapping[str, Any], timeout: float = 5.0) -> Any:
        """Send a CALL to a connected charge point; its CALLRESULT's payload, or StrictCallError."""
        event = self._command(
            {"identity": identity, "method": method, "params": dict(params), "timeoutMs": int(timeout * 1000)},
            timeout + 2,
        )
        return event["result"]

    def respond(self, method: str, result: Mapping[str, Any]) -> None:
        """From now on answer the charge point's ``method`` with ``result``."""
        self._command({"respond": method, "result": dict(result)}, 5)

    def disconnect(self, identity: str, code: int = 1001) -> None:
        self._command({"disconnect": identity, "code": code}, 5)

    # -- internals -------------------------------------------------------------------------------

    def _command(self, request: dict[str, Any], timeout: float) -> dict[str, Any]:
        process = self._process
        if process is None or process.stdin is None:
            raise RuntimeError("the strict CSMS is not running")
        command_id = next(self._ids)
        with self._write:
            process.stdin.write(json.dumps({"id": command_id, **request}) + "\n")
            process.stdin.flush()
        event = self._wait(
            lambda: next(
                (e for e in self.events if e.get("id") == command_id and e["event"] in ("result", "error")), None
            ),
            timeout,
            f"ocpp-rpc did not answer {request} within {timeout} s",
        )
        if event["event"] == "error":
            raise StrictCallError(event)
        return event

    def _first(
        self,
        *,
        after: int = 0,
        predicate: Callable[[Any], bool] | None = None,
        **fields: Any,
    ) -> dict[str, Any] | None:
        for event in self.events[after:]:
            if all(event.get(k) == v for k, v in fields.items()) and (
                predicate is None or predicate(event.get("params"))
            ):
                return event
        return None

    def _wait(self, found: Callable[[], dict[str, Any] | None], timeout: float, failure: str) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        with self._changed:
            while (event := found()) is None:
                left = deadline - time.monotonic()
                if left <= 0 or (self._process is not None and self._process.poll() is not None):
                    tail = "".join(self.stderr[-20:])
                    raise TimeoutError(f"{failure}{'; stderr: ' + tail if tail else ''}")
                self._changed.wait(min(left, 0.5))
        return event

    def _read_events(self, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            try:
                event = json.loads(line)
            except ValueError:
                event = {"event": "output", "text": line.rstrip("\n")}
            with self._changed:
                self.events.append(event)
                self._changed.notify_all()

    def _read_stderr(self, process: subprocess.Popen[str]) -> None:
        assert process.stderr is not None
        for line in process.stderr:
            with self._changed:
                self.stderr.append(line)
