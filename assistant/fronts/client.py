"""The client side of `assistant serve`, for `assistant ask --server URL` (httpx; no model, no index).

A server that is still loading, or whose queue is full, says 503 with Retry-After: the client waits and
asks again until its own deadline, so a script may start the server and ask straight away.
"""

from __future__ import annotations

import time
from typing import Any

from ..errors import AssistantError

WAIT_STEP_S = 0.5  # longest pause between tries while the server loads


class ServerError(AssistantError):
    """The server could not be reached, or refused the request (its message says why)."""


def call(base: str, method: str, path: str, body: dict[str, Any] | None = None,
         timeout: float = 60.0) -> Any:
    """One request; the decoded JSON of a 2xx answer, else ServerError with the server's message."""
    import httpx

    deadline = time.monotonic() + timeout
    url = base.rstrip("/") + path
    while True:
        left = max(deadline - time.monotonic(), 0.1)
        try:
            response = httpx.request(method, url, json=body, timeout=left)
        except httpx.TransportError as exc:
            raise ServerError(f"cannot reach the server at {base} ({exc or type(exc).__name__}); start one "
                              f"with `assistant serve`") from exc
        if response.status_code == 503 and time.monotonic() < deadline:
            wait = _retry_after(response)
            time.sleep(min(wait, WAIT_STEP_S, max(deadline - time.monotonic(), 0)))
            continue
        if response.is_success:
            try:
                return response.json()
            except ValueError as exc:
                raise ServerError(f"{url} did not answer with JSON; is it an assistant server?") from exc
        raise ServerError(f"the server said {response.status_code}: {_message(response)}")


def _retry_after(response: Any) -> float:
    try:
        return max(float(response.headers.get("retry-after", WAIT_STEP_S)), 0.05)
    except ValueError:
        return WAIT_STEP_S


def _message(response: Any) -> str:
    try:
        data = response.json()
    except ValueError:
        return str(response.text[:200] or response.reason_phrase)
    error = data.get("error") if isinstance(data, dict) else None
    if isinstance(error, dict) and "message" in error:
        return str(error["message"])
    return str(data)[:200]
