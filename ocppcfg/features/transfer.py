"""File transfers of Firmware Management: the firmware download (UpdateFirmware) and the upload of
the diagnostics bundle (GetDiagnostics), over HTTP(S) with ``urllib`` and FTP with ``ftplib``.

Blocking code, meant for a worker thread (``asyncio.to_thread``). A location is checked before
anything is opened: only http://, https:// and ftp:// with a host, no whitespace or control
characters; it is never handed to a shell or another program. Credentials in the URL
(``ftp://user:password@host/``) are used for the login and never logged. Every transfer has a
timeout and a size limit.
"""

from __future__ import annotations

import base64
import ftplib
import logging
import os
import ssl
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO
from urllib.parse import SplitResult, unquote, urlsplit, urlunsplit

log = logging.getLogger("ocppcfg.features.transfer")

SCHEMES = ("http", "https", "ftp")
CHUNK = 64 * 1024
USER_AGENT = "wbm-ocpp/1.6"


class TransferError(Exception):
    """A transfer that failed; the message is safe to log (no credentials)."""


def check_location(url: str) -> SplitResult:
    """The parsed location, or TransferError for anything but a plain http(s)/ftp URL."""
    if not isinstance(url, str) or not url or len(url) > 512:
        raise TransferError("no usable location")
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in url):
        raise TransferError("the location contains whitespace or control characters")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError as exc:
        raise TransferError(f"unreadable location: {exc}") from None
    if parts.scheme.lower() not in SCHEMES:
        raise TransferError(f"scheme {parts.scheme[:10]!r} is not supported")
    if not parts.hostname:
        raise TransferError("the location has no host")
    return parts


def safe_location(url: str) -> str:
    """The location without its credentials (for logs and the status)."""
    try:
        parts = urlsplit(url)
        netloc = parts.hostname or ""
        if parts.port:
            netloc = f"{netloc}:{parts.port}"
        return urlunsplit((parts.scheme, netloc, parts.path, "", ""))
    except ValueError:
        return "(unreadable)"


# --- download ---------------------------------------------------------------------------------


def download(url: str, dest: Path, *, max_bytes: int, timeout_s: float) -> int:
    """Fetch ``url`` into ``dest`` (replaced atomically); returns the size in bytes."""
    parts = check_location(url)
    part = dest.with_name(dest.name + ".part")
    try:
        with part.open("wb") as out:
            if parts.scheme.lower() == "ftp":
                size = _ftp_retrieve(parts, out, max_bytes=max_bytes, timeout_s=timeout_s)
            else:
                size = _http_get(parts, out, max_bytes=max_bytes, timeout_s=timeout_s)
            out.flush()
            os.fsync(out.fileno())
        os.replace(part, dest)
    finally:
        part.unlink(missing_ok=True)
    return size


def _limited(max_bytes: int, out: BinaryIO) -> Callable[[bytes], None]:
    written = 0

    def write(chunk: bytes) -> None:
        nonlocal written
        written += len(chunk)
        if written > max_bytes:
            raise TransferError(f"larger than {max_bytes} bytes")
        out.write(chunk)

    return write


def _http_request(
    parts: SplitResult, *, method: str, data: bytes | None = None, headers: dict[str, str] | None = None
) -> urllib.request.Request:
    netloc = parts.hostname or ""
    if ":" in netloc:  # an IPv6 address
        netloc = f"[{netloc}]"
    if parts.port:
        netloc = f"{netloc}:{parts.port}"
    target = urlunsplit((parts.scheme.lower(), netloc, parts.path or "/", parts.query, ""))
    request = urllib.request.Request(
        target, data=data, method=method, headers={"User-Agent": USER_AGENT, **(headers or {})}
    )
    if parts.username is not None:
        token = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
        request.add_header("Authorization", "Basic " + base64.b64encode(token).decode("ascii"))
    return request


