"""A sentence embedder: mean-pooled, L2-normalised encoder states (sentence-transformers' recipe for
all-MiniLM-L6-v2, done with plain transformers so no extra dependency is needed)."""

from collections.abc import Sequence

import numpy as np

from instruct_assets.models.llm_backend import length_buckets, padded_batch


class SentenceEmbedder:
    def __init__(
        self,
        folder: str,
        model_id: str,
        dtype: str = "float32",
        device: str = "cpu",
        max_length: int = 256,
        max_batch_tokens: int = 16384,
    ):
        import torch
        from transformers import AutoModel, AutoTokenizer

        self.model_id = model_id
        self.device = device
        self.max_length = max_length
        self.max_batch_tokens = max_batch_tokens
        self.tokenizer = AutoTokenizer.from_pretrained(folder)
        self.model = AutoModel.from_pretrained(folder, dtype=getattr(torch, dtype)).to(device).eval()

    @property
    def dimensions(self) -> int:
        return self.model.config.hidden_size

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), dimensions) float32, unit length; texts longer than max_length tokens are cut."""
        import torch

        encoded = self.tokenizer(list(texts), truncation=True, max_length=self.max_length)["input_ids"]
        lengths = [len(ids) for ids in encoded]
        out = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        pad = self.tokenizer.pad_token_id or 0
        for batch in length_buckets(lengths, self.max_batch_tokens):
            ids, mask = map(torch.from_numpy, padded_batch(encoded, batch, pad))
            with torch.inference_mode():
                states = self.model(
                    input_ids=ids.to(self.device), attention_mask=mask.to(self.device)
                ).last_hidden_state
                weights = mask.to(self.device, states.dtype)[:, :, None]
                means = (states * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1)
                unit = torch.nn.functional.normalize(means.float(), dim=1)
            out[batch] = unit.cpu().numpy()
        return out
