"""Build and sign a software update bundle (System Control / Software).

    manage.py buildbundle --bundle-version 1.2.0 --payload build.tar --key release.pem --out wbm-1.2.0.wbmb
    manage.py buildbundle --bundle-version 1.2.0 --dev-key --out test.wbmb        # the development key
    manage.py buildbundle --genkey release.pem                              # a new key pair
    manage.py buildbundle --public-key release.pem                          # for WBM_UPDATE_PUBLIC_KEYS

The development key is derived from a fixed text: anyone can sign with it. A controller trusts
it only when its public key is configured (tests and demos do; a release never does)."""

from __future__ import annotations

import base64
import hashlib
import os
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from wbm.system.update import COMPONENTS, VERSION, build_bundle, raw_public

DEV_SEED = b"wbm development update key - never trusted by a release"


def development_key() -> Any:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    return Ed25519PrivateKey.from_private_bytes(hashlib.sha256(DEV_SEED).digest())


def development_public_key() -> str:
    """Base64 of the development key's 32 public bytes (a value for WBM_UPDATE_PUBLIC_KEYS)."""
    return base64.b64encode(raw_public(development_key().public_key())).decode()


def load_private_key(path: Path) -> Any:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    key = load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise CommandError("the key is not an Ed25519 private key")
    return key


class Command(BaseCommand):
    help = "Build and sign a software update bundle; create or show signing keys."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--bundle-version", dest="bundle_version", help="the software version, e.g. 1.2.0")
        parser.add_argument("--payload", type=Path, help="the software to ship (default: a small placeholder)")
        parser.add_argument("--key", type=Path, help="the Ed25519 private key (PEM)")
        parser.add_argument("--dev-key", action="store_true", help="sign with the development key")
        parser.add_argument("--device-type", default="", help="default: this controller's (WBM_DEVICE_TYPE)")
        parser.add_argument(
            "--component", action="append", choices=sorted(COMPONENTS), help="repeatable; default system"
        )
        parser.add_argument("--notes", default="")
        parser.add_argument("--out", type=Path)
        parser.add_argument(
            "--genkey", type=Path, help="write a new private key (PEM, 0600) here and print its public key"
        )
        parser.add_argument("--public-key", type=Path, help="print the public key of this private key")

    def handle(self, *args: Any, **opts: Any) -> None:
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
        from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

        if opts["genkey"]:
            key = Ed25519PrivateKey.generate()
            pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
            fd = os.open(opts["genkey"], os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(pem)
            self.stdout.write(base64.b64encode(raw_public(key.public_key())).decode())
            return
        if opts["public_key"]:
            self.stdout.write(base64.b64encode(raw_public(load_private_key(opts["public_key"]).public_key())).decode())
            return
        version = opts["bundle_version"] or ""
        if not VERSION.match(version):
            raise CommandError("--bundle-version: digits and dots, e.g. 1.2.0")
        if bool(opts["key"]) == bool(opts["dev_key"]):
            raise CommandError("give --key or --dev-key")
        if not opts["out"]:
            raise CommandError("give --out")
        key = development_key() if opts["dev_key"] else load_private_key(opts["key"])
        payload = opts["payload"].read_bytes() if opts["payload"] else f"wbm software {version}\n".encode()
        from wbm.system.update import device_type

        raw = build_bundle(
            payload=payload,
            version=version,
            device_type=opts["device_type"] or device_type(),
            private_key=key,
            components=opts["component"] or ("system",),
            notes=opts["notes"],
        )
        opts["out"].write_bytes(raw)
        self.stdout.write(
            f"{opts['out']}: version {version}, {len(raw)} bytes, key {raw_public(key.public_key()).hex()[:16]}"
        )
