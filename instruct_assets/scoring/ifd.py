"""IFD and perplexities from per-token response log-probs (Li et al. 2024; IterIT eq. 1-3).

    PPL(y|x) = exp(-mean_k log p(y_k | y_<k, x))      PPL(y) = exp(-mean_k log p(y_k | y_<k))
    IFD      = PPL(y|x) / PPL(y) = exp(nll_conditional - nll_unconditional)
IFD < 1: the instruction helps the model produce the answer; IFD >= 1: it does not (an unaligned pair,
which IterIT never selects). Computed from the mean NLLs, so it never overflows.
"""

from collections.abc import Sequence

import numpy as np
import polars as pl

from instruct_assets.models.chat_encoding import EncodedSample
from instruct_assets.models.llm_backend import ResponseLogprobs, sequence_nll


def ifd_frame(samples: Sequence[EncodedSample], logprobs: ResponseLogprobs) -> pl.DataFrame:
    """One row per sample: token counts, mean NLLs, both perplexities and IFD (and the RDS+ vector)."""
    nll_conditional = np.array([sequence_nll(lp) for lp in logprobs.conditional])
    nll_unconditional = np.array([sequence_nll(lp) for lp in logprobs.unconditional])
    frame = pl.DataFrame(
        {
            "prompt_tokens": [len(s.context_ids) for s in samples],
            "response_tokens": [len(s.response_ids) for s in samples],
            "truncated": [s.truncated for s in samples],
            "nll_conditional": nll_conditional,
            "nll_unconditional": nll_unconditional,
            "ppl_conditional": np.exp(nll_conditional),
            "ppl_response": np.exp(nll_unconditional),
            "ifd": np.exp(nll_conditional - nll_unconditional),
        },
        schema_overrides={"prompt_tokens": pl.Int32, "response_tokens": pl.Int32},
    )
    if logprobs.pooled is not None:
        frame = frame.with_columns(lm_embedding=pl.Series(logprobs.pooled.astype(np.float32)))
    return frame
