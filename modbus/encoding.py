"""16-bit register words from values, as the CHARX encodes them: big-endian, the most significant
word first (at the lower address); signed values in two's complement; ASCII two characters per
register, high byte first, padded with spaces (the real controller's software version reads
"1.9.0   "). Out-of-range numbers saturate rather than wrap: a register never shows a small value
for a huge one.
"""

from __future__ import annotations

import ipaddress

U16_MAX = 0xFFFF
U32_MAX = 0xFFFF_FFFF
U64_MAX = 0xFFFF_FFFF_FFFF_FFFF


def _clamp(value: int, low: int, high: int) -> int:
    return low if value < low else high if value > high else value


def u16(value: int) -> int:
    return _clamp(value, 0, U16_MAX)


def s16(value: int) -> int:
    return _clamp(value, -0x8000, 0x7FFF) & U16_MAX


def u32(value: int) -> tuple[int, int]:
    v = _clamp(value, 0, U32_MAX)
    return v >> 16, v & U16_MAX


def s32(value: int) -> tuple[int, int]:
    v = _clamp(value, -0x8000_0000, 0x7FFF_FFFF) & U32_MAX
    return v >> 16, v & U16_MAX


def u64(value: int) -> tuple[int, int, int, int]:
    v = _clamp(value, 0, U64_MAX)
    return v >> 48, (v >> 32) & U16_MAX, (v >> 16) & U16_MAX, v & U16_MAX


def s64(value: int) -> tuple[int, int, int, int]:
    v = _clamp(value, -0x8000_0000_0000_0000, 0x7FFF_FFFF_FFFF_FFFF) & U64_MAX
    return v >> 48, (v >> 32) & U16_MAX, (v >> 16) & U16_MAX, v & U16_MAX


def ascii_words(text: str, words: int) -> tuple[int, ...]:
    """``text`` in ``words`` registers: ASCII (anything else becomes "?"), cut to fit, padded
    with spaces. Clients trim the spaces (evcc ``TrimSpace``, aiophoenixcontactcharx
    ``strip``); trailing NULs would stay in evcc's string."""
    raw = text.encode("ascii", "replace")[: 2 * words].ljust(2 * words, b" ")
    return tuple((raw[i] << 8) | raw[i + 1] for i in range(0, len(raw), 2))


def mac_words(mac: str) -> tuple[int, int, int]:
    """A MAC address ("A8:74:1D:00:00:01", "-" or ":" separated) as three words, two bytes
    each, first byte high; zeros when it is empty or not a MAC address."""
    digits = mac.replace(":", "").replace("-", "")
    if len(digits) != 12:
        return 0, 0, 0
    try:
        raw = bytes.fromhex(digits)
    except ValueError:
        return 0, 0, 0
    return (raw[0] << 8) | raw[1], (raw[2] << 8) | raw[3], (raw[4] << 8) | raw[5]


def ipv4_words(address: str) -> tuple[int, int, int, int]:
    """An IPv4 address as four registers, one octet each; zeros when empty or not IPv4."""
    try:
        packed = ipaddress.IPv4Address(address).packed
    except ValueError:
        return 0, 0, 0, 0
    return packed[0], packed[1], packed[2], packed[3]
