"""The LLM parser: a langchain-core chain ``prompt | chat model (structured output) | schema validation``.

The chat model is any OpenAI-compatible endpoint (OpenAI, llama.cpp server, vLLM, Ollama) through
``langchain_openai.ChatOpenAI``, configured by environment variables:

- ``FACECHAT_LLM_BASE_URL``  the endpoint (e.g. ``http://localhost:8080/v1``); unset = OpenAI's;
- ``FACECHAT_LLM_API_KEY``   the key (never logged); a placeholder is sent when unset (local servers);
- ``FACECHAT_LLM_MODEL``     the model name (default ``gpt-4o-mini``);
- ``FACECHAT_LLM_METHOD``    ``json_schema`` (default), ``function_calling`` or ``json_mode``
  (llama.cpp servers reject ``json_schema``);
- ``FACECHAT_LLM_TIMEOUT``   seconds per request (default 8; a hanging endpoint then costs 8 s, not more).

The prompt (system text + few-shot examples) is data in ``prompts/parser.yaml``. On a timeout, an HTTP
error or output that fails validation the offline parser answers instead, and the reply says so.
Needs the ``llm`` extra: ``pip install "facechat[llm]"``.
"""

from __future__ import annotations

import logging
import os
from functools import lru_cache
from importlib import resources
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from assistant.parsing.offline import OfflineParser, default_parser
from editor import vocabulary as vocab
from editor.errors import ConfigError
from editor.requests import COMMAND_NAMES, Command, EditRequest, ParseResult

logger = logging.getLogger(__name__)

METHODS: tuple[str, ...] = ("json_schema", "function_calling", "json_mode")
DEFAULT_MODEL = "gpt-4o-mini"
DEFAULT_TIMEOUT_S = 8.0
#: Longest answer asked of the model, tokens (a parse is under ~150; without a cap a small local model
#: in JSON mode can run on to the end of its context, a minute or more on a CPU, then time out).
MAX_OUTPUT_TOKENS = 300
PROMPT_FILE = "parser.yaml"
FALLBACK_NOTE = "LLM unavailable, used offline parser"


class LLMRequest(BaseModel):
    """One edit as the model writes it (validated again as an `EditRequest`)."""

    model_config = ConfigDict(extra="forbid")

    attribute: str = Field(description="one of the vocabulary's attribute names")
    strength: float = Field(description="signed strength; 0.7 when no intensity word is given")
    steps: int | None = Field(default=None, description="null unless the message names a number of steps")
    value: str | None = Field(
        default=None,
        description="hair_color/lipstick/eye_color colour, glasses style (round/square/sunglasses), or null",
    )


class LLMOutput(BaseModel):
    """The structured output asked of the model."""

    model_config = ConfigDict(extra="forbid")

    requests: list[LLMRequest] = Field(default_factory=list)
    command: Literal["undo", "redo", "reset", "more", "less", "show_steps"] | None = None
    factor: float | None = None
    count: int | None = None
    instead: bool = False
    keep: bool = False
    relative: list[str] = Field(default_factory=list)
    cancel: list[str] = Field(default_factory=list)
    set_strength: float | None = None
    reply: str = ""

    def to_parse_result(self) -> ParseResult:
        """Validate against the vocabulary and ranges; raises ``ValidationError`` / ``ValueError``."""
        requests = tuple(EditRequest(**r.model_dump()) for r in self.requests)
        command = (
            Command(name=self.command, factor=self.factor, count=self.count or 1) if self.command else None
        )
        return ParseResult(
            requests=requests,
            command=command,
            instead=self.instead and bool(requests),
            keep=self.keep and bool(requests),
            relative=tuple(self.relative),
            cancel=tuple(self.cancel),
            set_strength=self.set_strength,
            reply=self.reply,
            parser="llm",
        )


