"""Read a voter list from a CSV file: pure parsing, no store.

Reading is streamed: the file is decoded line by line (UTF-8, with or without a BOM, falling
back to Windows-1252 for lines that are not UTF-8), the delimiter is sniffed from the first
64 KB, the header is mapped onto voter fields, and each row becomes a VoterRow or a RowError.
A bad row never stops reading, while a file that cannot be read as a voter list at all raises
InvalidInput.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import BinaryIO

import phonenumbers

from engine.errors import InvalidInput
from engine.models import LineType, VoterDetails
from engine.security.csv_cells import safe_cell
from engine.voters.calling_hours import voter_timezone
from engine.voters.headers import HeaderMap, map_headers, resolve_choices
from engine.voters.line_types import flagged_line_type, line_type, listed_line_type

Source = str | os.PathLike[str] | BinaryIO
Progress = Callable[[int, int, int | None], None]
"""progress(rows_done, bytes_done, bytes_total or None when the size is unknown)."""

PROGRESS_EVERY = 1000
SAMPLE_BYTES = 64 * 1024
MAX_LINE_BYTES = 1024 * 1024

_SUFFIXES = {"jr", "sr", "ii", "iii", "iv", "v"}

ENCODING_NAMES = {
    "utf-8": "Unicode (UTF-8)",
    "utf-8-sig": "Unicode (UTF-8 with byte-order mark)",
    "cp1252": "Windows Western (cp1252)",
}
"""The encodings a list is read in, named for people."""

Choices = Mapping[str, str]
"""The operator's column mapping: a column (header text, or position from 1) -> what it is
used as (engine.voters.headers.TARGET_LABELS)."""


def encoding_name(encoding: str) -> str:
    """ "Windows Western (cp1252)" for "cp1252"."""
    return ENCODING_NAMES.get(encoding, encoding)


VoterRow = VoterDetails
"""One voter from the file, ready for Store.add_voters (the voter fields of engine.models)."""


@dataclass(frozen=True, slots=True)
class RowError:
    """A row that was not imported: its first physical line (header = 1), why, and its fields."""

    line: int
    reason: str
    raw: list[str]

    def __str__(self) -> str:
        return f"line {self.line:,}: {self.reason}"


def split_full_name(name: str) -> tuple[str, str]:
    """("John Q.", "Smith Jr.") from "John Q. Smith Jr." or "Smith Jr., John Q."."""
    if "," in name:
        last, _, first = name.partition(",")
        return first.strip(), last.strip()
    words = name.split()
    cut = len(words) - 1
    if cut > 1 and words[-1].strip(".").casefold() in _SUFFIXES:
        cut -= 1
    if cut < 1:
        return name.strip(), ""
    return " ".join(words[:cut]), " ".join(words[cut:])


def normalise_phone(text: str, default_region: str) -> str | None:
    """The number in E.164, or None if it is not a valid number (possible is not enough)."""
    number = _valid_number(text, default_region)
    return None if number is None else _e164(number)


def _valid_number(text: str, default_region: str) -> phonenumbers.PhoneNumber | None:
    """The parsed number, or None if it is not a valid number."""
    if re.fullmatch(r"\d+\.0", text):  # a spreadsheet turned it into a float
        text = text[:-2]
    try:
        number = phonenumbers.parse(text, default_region)
    except phonenumbers.NumberParseException:
        return None
    return number if phonenumbers.is_valid_number(number) else None


def _e164(number: phonenumbers.PhoneNumber) -> str:
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


class VoterFile:
    """An open CSV voter list: its format and mapped header, then its rows (read once)."""

    def __init__(
        self,
        stream: BinaryIO,
        default_region: str = "US",
        choices: Choices | None = None,
        require_phone: bool = True,
    ) -> None:
        """Reads the first 64 KB and the header, mapped with the operator's ``choices`` if
        any. Raises InvalidInput for an empty file, a binary file, a file without a header or
        (unless not ``require_phone``, for a preview that lets the operator choose it)
        without a phone column, and for choices that do not fit the header."""
        self.default_region = default_region
        self._choices = choices or {}
        self._require_phone = require_phone
        self.bytes_total = _remaining_size(stream)
        self.bytes_done = 0
        self.short_rows = 0
        """Rows imported with their missing trailing fields left empty."""
        sample = stream.read(SAMPLE_BYTES)
        whole = len(sample) < SAMPLE_BYTES
        _reject_non_text(sample)
        self.encoding = _detect_encoding(sample)
        if sample.startswith(codecs.BOM_UTF8):
            sample = sample[len(codecs.BOM_UTF8) :]
            self.bytes_done = len(codecs.BOM_UTF8)
        self.delimiter = _sniff_delimiter(_decode(sample, self.encoding), whole)
        self._reader = csv.reader(self._lines(sample, stream), delimiter=self.delimiter)
        self.header_map = self._read_header()

    def rows(self, progress: Progress | None = None) -> Iterator[VoterRow | RowError]:
        """Each non-blank row after the header, in file order."""
        done = 0
        while True:
            line = self._reader.line_num + 1
            try:
                fields = next(self._reader)
            except StopIteration:
                break
            except csv.Error as exc:
                hint = "; check for a quote that is never closed" if "limit" in str(exc) else ""
                yield RowError(line, f"not readable as CSV ({exc}){hint}", [])
                continue
            if not any(f.strip() for f in fields):
                continue
            row = _voter_row(fields, line, self.header_map, self.default_region)
            if len(fields) < len(self.header_map.headers) and not isinstance(row, RowError):
                self.short_rows += 1
            yield row
            done += 1
            if progress is not None and done % PROGRESS_EVERY == 0:
                progress(done, self.bytes_done, self.bytes_total)
        if progress is not None:
            progress(done, self.bytes_done, self.bytes_total)

    def _lines(self, sample: bytes, stream: BinaryIO) -> Iterator[str]:
        """Decoded physical lines (ending in \\n, \\r\\n or \\r), counting bytes as they go."""
        pending = b""
        for chunk in _chunks(sample, stream):
            lines = (pending + chunk).splitlines(keepends=True)
            pending = lines.pop() if lines and not lines[-1].endswith(b"\n") else b""
            if len(pending) > MAX_LINE_BYTES:  # no voter row is this long: garbage, cut it
                lines.append(pending)
                pending = b""
            for line in lines:
                self.bytes_done += len(line)
                yield _decode(line, self.encoding)
        if pending:
            self.bytes_done += len(pending)
            yield _decode(pending, self.encoding)

    def _read_header(self) -> HeaderMap:
        try:
            header = next((row for row in self._reader if any(f.strip() for f in row)), None)
        except csv.Error as exc:
            raise InvalidInput(f"the header line cannot be read as CSV: {exc}") from exc
        if header is None:
            raise InvalidInput("the file is empty: it has no header and no voter rows")
        header_map = map_headers(header, resolve_choices(self._choices, header))
        if not header_map.phone_columns:
            names = ", ".join(h for h in header_map.headers if h)
            if any(normalise_phone(f.strip(), self.default_region) for f in header):
                raise InvalidInput(
                    f"the file has no header: its first line ({names}) looks like a voter; add a"
                    " first line naming the columns, e.g. first_name,last_name,phone"
                )
            if not self._require_phone:
                return header_map
            if self._choices:
                raise InvalidInput("no column is used as the phone: choose the phone column")
            raise InvalidInput(
                f"no phone column found: the header has {names!r}; name one column 'phone'"
                " (or choose the phone column in the upload preview, or with 'mapping')"
            )
        return header_map


@contextmanager
def open_voter_file(
    source: Source,
    default_region: str = "US",
    choices: Choices | None = None,
    require_phone: bool = True,
) -> Iterator[VoterFile]:
    """A VoterFile for a path (opened and closed here) or a binary file object (left open).

    Raises InvalidInput as VoterFile does, and OSError if the path cannot be read.
    """
    if isinstance(source, str | os.PathLike):
        with open(source, "rb") as stream:
            yield VoterFile(stream, default_region, choices, require_phone)
    else:
        yield VoterFile(source, default_region, choices, require_phone)


def read_voter_rows(
    source: Source,
    default_region: str = "US",
    progress: Progress | None = None,
    choices: Choices | None = None,
) -> Iterator[VoterRow | RowError]:
    """Every voter row or row error in the file; raises InvalidInput as VoterFile does."""
    with open_voter_file(source, default_region, choices) as voter_file:
        yield from voter_file.rows(progress)


def rejected_rows_csv(errors: Iterable[RowError], header: Sequence[str] = ()) -> str:
    """The rejected rows as CSV text: line, reason, then the row's own fields, each cell
    guarded against running as a spreadsheet formula (engine/security/csv_cells.py)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([safe_cell(cell) for cell in ["line", "reason", *header]])
    for error in errors:
        writer.writerow([safe_cell(cell) for cell in [error.line, error.reason, *error.raw]])
    return out.getvalue()


