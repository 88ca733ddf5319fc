"""Receiving a voter list: a multipart form's ``file`` field or a raw ``text/csv`` body,
streamed to a temporary file so a large list never sits in memory."""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import BinaryIO

from aiohttp import BodyPartReader, web

from engine.errors import InvalidInput
from web.errors import FieldError, UploadTooLarge

MAX_UPLOAD_BYTES = 200 * 1024 * 1024
CHUNK_BYTES = 64 * 1024
RAW_TYPES = ("text/csv", "text/plain", "application/csv", "application/octet-stream")


@contextlib.asynccontextmanager
async def uploaded_file(request: web.Request) -> AsyncIterator[Path]:
    """The uploaded CSV as a temporary file, removed on exit.

    Raises InvalidInput for a request that carries no file, FieldError for an empty one and
    UploadTooLarge beyond MAX_UPLOAD_BYTES.
    """
    with tempfile.TemporaryDirectory(prefix="phonebank-upload-") as folder:
        path = Path(folder) / "voters.csv"
        with path.open("wb") as out:
            size = await _receive(request, out)
        if size == 0:
            raise FieldError("file", "the uploaded file is empty")
        yield path


async def _receive(request: web.Request, out: BinaryIO) -> int:
    if request.content_type == "multipart/form-data":
        reader = await request.multipart()
        async for part in reader:
            if isinstance(part, BodyPartReader) and part.name == "file":
                return await _copy(part.read_chunk, out)
        raise FieldError("file", "the form has no 'file' field: attach the CSV as 'file'")
    if request.content_type in RAW_TYPES:
        return await _copy(request.content.read, out)
    raise InvalidInput(
        f"send the voter list as multipart/form-data (field 'file') or as a text/csv body, "
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
