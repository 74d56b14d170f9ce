"""The vllm backend of the LLM interface: an in-process engine, or an OpenAI-compatible vLLM server.

Both modes score the token ids that `ChatEncoder` builds with the model's own tokenizer (loaded by
transformers from the local folder), sent as token prompts, so they score exactly the ids the transformers
backend scores. A response's log-probs are vLLM's prompt log-probs at the response positions:
    engine  `LLM.generate(TokensPrompt, SamplingParams(prompt_logprobs=0, max_tokens=1))`
    server  `/v1/completions` with token-id prompts, `echo: true, logprobs: 1, max_tokens: 1`
The server mode imports neither vllm nor torch: it runs in the pipeline's environment while the server runs
in its own. Its tokenizer is transformers' generic fast tokenizer on the folder's tokenizer.json, since
`AutoTokenizer` imports torch (through the model config) whenever torch is installed; the conformance test
pins that both give the same ids.

Pooled hidden states (RDS+) come from a `TransformersLM` on the same folder, created on first use. vLLM's
generate runner exposes no final hidden states, and its pooling runner (`runner="pooling"` with an ALL
pooler) would be a second engine with its own copy of the weights and memory budget, and the server has no
endpoint for SGPT's position-weighted mean; transformers computes it with the reference code.
"""

import json
import urllib.error
import urllib.request
from collections.abc import Sequence
from functools import cached_property

import numpy as np

from instruct_assets.models.chat_encoding import ChatEncoder, EncodedSample
from instruct_assets.models.llm_backend import ResponseLogprobs

INSTALL_HINT = (
    "vllm is not installed in this environment: on a GPU machine `pip install '.[gpu]'`; on a CPU, "
    "`make vllm-venv` builds .venv-vllm with vLLM's CPU build (or point `server_url` at a vLLM server)"
)


def load_tokenizer(folder: str, without_torch: bool = False):
    """The model's tokenizer as TransformersLM loads it, or (`without_torch`) the same tokenizer.json
    through `PreTrainedTokenizerFast`, whose import leaves torch out."""
    if without_torch:
        from transformers import PreTrainedTokenizerFast

        return PreTrainedTokenizerFast.from_pretrained(folder)
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(folder)


