"""The transformers backend of the LLM interface: the CPU default, and the reference the others match.

One forward pass per length bucket; the LM head runs only on the positions that predict response tokens
(a response of 200 tokens in a 500-token sequence needs 200 rows of logits, not 500 x vocab), and the
same pass yields the pooled hidden states when they are asked for.
"""

from collections.abc import Sequence

import numpy as np

from instruct_assets.models.chat_encoding import ChatEncoder, EncodedSample
from instruct_assets.models.llm_backend import ResponseLogprobs, length_buckets, padded_batch

# Response positions whose logits exist at once: 1,024 x a 49k vocabulary is 200 MB in fp32, where a
# whole 8k-token batch would be 1.6 GB, and as much again for its log-softmax.
HEAD_ROWS = 1024


def token_logprobs(head, states, targets) -> np.ndarray:
    """log p(target | state) for each row, the LM head applied HEAD_ROWS rows at a time (float64)."""
    import torch

    parts = [np.zeros(0)]
    for i in range(0, len(states), HEAD_ROWS):
        logits = head(states[i : i + HEAD_ROWS]).float()
        picked = torch.log_softmax(logits, dim=-1).gather(1, targets[i : i + HEAD_ROWS, None])[:, 0]
        parts.append(picked.double().cpu().numpy())
    return np.concatenate(parts)


class TransformersLM:
    def __init__(
        self,
        folder: str,
        model_id: str,
        dtype: str = "float32",
        device: str = "cpu",
        max_length: int = 512,
        max_response_tokens: int = 256,
        max_batch_tokens: int = 8192,
    ):
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.model_id = model_id
        self.device = device
        self.max_batch_tokens = max_batch_tokens
        self.tokenizer = AutoTokenizer.from_pretrained(folder)
        self.model = (
            AutoModelForCausalLM.from_pretrained(folder, dtype=getattr(torch, dtype)).to(device).eval()
        )
        self.encoder = ChatEncoder(self.tokenizer, max_length, max_response_tokens)
        self.pad_id = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else 0

    def response_logprobs(self, samples: Sequence[EncodedSample], pooled: bool = False) -> ResponseLogprobs:
        n = len(samples)
        sequences = [s.conditional_ids for s in samples] + [s.unconditional_ids for s in samples]
        starts = [len(s.context_ids) for s in samples] + [len(s.bare_context_ids) for s in samples]
        pool_rows = np.arange(n) if pooled else np.arange(0)
        logprobs, representations = self.score_sequences(sequences, starts, pool_rows)
        return ResponseLogprobs(logprobs[:n], logprobs[n:], representations if pooled else None)

    def conditional_logprobs(self, samples: Sequence[EncodedSample]) -> list[np.ndarray]:
        sequences = [s.conditional_ids for s in samples]
        return self.score_sequences(sequences, [len(s.context_ids) for s in samples], np.arange(0))[0]

    def pooled_hidden_states(self, samples: Sequence[EncodedSample]) -> np.ndarray:
        sequences = [s.conditional_ids for s in samples]
        return self.score_sequences(sequences, [len(ids) for ids in sequences], np.arange(len(samples)))[1]

    def score_sequences(
        self, sequences: list[list[int]], starts: list[int], pool_rows: np.ndarray
    ) -> tuple[list[np.ndarray], np.ndarray]:
        """Log-probs of sequences[i][starts[i]:] given what precedes them, and the position-weighted mean
        of the final hidden states of the sequences in `pool_rows` (rows of the returned matrix in the
        order of `pool_rows`)."""
        import torch

        logprobs: list[np.ndarray] = [np.zeros(0)] * len(sequences)
        hidden_size = self.model.config.hidden_size
        pooled = np.zeros((len(pool_rows), hidden_size), dtype=np.float32)
        pool_slot = {int(row): slot for slot, row in enumerate(pool_rows)}
        lengths = [len(ids) for ids in sequences]
        decoder, head = self.model.base_model, self.model.get_output_embeddings()
        for batch in length_buckets(lengths, self.max_batch_tokens):
            ids, mask = padded_batch(sequences, batch, self.pad_id)
            width = ids.shape[1]
            # Position p predicts token p+1: response tokens [start, length) come from [start - 1, length - 1)
            rows = np.concatenate([np.full(lengths[i] - starts[i], r) for r, i in enumerate(batch)]).astype(
                np.int64
            )
            cols = np.concatenate([np.arange(starts[i] - 1, lengths[i] - 1) for i in batch]).astype(np.int64)
            with torch.inference_mode():
                input_ids = torch.from_numpy(ids).to(self.device)
                attention = torch.from_numpy(mask).to(self.device)
                hidden = decoder(input_ids=input_ids, attention_mask=attention).last_hidden_state
                rows_t, cols_t = (
                    torch.from_numpy(rows).to(self.device),
                    torch.from_numpy(cols).to(self.device),
                )
                picked = token_logprobs(head, hidden[rows_t, cols_t], input_ids[rows_t, cols_t + 1])
                in_pool = [r for r, i in enumerate(batch) if int(i) in pool_slot]
                if in_pool:
                    weights = attention[in_pool].double() * torch.arange(1, width + 1, device=self.device)
                    weights = weights / weights.sum(dim=1, keepdim=True)
                    means = (
                        torch.einsum("bt,bth->bh", weights, hidden[in_pool].double()).float().cpu().numpy()
                    )
                    for r, mean in zip(in_pool, means, strict=True):
                        pooled[pool_slot[int(batch[r])]] = mean
            bounds = np.cumsum([0] + [lengths[i] - starts[i] for i in batch])
            for r, index in enumerate(batch):
                logprobs[index] = picked[bounds[r] : bounds[r + 1]]
        return logprobs, pooled

    def generate(
        self,
        conversations: Sequence[Sequence[dict]],
        max_new_tokens: int = 256,
        temperature: float = 0.0,
        seed: int = 0,
    ) -> list[str]:
        import torch

        torch.manual_seed(seed)
        prompts = [
            self.tokenizer.apply_chat_template(list(c), add_generation_prompt=True, tokenize=True)[
                "input_ids"
            ]
            for c in conversations
        ]
        answers: list[str] = [""] * len(prompts)
        for batch in length_buckets([len(p) for p in prompts], self.max_batch_tokens, max_batch_size=32):
            ids, mask = map(torch.from_numpy, padded_batch(prompts, batch, self.pad_id, left=True))
            width = ids.shape[1]
            with torch.inference_mode():
                out = self.model.generate(
                    input_ids=ids.to(self.device),
                    attention_mask=mask.to(self.device),
                    max_new_tokens=max_new_tokens,
                    do_sample=temperature > 0,
                    temperature=temperature if temperature > 0 else None,
                    top_p=None,
                    top_k=None,
                    pad_token_id=self.pad_id,
                )
            for row, index in enumerate(batch):
                answers[index] = self.tokenizer.decode(out[row, width:], skip_special_tokens=True).strip()
        return answers
