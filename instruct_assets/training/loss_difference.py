"""Loss-difference noise removal (Infinity Instruct, paper 000): samples whose loss changes far more, or
far less, under the tuned model than the other samples' losses do are treated as noise.

The paper only says that samples whose loss differs a lot between the base and the tuned model are
removed. Our reading, documented in docs/training.md: difference = NLL under the base model minus NLL
under the tuned model (per answer token, the scoring path's first exchange), and a sample is an outlier
when its difference lies outside the [q, 1 - q] quantiles of all differences: the upper tail holds
samples the model memorised far beyond the rest (often templated or duplicated text), the lower tail
samples whose loss rose while the rest fell (contradicting the first stage). A sample without a finite
loss is dropped as unscorable.
"""

from dataclasses import dataclass

import numpy as np

OUTLIER = "loss_difference_outlier"
UNSCORABLE = "loss_not_finite"


@dataclass(frozen=True)
class LossDifferenceVerdicts:
    difference: np.ndarray  # base NLL - tuned NLL, per sample
    reason: list[str | None]  # None: kept
    low: float  # the q quantile of the differences
    high: float  # the 1 - q quantile

    @property
    def kept(self) -> np.ndarray:
        return np.array([r is None for r in self.reason], dtype=bool)


def loss_difference_verdicts(
    base_nll: np.ndarray, tuned_nll: np.ndarray, quantile: float
) -> LossDifferenceVerdicts:
    """Which samples to keep: those whose loss difference lies within [q, 1 - q] quantiles (q = quantile,
    0 keeps every finite one). Quantiles interpolate linearly (numpy's default)."""
    if not 0.0 <= quantile < 0.5:
        raise ValueError(f"quantile must be in [0, 0.5), got {quantile}")
    difference = np.asarray(base_nll, dtype=np.float64) - np.asarray(tuned_nll, dtype=np.float64)
    finite = np.isfinite(difference)
    if finite.any():
        low, high = np.quantile(difference[finite], [quantile, 1.0 - quantile])
    else:
        low, high = float("nan"), float("nan")
    reason = [
        UNSCORABLE if not ok else (OUTLIER if quantile > 0 and not (low <= d <= high) else None)
        for d, ok in zip(difference, finite, strict=True)
    ]
    return LossDifferenceVerdicts(difference, reason, float(low), float(high))
