"""German and English: every user-visible string has a German translation, the compiled catalogue
matches its source, pages and the API answer in German when asked to.

The completeness test runs ``makemessages`` on a copy of the source tree, so a string added to a
template or to Python code without a German translation fails here with its text and location.
"""

from __future__ import annotations

import ast
import asyncio
import gettext
import os
import re
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from html import unescape
from pathlib import Path
from typing import cast

import pytest
import pytest_asyncio
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django import forms
from django.conf import settings
from django.db import models
from django.test import Client
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import pgettext_lazy

from chargepoints import choices as cp_choices
from chargepoints.demo import load_demo_park
from chargepoints.simulator.forms import OPS
from tests.conftest import cp_id, execute_wire, make_user, session_cookie
from wbm.asgi import application
from wbm.roles import Role
from wbm.runtime import local
from wbm.runtime.backends.simulated import SimulatedBackend
from wbm.runtime.core import Runtime

ROOT = Path(settings.BASE_DIR)
PO_PATH = Path("locale") / "de" / "LC_MESSAGES" / "django.po"
MO_PATH = PO_PATH.with_suffix(".mo")
# What is not source: the virtualenv, state, VCS data, test output, caches.
NOT_SOURCE = {
    ".venv",
    "var",
    ".git",
    "test-artifacts",
    "node_modules",
    "__pycache__",
    ".pytest_cache",
    ".ruff_cache",
    ".mypy_cache",
}
MAKEMESSAGES = [
    "makemessages",
    "-l",
    "de",
    "--no-obsolete",
    "--add-location",
    "file",
    *(f"--ignore={name}" for name in sorted(NOT_SOURCE)),
]
GERMAN = {settings.LANGUAGE_COOKIE_NAME: "de"}


# --- a small .po reader ----------------------------------------------------------------------


@dataclass
class PoEntry:
    msgid: str = ""
    msgid_plural: str | None = None
    msgctxt: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)  # index 0 for a singular entry
    flags: set[str] = field(default_factory=set)
    locations: list[str] = field(default_factory=list)
    obsolete: bool = False

    @property
    def untranslated(self) -> bool:
        return not self.msgstr or any(not text for text in self.msgstr.values())

    @property
    def fuzzy(self) -> bool:
        return "fuzzy" in self.flags

    def describe(self) -> str:
        where = ", ".join(self.locations) or "?"
        text = repr(self.msgid) + (f" / plural {self.msgid_plural!r}" if self.msgid_plural else "")
        context = f" (context {self.msgctxt!r})" if self.msgctxt else ""
        state = "fuzzy" if self.fuzzy else "untranslated"
        return f"{where}: {text}{context} [{state}]"


def _unquote(literal: str) -> str:
    """A .po string literal ("…" with C escapes) to its text."""
    return ast.literal_eval(literal)


def parse_po(text: str) -> list[PoEntry]:
    """The entries of a .po file (the header entry, msgid "", included)."""
    entries: list[PoEntry] = []
    entry = PoEntry()
    seen_msgid = False
    target: tuple[str, int] | None = None  # ("msgid" | "msgid_plural" | "msgctxt" | "msgstr", index)

    def finish() -> None:
        nonlocal entry, seen_msgid, target
        if seen_msgid:
            entries.append(entry)
        entry, seen_msgid, target = PoEntry(), False, None

    def append(value: str) -> None:
        assert target is not None, "continuation line without a keyword"
        name, index = target
        if name == "msgstr":
            entry.msgstr[index] = entry.msgstr.get(index, "") + value
        else:
            setattr(entry, name, (getattr(entry, name) or "") + value)

    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("#~"):
            entry.obsolete = True
            line = line[2:].strip()
            if not line:
                continue
        if not line:
            finish()
            continue
        if line.startswith("#,"):
            if seen_msgid:
                finish()
            entry.flags.update(flag.strip() for flag in line[2:].split(",") if flag.strip())
        elif line.startswith("#:"):
            if seen_msgid:
                finish()
            entry.locations.extend(line[2:].split())
        elif line.startswith("#"):
            if seen_msgid:
                finish()
        elif line.startswith('"'):
            append(_unquote(line))
        else:
            keyword, _, literal = line.partition(" ")
            match = re.fullmatch(r"msgstr\[(\d+)\]", keyword)
            new_entry = keyword == "msgctxt" or (keyword == "msgid" and target is not None and target[0] == "msgstr")
            if seen_msgid and new_entry:
                finish()
            if keyword == "msgid":
                seen_msgid = True
                target = ("msgid", 0)
            elif keyword in {"msgid_plural", "msgctxt"}:
                target = (keyword, 0)
            elif keyword == "msgstr":
                target = ("msgstr", 0)
            elif match:
                target = ("msgstr", int(match.group(1)))
            else:
                raise ValueError(f"unexpected .po line: {raw!r}")
            if target[0] == "msgstr":
                entry.msgstr.setdefault(target[1], "")
            elif target[0] != "msgid":
                setattr(entry, target[0], "")
            append(_unquote(literal))
    finish()
    return entries


