"""The CA certificate that verifies a wss:// backend: checked with ``cryptography`` before it is
stored (PEM, one X.509 certificate, not expired, at most ``MAX_CERTIFICATE_BYTES``) and shown by
subject and expiry date."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography import x509
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

MAX_CERTIFICATE_BYTES = 64 * 1024  # a CA bundle of a few certificates; more is not a CA certificate
PEM_BEGIN = b"-----BEGIN CERTIFICATE-----"


class CertificateError(ValueError):
    """The upload is not a certificate that can be used; ``message`` says why (translated)."""

    def __init__(self, code: str, message: str | Promise) -> None:
        super().__init__(code)
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class CertificateInfo:
    """What the pages and the API show of a stored certificate."""

    subject: str
    expires: datetime  # UTC

    @property
    def expired(self) -> bool:
        return self.expires <= datetime.now(tz=UTC)


def check_certificate(raw: bytes | str) -> tuple[str, CertificateInfo]:
    """The PEM text to store and what it shows; ``CertificateError`` when ``raw`` is too large,
    not PEM, not a certificate, or expired (the first certificate of a bundle is shown; every
    one of them must be valid)."""
    data = raw.encode("utf-8", "replace") if isinstance(raw, str) else bytes(raw)
    if len(data) > MAX_CERTIFICATE_BYTES:
        raise CertificateError(
            "too_large", _("The file is too large for a certificate (at most %(kb)d KB).") % {"kb": 64}
        )
    if PEM_BEGIN not in data:
        raise CertificateError("not_pem", _("This is not a PEM file (“-----BEGIN CERTIFICATE-----” is missing)."))
    try:
        certificates = x509.load_pem_x509_certificates(data)
    except ValueError:
        raise CertificateError("not_certificate", _("The file does not hold a readable X.509 certificate.")) from None
    now = datetime.now(tz=UTC)
    for certificate in certificates:
        if certificate.not_valid_after_utc <= now:
            raise CertificateError(
                "expired",
                _("The certificate expired on %(date)s.")
                % {"date": certificate.not_valid_after_utc.strftime("%Y-%m-%d")},
            )
    text = data.decode("ascii", "replace").strip() + "\n"
    return text, _info(certificates[0])


def describe(pem: str) -> CertificateInfo | None:
    """A stored certificate's subject and expiry (None: none stored, or unreadable)."""
    if not pem.strip():
        return None
    try:
        certificates = x509.load_pem_x509_certificates(pem.encode("ascii", "replace"))
    except ValueError:
        return None
    return _info(certificates[0])


def _info(certificate: x509.Certificate) -> CertificateInfo:
    return CertificateInfo(subject=certificate.subject.rfc4514_string(), expires=certificate.not_valid_after_utc)
