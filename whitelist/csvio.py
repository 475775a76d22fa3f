"""The whitelist as a CSV file: export, parse and validate an import, and plan what it changes.

The file (UTF-8, comma-separated, one header row; a UTF-8 byte order mark and ";" as separator,
as spreadsheets in German locales write them, are accepted on import):

    type,tag,name,allow_charging,expires_at
    rfid,04A1B2C3D4E5F6,Demo card,yes,2099-12-31T23:59:00+00:00
    evccid,0A1B2C3D4E5F,Fleet van 3,no,2027-06-30T18:00:00+00:00

``type`` is ``rfid`` or ``evccid``; ``tag`` hexadecimal (case and ``:``/``-``/space separators do
not matter, it is stored normalised); ``name`` optional (at most 60 characters); ``allow_charging``
``yes``/``no`` (also ``true``/``false``/``1``/``0``); ``expires_at`` ISO 8601 with the zone
(``Z`` or ``+01:00``; without one it is the controller's time, UTC). A cell a spreadsheet would run
as a formula (starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return) is written with
an apostrophe in front and refused on import unless it has that apostrophe.

Every row is checked before anything is written; each error names its row (the header is row 1,
as a spreadsheet counts) and column.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.conf import settings
from django.utils.translation import gettext as _

from whitelist import tags
from whitelist.models import MAX_ENTRIES, NAME_MAX, EntryType, WhitelistEntry, tag_problem_message

HEADER = ("type", "tag", "name", "allow_charging", "expires_at")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
TRUE = frozenset({"yes", "true", "1", "y"})
FALSE = frozenset({"no", "false", "0", "n"})
ADD = "add"
REPLACE = "replace"
MODES = (ADD, REPLACE)
CONTENT_TYPE = "text/csv; charset=utf-8"


@dataclass(frozen=True, slots=True)
class CsvError:
    """One problem of a file. ``row`` 0 and ``column`` "": the file as a whole."""

    row: int
    column: str
    message: str

    def __str__(self) -> str:
        if not self.row:
            return self.message
        if not self.column:
            return _("Row %(row)d: %(message)s") % {"row": self.row, "message": self.message}
        return _("Row %(row)d, column “%(column)s”: %(message)s") % {
            "row": self.row,
            "column": self.column,
            "message": self.message,
        }


@dataclass(frozen=True, slots=True)
class CsvRow:
    """One valid row: the values an entry gets."""

    row: int
    type: str
    tag: str
    name: str
    allow_charging: bool
    expires_at: datetime

    def values(self) -> dict[str, object]:
        return {
            "type": self.type,
            "tag": self.tag,
            "name": self.name,
            "allow_charging": self.allow_charging,
            "expires_at": self.expires_at,
        }


@dataclass
class ParsedCsv:
    rows: list[CsvRow] = field(default_factory=list)
    errors: list[CsvError] = field(default_factory=list)


# --- export ----------------------------------------------------------------------------------
def neutralise(value: str) -> str:
    """A cell a spreadsheet would run as a formula, as text (an apostrophe in front)."""
    return f"'{value}" if value.startswith(FORMULA_START) else value


def iso(moment: datetime) -> str:
    """ISO 8601 with the zone, in the controller's time (UTC), to the second."""
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def export_csv(entries: Iterable[WhitelistEntry]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER)
    for e in entries:
        writer.writerow(
            [
                e.type,
                neutralise(e.tag),
                neutralise(e.name),
                "yes" if e.allow_charging else "no",
                iso(e.expires_at),
            ]
        )
    return out.getvalue()


def export_filename(now: datetime) -> str:
    return f"whitelist-{now.astimezone(UTC):%Y%m%d-%H%M%S}.csv"


# --- parsing ---------------------------------------------------------------------------------
def _decode(raw: bytes) -> tuple[str | None, CsvError | None]:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return None, CsvError(
            0, "", _("The file is UTF-16 (it starts with a UTF-16 byte order mark). Save it as “CSV UTF-8”.")
        )
    try:
        text = raw.decode("utf-8-sig")  # a UTF-8 byte order mark (spreadsheets write one) is dropped
    except UnicodeDecodeError as exc:
        row = raw[: exc.start].count(b"\n") + 1
        return None, CsvError(row, "", _("The file is not UTF-8 text. Save it as “CSV UTF-8”."))
    if "\x00" in text:
        row = text[: text.index("\x00")].count("\n") + 1
        return None, CsvError(row, "", _("The file holds a NUL character: it is not a text file."))
    return text, None


def _header_delimiter(text: str) -> str:
    first = text.split("\n", 1)[0].strip().lower()
    return ";" if first.replace(" ", "") == ";".join(HEADER) else ","


