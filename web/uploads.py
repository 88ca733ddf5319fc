"""Receiving a voter list: a multipart form's ``file`` field or a raw ``text/csv`` body,
streamed to a temporary file so a large list never sits in memory, with the operator's column
mapping (a form field or query parameter ``mapping``: a JSON object, column -> use)."""

from __future__ import annotations

import contextlib
import json
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from aiohttp import BodyPartReader, web

from engine.errors import InvalidInput
from web.errors import FieldError, UploadTooLarge

MAX_UPLOAD_BYTES = 200 * 1024 * 1024
CHUNK_BYTES = 64 * 1024
RAW_TYPES = ("text/csv", "text/plain", "application/csv", "application/octet-stream")
MAX_MAPPING_BYTES = 64 * 1024


@dataclass
class UploadedList:
    """The uploaded file, the column mapping sent with it ({} when none was), and the form's
    other text fields."""

    path: Path
    choices: dict[str, str] = field(default_factory=dict)
    fields: dict[str, str] = field(default_factory=dict)


@contextlib.asynccontextmanager
async def uploaded_list(request: web.Request) -> AsyncIterator[UploadedList]:
    """The uploaded CSV as a temporary file, removed on exit, with its ``mapping``.

    Raises InvalidInput for a request that carries no file, FieldError for an empty one or a
    mapping that is not a JSON object of texts, and UploadTooLarge beyond MAX_UPLOAD_BYTES."""
    with tempfile.TemporaryDirectory(prefix="phonebank-upload-") as folder:
        upload = UploadedList(Path(folder) / "voters.csv")
        with upload.path.open("wb") as out:
            size = await _receive(request, out, upload.fields)
        if size == 0:
            raise FieldError("file", "the uploaded file is empty")
        mapping = upload.fields.get("mapping") or request.query.get("mapping", "")
        upload.choices = parse_mapping(mapping)
        yield upload


def parse_mapping(text: str) -> dict[str, str]:
    """The ``mapping`` parameter: a JSON object whose keys are columns (a header, or a position
    from 1) and whose values say what each is used as; "" is no mapping."""
    if not text.strip():
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise FieldError(
            "mapping",
            "'mapping' must be a JSON object naming columns and their use, e.g."
            ' {"Telefon": "phone", "3": "ignore"}',
        )
    return value


async def _receive(request: web.Request, out: BinaryIO, texts: dict[str, str]) -> int:
    """Copy the file to ``out``; a multipart form's small text fields go into ``texts``."""
    if request.content_type == "multipart/form-data":
        reader = await request.multipart()
        size: int | None = None
        async for part in reader:
            if not isinstance(part, BodyPartReader):
                continue
            if part.name == "file" and size is None:
                size = await _copy(part.read_chunk, out)
            elif part.name and part.filename is None:
                data = await part.read_chunk(MAX_MAPPING_BYTES)
                texts[part.name] = data.decode("utf-8", errors="replace")
        if size is None:
            raise FieldError("file", "the form has no 'file' field: attach the CSV as 'file'")
        return size
    if request.content_type in RAW_TYPES:
        return await _copy(request.content.read, out)
    raise InvalidInput(
        f"send the file as multipart/form-data (field 'file') or as a text/csv body, "
        f"not {request.content_type}"
    )


async def _copy(read: Callable[[int], Awaitable[bytes]], out: BinaryIO) -> int:
    """Copy chunks from ``read`` until it returns b""; returns the size. Each write is one
    64 KiB chunk into the page cache: too short to be worth a thread."""
    size = 0
    while chunk := await read(CHUNK_BYTES):
        size += len(chunk)
        if size > MAX_UPLOAD_BYTES:
            raise UploadTooLarge(
                f"the file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB: "
                "split the list and upload the parts one after another"
            )
        out.write(chunk)
    return size
