"""What the apps contribute to the shell, collected from their ``AppConfig``s.

The shell never imports an app. An app that has a live part, pages, API routes or WebSocket
routes says so on its ``AppConfig`` (all optional; dotted paths are imported here):

- ``wbm_agents``: ``Agent`` subclasses the runtime runs;
- ``wbm_urls``: ``(prefix, "app.urls")`` mounted at ``/<prefix>``;
- ``wbm_api_urls``: a module whose ``urlpatterns`` join ``/api/v1/`` (namespace ``api``);
- ``wbm_websocket_urls``: a module whose ``websocket_urlpatterns`` join the WebSocket router;
- ``wbm_menu``: a list of ``wbm.menu.MenuItem`` (with ``parent`` to hang under another entry);
- ``wbm_station_names``: a function returning ``{station id: name}`` (the dashboard's groups);
- ``wbm_system_summary``: a function returning ``[(label, value)]`` for System Control / Status;
- ``wbm_menu_hidden``: a function returning menu section keys to leave out now.
"""

from __future__ import annotations

import logging
from functools import cache
from typing import TYPE_CHECKING, Any

from django.apps import apps
from django.utils.module_loading import import_string

if TYPE_CHECKING:
    from wbm.menu import MenuItem
    from wbm.runtime.agent import Agent


def _declared(attribute: str) -> list[tuple[str, Any]]:
    return [
        (config.name, getattr(config, attribute))
        for config in apps.get_app_configs()
        if getattr(config, attribute, None)
    ]


@cache
def agent_classes() -> tuple[type[Agent], ...]:
    """Every app's agents; one whose ``wanted()`` classmethod says False (a mode that is off,
    e.g. the Calibration Law Agent) is left out until the next start of the process."""
    found = [import_string(path) for _app, paths in _declared("wbm_agents") for path in paths]
    return tuple(a for a in found if getattr(a, "wanted", lambda: True)())


def menu_hidden() -> frozenset[str]:
    """Menu sections (keys) to leave out now (``wbm_menu_hidden``: a function returning keys),
    e.g. what a client module's server does in its place."""
    keys: set[str] = set()
    for _app, path in _declared("wbm_menu_hidden"):
        keys.update(import_string(path)())
    return frozenset(keys)


def system_summary() -> list[tuple[Any, Any]]:
    """(label, value) lines apps add to System Control / Status (``wbm_system_summary``: a
    function returning such a list); an app whose function fails adds nothing."""
    lines: list[tuple[Any, Any]] = []
    for app, path in _declared("wbm_system_summary"):
        try:
            lines.extend(import_string(path)())
        except Exception:
            logging.getLogger(__name__).exception("system summary of %s failed", app)
    return lines


def agent_class(name: str) -> type[Agent] | None:
    return next((a for a in agent_classes() if a.name == name), None)


def url_modules() -> list[tuple[str, str]]:
    """(prefix, module) of every app's pages."""
    return [entry for _app, entries in _declared("wbm_urls") for entry in entries]


def api_url_modules() -> list[str]:
    return [module for _app, module in _declared("wbm_api_urls")]


def websocket_urlpatterns() -> list[Any]:
    patterns: list[Any] = []
    for _app, module in _declared("wbm_websocket_urls"):
        patterns.extend(import_string(f"{module}.websocket_urlpatterns"))
    return patterns


@cache
def menu_items() -> tuple[MenuItem, ...]:
    return tuple(item for _app, path in _declared("wbm_menu") for item in import_string(path))


def agent_info() -> dict[str, tuple[Any, Any]]:
    """Translated title and description of every agent, by name (System Control / Status)."""
    from wbm.runtime.core import CommandServerAgent

    classes: list[type[Agent]] = [CommandServerAgent, *agent_classes()]
    return {a.name: (a.title, a.description) for a in classes}


def station_names() -> dict[int, str]:
    """The name of every charging station by id, from the app that owns them (database)."""
    names: dict[int, str] = {}
    for _app, path in _declared("wbm_station_names"):
        names.update(import_string(path)())
    return names


@cache
def portability_sections() -> tuple[Any, ...]:
    """Every app's Import/Export sections (``<app>/portability.py``, ``SECTIONS``), found by
    convention like ``admin.py``: an app contributes by adding the module, nothing else."""
    from importlib import import_module

    from django.utils.module_loading import module_has_submodule

    found: list[Any] = []
    for config in apps.get_app_configs():
        module_name = getattr(config, "wbm_portability", None) or (
            f"{config.name}.portability" if module_has_submodule(config.module, "portability") else None
        )
        if module_name and module_name != "wbm.system.portability":
            found.extend(getattr(import_module(module_name), "SECTIONS", ()))
    return tuple(found)
