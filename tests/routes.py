"""Every URL route of the project, derived from the URL resolver (never a hand-written list), with
an example URL, the HTTP methods worth calling and the permission each method requires.

Used by the access matrix, the menu and the auth tests. When a route takes a keyword argument this
module has no example for, building its URL fails with a message saying where to add one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from django.db import models
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RegexPattern

from wbm.roles import Perm

# Example values for URL keyword arguments other than ``pk`` (see ``pk_candidates``).
KWARG_EXAMPLES: dict[str, str] = {
    "name": "controller",  # a runtime service (agent) name
    "op": "unplug",  # a simulator operation
}

# ``pk`` of a view that names no ``model``/``queryset``: an object of this model, by the route's
# path prefix (longest wins). Anything not listed gets a configured charge point of the demo park.
PK_MODELS_BY_PREFIX: dict[str, str] = {
    "whitelist/": "whitelist.WhitelistEntry",
    "api/v1/whitelist/": "whitelist.WhitelistEntry",
    "api/v1/network/ports/": "network.PortRule",
    "api/v1/network/routes/": "network.Route",
}


def _own_api_token(user: Any) -> int:
    from wbm.accounts.services import api_token_create

    return api_token_create(user=user, name="example", kind="login")[0].pk


# ``pk`` of a route whose objects belong to the caller (each role revokes its own API token), so no
# one example fits every role: route name → a function making one for the calling user.
OWNED_BY_CALLER: dict[str, Callable[[Any], int]] = {
    "api:token-revoke": _own_api_token,
}


def _example_session() -> int:
    from datetime import UTC, datetime

    from chargepoints.models import ChargePoint, ChargingSession

    cp = (
        ChargePoint.objects.filter(config__isnull=False).order_by("pk").first()
        or ChargePoint.objects.order_by("pk").first()
    )
    if cp is None:
        raise MissingExample("no charge point to record an example charging session at")
    return ChargingSession.objects.create(
        chargepoint=cp,
        started_at=datetime(2026, 1, 5, 8, 0, tzinfo=UTC),
        ended_at=datetime(2026, 1, 5, 9, 30, tzinfo=UTC),
        meter_start_wh=1000,
        meter_stop_wh=12_500,
        stop_reason="EVDisconnected",
    ).pk


# ``pk`` of a model the demo park holds no object of (history): a function recording one.
def _example_route() -> int:
    from network.models import Route

    return Route.objects.create(destination="10.50.0.0", prefix=16, gateway="192.168.1.1", interface="eth0").pk


def _example_port() -> int:
    from network.models import PortRule
    from network.services import ports_ensure

    ports_ensure()  # the manual's twelve (a flushed test database lost the migration's rows)
    return PortRule.objects.get(port=22, direction="in").pk


EXAMPLE_MAKERS: dict[str, Callable[[], int]] = {
    "chargepoints.ChargingSession": _example_session,
    "network.Route": _example_route,
    "network.PortRule": _example_port,
}

METHODS = ("get", "post", "put", "patch", "delete")
_PARAM = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")


class MissingExample(LookupError):
    """A route needs a keyword argument value this module does not know how to make."""


@dataclass(frozen=True)
class Route:
    route: str  # "chargepoints/<int:pk>/release/" (no leading slash)
    name: str  # "chargepoints:release"; "" when unnamed
    callback: Callable[..., Any]
    converters: tuple[tuple[str, Any], ...]
    regex: bool = False  # declared with re_path

    def __str__(self) -> str:
        return self.name or self.route or "/"

    # --- what the view declares --------------------------------------------------------------
    @property
    def view_class(self) -> type | None:
        return getattr(self.callback, "view_class", None) or getattr(self.callback, "cls", None)

    @property
    def view_label(self) -> str:
        cls = self.view_class
        target = cls if cls is not None else self.callback
        return f"{target.__module__}.{target.__qualname__}"

    @property
    def required(self) -> Perm | None:
        initkwargs = getattr(self.callback, "view_initkwargs", {}) or {}
        if initkwargs.get("required") is not None:
            return initkwargs["required"]
        cls = self.view_class
        return getattr(cls if cls is not None else self.callback, "required", None)

    @property
    def required_by_method(self) -> dict[str, Perm]:
        cls = self.view_class
        target = cls if cls is not None else self.callback
        return {k.upper(): v for k, v in (getattr(target, "required_by_method", None) or {}).items()}

    def perm_for(self, method: str) -> Perm | None:
        return self.required_by_method.get(method.upper()) or self.required

    # --- how to call it ------------------------------------------------------------------------
    @property
    def is_api(self) -> bool:
        return self.route.startswith("api/")

    @property
    def is_function_view(self) -> bool:
        return self.view_class is None

    def handles(self, method: str) -> bool | None:
        """Whether the view has a handler for ``method``; None for function views (unknown)."""
        cls = self.view_class
        if cls is None:
            return None
        return method.lower() in getattr(cls, "http_method_names", METHODS) and hasattr(cls, method.lower())

    @property
    def methods(self) -> tuple[str, ...]:
        """GET always (a POST-only view must refuse it cleanly too), plus every write method the
        view handles; function views get GET and POST."""
        if self.is_function_view:
            return ("get", "post")
        return tuple(m for m in METHODS if m == "get" or self.handles(m))

    @property
    def kwarg_names(self) -> tuple[str, ...]:
        return tuple(m.group("name") for m in _PARAM.finditer(self.route))

    def example_url(self, *, pk: int | None = None) -> str:
        """A concrete URL for this route, with example values for its keyword arguments
        (``pk``: the given one, else the first of ``pk_candidates``)."""
        if self.regex:
            raise MissingExample(
                f"route {self} is a regular expression ({self.route!r}); declare it with path() "
                f"or teach tests/routes.py to build an example URL for it"
            )
        converters = dict(self.converters)

        def fill(match: re.Match[str]) -> str:
            kwarg = match.group("name")
            if kwarg == "pk":
                value: object = pk if pk is not None else pk_candidates(self)[0]
            else:
                value = kwarg_example(self, kwarg)
            converter = converters.get(kwarg)
            return converter.to_url(value) if converter is not None else str(value)

        return "/" + _PARAM.sub(fill, self.route)


def kwarg_example(route: Route, kwarg: str) -> str:
    try:
        return KWARG_EXAMPLES[kwarg]
    except KeyError:
        raise MissingExample(
            f"route {route} ({route.route}) takes the keyword argument <{kwarg}>, which has no example "
            f"value: add one to KWARG_EXAMPLES in tests/routes.py (a value that exists in the demo park)"
        ) from None


def _model_of(route: Route) -> type[models.Model]:
    from django.apps import apps

    cls = route.view_class
    model = getattr(cls, "model", None)
    if model is None and getattr(cls, "queryset", None) is not None:
        model = cls.queryset.model  # type: ignore[union-attr]
    if model is not None:
        return model
    prefixes = sorted((p for p in PK_MODELS_BY_PREFIX if route.route.startswith(p)), key=len, reverse=True)
    if prefixes:
        return apps.get_model(PK_MODELS_BY_PREFIX[prefixes[0]])
    return apps.get_model("chargepoints.ChargePoint")


def pk_candidates(route: Route) -> list[int]:
    """Ids of existing objects the route's ``pk`` may name, looked up at call time (an earlier
    write may have deleted one); for charge points the configured ones come first. A caller
    that can tell which one the view accepts (e.g. the one with an RFID board) picks from these."""
    model = _model_of(route)
    pks = list(model._default_manager.order_by("pk").values_list("pk", flat=True))
    if not pks and model._meta.label in EXAMPLE_MAKERS:
        pks = [EXAMPLE_MAKERS[model._meta.label]()]
    if model._meta.label == "chargepoints.ChargePoint":
        configured = set(model._default_manager.filter(config__isnull=False).values_list("pk", flat=True))
        pks.sort(key=lambda pk: pk not in configured)
    if not pks:
        raise MissingExample(
            f"route {route} ({route.route}) needs a {model._meta.label} id but the demo park has none: "
            f"load one in the demo park or map the route in PK_MODELS_BY_PREFIX (tests/routes.py)"
        )
    return [int(pk) for pk in pks]


def _walk(patterns: list[Any], prefix: str, namespace: str, converters: dict[str, Any], regex: bool) -> Iterator[Route]:
    for pattern in patterns:
        is_regex = regex or isinstance(pattern.pattern, RegexPattern)
        part = str(pattern.pattern)
        if isinstance(pattern.pattern, RegexPattern):
            # a plain regex without groups is just a path
            plain = part.removeprefix("^").removesuffix("$").removesuffix(r"\Z")
            is_regex = regex or bool(re.search(r"[()\[\]\\*+?{}|.]", plain))
            part = plain
        merged = {**converters, **(getattr(pattern.pattern, "converters", None) or {})}
        if isinstance(pattern, URLResolver):
            ns = ":".join(p for p in (namespace, pattern.namespace or "") if p)
            yield from _walk(pattern.url_patterns, prefix + part, ns, merged, is_regex)
        elif isinstance(pattern, URLPattern):
            name = ":".join(p for p in (namespace, pattern.name or "") if p) if pattern.name else ""
            yield Route(
                route=prefix + part,
                name=name,
                callback=pattern.callback,
                converters=tuple(sorted(merged.items())),
                regex=is_regex,
            )


def all_routes() -> list[Route]:
    """Every URL pattern of the project, recursively through every include()."""
    return list(_walk(get_resolver().url_patterns, "", "", {}, False))