def po_catalog(entries: list[PoEntry]) -> dict[object, str]:
    """msgid → msgstr as Python's gettext holds a compiled catalogue (translated, not fuzzy)."""
    catalog: dict[object, str] = {}
    for entry in entries:
        if entry.obsolete or entry.fuzzy or entry.untranslated or entry.msgid == "":
            continue
        key = f"{entry.msgctxt}\x04{entry.msgid}" if entry.msgctxt is not None else entry.msgid
        if entry.msgid_plural is not None:
            for index, text in entry.msgstr.items():
                catalog[(key, index)] = text
        else:
            catalog[key] = entry.msgstr[0]
    return catalog


def test_po_reader_understands_the_format() -> None:
    text = r"""# header comment
#, fuzzy
msgid ""
msgstr ""
"Language: de\n"

#: a.py b.html
#, python-format
msgid "Hello %(name)s"
msgstr "Hallo %(name)s"

#: c.py
msgid ""
"long "
"\"quoted\""
msgstr ""

#: d.py
#, fuzzy
msgctxt "menu"
msgid "One file"
msgid_plural "%(n)s files"
msgstr[0] "Eine Datei"
msgstr[1] "%(n)s Dateien"

#~ msgid "Gone"
#~ msgstr "Weg"
"""
    entries = parse_po(text)
    assert [e.msgid for e in entries] == ["", "Hello %(name)s", 'long "quoted"', "One file", "Gone"]
    header, hello, long, files, gone = entries
    assert header.fuzzy and header.msgstr == {0: "Language: de\n"}
    assert hello.locations == ["a.py", "b.html"] and hello.msgstr == {0: "Hallo %(name)s"} and not hello.untranslated
    assert long.untranslated and long.locations == ["c.py"]
    assert files.msgctxt == "menu" and files.msgid_plural == "%(n)s files" and files.fuzzy
    assert files.msgstr == {0: "Eine Datei", 1: "%(n)s Dateien"}
    assert gone.obsolete
    assert po_catalog(entries) == {"Hello %(name)s": "Hallo %(name)s"}


# --- completeness: makemessages on a copy of the source ---------------------------------------


def _copy_source(dest: Path) -> Path:
    copy = dest / "src"
    shutil.copytree(ROOT, copy, ignore=lambda _dir, names: [n for n in names if n in NOT_SOURCE or n.endswith(".pyc")])
    return copy


def _manage(copy: Path, state: Path, *args: str) -> None:
    env = {**os.environ, "WBM_STATE_DIR": str(state), "PYTHONDONTWRITEBYTECODE": "1"}
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=copy,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"


@pytest.fixture(scope="module")
def regenerated_po(tmp_path_factory: pytest.TempPathFactory) -> list[PoEntry]:
    """The German catalogue as makemessages makes it from the current source (committed
    translations merged in)."""
    work = tmp_path_factory.mktemp("i18n")
    copy = _copy_source(work)
    _manage(copy, work / "state", *MAKEMESSAGES)
    return parse_po((copy / PO_PATH).read_text(encoding="utf-8"))


def test_every_string_has_a_german_translation(regenerated_po: list[PoEntry]) -> None:
    missing = [e for e in regenerated_po if e.msgid and not e.obsolete and (e.untranslated or e.fuzzy)]
    assert not missing, (
        f"{len(missing)} string(s) without a German translation. Run `manage.py makemessages -l de "
        "--no-obsolete --add-location file --ignore=.venv --ignore=var`, translate them in "
        f"{PO_PATH}, then `manage.py compilemessages -l de --ignore=.venv`:\n"
        + "\n".join(e.describe() for e in missing)
    )
    assert len(regenerated_po) > 300  # the catalogue really was built from the source