def _voter_row(
    fields: list[str], line: int, header_map: HeaderMap, region: str
) -> VoterRow | RowError:
    width = len(header_map.headers)
    if any(f.strip() for f in fields[width:]):
        return RowError(
            line,
            f"row has {len(fields)} fields, header has {width}: the last ones are under no column",
            fields,
        )
    phone_at = header_map.phone_columns[0]
    if len(fields) <= phone_at:  # a short row may leave out trailing optional columns only
        return RowError(
            line,
            f"row has {len(fields)} fields, header has {width}: the phone column"
            f" ({header_map.headers[phone_at] or phone_at + 1}) is missing",
            fields,
        )
    values = [f.strip() for f in fields[:width]] + [""] * (width - len(fields))
    raw_phone = next((values[i] for i in header_map.phone_columns if values[i]), "")
    if not raw_phone:
        return RowError(line, "no phone number", fields)
    number = _valid_number(raw_phone, region)
    if number is None:
        where = "" if raw_phone.startswith("+") else f" for region {region}"
        return RowError(line, f"phone {raw_phone!r} is not a valid phone number{where}", fields)
    get = {name: values[index] for name, index in header_map.columns.items()}.get
    first, last = (
        split_full_name(get("name", ""))
        if "name" in header_map.columns
        else (get("first_name", ""), get("last_name", ""))
    )
    zip_code = get("zip", "")
    phone = _e164(number)
    return VoterRow(
        phone=phone,
        first_name=first,
        last_name=last,
        address=get("address", ""),
        city=get("city", ""),
        state=get("state", ""),
        zip=zip_code,
        party=get("party", ""),
        age=_age(get("age", "")),
        extra=_extra(values, header_map),
        timezone=voter_timezone(phone, zip_code),
        source_line=line,
        line_type=line_type(number, _listed_line_type(values, header_map)),
    )


