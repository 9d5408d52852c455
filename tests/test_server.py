"""The HTTP API through a real uvicorn on a free loopback port, with httpx as the client.

Most tests run uvicorn in a thread of this process around the session's assistant (the model loaded
once); the last one starts `assistant serve` as a real process and asks it with `assistant ask --server`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import SEEDS, GatedAssistant, assert_citation_contract

from assistant import Answer, Assistant, IndexReport, IndexStoreError
from assistant.config import ServeSettings
from assistant.fronts.server import Service, listen, server, url_of
from assistant.history import History
from assistant.index.encoder import SentenceEncoder

RUSSIA = "How much has Russia committed to train and equip the Tajik army?"
RUSSIA_SOURCE = "004_eef8e3a72f05d887.txt"
QUESTIONS = [
    RUSSIA,
    "Who is the Afghan foreign minister?",
    "What is the capital of Australia?",
    "Taliban mining contracts",
    "Where did the Russian and Tajik troops hold exercises?",
]

pytestmark = pytest.mark.slow  # each test waits for a real server and real answers


@contextlib.contextmanager
def served(assistant: Assistant, history: History | None = None, **settings: Any) -> Iterator[tuple[str, Service]]:
    """uvicorn serving `assistant` on 127.0.0.1 (a free port) in a thread; stopped and joined on exit."""
    service = Service(assistant, ServeSettings(**settings), history)
    sock = listen("127.0.0.1", 0)
    uv = server(service, sock)
    thread = threading.Thread(target=uv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not uv.started:
            assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
            time.sleep(0.02)
        yield url_of(sock), service
    finally:
        uv.should_exit = True
        thread.join(15)
        sock.close()
        assert not thread.is_alive()


def wait_ready(client: httpx.Client, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = client.get("/health")
        if response.status_code == 200:
            return response.json()  # type: ignore[no-any-return]
        time.sleep(0.05)
    raise AssertionError("the server did not become ready")


def as_json(answer: Answer) -> dict[str, Any]:
    """What `answer` looks like on the wire (tuples become lists)."""
    return json.loads(json.dumps(answer.to_dict()))  # type: ignore[no-any-return]


def without_id(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k != "conversation"}


def error_of(response: httpx.Response) -> str:
    body = response.json()
    assert set(body) == {"error"} and body["error"]["status"] == response.status_code
    return str(body["error"]["message"])


def test_ask_search_articles_health_and_docs(assistant: Assistant) -> None:
    with served(assistant) as (url, _), httpx.Client(base_url=url, timeout=60) as client:
        health = wait_ready(client)
        assert health["status"] == "ready" and health["articles"] == len(assistant.articles())

        answer = client.post("/ask", json={"question": RUSSIA})
        assert answer.status_code == 200
        data = answer.json()
        assert data["found"] and "$1.2 billion" in data["answer"] and data["conversation"]
        assert without_id(data) == as_json(assistant.ask(RUSSIA))
        assert_citation_contract(data, SEEDS)
        citation = data["citations"][0]
        article = client.get(f"/articles/{citation['source']}").json()  # what a client checks the quote against
        assert article["text"][citation["start"]:citation["end"]] == citation["quote"]
        assert article["title"] == citation["title"] and article["source"] == RUSSIA_SOURCE

        listed = client.get("/articles").json()["articles"]
        assert [a["source"] for a in listed] == [a.source for a in assistant.articles()]
        assert "text" not in listed[0] and listed[0]["characters"] > 0

        hits = client.post("/search", json={"question": "Tajik army exercises", "k": 4}).json()
        assert [h["source"] for h in hits["hits"]] == [h.chunk.source for h in assistant.search("Tajik army exercises",
                                                                                               k=4)]
        assert client.get("/docs").status_code == 200
        assert {"/ask", "/search", "/articles", "/articles/{source}", "/health"} <= set(
            client.get("/openapi.json").json()["paths"])


def test_filters_in_ask_and_search_bodies(news: Assistant) -> None:
    """since/until/sources in a body are the CLI's --since/--until/--source: ranked inside, before top-k."""
    mayor = "Who is the mayor of Fenwick?"
    with served(news) as (url, _), httpx.Client(base_url=url, timeout=60) as client:
        wait_ready(client)
        later = client.post("/ask", json={"question": mayor, "since": "2023-01"}).json()
        earlier = client.post("/ask", json={"question": mayor, "until": "2021-12"}).json()
        assert "Mayor Tomas Reyes" in later["answer"] and "Mayor Ellen Park" in earlier["answer"]
        assert without_id(later) == as_json(news.ask(mayor, since="2023-01")) | {
            "filter": {"since": "2023-01-01", "until": None, "sources": []}}  # as `ask --json --since` prints it
        hits = client.post("/search", json={"question": "storm power", "k": 5, "sources": ["Valley Gazette"]}).json()
        assert hits["hits"] and {h["outlet"] for h in hits["hits"]} == {"Valley Gazette"}
        nothing = client.post("/ask", json={"question": mayor, "sources": ["cnn.com"]}).json()
        assert not nothing["found"] and nothing["reason"].startswith("no article is from cnn.com")
        bad = client.post("/ask", json={"question": mayor, "since": "2022-07", "until": "2022-06"})
        assert bad.status_code == 400 and "since" in error_of(bad)


