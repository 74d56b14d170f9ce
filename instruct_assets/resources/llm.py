"""The LLM and embedder resources: what model-bound assets hold; the backend is chosen by configuration.

Loaded models are kept per process (keyed by the full configuration), so the assets of one run share
one copy of the weights instead of loading them once per asset; the two most recently used LLMs are
kept (the base model and the checkpoint being scored or evaluated), so a run that evaluates many
checkpoints does not hold them all.
"""

from functools import cache, lru_cache
from typing import Literal

import dagster as dg
from pydantic import Field

from instruct_assets.models.model_files import folder_fingerprint, model_folder
from instruct_assets.paths import resolve_project_path


class LLMResource(dg.ConfigurableResource):
    """A causal LM: per-token log-probs of responses (both IFD terms in one call), pooled final hidden
    states (RDS+), generation. backend `transformers` runs anywhere; `vllm` needs the `gpu` extra, or
    `server_url` pointing at an OpenAI-compatible vLLM server (then nothing heavy is loaded here)."""

    backend: Literal["transformers", "vllm"] = "transformers"
    model: str = Field("packaged:smollm2-135m-instruct", description="packaged:<name>, a folder, or a hub id")
    server_url: str | None = Field(None, description="vllm only: an OpenAI-compatible server serving `model`")
    api_key: str | None = Field(None, description="bearer token for server_url (use an EnvVar)")
    dtype: Literal["float32", "bfloat16", "float16"] = "float32"
    device: str = "cpu"
    max_length: int = Field(512, description="tokens of context + response scored per sample")
    max_response_tokens: int = Field(256, description="responses are cut to this many tokens")
    max_batch_tokens: int = Field(8192, description="padded tokens per forward batch (length-bucketed)")
    models_dir: str = Field("data/models", description="where packaged models are unpacked")

    def load(self, model: str | None = None):
        """The backend for `model` (default: the configured one), loaded once per process."""
        return load_llm(self.model_copy(update={"model": model}) if model else self)

    def scoring_key(self, model: str | None = None) -> str:
        """What a cached score depends on besides the code: the weights, precision and truncation."""
        folder = self.folder(model or self.model)
        return f"{folder_fingerprint(folder)}-{self.dtype}-{self.max_length}-{self.max_response_tokens}"

    def folder(self, model: str) -> str:
        return model_folder(model, resolve_project_path(self.models_dir))


class EmbedderResource(dg.ConfigurableResource):
    """A sentence embedder (mean pooling, unit length); default all-MiniLM-L6-v2 from its PyPI package."""

    model: str = Field("packaged:all-minilm-l6-v2", description="packaged:<name>, a folder, or a hub id")
    dtype: Literal["float32", "bfloat16", "float16"] = "float32"
    device: str = "cpu"
    max_length: int = Field(256, description="tokens embedded per text")
    models_dir: str = "data/models"

    def load(self):
        return load_embedder(self)

    def folder(self) -> str:
        return model_folder(self.model, resolve_project_path(self.models_dir))

    def scoring_key(self) -> str:
        return f"{folder_fingerprint(self.folder())}-{self.dtype}-{self.max_length}"


@lru_cache(maxsize=2)
def load_llm(resource: LLMResource):
    if resource.backend == "vllm":
        from instruct_assets.models.vllm_lm import VllmLM

        # The folder gives the tokenizer in both modes; with server_url the server holds the weights and
        # serves one model (VllmLM asks it which).
        return VllmLM(
            folder=resource.folder(resource.model),
            model_id=resource.model,
            server_url=resource.server_url,
            api_key=resource.api_key,
            dtype=resource.dtype,
            max_length=resource.max_length,
            max_response_tokens=resource.max_response_tokens,
        )
    from instruct_assets.models.transformers_lm import TransformersLM

    return TransformersLM(
        resource.folder(resource.model),
        model_id=resource.model,
        dtype=resource.dtype,
        device=resource.device,
        max_length=resource.max_length,
        max_response_tokens=resource.max_response_tokens,
        max_batch_tokens=resource.max_batch_tokens,
    )


@cache
def load_embedder(resource: EmbedderResource):
    from instruct_assets.models.sentence_embedder import SentenceEmbedder

    return SentenceEmbedder(
        resource.folder(),
        model_id=resource.model,
        dtype=resource.dtype,
        device=resource.device,
        max_length=resource.max_length,
    )
