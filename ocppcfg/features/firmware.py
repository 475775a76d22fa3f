"""Firmware Management (OCPP 1.6 3.14, 5.9 GetDiagnostics, 5.19 UpdateFirmware, 4.4/4.5 the status
notifications).

UpdateFirmware: at retrieveDate the file is downloaded (``transfer``), with the retries asked for,
then "installed". This controller does not flash itself from OCPP (software updates have their
own page); installing here is a simulation: the file is checked (an empty file fails) and kept in
the state directory (``firmware/``, with ``installed.json`` saying what and when). The backend
sees every step: Downloading, Downloaded | DownloadFailed, Installing, Installed |
InstallationFailed. Each step is written to ``FirmwareJob`` before it is reported, so a restart
resumes a download that was waiting or running and reports the outcome of an "Installing".

GetDiagnostics: System Control's support bundle (``wbm.system.bundle.diagnostics_write``: the log
lines from startTime to stopTime, the configuration, the OCPP message log, the status of every
service, the versions; every password, key, token and certificate redacted) is uploaded to the
location: Uploading, then Uploaded | UploadFailed.

The notifications go through the agent's outbox (``enqueue``): they arrive after an outage too.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from django.conf import settings as django_settings
from ocpp.v16 import call

from ocppcfg.features import FeatureAgent, Tasks, publish, setting, transfer, utc_now, wire_time
from ocppcfg.models import FirmwareJob
from wbm.system.bundle import diagnostics_write

log = logging.getLogger("ocppcfg.features.firmware")

FIRMWARE, DIAGNOSTICS = FirmwareJob.Kind.FIRMWARE, FirmwareJob.Kind.DIAGNOSTICS
FW_BUSY = ("Scheduled", "Downloading", "Downloaded", "Installing")  # "Scheduled": ours, never sent
MANIFEST = "installed.json"


@dataclass(frozen=True, slots=True)
class Job:
    kind: str
    location: str
    status: str
    retrieve_at: datetime | None
    attempts: int
    retry_interval_s: int
    file_name: str = ""
    start: datetime | None = None  # diagnostics: the log period asked for
    stop: datetime | None = None


def _firmware_dir() -> Path:
    return Path(setting("WBM_OCPP_FIRMWARE_DIR", Path(django_settings.STATE_DIR) / "firmware"))


def _diagnostics_dir() -> Path:
    return Path(setting("WBM_OCPP_DIAGNOSTICS_DIR", Path(django_settings.STATE_DIR) / "diagnostics"))


class Firmware:
    """Firmware updates and diagnostics uploads of the charge point (one of each at a time)."""

    def __init__(self, agent: FeatureAgent) -> None:
        self.agent = agent
        self.firmware_status: dict[str, Any] = {"status": "Idle", "at": None}
        self.diagnostics_status: dict[str, Any] = {"status": "Idle", "at": None}
        self._update: asyncio.Task[None] | None = None
        self._upload: asyncio.Task[None] | None = None
        self._prepared: dict[str, Job] = {}  # GetDiagnostics answered, by the CALL's unique id
        self._tasks = Tasks("firmware")

    # --- life -----------------------------------------------------------------------------
    async def start(self) -> None:
        """Resume what a restart interrupted: a waiting or running download starts again, an
        "Installing" reports its outcome, an "Uploading" reports UploadFailed."""
        jobs = await self.agent.ctx.db(_load)
        for job in jobs:
            if job.kind == FIRMWARE:
                self.firmware_status = {"status": job.status, "at": None}
                if job.status == "Installing":
                    done = await asyncio.to_thread(_installed_from, job)
                    await self._notify(job, "Installed" if done else "InstallationFailed")
                elif job.status in FW_BUSY:
                    self._update = self._tasks.spawn(self._run_update(job))
            elif job.kind == DIAGNOSTICS:
                self.diagnostics_status = {"status": job.status, "at": None}
                if job.status == "Uploading":
                    await self._notify(job, "UploadFailed")

    async def stop(self) -> None:
        await self._tasks.stop()

    # --- UpdateFirmware ---------------------------------------------------------------------
    async def update(
        self, *, location: str, retrieve_date: datetime, retries: int | None = None, retry_interval: int | None = None
    ) -> None:
        """UpdateFirmware (after its empty answer went out): a new request replaces a running one."""
        if self._update is not None and not self._update.done():
            self._update.cancel()
        job = Job(
            kind=FIRMWARE,
            location=location,
            status="Scheduled",
            retrieve_at=retrieve_date,
            attempts=_attempts(retries),
            retry_interval_s=_interval(retry_interval),
        )
        await self.agent.ctx.db(_save, job)
        self._update = self._tasks.spawn(self._run_update(job))

    async def _run_update(self, job: Job) -> None:
        wait_s = (job.retrieve_at - utc_now()).total_seconds() if job.retrieve_at else 0.0
        if wait_s > 0:
            await asyncio.sleep(wait_s)
        try:
            transfer.check_location(job.location)
        except transfer.TransferError as exc:
            log.warning("firmware update from %s refused: %s", transfer.safe_location(job.location), exc)
            await self._notify(job, "DownloadFailed")
            return
        directory = _firmware_dir()
        await asyncio.to_thread(directory.mkdir, parents=True, exist_ok=True)
        file_name = _file_name(job.location)
        downloaded = directory / f"download-{file_name}"
        job = replace(job, file_name=file_name)
        await self._notify(job, "Downloading")
        if not await self._attempt(job, "download", lambda: self._download(job.location, downloaded)):
            await self._notify(job, "DownloadFailed")
            return
        await self._notify(job, "Downloaded")
        await self._notify(job, "Installing")
        installed = await asyncio.to_thread(_install, job, downloaded, directory)
        await self._notify(job, "Installed" if installed else "InstallationFailed")

    def _download(self, url: str, dest: Path) -> None:
        size = transfer.download(
            url,
            dest,
            max_bytes=setting("WBM_OCPP_FIRMWARE_MAX_BYTES", 64 * 1024 * 1024),
            timeout_s=setting("WBM_OCPP_TRANSFER_TIMEOUT_S", 60.0),
        )
        log.info("firmware downloaded from %s: %d bytes", transfer.safe_location(url), size)

    # --- GetDiagnostics ---------------------------------------------------------------------
    def prepare_diagnostics(
        self,
        unique_id: str,
        *,
        location: str,
        start_time: datetime | None = None,
        stop_time: datetime | None = None,
        retries: int | None = None,
        retry_interval: int | None = None,
    ) -> str:
        """GetDiagnostics: the file name to answer with; ``begin_diagnostics(unique_id)`` starts
        the upload once the answer went out."""
        box = "".join(c for c in self._charge_box_id() if c.isalnum() or c in "-_")[:40] or "chargepoint"
        file_name = f"diagnostics-{box}-{utc_now().strftime('%Y%m%dT%H%M%SZ')}.zip"
        self._prepared[unique_id] = Job(
            kind=DIAGNOSTICS,
            location=location,
            status="Pending",
            retrieve_at=None,
            attempts=_attempts(retries),
            retry_interval_s=_interval(retry_interval),
            file_name=file_name,
            start=start_time,
            stop=stop_time,
        )
        return file_name

    def begin_diagnostics(self, unique_id: str) -> None:
        job = self._prepared.pop(unique_id, None)
        if job is None:
            return
        if self._upload is not None and not self._upload.done():
            self._upload.cancel()
        self._upload = self._tasks.spawn(self._run_upload(job))

    async def _run_upload(self, job: Job) -> None:
        await self.agent.ctx.db(_save, job)
        try:
            transfer.check_location(job.location)
        except transfer.TransferError as exc:
            log.warning("diagnostics upload to %s refused: %s", transfer.safe_location(job.location), exc)
            await self._notify(job, "UploadFailed")
            return
        directory = _diagnostics_dir()
        bundle = directory / job.file_name
        await asyncio.to_thread(_fresh_dir, directory)
        try:  # reads the database (the secrets to redact, the configuration): a database worker
            await self.agent.ctx.db(diagnostics_write, bundle, start=job.start, stop=job.stop)
        except Exception:  # logged by ctx.db; the backend learns it failed
            log.warning("diagnostics bundle for %s not written", transfer.safe_location(job.location))
            await self._notify(job, "UploadFailed")
            return
        await self._notify(job, "Uploading")
        sent = await self._attempt(
            job,
            "upload",
            lambda: transfer.upload(
                job.location,
                bundle,
                timeout_s=setting("WBM_OCPP_TRANSFER_TIMEOUT_S", 60.0),
                http_method=setting("WBM_OCPP_DIAGNOSTICS_HTTP_METHOD", "POST"),
            ),
        )
        await self._notify(job, "Uploaded" if sent else "UploadFailed")

    # --- TriggerMessage ---------------------------------------------------------------------
    def current(self, kind: str) -> str:
        """What a triggered FirmwareStatusNotification/DiagnosticsStatusNotification says now:
        the step under way, Idle when nothing runs."""
        if kind == "FirmwareStatusNotification":
            running = self._update is not None and not self._update.done()
            status = self.firmware_status["status"]
            return status if running and status in FW_BUSY and status != "Scheduled" else "Idle"
        running = self._upload is not None and not self._upload.done()
        return "Uploading" if running and self.diagnostics_status["status"] == "Uploading" else "Idle"

    async def trigger(self, kind: str) -> None:
        """TriggerMessage of FirmwareStatusNotification or DiagnosticsStatusNotification (call it
        after the TriggerMessage answer went out)."""
        status = self.current(kind)
        if kind == "FirmwareStatusNotification":
            await self.agent.send(call.FirmwareStatusNotification(status=status))
        elif kind == "DiagnosticsStatusNotification":
            await self.agent.send(call.DiagnosticsStatusNotification(status=status))

    def status(self) -> dict[str, Any]:
        """``firmware`` and ``diagnostics`` of the agent's status."""
        return {"firmware": dict(self.firmware_status), "diagnostics": dict(self.diagnostics_status)}

    # --- internals ------------------------------------------------------------------------
    async def _attempt(self, job: Job, what: str, work: Any) -> bool:
        for attempt in range(1, job.attempts + 1):
            try:
                await asyncio.to_thread(work)
            except (transfer.TransferError, OSError) as exc:
                log.warning(
                    "%s %s/%s with %s failed: %s",
                    what,
                    attempt,
                    job.attempts,
                    transfer.safe_location(job.location),
                    exc,
                )
                if attempt < job.attempts:
                    await asyncio.sleep(job.retry_interval_s)
                continue
            return True
        return False

    async def _notify(self, job: Job, status: str) -> None:
        """Record the step, then report it (through the outbox)."""
        now = utc_now()
        shown = {"status": status, "at": now.timestamp()}
        try:
            await self.agent.ctx.db(_set_status, job.kind, status)
        except Exception:  # logged by ctx.db; the backend is still told
            log.warning("%s: step %s not recorded", job.kind, status)
        if job.kind == FIRMWARE:
            self.firmware_status = shown
            await self.agent.enqueue(call.FirmwareStatusNotification(status=status))
        else:
            self.diagnostics_status = shown
            await self.agent.enqueue(call.DiagnosticsStatusNotification(status=status))
        publish(self.agent)

    def _charge_box_id(self) -> str:
        return str(getattr(self.agent, "charge_box_id", "") or "")