def _source_files(suffix: str) -> list[Path]:
    return [p for p in ROOT.rglob(f"*{suffix}") if not NOT_SOURCE & set(p.relative_to(ROOT).parts)]


def test_gettext_aliases_are_extracted() -> None:
    """xgettext finds strings only by function name: an alias such as ``gettext_lazy as _lazy``
    must be a keyword of our makemessages, or its strings silently stay English."""
    from wbm.management.commands.makemessages import EXTRA_KEYWORDS

    known = {
        "_",
        "gettext",
        "gettext_lazy",
        "gettext_noop",
        "ngettext",
        "ngettext_lazy",
        "pgettext",
        "pgettext_lazy",
        "npgettext",
        "npgettext_lazy",
    }
    singular = {"gettext", "gettext_lazy", "gettext_noop"}  # what `_` may stand for (one argument)
    unknown = []
    for path in _source_files(".py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.ImportFrom) and node.module == "django.utils.translation"):
                continue
            for alias in node.names:
                name = alias.asname or alias.name
                if not alias.name.endswith("gettext") and "gettext_" not in alias.name:
                    continue
                if (name == "_" and alias.name not in singular) or (name not in known and name not in EXTRA_KEYWORDS):
                    unknown.append(f"{path.relative_to(ROOT)}: {alias.name} as {name}")
    assert not unknown, (
        "gettext imported under a name makemessages does not extract; add it to "
        "wbm/management/commands/makemessages.py EXTRA_KEYWORDS or use `_`:\n" + "\n".join(unknown)
    )


GETTEXT_NAMES = {"_", "_lazy", "gettext", "gettext_lazy", "ngettext", "ngettext_lazy", "pgettext", "pgettext_lazy"}


def _is_gettext_call(node: ast.AST, names: set[str] = GETTEXT_NAMES) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in names


def _import_time_nodes(tree: ast.Module) -> list[ast.AST]:
    """Nodes evaluated when the module is imported: module and class bodies, not function bodies."""
    out: list[ast.AST] = []
    todo: list[ast.AST] = list(tree.body)
    while todo:
        node = todo.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            continue
        out.append(node)
        todo.extend(ast.iter_child_nodes(node))
    return out


def test_translated_strings_are_extractable_and_not_frozen_at_import() -> None:
    """Ways a string silently stays English: a gettext call inside an f-string (xgettext does not
    look there); in a module or class body, ``gettext_lazy(...) % values`` (``%`` turns the lazy
    text into a plain string at import time, in the default language) or a plain ``gettext``."""
    problems = []
    for path in _source_files(".py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        where = path.relative_to(ROOT)
        for node in ast.walk(tree):
            if isinstance(node, ast.FormattedValue) and any(_is_gettext_call(n) for n in ast.walk(node.value)):
                problems.append(f"{where}:{node.lineno}: gettext inside an f-string is not extracted")
        eager = {
            alias.asname or alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.module == "django.utils.translation"
            for alias in node.names
            if alias.name in {"gettext", "ngettext", "pgettext", "npgettext"}
        }
        for node in _import_time_nodes(tree):
            if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod) and _is_gettext_call(node.left):
                problems.append(
                    f"{where}:{node.lineno}: translated text %-formatted at import time; "
                    "format it when it is shown (e.g. django.utils.functional.lazy)"
                )
            elif _is_gettext_call(node, eager):
                problems.append(f"{where}:{node.lineno}: gettext (not gettext_lazy) called at import time")
    assert not problems, "\n".join(problems)


def test_placeholders_survive_translation() -> None:
    """A translation keeps exactly the %(name)s placeholders of its English text."""
    placeholder = re.compile(r"%%|%\((\w+)\)[sdif]|%[sdif]")
    wrong = []
    for entry in parse_po((ROOT / PO_PATH).read_text(encoding="utf-8")):
        if not entry.msgid or entry.untranslated or entry.fuzzy:  # a fuzzy entry is not used at all
            continue
        for index, text in entry.msgstr.items():
            source = entry.msgid_plural if index and entry.msgid_plural else entry.msgid
            if sorted(placeholder.findall(text)) != sorted(placeholder.findall(source)):
                wrong.append(f"{entry.msgid!r} -> {text!r}")
    assert not wrong, "placeholders differ:\n" + "\n".join(wrong)


def test_compiled_catalogue_matches_the_po_file() -> None:
    """The committed .mo is compiled from the committed .po (the runtime needs no gettext tools)."""
    entries = parse_po((ROOT / PO_PATH).read_text(encoding="utf-8"))
    with (ROOT / MO_PATH).open("rb") as fh:
        compiled = gettext.GNUTranslations(fh)
    in_mo = {k: v for k, v in compiled._catalog.items() if k != ""}  # type: ignore[attr-defined]
    in_po = po_catalog(entries)
    missing = sorted(str(k) for k in in_po.keys() - in_mo.keys())
    extra = sorted(str(k) for k in in_mo.keys() - in_po.keys())
    changed = sorted(str(k) for k in in_po.keys() & in_mo.keys() if in_po[k] != in_mo[k])
    assert not (missing or extra or changed), (
        f"{MO_PATH} is out of date; run `manage.py compilemessages -l de --ignore=.venv`.\n"
        f"missing: {missing}\nextra: {extra}\nchanged: {changed}"
    )
    assert compiled.info().get("language") == "de"
    assert compiled.plural(1) == 0 and compiled.plural(2) == 1  # the header's plural rule is German


def test_compiling_the_po_in_a_copy_gives_the_committed_catalogue(tmp_path: Path) -> None:
    """compilemessages (msgfmt with format checks) accepts the .po and yields the same catalogue."""
    copy = _copy_source(tmp_path)
    (copy / MO_PATH).unlink()  # compilemessages skips a .mo newer than its .po
    _manage(copy, tmp_path / "state", "compilemessages", "-l", "de", "--ignore=.venv")
    with (copy / MO_PATH).open("rb") as fresh, (ROOT / MO_PATH).open("rb") as committed:
        assert gettext.GNUTranslations(fresh)._catalog == gettext.GNUTranslations(committed)._catalog  # type: ignore[attr-defined]


# --- pages in German ---------------------------------------------------------------------------


def _german_client(role: Role) -> Client:
    client = Client()
    client.cookies.load(GERMAN)
    if role != Role.GUEST:
        client.force_login(make_user(role))
    return client


def _page(client: Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.content.decode()


def _sidenav_titles(html: str) -> list[str]:
    nav = re.search(r'<nav class="sidenav".*?</nav>', html, re.S)
    assert nav, "no side menu on the page"
    links = re.findall(r"<a [^>]*>(.*?)</a>", nav.group(0), re.S)
    return [" ".join(re.sub(r"<[^>]+>", " ", link).split()) for link in links]


def test_dashboard_as_guest_is_german(runtime) -> None:
    body = _page(_german_client(Role.GUEST), "/")
    assert '<html lang="de">' in body
    for text in ("Ladepark", "Verfügbar", "Lädt", "Gesamtleistung", "Anmelden", "Steckdauer", "Ladedauer"):
        assert text in body, text
    for english in ("Total power", "Plug-in duration", ">Login<"):
        assert english not in body, english
    assert 'data-testid="sum-power">0,00 kW<' in body  # German number format
    assert 'data-label-stale="Veraltet seit %(time)s"' in body  # the live indicator's text for live.js


def test_english_stays_the_default(runtime) -> None:
    body = _page(Client(), "/")
    assert '<html lang="en">' in body and "Total power" in body and "Gesamtleistung" not in body


def test_login_page_is_german(db) -> None:
    body = _page(_german_client(Role.GUEST), "/accounts/login/")
    assert '<html lang="de">' in body
    assert "Anmelden" in body and "Passwort" in body and "Log in" not in body


def test_system_control_as_manufacturer_is_german(runtime) -> None:
    body = _page(_german_client(Role.MANUFACTURER), "/system/")
    assert '<html lang="de">' in body
    for text in ("Systemsteuerung", "Anwendungen", "Neu starten", "Abmelden", "Profil", "Hersteller"):
        assert text in body, text
    assert "Applications" not in body and "Logout" not in body


def test_simulator_is_german(runtime) -> None:
    body = _page(_german_client(Role.MANUFACTURER), f"/system/simulator/?cp={cp_id('P1-01')}")
    assert '<html lang="de">' in body
    for text in ("Simulator", "Fahrzeug anstecken", "Fehler auslösen", "Aktueller Zustand", "Temperatur"):
        assert text in body, text
    assert "Plug in vehicle" not in body


def test_chargepoint_configuration_page_is_german(park) -> None:
    """Also the choice labels built when the form module is imported."""
    body = _page(_german_client(Role.MANUFACTURER), f"/chargepoints/{cp_id('P1-01')}/config/")
    assert '<html lang="de">' in body
    for text in (
        "Ladefreigabe",
        "Freigabemodus",
        "Über Dashboard",
        "Energiemessgerät",
        "Digitaleingang 1",
        "(ev3000, Position 1)",
        "Schieflastunterdrückung",
        "Speichern",
    ):
        assert text in body, text
    for english in ("Digital input 1", "position 1)", "Release mode"):
        assert english not in body, english


def test_menu_entries_are_german(runtime) -> None:
    titles = _sidenav_titles(_page(_german_client(Role.MANUFACTURER), "/system/"))
    for title in (
        "Dashboard",
        "Ladestationen",
        "Whitelist",
        "Lastmanagement",
        "Netzwerk",
        "Systemsteuerung",
        "Uhrzeit",
        "Logdateien",
    ):
        assert title in titles, (title, titles)
    for english in ("Charging Stations", "Load Management", "Network", "System Control"):
        assert english not in titles


def test_language_switch_sets_cookie_and_profile(db) -> None:
    user = make_user(Role.USER)
    client = Client()
    client.force_login(user)
    response = client.post("/accounts/language/", {"language": "de", "next": "/"})
    assert response.status_code in (302, 303)
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "de"
    user.profile.refresh_from_db()
    assert user.profile.language == "de"
    assert '<html lang="de">' in _page(client, "/")


# --- the API answers in the language of Accept-Language ----------------------------------------


def _api(role: Role) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="de")
    if role != Role.GUEST:
        client.force_login(make_user(role))
    return client


def test_api_refusal_from_the_runtime_is_german(runtime) -> None:
    response = _api(Role.MANUFACTURER).post(
        f"/api/v1/simulator/chargepoints/{cp_id('P1-01')}/unplug/", {}, content_type="application/json"
    )
    assert response.status_code == 409
    assert response.json()["code"] == "no_vehicle"
    assert response.json()["detail"] == "An P1-01 ist kein Fahrzeug angesteckt."


def test_api_refusal_is_english_without_accept_language(runtime) -> None:
    client = Client()
    client.force_login(make_user(Role.MANUFACTURER))
    response = client.post(
        f"/api/v1/simulator/chargepoints/{cp_id('P1-01')}/unplug/", {}, content_type="application/json"
    )
    assert response.json()["detail"] == "No vehicle is plugged in at P1-01."


def test_api_validation_errors_are_german(runtime) -> None:
    response = _api(Role.MANUFACTURER).post(
        f"/api/v1/simulator/chargepoints/{cp_id('P1-01')}/rfid/", {"tag": "XYZ!"}, content_type="application/json"
    )
    assert response.status_code == 400
    body = response.json()
    assert body["detail"] == "Einige Werte sind ungültig." and body["code"] == "invalid"
    assert "Nur Hexadezimalziffern verwenden (0–9, A–F)." in str(body["errors"])


def test_api_not_found_and_forbidden_are_german(db) -> None:
    response = _api(Role.MANUFACTURER).get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert (
        response.json()["detail"]
        == "Unter dieser Adresse gibt es nichts. Nutzen Sie das Menü, um sich zurechtzufinden."
    )
    response = _api(Role.USER).post("/api/v1/simulator/chargepoints/1/unplug/", {}, content_type="application/json")
    assert response.status_code == 403
    assert response.json()["detail"] == "Ihre Rolle erlaubt diese Aktion nicht."


def test_api_login_failure_is_german(db) -> None:
    make_user(Role.USER, username="someone")
    response = _api(Role.GUEST).post(
        "/api/v1/auth/token/", {"username": "someone", "password": "wrong"}, content_type="application/json"
    )
    assert response.status_code in (400, 401)
    assert response.json()["detail"] == "Falscher Benutzername oder falsches Passwort."


def test_too_large_request_is_german(db) -> None:
    response = _api(Role.GUEST).post(
        "/api/v1/auth/token/",
        data="x",
        content_type="application/json",
        CONTENT_LENGTH=str(settings.WBM_MAX_REQUEST_BYTES + 1),
    )
    assert response.status_code == 413
    assert response.json()["detail"].startswith("Die Anfrage ist zu groß")


# --- live updates in the page's language -------------------------------------------------------


@pytest_asyncio.fixture
async def live_park() -> AsyncIterator[Runtime]:
    """The demo park with a runtime on the test's own event loop, as under Daphne."""
    await database_sync_to_async(load_demo_park)()
    runtime = Runtime(SimulatedBackend(seed=3, state_file=None), tick_s=3600, serve_commands=False)
    await runtime.start()
    try:
        yield runtime
    finally:
        await runtime.stop()
        local.set_current(None)


async def _first_dashboard_frame(headers: list[tuple[bytes, bytes]]) -> str:
    communicator = WebsocketCommunicator(
        application, "/ws/dashboard/", headers=[(b"origin", b"http://testserver"), (b"host", b"testserver"), *headers]
    )
    connected, _ = await communicator.connect(timeout=5)
    assert connected
    frames: list[str] = []
    try:
        # the full picture may follow a first heartbeat-only frame: read until the cards came
        while not any("data-testid" in frame for frame in frames):
            frames.append(await communicator.receive_from(timeout=5))
        return "".join(frames)
    finally:
        await communicator.disconnect()


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "headers",
    [
        [(b"cookie", b"wbm_language=de")],
        [(b"accept-language", b"de-DE,de;q=0.9,en;q=0.5")],  # no cookie: the browser's language, as the page
    ],
    ids=["cookie", "accept-language"],
)
async def test_live_updates_come_in_the_language_of_the_page(live_park, headers) -> None:
    frame = await _first_dashboard_frame(headers)
    assert "Gesamtleistung" in frame and "Belegt, lädt nicht" in frame
    assert "Total power" not in frame


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_live_updates_are_english_by_default(live_park) -> None:
    frame = await _first_dashboard_frame([(b"accept-language", b"fr-FR,fr;q=0.9")])
    assert "Total power" in frame and "Gesamtleistung" not in frame