async def test_twenty_concurrent_asks_are_answered_correctly(assistant: Assistant) -> None:
    """20 clients at once (more than the workers, fewer than the queue): each gets its own question's
    answer, the same as asked alone, and the pool is free afterwards."""
    questions = [QUESTIONS[n % len(QUESTIONS)] for n in range(20)]
    expected = {q: assistant.ask(q) for q in QUESTIONS}
    with served(assistant, workers=2, queue=32) as (url, service):
        async with httpx.AsyncClient(base_url=url, timeout=120) as client:
            while (await client.get("/health")).status_code != 200:
                await asyncio.sleep(0.05)
            responses = await asyncio.gather(*(client.post("/ask", json={"question": q}) for q in questions))
        assert service.busy == 0
    assert [r.status_code for r in responses] == [200] * 20
    for question, response in zip(questions, responses, strict=True):
        data = response.json()
        want = expected[question]
        assert data["question"] == question
        assert (data["found"], data["answer"]) == (want.found, want.text)
        assert [c["source"] for c in data["citations"]] == [c.source for c in want.citations]
        assert data["confidence"] == pytest.approx(want.confidence, abs=1e-3)
        assert_citation_contract(data, SEEDS)
    assert len({r.json()["conversation"] for r in responses}) == 20  # each a conversation of its own


def test_follow_ups_by_conversation_id_survive_a_restart(assistant: Assistant, tmp_path: Path) -> None:
    history = History(tmp_path / "h.sqlite3")
    with served(assistant, history) as (url, _), httpx.Client(base_url=url, timeout=60) as client:
        wait_ready(client)
        first = client.post("/ask", json={"question": RUSSIA}).json()
        key = first["conversation"]
        follow = client.post("/ask", json={"question": "What about China?", "conversation": key}).json()
        assert follow["conversation"] == key
        expected = assistant.ask("What about China?", context=[Answer.from_dict(first)])
        assert without_id(follow) == as_json(expected)
        assert "China" in follow["standalone_query"]
    assert [t.answer.question for t in history.turns(key)] == [RUSSIA, "What about China?"]
    assert history.conversation(key).front == "http"
    with served(assistant, History(tmp_path / "h.sqlite3")) as (url, _), \
            httpx.Client(base_url=url, timeout=60) as client:  # a new server: the conversation is reopened
        wait_ready(client)
        again = client.post("/ask", json={"question": "And Pakistan?", "conversation": key}).json()
        context = [Answer.from_dict(first), Answer.from_dict(follow)]
        assert without_id(again) == as_json(assistant.ask("And Pakistan?", context=context))
        assert "Pakistan" in again["standalone_query"]
        unknown = client.post("/ask", json={"question": "What about China?", "conversation": "nosuchid"})
        assert unknown.status_code == 404 and "no conversation" in error_of(unknown)