def _cell(value: str, row: int, column: str, errors: list[CsvError]) -> str:
    if value.startswith("'") and value[1:].startswith(FORMULA_START):
        return value[1:]  # neutralised on export: the apostrophe only kept it text
    if value.startswith(FORMULA_START):
        errors.append(
            CsvError(
                row,
                column,
                _(
                    "The cell starts with “%(char)s”, which a spreadsheet would run as a formula. "
                    "Put an apostrophe in front to keep it as text."
                )
                % {"char": value[0].replace("\t", "⇥").replace("\r", "↵")},
            )
        )
    return value


def parse_expiry(value: str) -> datetime | None:
    """An ISO 8601 date and time (without a zone: UTC, the controller's time); None if it is not one."""
    value = value.strip()
    if not value or len(value) > 40:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        return None


def _row(cells: list[str], row: int, errors: list[CsvError]) -> CsvRow | None:
    before = len(errors)
    kind_raw, tag_raw, name_raw, allow_raw, expiry_raw = (c.strip() for c in cells)
    kind_raw = _cell(kind_raw, row, "type", errors).lower()
    kinds = {EntryType.RFID.value: EntryType.RFID.value, "rfid card": "rfid", "evcc id": "evccid", "evcc": "evccid"}
    kind = kinds.get(kind_raw) or (EntryType.EVCC_ID.value if kind_raw == EntryType.EVCC_ID.value else "")
    if not kind:
        errors.append(CsvError(row, "type", _("Use “rfid” or “evccid”.")))
    tag = tags.normalize(_cell(tag_raw, row, "tag", errors))
    if kind:
        message = tag_problem_message(kind, tag)
        if message:
            errors.append(CsvError(row, "tag", message))
    name = _cell(name_raw, row, "name", errors)
    if len(name) > NAME_MAX:
        errors.append(CsvError(row, "name", _("At most %(n)d characters.") % {"n": NAME_MAX}))
    allow_text = _cell(allow_raw, row, "allow_charging", errors).lower()
    if allow_text not in TRUE | FALSE:
        errors.append(CsvError(row, "allow_charging", _("Use “yes” or “no”.")))
    expires_at = parse_expiry(_cell(expiry_raw, row, "expires_at", errors))
    if expires_at is None:
        errors.append(
            CsvError(
                row,
                "expires_at",
                _("Not a date and time. Use ISO 8601 with the zone, e.g. 2030-12-31T23:59:00+00:00."),
            )
        )
    if len(errors) > before or expires_at is None:
        return None
    return CsvRow(row=row, type=kind, tag=tag, name=name, allow_charging=allow_text in TRUE, expires_at=expires_at)


