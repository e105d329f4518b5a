"""A background task that runs for as long as the service runs, beside its other lifespans."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any


def with_task(inner: Callable[[Any], Any], task: Callable[[], Coroutine[Any, Any, None]]) -> Any:
    """The lifespan ``inner`` with ``task()`` started before it and cancelled after it.

    A mounted application gets no lifespan of its own: the service runs its workers this way.
    """

    @contextlib.asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[Any]:
        running = asyncio.create_task(task())
        try:
            async with inner(app) as state:
                yield state
        finally:
            running.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await running

    return lifespan
