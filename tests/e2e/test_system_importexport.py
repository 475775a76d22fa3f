"""Import/Export, Audit Trail and Software in a real browser against runwbm: the pages fit at
1280 and 768 px in English and German (screenshots: test-artifacts/<test>/<page>-<lang>-<width>.png);
an export downloads, its import shows the changes of each sub-register and applies them; a
signed bundle uploads with progress and waits for the restart; a rollback in the audit trail."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.e2e.conftest import WbmServer, log_in_as, page_widths
from wbm.management.commands.buildbundle import development_key, development_public_key
from wbm.roles import Role
from wbm.system.update import build_bundle

PAGES = (
    ("importexport", "/system/importexport/"),
    ("audit", "/system/audit/?section=whitelist"),
    ("software", "/system/software/"),
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WbmServer]:
    server = WbmServer(
        state_dir=tmp_path_factory.mktemp("wbm-importexport-e2e"),
        extra_env={"WBM_UPDATE_PUBLIC_KEYS": development_public_key()},
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _with_fuse(raw: bytes, fuse_a: int) -> bytes:
    import hashlib
    import io
    import json
    import zipfile

    with zipfile.ZipFile(io.BytesIO(raw)) as archive:
        members = {n: archive.read(n) for n in archive.namelist()}
    doc = json.loads(members["sections/loadmgmt.json"])
    doc["circuit"]["fuse_a"] = fuse_a
    members["sections/loadmgmt.json"] = json.dumps(doc).encode()
    manifest = json.loads(members["manifest.json"])
    manifest["sections"]["loadmgmt"]["sha256"] = hashlib.sha256(members["sections/loadmgmt.json"]).hexdigest()
    members["manifest.json"] = json.dumps(manifest).encode()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


def _open(new_context: Callable[..., BrowserContext], server: WbmServer, lang: str, width: int) -> Page:
    context = new_context(viewport={"width": width, "height": 900}, locale="de-DE" if lang == "de" else "en-US")
    context.add_cookies([{"name": "wbm_language", "value": lang, "url": server.url}])
    page = context.new_page()
    log_in_as(page, server.url, server.create_user(f"ie-man-{lang}-{width}", Role.MANUFACTURER))
    return page


@pytest.mark.parametrize("lang", ["en", "de"])
def test_the_pages_fit_in_both_languages(server: WbmServer, new_context, screenshot: Callable[..., Path], lang: str):
    page = _open(new_context, server, lang, 1280)
    for width in (1280, 768):
        page.set_viewport_size({"width": width, "height": 900})
        for name, url in PAGES:
            page.goto(f"{server.url}{url}")
            assert page.locator("html").get_attribute("lang") == lang
            expect(page.locator("h1")).to_be_visible()
            screenshot(page, f"{name}-{lang}-{width}")
            used, inner = page_widths(page)
            assert used <= inner, f"{url} is {used} px wide in a {inner} px window"


def test_export_import_with_diff_rollback_and_a_software_upload(
    server: WbmServer, new_context, screenshot, tmp_path: Path
):
    page = _open(new_context, server, "en", 1280)
    page.goto(f"{server.url}/system/importexport/")
    with page.expect_download() as download:
        page.locator("#export-button").click()
    exported = tmp_path / "config.zip"
    download.value.save_as(exported)
    # a file with another fuse: the preview shows that change, the import makes it
    changed = tmp_path / "changed.zip"
    changed.write_bytes(_with_fuse(exported.read_bytes(), 40))
    page.goto(f"{server.url}/system/importexport/")
    page.locator("#id_file").set_input_files(str(changed))
    page.locator("#import-preview").click()
    expect(page.locator("#section-loadmgmt")).to_contain_text("circuit.fuse_a")
    screenshot(page, "import-preview")
    page.locator("#import-apply").click()
    expect(page.locator(".messages, [role=status]").first).to_contain_text("Imported")
    screenshot(page, "import-done")
    page.goto(f"{server.url}/system/audit/?section=loadmgmt")
    expect(page.locator("#audit-list")).to_contain_text("loadmgmt.circuit.update")
    screenshot(page, "audit-loadmgmt")
    page.locator("[data-testid^=rollback-]").first.click()
    expect(page.locator(".messages, [role=status]").first).to_contain_text("rolled back")
    screenshot(page, "audit-rolled-back")
    # a software package: upload with progress, then "restart manually"
    bundle = tmp_path / "wbm-1.1.0.wbmb"
    bundle.write_bytes(
        build_bundle(
            payload=b"x" * 200_000, version="1.1.0", device_type="CHARX SEC-3100", private_key=development_key()
        )
    )
    page.goto(f"{server.url}/system/software/")
    page.locator("#id_bundle").set_input_files(str(bundle))
    page.locator("#install-update").click()
    expect(page.locator("#update-accepted, #update-pending").first).to_be_visible(timeout=60_000)
    screenshot(page, "software-accepted")
