"""LLM parser over the real openai client and httpx.MockTransport: three methods, fallbacks, prompt data."""

from __future__ import annotations

import json
import logging

import httpx
import pytest

pytest.importorskip("langchain_openai")

from assistant.parsing.llm import (  # noqa: E402
    FALLBACK_NOTE,
    LLMOutput,
    LLMParser,
    UnconfiguredLLM,
    load_prompt_data,
    output_schema,
)
from editor.errors import ConfigError  # noqa: E402

SECRET = "sk-test-very-secret-key"
GOOD = {
    "requests": [{"attribute": "disgusted", "strength": 0.3, "steps": None, "value": None}],
    "command": None,
    "factor": None,
    "instead": False,
    "relative": [],
    "reply": "Making her slightly disgusted.",
}


def completion(message: dict) -> httpx.Response:
    return httpx.Response(
        200,
        json={
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "created": 0,
            "model": "mock",
            "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        },
    )


class Endpoint:
    """A fake OpenAI-compatible server: records requests, answers with ``payload`` in the method's shape."""

    def __init__(
        self, payload, *, method: str = "json_schema", status: int = 200, error: Exception | None = None
    ):
        self.payload, self.method, self.status, self.error = payload, method, status, error
        self.bodies: list[dict] = []
        self.headers: list[httpx.Headers] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.bodies.append(json.loads(request.content))
        self.headers.append(request.headers)
        if self.error is not None:
            raise self.error
        if self.status != 200:
            return httpx.Response(self.status, json={"error": {"message": "boom", "type": "server_error"}})
        content = self.payload if isinstance(self.payload, str) else json.dumps(self.payload)
        if self.method == "function_calling":
            name = self.bodies[-1]["tools"][0]["function"]["name"]
            call = {"id": "call_1", "type": "function", "function": {"name": name, "arguments": content}}
            return completion({"role": "assistant", "content": None, "tool_calls": [call]})
        return completion({"role": "assistant", "content": content})


def make_parser(endpoint: Endpoint, method: str = "json_schema", parser=None) -> LLMParser:
    env = {
        "FACECHAT_LLM_BASE_URL": "http://llm.invalid/v1",
        "FACECHAT_LLM_API_KEY": SECRET,
        "FACECHAT_LLM_MODEL": "mock-model",
        "FACECHAT_LLM_METHOD": method,
        "FACECHAT_LLM_TIMEOUT": "5",
    }
    llm = LLMParser.from_env(env, http_client=httpx.Client(transport=httpx.MockTransport(endpoint)))
    assert isinstance(llm, LLMParser)
    if parser is not None:
        llm._offline = parser
    return llm


@pytest.mark.parametrize("method", ["json_schema", "function_calling", "json_mode"])
def test_each_structured_output_method(method):
    endpoint = Endpoint(GOOD, method=method)
    result = make_parser(endpoint, method).parse("make her look slightly disgusted")
    assert result.parser == "llm" and not result.notes
    assert [(r.attribute, r.strength, r.steps) for r in result.requests] == [("disgusted", 0.3, 5)]
    body = endpoint.bodies[-1]
    assert body["model"] == "mock-model"
    assert body.get("max_tokens", body.get("max_completion_tokens")) == 300  # a bounded answer
    if method == "json_schema":
        assert body["response_format"]["type"] == "json_schema"
    elif method == "json_mode":
        assert body["response_format"]["type"] == "json_object"
    else:
        assert body["tools"][0]["function"]["name"] == "facechat_parse"
    text = json.dumps(body["messages"])
    assert "brow_raise" in text and "a bit more" in text  # vocabulary and few-shot examples sent
    assert body["messages"][-1]["content"] == "make her look slightly disgusted"
    assert endpoint.headers[-1]["authorization"] == f"Bearer {SECRET}"


@pytest.mark.parametrize(
    ("endpoint", "reason"),
    [
        (Endpoint(GOOD, status=500), "HTTP 500"),
        (Endpoint(GOOD, status=401), "HTTP 401"),
        (Endpoint(GOOD, error=httpx.ReadTimeout("slow")), "timeout"),
        (Endpoint(GOOD, error=httpx.ConnectError("refused")), "connection error"),
        (Endpoint({**GOOD, "requests": [{"attribute": "sparkle", "strength": 0.5}]}), "invalid output"),
        (Endpoint({**GOOD, "requests": [{"attribute": "happy", "strength": 9}]}), "invalid output"),
        (Endpoint("this is not JSON at all"), ""),
        (Endpoint({"something": "else"}), "invalid output"),
    ],
)
def test_fallback_to_offline_parser(parser, endpoint, reason, caplog):
    caplog.set_level(logging.DEBUG)
    result = make_parser(endpoint, parser=parser).parse("make him smile a bit")
    assert result.parser == "offline"
    assert [(r.attribute, r.strength) for r in result.requests] == [("happy", 0.5)]
    assert any(note.startswith(FALLBACK_NOTE) and reason in note for note in result.notes)
    assert "offline parser" in result.reply
    assert SECRET not in caplog.text and SECRET not in result.reply and SECRET not in " ".join(result.notes)


def test_unconfigured_and_bad_configuration(parser):
    assert isinstance(LLMParser.from_env({}), UnconfiguredLLM)
    result = LLMParser.from_env({}).parse("make him smile")
    assert result.requests and any(FALLBACK_NOTE in n for n in result.notes)
    with pytest.raises(ConfigError, match="FACECHAT_LLM_METHOD"):
        LLMParser.from_env({"FACECHAT_LLM_BASE_URL": "http://x/v1", "FACECHAT_LLM_METHOD": "xml"})
    with pytest.raises(ConfigError, match="FACECHAT_LLM_TIMEOUT"):
        LLMParser.from_env({"FACECHAT_LLM_BASE_URL": "http://x/v1", "FACECHAT_LLM_TIMEOUT": "soon"})


def test_every_few_shot_example_validates():
    examples = load_prompt_data()["examples"]
    assert len(examples) >= 8
    for example in examples:
        assert example["input"].strip()
        LLMOutput.model_validate(example["output"]).to_parse_result()


def test_schema_enumerates_the_vocabulary():
    from editor import vocabulary as vocab

    schema = output_schema()
    assert schema["$defs"]["LLMRequest"]["properties"]["attribute"]["enum"] == list(vocab.ATTRIBUTE_NAMES)