def _listed_line_type(values: list[str], header_map: HeaderMap) -> LineType | None:
    """What the row's line-type column, else its mobile flag, says (None: nothing)."""
    listed = None
    if header_map.line_type_column is not None:
        listed = listed_line_type(values[header_map.line_type_column])
    if listed is None and header_map.mobile_flag_column is not None:
        listed = flagged_line_type(values[header_map.mobile_flag_column])
    return listed


def _extra(values: list[str], header_map: HeaderMap) -> dict[str, str]:
    """Unknown columns by header; a column with no header only where it has a value."""
    headers = header_map.headers
    return {key: values[i] for i, key in header_map.extra.items() if values[i] or headers[i]}


def _age(text: str) -> int | None:
    match = re.fullmatch(r"(\d{1,3})(?:\.0*)?", text)
    return int(match.group(1)) if match and 0 < int(match.group(1)) < 130 else None


def _chunks(sample: bytes, stream: BinaryIO) -> Iterator[bytes]:
    yield sample
    while chunk := stream.read(SAMPLE_BYTES):
        yield chunk


def _decode(data: bytes, encoding: str) -> str:
    if encoding == "cp1252":
        return data.decode("cp1252", errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:  # a stray Windows-1252 line in a UTF-8 file, or a cut sample
        return data.decode("cp1252", errors="replace")


def _detect_encoding(sample: bytes) -> str:
    """ "utf-8-sig", "utf-8" or "cp1252", judged on the first 64 KB."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
    except UnicodeDecodeError:
        return "cp1252"
    return "utf-8"


def _reject_non_text(sample: bytes) -> None:
    """Raises InvalidInput for an empty file or one that is not CSV text."""
    if not sample.strip(b" \t\r\n" + codecs.BOM_UTF8):
        raise InvalidInput("the file is empty: it has no header and no voter rows")
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise InvalidInput("the file is UTF-16 text: save it as 'CSV UTF-8' and upload it again")
    if sample.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
        raise InvalidInput(
            "the file is a spreadsheet (Excel or similar), not CSV: use"
            " 'Save As' > 'CSV UTF-8' and upload that file"
        )
    controls = sum(sample.count(bytes([c])) for c in range(32) if c not in b"\t\n\r\f")
    if b"\0" in sample or controls > len(sample) // 100:
        raise InvalidInput("the file is binary, not CSV text: export the voter list as CSV")


def _sniff_delimiter(text: str, whole: bool) -> str:
    """Comma, semicolon or tab; comma when unsure. A cut-off last line is ignored."""
    lines = [line for line in text.splitlines()[: None if whole else -1] if line.strip()][:50]
    if not lines:
        return ","
    try:
        delimiter = csv.Sniffer().sniff("\n".join(lines), delimiters=",;\t").delimiter
    except csv.Error:
        return ","
    return delimiter if delimiter in lines[0] else ","


def _remaining_size(stream: BinaryIO) -> int | None:
    try:
        if stream.seekable():
            here = stream.tell()
            end = stream.seek(0, io.SEEK_END)
            stream.seek(here)
            return end - here
    except (OSError, ValueError):
        pass
    return None