# --- values from Python data and enums ----------------------------------------------------------
# A template's own text is caught by the completeness test above; a value that reaches the page
# from Python (a choice of chargepoints/choices.py, a form's choice, a state of the snapshot) is
# not: it may be shown raw ("Charging" beside "Lädt"), or turned into text before the page's
# language is active ("C – charging" on a German page).

# Labels that are the same in German: product and standard names, phase orders, OCPP's status
# names the manual keeps, words German uses as they are, numbers with their unit.
SAME_IN_GERMAN = re.compile(
    r"^(Phoenix Contact |Carlo Gavazzi |Inepro |Iskra |ELATEC |DUALI |Netronix |CHARX |IEC \d)"
    r"|^(Pt 1000|PTC|EV/ZE Ready|Suspended(EV|EVSE)|Backend online|Optional|Start)$"
    r"|^L\d – L\d – L\d$|^\d+( A)?$"
)


def _choice_lists() -> list[type[models.Choices]]:
    """Every choice list of chargepoints/choices.py whose labels are translated (lists whose labels
    are their protocol values, such as the ISO 15118 TCP status, are identifiers: shown as they are)."""
    return [
        obj
        for obj in vars(cp_choices).values()
        if isinstance(obj, type)
        and issubclass(obj, models.Choices)
        and any(isinstance(member.label, Promise) for member in obj.__members__.values())
    ]


