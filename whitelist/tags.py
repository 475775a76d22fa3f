"""RFID tags and EVCC IDs in one stored form (pure functions: the controller, forms, the CSV
import and the API all use them, so a tag is compared the same way everywhere).

Both are hexadecimal. Readers, labels and vehicles write them in different cases and with
separators ("04:a1:b2", "04-A1-B2", "04 a1 b2"); the stored and compared form is upper case
without separators, so ``04:a1:b2:c3`` and ``04A1B2C3`` are the same card.
"""

from __future__ import annotations

import re

RFID = "rfid"
EVCC_ID = "evccid"

# RFID UIDs are 4, 7 or 10 bytes (ISO 14443) and some readers report 2 to 16; the simulated
# reader accepts the same range (chargepoints/controller/simulation.py RFID_RE).
RFID_MIN_HEX = 4
RFID_MAX_HEX = 32
# The EVCC ID of ISO 15118-2 is the MAC address of the vehicle's communication controller: 6 bytes.
EVCC_ID_HEX = 12

_SEPARATORS = re.compile(r"[\s:\-.]")
_HEX = re.compile(r"^[0-9A-F]*$")


def normalize(raw: str) -> str:
    """The stored form of a tag or EVCC ID: upper case, separators (``: - .`` and spaces) removed."""
    return _SEPARATORS.sub("", raw or "").upper()


def problem(kind: str, tag: str) -> str | None:
    """Why a *normalised* tag is not valid for ``kind`` (a stable key), or None when it is."""
    if not tag:
        return "required"
    if not _HEX.match(tag):
        return "not_hex"
    if kind == EVCC_ID:
        return None if len(tag) == EVCC_ID_HEX else "evcc_length"
    if not RFID_MIN_HEX <= len(tag) <= RFID_MAX_HEX:
        return "rfid_length"
    return None
