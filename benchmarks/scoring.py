"""IFD scoring throughput against the raw batched forward pass of the same model, and embedder throughput.

Usage: .venv/bin/python -m benchmarks.scoring [--samples N] [--repeat R] [--dtype float32|bfloat16]

Both sides run in this process on the same real ShareGPT first exchanges in SmolLM2's chat template
(max_length 512, responses cut at 256 tokens): ours is `TransformersLM.response_logprobs` (the conditional
and the unconditional sequence of every sample, length-bucketed, LM head on response positions only,
log-softmax, gather); the reference is `model(input_ids, attention_mask)` on the same sequences in the
same padded batches, nothing else (the cost floor of the forward pass, full logits). The goal is ours
>= 0.9 x the reference's samples/s. Then MiniLM's sentences/s on the same prompts. Fastest of R runs each,
alternating; a report: it always exits 0.
"""

import argparse
import time

import numpy as np

from benchmarks.measure import verdict
from instruct_assets.paths import PROJECT_ROOT

MIN_RATIO = 0.9


def first_exchanges(count: int) -> list[list[dict]]:
    from instruct_assets.demo.packaged_data import iter_sharegpt_conversations, sharegpt_messages

    picked = []
    for record in iter_sharegpt_conversations():
        messages = sharegpt_messages(record)[:2]
        if [m["role"] for m in messages] == ["user", "assistant"] and all(
            m["content"].strip() for m in messages
        ):
            picked.append(messages)
        if len(picked) == count:
            break
    return picked


def raw_forward_seconds(lm, sequences: list[list[int]]) -> float:
    """The reference: the model's forward pass over the same bucketed batches, full logits."""
    import torch

    from instruct_assets.models.llm_backend import length_buckets, padded_batch

    lengths = [len(s) for s in sequences]
    started = time.perf_counter()
    for batch in length_buckets(lengths, lm.max_batch_tokens):
        ids, mask = map(torch.from_numpy, padded_batch(sequences, batch, lm.pad_id))
        with torch.inference_mode():
            lm.model(input_ids=ids, attention_mask=mask).logits.sum()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=96)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--dtype", default="float32", choices=["float32", "bfloat16"])
    args = parser.parse_args()

    from instruct_assets.models.model_files import model_folder
    from instruct_assets.models.transformers_lm import TransformersLM
    from instruct_assets.resources.llm import EmbedderResource

    folder = model_folder("packaged:smollm2-135m-instruct", PROJECT_ROOT / "data" / "models")
    lm = TransformersLM(folder, "smollm2", dtype=args.dtype, max_length=512, max_response_tokens=256)
    conversations = first_exchanges(args.samples)
    encoded = lm.encoder.encode_all(conversations)
    sequences = [s.conditional_ids for s in encoded] + [s.unconditional_ids for s in encoded]
    tokens = sum(len(s) for s in sequences)
    print(f"{len(encoded)} samples, {len(sequences)} sequences, {tokens} tokens, SmolLM2-135M {args.dtype}")
    lm.response_logprobs(encoded[:4])  # warm-up: first-call allocations are not the method's cost

    ours, reference = [], []
    for _ in range(args.repeat):
        started = time.perf_counter()
        lm.response_logprobs(encoded)
        ours.append(time.perf_counter() - started)
        reference.append(raw_forward_seconds(lm, sequences))
    ours_s, ref_s = min(ours), min(reference)
    for name, seconds in (("reference (raw forward)", ref_s), ("ours (IFD, both terms)", ours_s)):
        rates = f"{len(encoded) / seconds:7.2f} samples/s  {tokens / seconds:7.0f} tok/s"
        print(f"  {name:24} {seconds:8.1f} s  {rates}")
    ratio = ref_s / ours_s
    print(
        f"  throughput ratio ours/reference {ratio:.2f}  goal >= {MIN_RATIO}: {verdict(ratio >= MIN_RATIO)}"
    )

    embedder = EmbedderResource(models_dir=str(PROJECT_ROOT / "data" / "models")).load()
    prompts = [c[0]["content"] for c in conversations]
    embedder.embed(prompts[:8])
    times = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        vectors = embedder.embed(prompts)
        times.append(time.perf_counter() - started)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    print(f"  embedder all-MiniLM-L6-v2 (<= 256 tokens): {len(prompts) / min(times):.1f} sentences/s")


if __name__ == "__main__":
    main()