def _attempts(retries: int | None) -> int:
    """``retries``: how often to try (5.19: "how many times Charge Point must try"); absent: ours."""
    if retries is None:
        return max(1, int(setting("WBM_OCPP_TRANSFER_ATTEMPTS", 3)))
    return max(1, min(int(retries), 10))


def _interval(retry_interval: int | None) -> int:
    if retry_interval is None:
        return max(0, int(setting("WBM_OCPP_TRANSFER_RETRY_INTERVAL_S", 30)))
    return max(0, min(int(retry_interval), 3600))


def _file_name(location: str) -> str:
    name = location.rstrip("/").rsplit("/", 1)[-1]
    clean = "".join(c for c in name if c.isalnum() or c in "-_.")[:100].lstrip(".")
    return clean or "firmware.bin"


def _install(job: Job, downloaded: Path, directory: Path) -> bool:
    """The simulated installation: a non-empty file is kept as the installed firmware and
    ``installed.json`` says so (written last and atomically: it is the proof after a restart)."""
    try:
        data = downloaded.read_bytes()
    except OSError:
        return False
    if not data:
        downloaded.unlink(missing_ok=True)
        return False
    target = directory / job.file_name
    os.replace(downloaded, target)
    manifest = {
        "file": job.file_name,
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "location": transfer.safe_location(job.location),
        "retrieve_at": wire_time(job.retrieve_at) if job.retrieve_at else None,
        "installed_at": wire_time(utc_now()),
    }
    part = directory / (MANIFEST + ".part")
    part.write_text(json.dumps(manifest, indent=2))
    os.replace(part, directory / MANIFEST)
    return True


