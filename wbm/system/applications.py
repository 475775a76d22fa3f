"""The manual's application overview (System Control / Status, M:2974-3023) mapped onto the
agents the apps register: each row says which runtime agent carries the application, its
installed version, state, uptime and last error.

The table is data: the manual's name and meaning, the agent names that carry it (the first one
that is registered counts; its restart button restarts it) and where its version comes from.
"""

from __future__ import annotations

import functools
import platform
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import django
from django.conf import settings
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from wbm.runtime.snapshot import AgentStatus, ParkSnapshot


@dataclass(frozen=True, slots=True)
class Application:
    key: str
    title: str | Promise
    description: str | Promise
    agents: tuple[str, ...]  # runtime agents that carry it ("" none: the web process itself)
    library: str = ""  # the distribution whose version is shown beside the WBM's
    only_when_running: bool = False  # Calibration Law Agent: only visible when active


APPLICATIONS: tuple[Application, ...] = (
    Application(
        "system-monitor",
        _("System Monitor"),
        _("Provides current system data such as network status or memory capacity and modem data."),
        ("system-monitor",),
        "psutil",
    ),
    Application(
        "controller",
        _("Controller Agent"),
        _(
            "Standardizes the interface between local charging controllers connected via backplane bus "
            "and the clients connected via Ethernet as well as the extension modules connected to them."
        ),
        ("controller",),
    ),
    Application("ocpp", _("OCPP 1.6J"), _("OCPP 1.6J backend communication"), ("ocpp",), "ocpp"),
    Application(
        "modbus-client",
        _("Modbus Client"),
        _("Connection of the Modbus/TCP meters connected via Ethernet (read by Load Management)."),
        ("loadmgmt",),
        "pymodbus",
    ),
    Application(
        "modbus-server",
        _("Modbus Server"),
        _("Provision of the Modbus/TCP interface for reading charging data and controlling charging processes."),
        ("modbus",),
        "pymodbus",
    ),
    Application(
        "jupicore",
        _("JupiCore"),
        _(
            "Collection of data from all connected charging points and its forwarding to the MQTT broker, "
            "internal services, and external services via REST API."
        ),
        ("mqtt_publisher",),
        "aiomqtt",
    ),
    Application("loadmgmt", _("Load Management"), _("Local load and charging management"), ("loadmgmt",)),
    Application("web", _("Web Server"), _("Web-based management of the charging controller"), (), "daphne"),
    Application(
        "calibration-law",
        _("Calibration Law Agent"),
        _("Ensures that the charging station is operated in compliance with calibration laws."),
        ("calibration-law",),
        only_when_running=True,
    ),
)
MANUAL_AGENTS = frozenset(name for app in APPLICATIONS for name in app.agents)


@functools.cache
def wbm_version() -> str:
    """The installed WBM version (pyproject.toml's, or the installed distribution's)."""
    try:
        return metadata.version("wbm")
    except metadata.PackageNotFoundError:
        pass
    pyproject = Path(settings.BASE_DIR) / "pyproject.toml"
    try:
        import tomllib

        return str(tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["version"])
    except (OSError, KeyError, ValueError):
        return "unknown"


@functools.cache
def library_version(name: str) -> str:
    if not name:
        return ""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return ""


def versions() -> dict[str, str]:
    """Everything a support request needs to know about what is installed."""
    libs = ("django", "channels", "daphne", "djangorestframework", "ocpp", "pymodbus", "aiomqtt", "psutil", "celery")
    found = {"wbm": wbm_version(), "python": platform.python_version(), "django": django.get_version()}
    found.update({lib: v for lib in libs if (v := library_version(lib))})
    found["platform"] = platform.platform()
    return found


@dataclass(frozen=True, slots=True)
class ApplicationRow:
    application: Application
    agent: AgentStatus | None  # None: the web process, or no agent registered for it
    version: str
    restartable: bool

    @property
    def state(self) -> str:
        if not self.application.agents:
            return "running"
        return self.agent.state if self.agent is not None else "not_installed"


def application_rows(snapshot: ParkSnapshot | None) -> list[ApplicationRow]:
    """The manual's applications in the manual's order, with the agent that carries each."""
    agents = {a.name: a for a in snapshot.agents} if snapshot is not None else {}
    rows = []
    for app in APPLICATIONS:
        agent = next((agents[n] for n in app.agents if n in agents), None)
        if app.only_when_running and agent is None:
            continue
        lib = library_version(app.library)
        version = f"{wbm_version()} ({app.library} {lib})" if lib else wbm_version()
        rows.append(ApplicationRow(app, agent, version, restartable=agent is not None))
    return rows


def other_agents(snapshot: ParkSnapshot | None) -> list[AgentStatus]:
    """Agents that carry no application of the manual (network, modem, VPN, MQTT bridge, …)."""
    if snapshot is None:
        return []
    return [a for a in snapshot.agents if a.name not in MANUAL_AGENTS and a.name != "commands"]


def as_dict(row: ApplicationRow, now: float) -> dict[str, Any]:
    agent = row.agent
    return {
        "key": row.application.key,
        "title": str(row.application.title),
        "agent": agent.name if agent is not None else "",
        "version": row.version,
        "state": row.state,
        "started_at": agent.started_at if agent is not None else None,
        "uptime_s": round(now - agent.started_at, 1) if agent is not None and agent.started_at else None,
        "restarts": agent.restarts if agent is not None else 0,
        "last_error": agent.last_error if agent is not None else "",
        "restartable": row.restartable,
    }
