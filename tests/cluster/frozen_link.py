"""A TCP relay to the test's PostgreSQL server that can go silent without closing anything:
what a network partition looks like to both ends (nothing arrives, nothing is refused).

    async with frozen_link(host, port) as link:
        link.port      # connect here instead
        link.freeze()  # from now on no byte passes either way; new connections hang
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field


@dataclass
class Link:
    target: tuple[str, int]
    port: int = 0
    flowing: asyncio.Event = field(default_factory=asyncio.Event)
    tasks: set[asyncio.Task[None]] = field(default_factory=set)
    writers: list[asyncio.StreamWriter] = field(default_factory=list)

    def freeze(self) -> None:
        self.flowing.clear()

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.writers.append(writer)
        await self.flowing.wait()
        up_reader, up_writer = await asyncio.open_connection(*self.target)
        self.writers.append(up_writer)
        for source, sink in ((reader, up_writer), (up_reader, writer)):
            task = asyncio.create_task(self._pump(source, sink))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def _pump(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        while data := await source.read(65536):
            await self.flowing.wait()  # frozen: hold the bytes, close nothing
            sink.write(data)
            await sink.drain()
        sink.close()


@contextlib.asynccontextmanager
async def frozen_link(host: str, port: int) -> AsyncIterator[Link]:
    link = Link((host, port))
    link.flowing.set()
    server = await asyncio.start_server(link.serve, "127.0.0.1", 0)
    link.port = server.sockets[0].getsockname()[1]
    try:
        yield link
    finally:
        server.close()
        for task in list(link.tasks):
            task.cancel()
        await asyncio.gather(*link.tasks, return_exceptions=True)
        for writer in link.writers:
            writer.close()
        await server.wait_closed()