def _simulator_choices() -> list[tuple[str, object]]:
    """(where, label) of every translated choice the simulator's forms offer (the others are
    identifiers or numbers: OCPP error codes, ISO 15118 errors, input numbers)."""
    return [
        (f"simulator {op}.{name}", label)
        for op, sim_op in OPS.items()
        for name, field_ in sim_op.form.base_fields.items()
        if isinstance(field_, forms.ChoiceField)
        for _value, label in cast("list[tuple[object, object]]", field_.choices)
        if isinstance(label, Promise)
    ]


def _all_choices() -> list[tuple[str, object]]:
    listed = [
        (f"{cls.__name__}.{member.name}", member.label)
        for cls in _choice_lists()
        for member in cls.__members__.values()
    ]
    return listed + _simulator_choices()


def _in(language: str, label: object) -> str:
    with translation.override(language):
        return str(label)


def _english_labels() -> set[str]:
    """English labels that German says differently: none of them may appear on a German page."""
    return {_in("en", label) for _where, label in _all_choices() if _in("en", label) != _in("de", label)}


def _visible_text(html: str) -> str:
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def _english_on(html: str, labels: set[str]) -> list[str]:
    text = _visible_text(html)
    return sorted(label for label in labels if re.search(rf"(?<![\w-]){re.escape(label)}(?![\w-])", text))


