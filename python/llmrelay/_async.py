"""asyncio side of the engine bridge: one ``AsyncBridge`` per event loop.

Engine tasks finish on Rust threads without taking the GIL; the loop is woken through a
socket it watches and resolves every finished future in one pass (see
``rust/llmrelay-python/src/bridge.rs``).
"""

from __future__ import annotations

import asyncio
import itertools
import weakref
from typing import Any

from . import _native

__all__ = ["submit"]


class _LoopBridge:
    __slots__ = ("__weakref__", "futures", "loop", "native")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.native = _native.AsyncBridge()
        self.futures: dict[int, asyncio.Future] = {}
        loop.add_reader(self.native.fileno(), self._drain)

    def _drain(self) -> None:
        futures = self.futures
        for token, ok, value in self.native.drain():
            future = futures.pop(token, None)
            if future is None or future.done():
                continue
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)


_bridges: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_tokens = itertools.count(1)


def _bridge() -> _LoopBridge:
    loop = asyncio.get_running_loop()
    bridge = _bridges.get(loop)
    if bridge is None:
        bridge = _LoopBridge(loop)
        _bridges[loop] = bridge
    return bridge


async def submit(method: str, *args: Any) -> Any:
    """Run engine work (``submit_call``, ``submit_next`` …) and await its result; a
    cancelled await aborts the engine task."""
    bridge = _bridge()
    token = next(_tokens)
    future = bridge.loop.create_future()
    bridge.futures[token] = future
    getattr(bridge.native, method)(*args, token)
    try:
        return await future
    except asyncio.CancelledError:
        bridge.futures.pop(token, None)
        bridge.native.cancel(token)
        raise
