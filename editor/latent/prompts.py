"""The latent backend's prompts and instructions, rendered from the data file ``prompts/latent.yaml``.

One entry per attribute: the region its edit is confined to and, per direction of the strength, an
``inpaint`` description and an ``instruct`` instruction with ``{amount}`` (the strength band's word),
``{value}`` (the colour) and ``{label}`` placeholders. Which attributes the latent backend can do at all
is which attributes this file has an entry for.
"""

from __future__ import annotations

import functools
import re
import string
from dataclasses import dataclass
from importlib import resources
from types import MappingProxyType

import yaml

from editor import vocabulary as vocab
from editor.errors import ConfigError
from editor.requests import EditRequest

#: The data file, inside the ``prompts`` package.
PROMPT_FILE = "latent.yaml"
#: The pipeline families a template exists for (`editor.latent.loading.FAMILIES` maps classes to them).
INPAINT = "inpaint"
INSTRUCT = "instruct"
TEMPLATE_KINDS: tuple[str, ...] = (INPAINT, INSTRUCT)
#: Placeholders a template may use.
PLACEHOLDERS = frozenset({"amount", "value", "label"})


@dataclass(frozen=True)
class Prompt:
    """What one request asks the pipeline.

    Attributes:
        text: the prompt (inpainting) or the instruction (instruction editing).
        negative: the negative prompt (for pipelines that take one).
        region: the region name the edit is confined to (`editor.latent.masks.REGIONS`).
    """

    text: str
    negative: str
    region: str


@dataclass(frozen=True)
class PromptBook:
    """The parsed data file: amount words, the negative prompt and each attribute's entry."""

    amount_words: MappingProxyType[str, str]
    negative_prompt: str
    entries: MappingProxyType[str, MappingProxyType]

    def supports(self, attribute: str) -> bool:
        """Whether the file has an entry for ``attribute``."""
        return attribute in self.entries

    def region(self, attribute: str) -> str:
        """The region name of ``attribute``'s entry."""
        return self.entries[attribute]["region"]

    def render(self, request: EditRequest, kind: str) -> Prompt:
        """The prompt of ``request`` for a pipeline family ``kind`` (`INPAINT` or `INSTRUCT`).

        Raises:
            KeyError: the file has no entry for the attribute, or none for a negative strength.
        """
        entry = self.entries[request.attribute]
        direction = "positive" if request.strength >= 0 else "opposite"
        if direction not in entry:
            label = vocab.attribute(request.attribute).negative_label or f"less {request.attribute}"
            raise KeyError(f"prompts/{PROMPT_FILE} has no prompt for '{label}'.")
        template = entry[direction][kind]
        words = {
            "amount": self.amount_words.get(vocab.band_of(request.strength), ""),
            "value": request.value or "",
            "label": vocab.attribute(request.attribute).label,
        }
        text = re.sub(r"\s+", " ", template.format(**words)).strip()
        return Prompt(text=text, negative=self.negative_prompt, region=entry["region"])


@functools.cache
def prompt_book() -> PromptBook:
    """``prompts/latent.yaml``, parsed and checked once per process.

    Raises:
        ConfigError: the file is missing or malformed (names an unknown attribute or placeholder, or an
            entry lacks its region or a template).
    """
    path = resources.files("prompts").joinpath(PROMPT_FILE)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, yaml.YAMLError) as error:
        raise ConfigError(f"prompts/{PROMPT_FILE} cannot be read ({error}); reinstall facechat.") from error
    return parse_book(data)


def parse_book(data: object) -> PromptBook:
    """A `PromptBook` from the data file's parsed YAML; raises `ConfigError` naming what is wrong."""
    if not isinstance(data, dict) or not isinstance(data.get("attributes"), dict):
        raise ConfigError(
            f"prompts/{PROMPT_FILE} must hold 'amount_words', 'negative_prompt' and 'attributes'."
        )
    words = {str(k): str(v or "") for k, v in (data.get("amount_words") or {}).items()}
    missing_bands = {b.name for b in vocab.STRENGTH_BANDS} - set(words)
    if missing_bands:
        raise ConfigError(f"prompts/{PROMPT_FILE}: amount_words lacks {sorted(missing_bands)}.")
    entries = {}
    for name, entry in data["attributes"].items():
        where = f"prompts/{PROMPT_FILE}, attribute {name!r}"
        if name not in vocab.BY_NAME:
            raise ConfigError(f"{where}: not an attribute of editor.vocabulary.")
        if not isinstance(entry, dict) or "region" not in entry or "positive" not in entry:
            raise ConfigError(f"{where}: needs a 'region' and 'positive' templates.")
        for direction in ("positive", "opposite"):
            for kind in TEMPLATE_KINDS if direction in entry else ():
                template = (entry[direction] or {}).get(kind)
                if not isinstance(template, str) or not template.strip():
                    raise ConfigError(f"{where}: {direction} needs an {kind!r} template.")
                fields = {f for _, f, _, _ in string.Formatter().parse(template) if f is not None}
                if not fields <= PLACEHOLDERS:
                    raise ConfigError(f"{where}: unknown placeholder(s) {sorted(fields - PLACEHOLDERS)}.")
        entries[name] = MappingProxyType(dict(entry))
    return PromptBook(
        amount_words=MappingProxyType(words),
        negative_prompt=str(data.get("negative_prompt") or ""),
        entries=MappingProxyType(entries),
    )