def test_every_choice_shown_on_pages_has_a_german_label() -> None:
    untranslated = [
        f"{where}: {_in('en', label)!r}"
        for where, label in _all_choices()
        if _in("de", label) == _in("en", label) and not SAME_IN_GERMAN.search(_in("en", label))
    ]
    assert not untranslated, "choices without a German label:\n" + "\n".join(untranslated)
    assert {cp_choices.IecState, cp_choices.OcppStatus, cp_choices.VehicleMode} <= set(_choice_lists())


def _busy_park(runtime) -> dict[str, int]:
    """P1-01 charging with ISO 15118, P1-02 with a paused vehicle, P1-03 with a fault."""
    ids = {name: cp_id(name) for name in ("P1-01", "P1-02", "P1-03")}
    runtime.call("sim.plug_in", cp=ids["P1-01"], phases=3, max_current_a=16, hlc=True, evcc_id="00A0C9142A3F")
    runtime.call("cp.release", cp=ids["P1-01"], allow=True)
    runtime.call("sim.plug_in", cp=ids["P1-02"], phases=1, max_current_a=16)
    runtime.call("sim.vehicle", cp=ids["P1-02"], action="pause")
    runtime.call("sim.fault", cp=ids["P1-03"], code="OverCurrentFailure", info="")
    runtime.call("sim.input", cp=ids["P1-03"], index=2, value=True)
    runtime.step()
    return ids