def parse_csv(raw: bytes, *, max_bytes: int | None = None) -> ParsedCsv:
    """Every row of a whitelist file, or every error found (each at its row and column). Reads at
    most ``max_bytes`` (``WBM_MAX_UPLOAD_BYTES``) and at most ``MAX_ENTRIES`` data rows."""
    parsed = ParsedCsv()
    errors = parsed.errors
    limit = max_bytes if max_bytes is not None else settings.WBM_MAX_UPLOAD_BYTES
    if len(raw) > limit:
        errors.append(
            CsvError(0, "", _("The file is larger than %(kib)d KiB; nothing was read.") % {"kib": limit // 1024})
        )
        return parsed
    text, problem = _decode(raw)
    if text is None:
        assert problem is not None
        errors.append(problem)
        return parsed
    if not text.strip():
        errors.append(CsvError(1, "", _("The file is empty: the header row is missing.")))
        return parsed
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_header_delimiter(text), strict=True)
    seen: dict[tuple[str, str], int] = {}
    row = data_rows = 0
    try:
        for cells in reader:
            row += 1
            if row == 1:
                _check_header(cells, errors)
                if errors:
                    return parsed
                continue
            if not any(c.strip() for c in cells):
                continue  # blank lines (a trailing one, spreadsheets' empty rows)
            data_rows += 1
            if data_rows > MAX_ENTRIES:
                errors.append(
                    CsvError(
                        row,
                        "",
                        _("The file has more than %(max)d entries; the whitelist holds at most %(max)d.")
                        % {"max": MAX_ENTRIES},
                    )
                )
                break
            if len(cells) != len(HEADER):
                errors.append(
                    CsvError(
                        row, "", _("Expected %(n)d cells, found %(found)d.") % {"n": len(HEADER), "found": len(cells)}
                    )
                )
                continue
            entry = _row(cells, row, errors)
            if entry is None:
                continue
            key = (entry.type, entry.tag)
            if key in seen:
                errors.append(
                    CsvError(
                        row,
                        "tag",
                        _("%(tag)s is already in row %(first)d.") % {"tag": entry.tag, "first": seen[key]},
                    )
                )
                continue
            seen[key] = row
            parsed.rows.append(entry)
    except csv.Error as exc:
        errors.append(CsvError(row + 1, "", _("Not readable as CSV: %(reason)s") % {"reason": str(exc)[:120]}))
    return parsed


def _check_header(cells: list[str], errors: list[CsvError]) -> None:
    found = [c.strip().lower() for c in cells]
    if found == list(HEADER):
        return
    expected = ",".join(HEADER)
    for index, name in enumerate(HEADER):
        got = found[index] if index < len(found) else ""
        if got != name:
            errors.append(
                CsvError(
                    1,
                    name,
                    _("The header row must be “%(expected)s”; column %(n)d is “%(got)s”.")
                    % {"expected": expected, "n": index + 1, "got": got[:40]},
                )
            )
            return
    errors.append(
        CsvError(1, "", _("The header row must be “%(expected)s”; it has more columns.") % {"expected": expected})
    )


# --- what an import changes ------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Change:
    """One entry an import adds, changes or removes; ``fields`` the names of the changed values."""

    type: str
    tag: str
    name: str
    row: int = 0  # in the file (0: removed, not in the file)
    fields: tuple[str, ...] = ()
    before: dict[str, object] | None = None
    after: dict[str, object] | None = None


@dataclass
class ImportPlan:
    """What an import would do: the errors (nothing is written with any) or the entries added,
    changed and removed, and how many stay as they are. ``fingerprint`` names the file, the mode
    and the list it was planned against: applying it is refused when any of them moved."""

    mode: str
    rows: list[CsvRow]
    errors: list[CsvError]
    added: list[Change] = field(default_factory=list)
    changed: list[Change] = field(default_factory=list)
    removed: list[Change] = field(default_factory=list)
    unchanged: int = 0
    total_after: int = 0
    fingerprint: str = ""

    @property
    def ok(self) -> bool:
        return not self.errors


def _values(entry: WhitelistEntry) -> dict[str, object]:
    return {
        "type": entry.type,
        "tag": entry.tag,
        "name": entry.name,
        "allow_charging": entry.allow_charging,
        "expires_at": entry.expires_at,
    }


def import_plan(*, parsed: ParsedCsv, mode: str, revision: int) -> ImportPlan:
    """Compare the file with the stored list. ``add``: new tags are added, listed ones take the
    file's values; ``replace``: the list becomes the file (a replace with no rows is refused:
    it never leaves the park without a whitelist by accident)."""
    plan = ImportPlan(mode=mode, rows=parsed.rows, errors=list(parsed.errors))
    if mode not in MODES:
        plan.errors.append(CsvError(0, "", _("Choose “Add from import” or “Replace with import”.")))
        return plan
    if plan.errors:
        return plan
    if not parsed.rows:
        plan.errors.append(CsvError(0, "", _("The file has no entries.")))
        return plan
    stored = {(e.type, e.tag): e for e in WhitelistEntry.objects.all()}
    for r in parsed.rows:
        current = stored.get((r.type, r.tag))
        after = r.values()
        if current is None:
            plan.added.append(Change(r.type, r.tag, r.name, row=r.row, after=after))
            continue
        before = _values(current)
        changed = tuple(k for k in ("name", "allow_charging", "expires_at") if before[k] != after[k])
        if changed:
            plan.changed.append(
                Change(r.type, r.tag, r.name or current.name, row=r.row, fields=changed, before=before, after=after)
            )
        else:
            plan.unchanged += 1
    if mode == REPLACE:
        in_file = {(r.type, r.tag) for r in parsed.rows}
        plan.removed = [
            Change(e.type, e.tag, e.name, before=_values(e)) for key, e in sorted(stored.items()) if key not in in_file
        ]
        plan.total_after = len(parsed.rows)
    else:
        plan.total_after = len(stored) + len(plan.added)
    if plan.total_after > MAX_ENTRIES:
        plan.errors.append(
            CsvError(
                0,
                "",
                _(
                    "After this import the whitelist would hold %(total)d entries; at most %(max)d are allowed. "
                    "Nothing was written."
                )
                % {"total": plan.total_after, "max": MAX_ENTRIES},
            )
        )
    digest = hashlib.sha256(f"{mode}|{revision}|".encode())
    for r in parsed.rows:
        digest.update(f"{r.type}|{r.tag}|{r.name}|{r.allow_charging}|{iso(r.expires_at)}\n".encode())
    plan.fingerprint = digest.hexdigest()[:32]
    return plan
