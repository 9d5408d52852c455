"""Serving: `/ask` latency over loopback HTTP at 1 and 8 concurrent clients next to in-process `ask`, and
`assistant ask --server` wall time next to a cold `assistant ask`.

The server is a real `assistant serve` process (uvicorn, the shipped defaults: 2 workers), so the HTTP
figures include JSON, the socket and the worker queue; in-process `ask` is measured in this process on
the same questions. Measured side by side in one run, so the ratios hold even when the machine is busy.
"""

from __future__ import annotations

import logging
import os
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from assistant import Assistant

from .metrics import percentile

CONCURRENCY = (1, 8)
logging.getLogger("httpx").setLevel(logging.WARNING)  # one INFO line per request would drown the run's log


def _wait_ready(url: str, timeout: float = 600) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/health", timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not become ready")


def start_server(corpus: Path, index: Path, history: Path) -> tuple[subprocess.Popen[str], str]:
    """`assistant serve --port 0` in its own process; (process, URL) once it answers."""
    env = {**os.environ, "ASSISTANT_HISTORY": str(history), "HF_HUB_OFFLINE": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "assistant", "serve", "--port", "0", "--corpus", str(corpus),
                             "--index", str(index), "--no-history"], stderr=subprocess.PIPE,
                            stdout=subprocess.DEVNULL, text=True, env=env)
    assert proc.stderr is not None
    line = proc.stderr.readline()
    if " on http" not in line:
        proc.kill()
        raise RuntimeError(f"assistant serve did not start: {line}")
    url = line.split(" on ", 1)[1].split(";", 1)[0]
    _wait_ready(url)
    return proc, url


def http_latency(url: str, questions: Sequence[str], clients: int, rounds: int) -> dict[str, Any]:
    """Each of `clients` threads asks every question `rounds` times over its own keep-alive connection."""
    import httpx

    times: list[float] = []
    lock = threading.Lock()
    errors: list[str] = []

    def client(offset: int) -> None:
        with httpx.Client(base_url=url, timeout=120) as http:
            http.post("/ask", json={"question": questions[offset % len(questions)]})  # warm the connection
            for n in range(rounds * len(questions)):
                question = questions[(n + offset) % len(questions)]
                start = time.perf_counter()
                response = http.post("/ask", json={"question": question})
                elapsed = time.perf_counter() - start
                with lock:
                    if response.status_code != 200:
                        errors.append(f"{response.status_code}: {response.text[:100]}")
                    times.append(elapsed)

    began = time.perf_counter()
    threads = [threading.Thread(target=client, args=(c,)) for c in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - began
    return {"clients": clients, "requests": len(times), "errors": len(errors),
            "p50_ms": 1000 * percentile(times, 50), "p95_ms": 1000 * percentile(times, 95),
            "per_s": len(times) / wall, "load_1m": os.getloadavg()[0]}


def in_process_latency(assistant: Assistant, questions: Sequence[str], rounds: int) -> dict[str, Any]:
    for q in questions[:3]:
        assistant.ask(q)
    times = []
    for _ in range(rounds):
        for q in questions:
            start = time.perf_counter()
            assistant.ask(q)
            times.append(time.perf_counter() - start)
    return {"requests": len(times), "p50_ms": 1000 * percentile(times, 50), "p95_ms": 1000 * percentile(times, 95),
            "load_1m": os.getloadavg()[0]}


def cli_wall_times(corpus: Path, index: Path, url: str, question: str, runs: int = 3) -> dict[str, Any]:
    """Median wall time of `assistant ask --server URL` (-k 0) and of a cold `assistant ask` (-k 0)."""
    def median_of(command: list[str]) -> float:
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            subprocess.run(command, check=False, capture_output=True)
            times.append(time.perf_counter() - start)
        return statistics.median(times)

    base = [sys.executable, "-m", "assistant", "ask", "-k", "0", "--no-history"]
    server = median_of([*base, "--server", url, question])
    cold = median_of([*base, "--corpus", str(corpus), "--index", str(index), question])
    return {"ask_server_s": server, "ask_cold_s": cold, "runs": runs, "load_1m": os.getloadavg()[0]}


def measure(corpus: Path, index: Path, work: Path, assistant: Assistant, questions: Sequence[str],
            rounds: int = 3) -> dict[str, Any]:
    proc, url = start_server(corpus, index, work / "history.sqlite3")
    try:
        out: dict[str, Any] = {"questions": len(questions), "rounds": rounds,
                               "in_process": in_process_latency(assistant, questions, rounds), "http": []}
        for clients in CONCURRENCY:
            out["http"].append(http_latency(url, questions, clients, rounds if clients == 1 else 1))
        out["cli"] = cli_wall_times(corpus, index, url, questions[0])
    finally:
        proc.terminate()
        proc.wait(30)
    return out