def output_schema() -> dict[str, Any]:
    """JSON schema of `LLMOutput` with the attribute and colour names as enums (for the model)."""
    schema = LLMOutput.model_json_schema()
    request = schema["$defs"]["LLMRequest"]["properties"]
    request["attribute"]["enum"] = list(vocab.ATTRIBUTE_NAMES)
    request["value"] = {
        "anyOf": [
            {"type": "string", "enum": sorted(vocab.COLOUR_VALUES | vocab.STYLE_VALUES)},
            {"type": "null"},
        ],
        "default": None,
    }
    schema["title"] = "facechat_parse"
    schema["description"] = "Edit records and command parsed from one chat message about a face photo."
    return schema


@lru_cache(maxsize=1)
def load_prompt_data() -> dict[str, Any]:
    """``prompts/parser.yaml`` as a dict with ``system`` (str) and ``examples`` (list of input/output)."""
    text = resources.files("prompts").joinpath(PROMPT_FILE).read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    if not isinstance(data, dict) or "system" not in data or "examples" not in data:
        raise ConfigError(f"prompts/{PROMPT_FILE} must hold 'system' and 'examples'; reinstall facechat.")
    return data


def build_prompt() -> Any:
    """The chat prompt: system text (vocabulary filled in), few-shot examples, then ``{input}``."""
    import json

    from langchain_core.prompts import ChatPromptTemplate, FewShotChatMessagePromptTemplate

    data = load_prompt_data()
    vocabulary = "\n".join(f"  - {a.name}: {a.description}" for a in vocab.ATTRIBUTES)
    bands = ", ".join(
        f"'{w}' {vocab.intensity_strength(w)}" for w in ("slightly", "a bit", "very", "extremely")
    )
    examples = [
        {"input": e["input"], "output": json.dumps(e["output"], separators=(", ", ": "))}
        for e in data["examples"]
    ]
    example_prompt = ChatPromptTemplate.from_messages([("human", "{input}"), ("ai", "{output}")])
    few_shot = FewShotChatMessagePromptTemplate(examples=examples, example_prompt=example_prompt)
    prompt = ChatPromptTemplate.from_messages([("system", data["system"]), few_shot, ("human", "{input}")])
    strong = [s.phrase for s in vocab.WORD_SENSES if s.band == "strong" and not s.reading][:12]
    mild = [s.phrase for s in vocab.WORD_SENSES if s.band == "subtle" and not s.reading][:8]
    return prompt.partial(
        vocabulary=vocabulary,
        bands=bands,
        strong_words=", ".join(f"'{w}'" for w in strong),
        mild_words=", ".join(f"'{w}'" for w in mild),
        colours=", ".join(sorted(vocab.COLOUR_VALUES)),
    )