def test_live_values_on_status_simulator_and_overview_are_german(runtime) -> None:
    ids = _busy_park(runtime)
    client = _german_client(Role.MANUFACTURER)
    english = _english_labels()
    pages = {
        "overview": _page(client, "/chargepoints/"),
        **{f"status {name}": _page(client, f"/chargepoints/{pk}/") for name, pk in ids.items()},
        **{f"simulator {name}": _page(client, f"/system/simulator/?cp={pk}") for name, pk in ids.items()},
    }
    found = {name: _english_on(html, english) for name, html in pages.items()}
    assert not any(found.values()), f"English on German pages: { {k: v for k, v in found.items() if v} }"
    # ... and the values are there, in German
    status, simulator = pages["status P1-01"], _visible_text(pages["simulator P1-02"])
    assert _in("de", cp_choices.IecState.C.label) in _visible_text(status)
    assert _in("de", cp_choices.Iso15118Progress.START.label) in _visible_text(status)
    assert _in("de", cp_choices.OcppErrorCode.OVER_CURRENT_FAILURE.label) in _visible_text(pages["status P1-03"])
    assert _in("de", cp_choices.VehicleMode.PAUSED.label) in simulator
    assert _in("de", cp_choices.OcppStatus.SUSPENDED_EV.label) in simulator
    inputs = _visible_text(pages["simulator P1-03"])
    assert _in("de", pgettext_lazy("digital input level", "High")) in inputs


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_status_page_live_updates_show_labels_in_german(live_runtime) -> None:
    """The status page's WebSocket renders outside the request: its labels must still be German."""
    pk = await database_sync_to_async(cp_id)("P1-01")
    (_name, session), *_ = await database_sync_to_async(session_cookie)(Role.USER)
    headers = [(b"origin", b"http://testserver"), (b"host", b"testserver")]
    headers.append((b"cookie", session + b"; wbm_language=de"))
    communicator = WebsocketCommunicator(application, f"/ws/chargepoints/{pk}/", headers=headers)
    connected, _ = await communicator.connect(timeout=5)
    assert connected
    english = await database_sync_to_async(_english_labels)()
    try:
        frame = await communicator.receive_from(timeout=5)
        assert _in("de", cp_choices.IecState.A.label) in _visible_text(frame)
        assert _english_on(frame, english) == []
        await execute_wire(live_runtime, "sim.plug_in", {"cp": pk, "phases": 3, "max_current_a": 16, "hlc": True})
        await execute_wire(live_runtime, "sim.fault", {"cp": pk, "code": "GroundFailure", "info": ""})
        async with asyncio.timeout(5):
            while 'data-testid="error"' not in frame:
                frame = await communicator.receive_from(timeout=5)
        assert _in("de", cp_choices.OcppErrorCode.GROUND_FAILURE.label) in _visible_text(frame)
        assert _english_on(frame, english) == []
    finally:
        await communicator.disconnect()