def test_bad_requests_get_json_errors(assistant: Assistant) -> None:
    with served(assistant, max_body_bytes=2048) as (url, _), httpx.Client(base_url=url, timeout=60) as client:
        wait_ready(client)
        cases: list[tuple[str, str, Any, int, str]] = [
            ("POST", "/ask", {"question": ""}, 400, "question is empty"),
            ("POST", "/ask", {"question": "\x1b[2J\x00"}, 400, "question is empty"),
            ("POST", "/ask", {}, 400, "question: Field required"),
            ("POST", "/ask", {"question": 5}, 400, "question"),
            ("POST", "/ask", {"question": "x", "qustion": "typo"}, 400, "qustion: Extra inputs"),
            ("POST", "/ask", ["a list"], 400, "bad request body"),
            ("POST", "/search", {"question": "Tajik army", "k": 0}, 400, "k:"),
            ("POST", "/search", {"question": "  "}, 400, "question is empty"),
            ("GET", "/articles/no-such-article.txt", None, 404, "no article"),
            ("GET", "/nowhere", None, 404, "Not Found"),
            ("GET", "/ask", None, 405, "Method Not Allowed"),
        ]
        for method, path, body, status, message in cases:
            response = client.request(method, path, json=body) if body is not None else client.request(method, path)
            assert response.status_code == status, (path, body, response.text)
            assert message in error_of(response), (path, body)
        broken = client.post("/ask", content=b'{"question": ', headers={"content-type": "application/json"})
        assert broken.status_code == 400 and "not valid JSON" in error_of(broken)
        large = client.post("/ask", json={"question": "x" * 5000})
        assert large.status_code == 413 and "2048 bytes" in error_of(large)

        def stream() -> Iterator[bytes]:  # no Content-Length: the limit is counted as the body arrives
            yield b'{"question": "'
            for _ in range(10):
                yield b"x" * 1000
            yield b'"}'

        chunked = client.post("/ask", content=stream(), headers={"content-type": "application/json"})
        assert chunked.status_code == 413
        assert client.post("/ask", json={"question": RUSSIA}).status_code == 200  # and it still answers


def test_a_question_while_loading_gets_503_then_an_answer(encoder: SentenceEncoder, seeds_index: Path) -> None:
    gated = GatedAssistant(encoder, seeds_index)
    try:
        with served(gated) as (url, _), httpx.Client(base_url=url, timeout=60) as client:
            health = client.get("/health")
            assert health.status_code == 503 and health.json()["status"] == "loading"
            for method, path, body in (("POST", "/ask", {"question": RUSSIA}), ("GET", "/articles", None),
                                       ("POST", "/search", {"question": RUSSIA})):
                early = client.request(method, path, json=body)
                assert early.status_code == 503 and "loading" in error_of(early)
                assert early.headers["retry-after"].isdigit()
            gated.open_gate.set()
            wait_ready(client)
            answer = client.post("/ask", json={"question": RUSSIA})
            assert answer.status_code == 200 and "$1.2 billion" in answer.json()["answer"]
    finally:
        gated.open_gate.set()


class BrokenAssistant(Assistant):
    def open(self, progress: bool = False) -> IndexReport:
        raise IndexStoreError(f"the index at {self.index_dir} is damaged")


def test_an_index_that_cannot_open_is_reported(encoder: SentenceEncoder, tmp_path: Path) -> None:
    broken = BrokenAssistant(corpus=SEEDS, index=tmp_path / "index", encoder=encoder)
    with served(broken) as (url, _), httpx.Client(base_url=url, timeout=60) as client:
        deadline = time.monotonic() + 30
        while client.get("/health").json()["status"] != "failed":
            assert time.monotonic() < deadline
            time.sleep(0.05)
        health = client.get("/health")
        assert health.status_code == 503 and "damaged" in health.json()["error"]
        refused = client.post("/ask", json={"question": RUSSIA})
        assert refused.status_code == 503 and "damaged" in error_of(refused)


class CrashingAssistant(Assistant):
    def ask(self, question: str, context: Sequence[Answer] = ()) -> Answer:
        raise RuntimeError("kaboom")


def test_a_crash_is_a_json_500_and_the_server_goes_on(encoder: SentenceEncoder, seeds_index: Path) -> None:
    crashing = CrashingAssistant(corpus=SEEDS, index=seeds_index, encoder=encoder)
    with served(crashing) as (url, service), httpx.Client(base_url=url, timeout=60) as client:
        wait_ready(client)
        crashed = client.post("/ask", json={"question": RUSSIA})
        assert crashed.status_code == 500 and "RuntimeError" in error_of(crashed)
        assert "kaboom" not in crashed.text  # the details stay in the server's log
        assert client.get("/articles").status_code == 200 and service.busy == 0