def _open(request: urllib.request.Request, timeout_s: float):  # type: ignore[no-untyped-def]
    context = ssl.create_default_context()
    try:
        return urllib.request.urlopen(request, timeout=timeout_s, context=context)
    except urllib.error.HTTPError as exc:
        raise TransferError(f"HTTP {exc.code}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise TransferError(f"cannot connect: {reason}") from None


def _http_get(parts: SplitResult, out: BinaryIO, *, max_bytes: int, timeout_s: float) -> int:
    write = _limited(max_bytes, out)
    size = 0
    with _open(_http_request(parts, method="GET"), timeout_s) as response:
        try:
            while chunk := response.read(CHUNK):
                write(chunk)
                size += len(chunk)
        except OSError as exc:
            raise TransferError(f"download broken off: {exc}") from None
    return size


def _ftp(parts: SplitResult, timeout_s: float) -> ftplib.FTP:
    ftp = ftplib.FTP(timeout=timeout_s)
    try:
        ftp.connect(parts.hostname or "", parts.port or 21)
        ftp.login(unquote(parts.username or "anonymous"), unquote(parts.password or "anonymous@"))
        ftp.set_pasv(True)
    except (ftplib.Error, OSError, EOFError) as exc:
        ftp.close()
        raise TransferError(f"FTP: {str(exc)[:200]}") from None
    return ftp


def _ftp_retrieve(parts: SplitResult, out: BinaryIO, *, max_bytes: int, timeout_s: float) -> int:
    path = unquote(parts.path)
    if not path or path.endswith("/"):
        raise TransferError("the FTP location names no file")
    write = _limited(max_bytes, out)
    size = 0

    def take(chunk: bytes) -> None:
        nonlocal size
        write(chunk)
        size += len(chunk)

    ftp = _ftp(parts, timeout_s)
    try:
        ftp.retrbinary(f"RETR {path}", take, blocksize=CHUNK)
    except (ftplib.Error, OSError, EOFError) as exc:
        raise TransferError(f"FTP: {str(exc)[:200]}") from None
    finally:
        ftp.close()
    return size


# --- upload -----------------------------------------------------------------------------------


def upload(url: str, path: Path, *, timeout_s: float, http_method: str = "POST") -> None:
    """Send ``path`` to the location ``url`` (a directory): FTP STOR of the file name into it;
    HTTP POST as multipart/form-data (field "file"), or HTTP PUT of the bare file to the location
    plus the file name when it ends with "/" (else to the location itself)."""
    parts = check_location(url)
    if parts.scheme.lower() == "ftp":
        _ftp_store(parts, path, timeout_s=timeout_s)
    elif http_method.upper() == "PUT":
        target = parts._replace(path=parts.path + path.name) if parts.path.endswith("/") else parts
        _http_send(
            _http_request(target, method="PUT", data=path.read_bytes(), headers={"Content-Type": "application/zip"}),
            timeout_s,
        )
    else:
        boundary = uuid.uuid4().hex
        body = b"".join(
            (
                f"--{boundary}\r\n".encode(),
                f'Content-Disposition: form-data; name="file"; filename="{path.name}"\r\n'.encode(),
                b"Content-Type: application/zip\r\n\r\n",
                path.read_bytes(),
                f"\r\n--{boundary}--\r\n".encode(),
            )
        )
        headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
        _http_send(_http_request(parts, method="POST", data=body, headers=headers), timeout_s)


def _http_send(request: urllib.request.Request, timeout_s: float) -> None:
    with _open(request, timeout_s) as response:
        if not 200 <= response.status < 300:
            raise TransferError(f"HTTP {response.status}")
        response.read(CHUNK)


def _ftp_store(parts: SplitResult, path: Path, *, timeout_s: float) -> None:
    directory = unquote(parts.path).rstrip("/")
    remote = f"{directory}/{path.name}" if directory else path.name
    ftp = _ftp(parts, timeout_s)
    try:
        with path.open("rb") as source:
            ftp.storbinary(f"STOR {remote}", source, blocksize=CHUNK)
    except (ftplib.Error, OSError, EOFError) as exc:
        raise TransferError(f"FTP: {str(exc)[:200]}") from None
    finally:
        ftp.close()
