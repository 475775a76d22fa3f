"""The menu shows each role exactly the entries it may open, and the sidebar renders that menu."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import Client
from django.urls import resolve, reverse
from django.utils import translation

from tests.conftest import make_user
from tests.routes import Route
from wbm.menu import MenuItem, NavEntry, menu, navigation
from wbm.roles import MIN_ROLE, Role


def _walk(items: tuple[MenuItem, ...], parent: MenuItem | None = None):
    for item in items:
        yield parent, item
        yield from _walk(item.children, item)


def _flat(entries: list[NavEntry] | tuple[NavEntry, ...]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for entry in entries:
        out.append((str(entry.title), entry.url))
        out.extend(_flat(entry.children))
    return out


def _page_perm(url: str):
    match = resolve(url)
    return Route(route=url.lstrip("/"), name=match.view_name, callback=match.func, converters=()).perm_for("get")


class _Sidenav(HTMLParser):
    """Links of ``<nav class="sidenav">`` by nesting level: 1 = menus, 2 = the open menu's pages."""

    def __init__(self) -> None:
        super().__init__()
        self.in_nav = False
        self.depth = 0
        self.href: str | None = None
        self.text = ""
        self.links: list[tuple[int, str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "nav" and "sidenav" in (attributes.get("class") or ""):
            self.in_nav = True
        elif self.in_nav and tag == "ul":
            self.depth += 1
        elif self.in_nav and tag == "a":
            self.href, self.text = attributes.get("href") or "", ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "nav":
            self.in_nav = False
        elif self.in_nav and tag == "ul":
            self.depth -= 1
        elif self.in_nav and tag == "a" and self.href is not None:
            self.links.append((self.depth, " ".join(self.text.split()), self.href))
            self.href = None

    def handle_data(self, data: str) -> None:
        if self.href is not None:
            self.text += data


def _sidenav(html: str) -> _Sidenav:
    parser = _Sidenav()
    parser.feed(html)
    return parser


def _client(role: Role) -> tuple[Client, object]:
    client = Client()
    if role == Role.GUEST:
        return client, AnonymousUser()
    user = make_user(role)
    client.force_login(user)
    return client, user


def test_each_menu_entry_needs_exactly_what_its_page_requires():
    for parent, item in _walk(menu()):
        url = reverse(item.url_name)
        assert _page_perm(url) == item.perm, (
            f"menu entry {item.title!s} ({item.url_name}) is shown for {item.perm.value} but its page "
            f"requires {_page_perm(url)}: the menu would show a 403 or hide an allowed page"
        )
        if parent is not None:
            assert MIN_ROLE[item.perm] >= MIN_ROLE[parent.perm], (
                f"{item.title!s} is open to a lower role than its menu {parent.title!s}, which hides it"
            )


# What the manual's role table says about the top of the menu tree.
TOP_LEVEL = {
    Role.GUEST: {"Dashboard"},
    Role.USER: {"Dashboard", "Charging Stations", "OCPP", "Whitelist", "Load Management", "System Control"},
    Role.OPERATOR: {
        "Dashboard",
        "Charging Stations",
        "OCPP",
        "Whitelist",
        "Load Management",
        "Network",
        "System Control",
    },
    Role.MANUFACTURER: {
        "Dashboard",
        "Charging Stations",
        "OCPP",
        "Whitelist",
        "Load Management",
        "Network",
        "System Control",
    },
}


@pytest.mark.parametrize("role", list(Role), ids=lambda r: str(r.label))
def test_menu_shows_each_role_exactly_the_pages_it_can_open(runtime, role: Role):
    client, user = _client(role)
    with translation.override("en"):
        nav = navigation(user, "/")
        shown = set(_flat(nav))
        top = {str(e.title) for e in nav}
        every = {(str(item.title), reverse(item.url_name)) for _, item in _walk(menu())}
    assert top == TOP_LEVEL[role]
    simulator = reverse("simulator:index")
    assert any(url == simulator for _, url in shown) == (role == Role.MANUFACTURER)
    for title, url in sorted(every):
        status = client.get(url).status_code
        if (title, url) in shown:
            assert status == 200, f"{role.label} sees {title} ({url}) in the menu but gets {status}"
        else:
            assert status != 200, f"{role.label} can open {title} ({url}) but the menu hides it"


@pytest.mark.parametrize("role", list(Role), ids=lambda r: str(r.label))
def test_rendered_sidebar_matches_the_menu(runtime, role: Role):
    client, user = _client(role)
    client.cookies["wbm_language"] = "en"
    html = client.get("/").content.decode()
    with translation.override("en"):
        nav = navigation(user, "/")
        expected_top = [(str(e.title), e.url) for e in nav]
    rendered_top = [(text, href) for depth, text, href in _sidenav(html).links if depth == 1]
    assert rendered_top == expected_top
    for entry in nav:
        if not entry.children:
            continue
        page = client.get(entry.url).content.decode()
        with translation.override("en"):
            opened = next(e for e in navigation(user, entry.url) if e.url == entry.url)
            expected_children = [(str(c.title), c.url) for c in opened.children]
        rendered_children = [(text, href) for depth, text, href in _sidenav(page).links if depth == 2]
        assert rendered_children == expected_children, f"submenu of {entry.title!s} for {role.label}"