def test_overload_is_refused_and_slow_questions_time_out(encoder: SentenceEncoder, seeds_index: Path) -> None:
    """One worker and a queue of one: a third question at once is refused (503), and questions not answered
    within the timeout get 504; once the work drains, the server answers again."""
    gated = GatedAssistant(encoder, seeds_index)
    gated.open_gate.set()
    try:
        with served(gated, workers=1, queue=1, timeout_s=1.5) as (url, service), \
                httpx.Client(base_url=url, timeout=60) as client:
            wait_ready(client)
            gated.ask_gate.clear()
            results: dict[int, httpx.Response] = {}

            def post(n: int) -> None:
                with httpx.Client(base_url=url, timeout=60) as own:
                    results[n] = own.post("/ask", json={"question": RUSSIA})

            threads = [threading.Thread(target=post, args=(n,)) for n in range(2)]
            for thread in threads:
                thread.start()
            deadline = time.monotonic() + 10
            while service.busy < 2:
                assert time.monotonic() < deadline
                time.sleep(0.01)
            refused = client.post("/ask", json={"question": RUSSIA})
            assert refused.status_code == 503 and "busy" in error_of(refused)
            assert refused.headers["retry-after"].isdigit()
            assert all(t.is_alive() for t in threads)  # refused at once, not after waiting in the queue
            for thread in threads:
                thread.join(30)
            assert [results[n].status_code for n in range(2)] == [504, 504]
            assert "no answer within 1.5 s" in error_of(results[0])
            gated.ask_gate.set()
            deadline = time.monotonic() + 30
            while service.busy:
                assert time.monotonic() < deadline
                time.sleep(0.02)
            assert client.post("/ask", json={"question": RUSSIA}).status_code == 200
    finally:
        gated.ask_gate.set()


@pytest.mark.slow
def test_assistant_serve_and_ask_server_as_real_processes(seeds_index: Path, private_history: Path) -> None:
    """`assistant serve --port 0` says where it listens; `assistant ask --server` asked right away waits out
    the loading and prints the same answer as a local ask; Ctrl+C (SIGINT) stops the server."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "assistant", "serve", "--port", "0", "--corpus", str(SEEDS),
                             "--index", str(seeds_index)], stderr=subprocess.PIPE, stdout=subprocess.DEVNULL,
                            text=True, env=env)
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline()
        assert "serving" in line and "http://127.0.0.1:" in line, line
        url = line.split(" on ", 1)[1].split(";", 1)[0]
        ask = [sys.executable, "-m", "assistant", "ask", "--server", url]
        text = subprocess.run([*ask, RUSSIA], capture_output=True, text=True, env=env, timeout=300)
        assert text.returncode == 0, text.stderr
        assert "$1.2 billion" in text.stdout and f"[1] Russia Disengaging With U.S On Afghanistan — {RUSSIA_SOURCE}" \
            in text.stdout and "Best passages:" in text.stdout
        as_json = subprocess.run([*ask, "--json", RUSSIA], capture_output=True, text=True, env=env, timeout=60)
        data = json.loads(as_json.stdout)
        assert as_json.returncode == 0 and data["found"] and data["conversation"]
        assert_citation_contract(data, SEEDS)
        follow = subprocess.run([*ask, "--json", "--conversation", data["conversation"], "What about China?"],
                                capture_output=True, text=True, env=env, timeout=60)
        assert "China" in json.loads(follow.stdout)["standalone_query"]
        none = subprocess.run([*ask, "How many moons does Jupiter have?"], capture_output=True, text=True, env=env,
                              timeout=60)
        assert none.returncode == 1 and none.stdout.startswith("No answer in the articles")
        filtered = subprocess.run([*ask, "--json", "--source", "001_*", "Taliban"], capture_output=True, text=True,
                                  env=env, timeout=60)  # the filter travels to the server
        assert json.loads(filtered.stdout)["filter"]["sources"] == ["001_*"]
        assert {c["source"][:4] for c in json.loads(filtered.stdout)["citations"]} <= {"001_"}
        bad = subprocess.run([*ask, "--conversation", "nosuchid", "And then?"], capture_output=True, text=True,
                             env=env, timeout=60)
        assert bad.returncode == 2 and "404" in bad.stderr and "Traceback" not in bad.stderr
        assert History(private_history).turns(data["conversation"])  # the server saved the conversation
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)
    assert proc.returncode == 0
    unreachable = subprocess.run([sys.executable, "-m", "assistant", "ask", "--server", url, RUSSIA],
                                 capture_output=True, text=True, env=env, timeout=60)
    assert unreachable.returncode == 2 and "cannot reach the server" in unreachable.stderr