class LLMParser:
    """Parse with a chat model; fall back to ``offline`` on any failure. ``parse(text)`` -> `ParseResult`.

    ``model``: a LangChain chat model supporting ``with_structured_output`` (e.g. ``ChatOpenAI``);
    ``method``: one of `METHODS`; ``offline``: the fallback parser (default: the shared offline one).
    """

    def __init__(
        self, model: Any, *, method: str = "json_schema", offline: OfflineParser | None = None
    ) -> None:
        if method not in METHODS:
            raise ConfigError(
                f"Unknown structured-output method {method!r}; use one of {', '.join(METHODS)}."
            )
        self.method = method
        self._offline = offline
        structured = model.with_structured_output(output_schema(), method=method)
        self.chain = build_prompt() | structured

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **kwargs: Any) -> LLMParser | UnconfiguredLLM:
        """Build from ``FACECHAT_LLM_*`` variables; extra keyword arguments go to ``ChatOpenAI``."""
        env = os.environ if environ is None else environ
        base_url = env.get("FACECHAT_LLM_BASE_URL") or None
        api_key = env.get("FACECHAT_LLM_API_KEY") or None
        if not base_url and not api_key:
            return UnconfiguredLLM()
        method = env.get("FACECHAT_LLM_METHOD", "json_schema")
        if method not in METHODS:
            raise ConfigError(f"FACECHAT_LLM_METHOD is {method!r}; set it to one of {', '.join(METHODS)}.")
        try:
            timeout = float(env.get("FACECHAT_LLM_TIMEOUT", DEFAULT_TIMEOUT_S))
        except ValueError:
            raise ConfigError("FACECHAT_LLM_TIMEOUT must be a number of seconds, e.g. 8.") from None
        try:
            from langchain_openai import ChatOpenAI
        except ImportError as error:
            raise ConfigError(
                "The LLM parser needs the llm extra: "
                'pip install "langchain-core<1.8" langchain-openai openai httpx.'
            ) from error
        model = ChatOpenAI(
            model=env.get("FACECHAT_LLM_MODEL", DEFAULT_MODEL),
            base_url=base_url,
            api_key=api_key or "not-needed",
            timeout=timeout,
            max_retries=0,
            temperature=0,
            **{"max_tokens": MAX_OUTPUT_TOKENS, **kwargs},
        )
        logger.info("LLM parser: model %s at %s, method %s", model.model_name, base_url or "default", method)
        return cls(model, method=method)

    @property
    def offline(self) -> OfflineParser:
        if self._offline is None:
            self._offline = default_parser()
        return self._offline

    def parse(self, text: str | None) -> ParseResult:
        """Ask the model; on timeout, HTTP error or invalid output use the offline parser and say so."""
        if not (text or "").strip():
            return self.offline.parse(text)
        try:
            raw = self.chain.invoke({"input": text})
            if isinstance(raw, BaseModel):
                raw = raw.model_dump()
            if not isinstance(raw, dict):
                raise ValueError(f"the model returned {type(raw).__name__}, not a JSON object")
            result = LLMOutput.model_validate(raw).to_parse_result()
        except (ValidationError, ValueError) as error:
            return self._fallback(text, f"invalid output ({_short(error)})")
        except Exception as error:  # noqa: BLE001 - timeouts, HTTP and connection errors of any client
            return self._fallback(text, _describe(error))
        if not result.reply:
            result = result.model_copy(update={"reply": "OK."})
        return result

    def _fallback(self, text: str | None, reason: str) -> ParseResult:
        logger.warning("LLM parser failed (%s); using the offline parser", reason)
        result = self.offline.parse(text)
        return result.model_copy(
            update={
                "reply": f"(The language model was unavailable: {reason}; I used the offline parser.) "
                + result.reply,
                "notes": (*result.notes, f"{FALLBACK_NOTE}: {reason}"),
            }
        )


class UnconfiguredLLM:
    """Stand-in when no endpoint is configured: parses offline and notes why."""

    def parse(self, text: str | None) -> ParseResult:
        result = default_parser().parse(text)
        note = f"{FALLBACK_NOTE}: set FACECHAT_LLM_BASE_URL or FACECHAT_LLM_API_KEY to use a language model"
        return result.model_copy(update={"notes": (*result.notes, note)})


def _describe(error: BaseException) -> str:
    """A short, key-free reason for a failed call: "HTTP 500", "timeout", "connection error" or the type."""
    seen: BaseException | None = error
    names = []
    while seen is not None and len(names) < 5:
        status = getattr(seen, "status_code", None)
        if isinstance(status, int):
            return f"HTTP {status}"
        names.append(type(seen).__name__)
        seen = seen.__cause__ or seen.__context__
    joined = " ".join(names).lower()
    if "timeout" in joined:
        return "timeout"
    if "connection" in joined or "connect" in joined:
        return "connection error"
    return names[0]


def _short(error: Exception) -> str:
    text = str(error).splitlines()[0] if str(error) else type(error).__name__
    return text[:160]


__all__ = ["COMMAND_NAMES", "LLMOutput", "LLMParser", "LLMRequest", "UnconfiguredLLM", "output_schema"]
