"""`assistant mcp` as a real process, driven by the official SDK's client over stdio."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import SEEDS, assert_citation_contract
from mcp import Client
from mcp.client.stdio import StdioServerParameters

from assistant.history import History

pytestmark = pytest.mark.slow  # a server process that loads the model

RUSSIA = "How much has Russia committed to train and equip the Tajik army?"


def structured(result: Any) -> dict[str, Any]:
    assert not result.is_error, result.content
    data = result.structured_content
    assert isinstance(data, dict)
    return data


async def test_tools_over_stdio(seeds_index: Path, private_history: Path) -> None:
    """List the tools, ask (and follow up), check the citation against read_article, search; errors are
    tool errors with a message, and the server keeps answering after them."""
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "assistant", "mcp", "--corpus", str(SEEDS), "--index", str(seeds_index)],
        env={"ASSISTANT_HISTORY": str(private_history), "HF_HUB_OFFLINE": "1"},
    )
    async with Client(params, read_timeout_seconds=300) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
        assert set(tools) == {"ask", "search", "read_article"}
        assert tools["ask"].input_schema["required"] == ["question"]
        assert "quoted" in (tools["ask"].description or "")

        answer = structured(await client.call_tool("ask", {"question": RUSSIA}))
        assert answer["found"] and "$1.2 billion" in answer["answer"]
        assert_citation_contract(answer, SEEDS)
        citation = answer["citations"][0]
        article = structured(await client.call_tool("read_article", {"source": citation["source"]}))
        assert article["text"][citation["start"]:citation["end"]] == citation["quote"]
        assert article["title"] == citation["title"]
        excerpt = structured(await client.call_tool("read_article", {"source": citation["source"],
                                                                      "start": citation["start"],
                                                                      "end": citation["end"]}))
        assert excerpt["excerpt"] == citation["quote"]

        follow = structured(await client.call_tool("ask", {"question": "What about China?",
                                                           "conversation": answer["conversation"]}))
        assert follow["conversation"] == answer["conversation"] and "China" in follow["standalone_query"]

        hits = structured(await client.call_tool("search", {"question": "Tajik army exercises", "k": 3}))
        assert len(hits["hits"]) == 3 and hits["hits"][0]["source"] == "004_eef8e3a72f05d887.txt"

        # filters, as `assistant ask --source/--since` (the seeds have no dates: a date filter leaves nothing)
        only = structured(await client.call_tool("search", {"question": "Taliban", "k": 3, "sources": ["001_*"]}))
        assert only["hits"] and {h["source"][:4] for h in only["hits"]} == {"001_"}
        dated = structured(await client.call_tool("ask", {"question": RUSSIA, "since": "2022-01"}))
        assert not dated["found"] and "no date" in dated["reason"]

        for name, arguments, message in (("ask", {"question": "  "}, "question is empty"),
                                         ("ask", {"question": RUSSIA, "since": "2022-13"}, "not a date"),
                                         ("read_article", {"source": "nope.txt"}, "no article"),
                                         ("read_article", {"source": citation["source"], "start": 5, "end": 1},
                                          "start and end"),
                                         ("search", {"question": "army", "k": 0}, "k must be")):
            failed = await client.call_tool(name, arguments)
            assert failed.is_error and message in failed.content[0].text, (name, failed.content)
        assert structured(await client.call_tool("ask", {"question": RUSSIA}))["found"]
    saved = History(private_history).turns(answer["conversation"])
    assert [t.answer.question for t in saved] == [RUSSIA, "What about China?"]