class VllmLM:
    def __init__(
        self,
        folder: str,
        model_id: str,
        server_url: str | None = None,
        served_model: str | None = None,
        api_key: str | None = None,
        dtype: str = "float32",
        max_length: int = 512,
        max_response_tokens: int = 256,
        max_model_len: int = 2048,
        prompts_per_request: int = 16,
        request_timeout_s: float = 600.0,
        enforce_eager: bool = False,
    ):
        """`folder`: the model's local folder (or hub id): its tokenizer always, its weights for the
        engine and for pooling. `server_url`: score through that server instead of loading an engine;
        `served_model` is the name it serves the model under (default: the only model it lists)."""
        if max_model_len <= max_length:
            raise ValueError(f"max_model_len ({max_model_len}) must exceed max_length ({max_length})")
        self.folder = folder
        self.model_id = model_id
        self.dtype = dtype
        self.max_model_len = max_model_len
        self.prompts_per_request = prompts_per_request
        self.request_timeout_s = request_timeout_s
        self.tokenizer = load_tokenizer(folder, without_torch=bool(server_url))
        self.encoder = ChatEncoder(self.tokenizer, max_length, max_response_tokens)
        self.server_url = server_url.rstrip("/") if server_url else None
        self.api_key = api_key
        self.engine = None
        if self.server_url:
            self.served_model = served_model or self._only_served_model()
        else:
            try:
                from vllm import LLM
            except ImportError as error:
                raise ImportError(INSTALL_HINT) from error
            self.engine = LLM(
                model=folder, dtype=dtype, max_model_len=max_model_len, enforce_eager=enforce_eager, seed=0
            )

    # -- scoring -----------------------------------------------------------------------------------

    def response_logprobs(self, samples: Sequence[EncodedSample], pooled: bool = False) -> ResponseLogprobs:
        n = len(samples)
        sequences = [s.conditional_ids for s in samples] + [s.unconditional_ids for s in samples]
        starts = [len(s.context_ids) for s in samples] + [len(s.bare_context_ids) for s in samples]
        logprobs = self.score_sequences(sequences, starts)
        representations = self.pooled_hidden_states(samples) if pooled else None
        return ResponseLogprobs(logprobs[:n], logprobs[n:], representations)

    def conditional_logprobs(self, samples: Sequence[EncodedSample]) -> list[np.ndarray]:
        return self.score_sequences(
            [s.conditional_ids for s in samples], [len(s.context_ids) for s in samples]
        )

    def pooled_hidden_states(self, samples: Sequence[EncodedSample]) -> np.ndarray:
        return self.pooling_model.pooled_hidden_states(samples)

    @cached_property
    def pooling_model(self):
        """The transformers model that computes RDS+ representations (see the module docstring)."""
        import torch

        from instruct_assets.models.transformers_lm import TransformersLM

        device = "cuda" if torch.cuda.is_available() else "cpu"
        return TransformersLM(
            self.folder,
            self.model_id,
            dtype=self.dtype,
            device=device,
            max_length=self.encoder.max_length,
            max_response_tokens=self.encoder.max_response_tokens,
        )

    def score_sequences(self, sequences: list[list[int]], starts: list[int]) -> list[np.ndarray]:
        """Log-probs of sequences[i][starts[i]:], each token given everything before it."""
        for index, (ids, start) in enumerate(zip(sequences, starts, strict=True)):
            if not 1 <= start <= len(ids):
                raise ValueError(f"sequence {index}: response start {start} outside 1..{len(ids)}")
        if self.server_url:
            per_position = self._server_prompt_logprobs(sequences)
        else:
            per_position = self._engine_prompt_logprobs(sequences)
        return [
            np.asarray(lps[start:], dtype=np.float64) for lps, start in zip(per_position, starts, strict=True)
        ]

    def _engine_prompt_logprobs(self, sequences: list[list[int]]) -> list[list[float]]:
        """Per sequence, log p(token_p | tokens_<p) for p >= 1 (position 0 gets NaN)."""
        from vllm import SamplingParams

        params = SamplingParams(prompt_logprobs=0, max_tokens=1, temperature=0.0, detokenize=False)
        prompts = [{"prompt_token_ids": list(ids)} for ids in sequences]
        outputs = self.engine.generate(prompts, params, use_tqdm=False)
        result = []
        for ids, output in zip(sequences, outputs, strict=True):
            # prompt_logprobs[p] maps token ids to Logprob; with prompt_logprobs=0 it holds the prompt's own.
            entries = output.prompt_logprobs
            result.append([np.nan] + [entries[p][ids[p]].logprob for p in range(1, len(ids))])
        return result

    def _server_prompt_logprobs(self, sequences: list[list[int]]) -> list[list[float]]:
        result: list[list[float]] = []
        for first in range(0, len(sequences), self.prompts_per_request):
            batch = sequences[first : first + self.prompts_per_request]
            body = {
                "model": self.served_model,
                "prompt": [list(ids) for ids in batch],
                "echo": True,
                "logprobs": 0,
                "max_tokens": 1,
                "temperature": 0.0,
            }
            choices = sorted(self._post("/v1/completions", body)["choices"], key=lambda c: c["index"])
            for ids, choice in zip(batch, choices, strict=True):
                # The echoed prompt's token log-probs (None for the first token), then the generated token's.
                token_logprobs = choice["logprobs"]["token_logprobs"][: len(ids)]
                result.append([np.nan] + [float(lp) for lp in token_logprobs[1:]])
        return result

    # -- generation --------------------------------------------------------------------------------

    def generate(
        self,
        conversations: Sequence[Sequence[dict]],
        max_new_tokens: int = 256,
        temperature: float = 0.0,
        seed: int = 0,
    ) -> list[str]:
        prompts = []
        for index, conversation in enumerate(conversations):
            ids = self.tokenizer.apply_chat_template(
                list(conversation), add_generation_prompt=True, tokenize=True
            )
            ids = list(ids["input_ids"] if hasattr(ids, "keys") else ids)
            if len(ids) + max_new_tokens > self.max_model_len:
                raise ValueError(
                    f"conversation {index}: {len(ids)} prompt tokens + {max_new_tokens} new tokens exceed "
                    f"max_model_len {self.max_model_len}; raise max_model_len or shorten the conversation"
                )
            prompts.append(ids)
        if self.server_url:
            return self._server_generate(prompts, max_new_tokens, temperature, seed)
        from vllm import SamplingParams

        params = SamplingParams(max_tokens=max_new_tokens, temperature=temperature, seed=seed)
        outputs = self.engine.generate([{"prompt_token_ids": ids} for ids in prompts], params, use_tqdm=False)
        return [output.outputs[0].text.strip() for output in outputs]

    def _server_generate(
        self, prompts: list[list[int]], max_new_tokens: int, temperature: float, seed: int
    ) -> list[str]:
        answers = []
        for first in range(0, len(prompts), self.prompts_per_request):
            body = {
                "model": self.served_model,
                "prompt": prompts[first : first + self.prompts_per_request],
                "max_tokens": max_new_tokens,
                "temperature": temperature,
                "seed": seed,
            }
            choices = sorted(self._post("/v1/completions", body)["choices"], key=lambda c: c["index"])
            answers.extend(choice["text"].strip() for choice in choices)
        return answers

    # -- HTTP ----------------------------------------------------------------------------------------

    def _only_served_model(self) -> str:
        served = [model["id"] for model in self._request("/v1/models")["data"]]
        if len(served) != 1:
            raise ValueError(f"{self.server_url} serves {served}; name the one to use with `served_model`")
        return served[0]

    def _post(self, path: str, body: dict) -> dict:
        return self._request(path, json.dumps(body).encode())

    def _request(self, path: str, data: bytes | None = None) -> dict:
        url = f"{self.server_url}{path}"
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        request = urllib.request.Request(url, data=data, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=self.request_timeout_s) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as error:
            detail = error.read().decode(errors="replace")[:2000]
            raise RuntimeError(f"vLLM server {url} answered {error.code}: {detail}") from None
        except (urllib.error.URLError, ConnectionError, TimeoutError) as error:
            raise ConnectionError(
                f"vLLM server {url} is unreachable ({error}); is it running and is `server_url` right?"
            ) from None