def _installed_from(job: Job) -> bool:
    """After a restart: did the "Installing" of ``job`` finish?"""
    try:
        manifest = json.loads((_firmware_dir() / MANIFEST).read_text())
    except (OSError, ValueError):
        return False
    retrieve = wire_time(job.retrieve_at) if job.retrieve_at else None
    return manifest.get("location") == transfer.safe_location(job.location) and manifest.get("retrieve_at") == retrieve


def _fresh_dir(directory: Path) -> None:
    """The diagnostics directory holds the bundle being sent only."""
    directory.mkdir(parents=True, exist_ok=True)
    for old in directory.glob("*.zip"):
        old.unlink(missing_ok=True)


# --- database work ----------------------------------------------------------------------------


def _load() -> list[Job]:
    return [
        Job(
            kind=j.kind,
            location=j.location,
            status=j.status,
            retrieve_at=j.retrieve_at,
            attempts=max(1, j.retries),
            retry_interval_s=j.retry_interval_s,
            file_name=j.file_name,
        )
        for j in FirmwareJob.objects.all()
    ]


def _save(job: Job) -> None:
    FirmwareJob.objects.update_or_create(
        kind=job.kind,
        defaults={
            "location": job.location[:512],
            "status": job.status,
            "retrieve_at": job.retrieve_at,
            "retries": job.attempts,
            "retry_interval_s": job.retry_interval_s,
            "file_name": job.file_name,
        },
    )


def _set_status(kind: str, status: str) -> None:
    FirmwareJob.objects.filter(kind=kind).update(status=status, updated_at=utc_now())
