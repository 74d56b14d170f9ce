"""Our SFT loop (`train_sft`) against transformers' `Trainer`: tokens/s, peak RSS and the loss curves.

Usage: .venv/bin/python -m benchmarks.training [--samples 64] [--max-length 192] [--batch-size 8]
       [--precision bf16-mixed|fp32] [--repeat 1] [--reference-schedule ours|linear]

Both sides fine-tune SmolLM2-135M-Instruct (the packaged model, fp32 weights) for one epoch on the same
real ShareGPT conversations encoded with `encode_for_sft` (labels on answer tokens only), with AdamW, lr
5e-5, linear warm-up over 10% of the steps then linear decay, gradient clipping at 1.0, seed 0 and the same
precision, one optimizer step per batch. Each side runs in a fresh process (model load and data not timed)
and reports its own peak RSS; sides alternate when repeated and the fastest run is shown. The reference is
given the examples in the order `step_batches` makes for epoch 0, read sequentially, so step k of both
sides trains on the same batch and the per-step losses can be compared. The Trainer's "linear" schedule
starts its warm-up at lr 0 (its first step changes nothing) where ours starts at lr / warm-up steps, so by
default the reference runs our schedule (a `create_scheduler` override; `--reference-schedule linear`
keeps its own, and then only step 1 is comparable). Goals: our tokens/s >= 0.9 x the reference's, our
peak RSS <= 1.1 x its, per-step losses within 1e-4 (fp32) / 5e-3 (bf16-mixed). A report: it
always exits 0.
"""

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from benchmarks.measure import StageRun, fastest, print_result, run_module, verdict
from instruct_assets.paths import PROJECT_ROOT

MODEL = "packaged:smollm2-135m-instruct"
LEARNING_RATE = 5e-5
MIN_SPEED_RATIO = 0.9
MAX_RSS_RATIO = 1.1
# Largest |loss difference| allowed per step: every step with the same schedule, the first one (same weights,
# same batch) with the Trainer's own. The first steps agree to ~1e-7; in bf16 the graphs' different rounding
# (LM head on answer positions vs all) moves weights apart by a bf16 ulp now and then: <= ~1.3e-3 in 8 steps.
LOSS_TOLERANCE = {"fp32": 1e-4, "bf16-mixed": 5e-3}


def write_examples(path: Path, count: int, max_length: int) -> None:
    """The first `count` ShareGPT conversations (file order) that encode to an SFT example, as JSON."""
    from transformers import AutoTokenizer

    from instruct_assets.demo.packaged_data import iter_sharegpt_conversations, sharegpt_messages
    from instruct_assets.models.chat_encoding import ChatEncoder
    from instruct_assets.models.model_files import model_folder
    from instruct_assets.training.sft_examples import encode_for_sft

    tokenizer = AutoTokenizer.from_pretrained(model_folder(MODEL, PROJECT_ROOT / "data" / "models"))
    encoder = ChatEncoder(tokenizer, max_length, max_length - 1)
    examples = []
    for record in iter_sharegpt_conversations():
        messages = sharegpt_messages(record)
        roles = [m["role"] for m in messages]
        if roles[:1] != ["user"] or not all(r in ("user", "assistant") for r in roles):
            continue
        if not all(m["content"].strip() for m in messages):
            continue
        example = encode_for_sft(encoder, messages, max_length)
        if example is not None:
            examples.append({"input_ids": example.input_ids.tolist(), "labels": example.labels.tolist()})
        if len(examples) == count:
            break
    path.write_text(json.dumps({"examples": examples, "pad_id": tokenizer.pad_token_id or 0}))


def load_side(path: Path):
    """(model, examples, pad_id) in this process: a fresh fp32 model load and the shared examples."""
    import numpy as np
    import torch
    from transformers import AutoModelForCausalLM

    from instruct_assets.models.model_files import model_folder
    from instruct_assets.training.sft_examples import SftExample

    data = json.loads(path.read_text())
    examples = [
        SftExample(np.asarray(e["input_ids"]), np.asarray(e["labels"]), False) for e in data["examples"]
    ]
    folder = model_folder(MODEL, PROJECT_ROOT / "data" / "models")
    return AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32), examples, data["pad_id"]


def run_ours(model, examples, settings, pad_id) -> tuple[float, list[float], list[float]]:
    from instruct_assets.training.sft_loop import train_sft

    started = time.perf_counter()
    log = train_sft(model, examples, settings, pad_id)
    seconds = time.perf_counter() - started
    return seconds, log.steps["loss"].to_list(), log.steps["learning_rate"].to_list()


def run_reference(model, examples, settings, pad_id, schedule: str) -> tuple[float, list[float], list[float]]:
    import numpy as np
    import torch
    from transformers import PrinterCallback, Trainer, TrainingArguments

    from instruct_assets.models.llm_backend import padded_batch
    from instruct_assets.training.sft_examples import IGNORED
    from instruct_assets.training.sft_loop import learning_rate_at, step_batches

    def collate(features: list[dict]) -> dict:
        rows = np.arange(len(features))
        ids, mask = padded_batch([f["input_ids"] for f in features], rows, pad_id)
        labels = padded_batch([f["labels"] for f in features], rows, IGNORED)[0]
        return {
            k: torch.from_numpy(v)
            for k, v in (("input_ids", ids), ("attention_mask", mask), ("labels", labels))
        }

    class SameScheduleTrainer(Trainer):
        """The Trainer with our learning-rate schedule (its linear one trains step 1 at lr 0)."""

        def create_scheduler(self, num_training_steps, optimizer=None):
            if self.lr_scheduler is None:
                self.lr_scheduler = torch.optim.lr_scheduler.LambdaLR(
                    optimizer or self.optimizer,
                    lambda step: (
                        learning_rate_at(step, num_training_steps, settings) / settings.learning_rate
                    ),
                )
            return self.lr_scheduler

    order = np.concatenate(step_batches(examples, settings, 0))
    dataset = [{"input_ids": examples[i].input_ids, "labels": examples[i].labels} for i in order]
    with tempfile.TemporaryDirectory() as output_dir:
        arguments = TrainingArguments(
            output_dir=output_dir,
            per_device_train_batch_size=settings.batch_size,
            learning_rate=settings.learning_rate,
            lr_scheduler_type="linear",
            warmup_steps=settings.warmup_ratio,  # transformers 5: a float < 1 is a ratio (no warmup_ratio)
            weight_decay=settings.weight_decay,
            max_grad_norm=settings.max_grad_norm,
            num_train_epochs=settings.epochs,
            use_cpu=True,
            bf16=settings.precision == "bf16-mixed",
            report_to=[],
            save_strategy="no",
            logging_steps=1,
            dataloader_num_workers=0,
            seed=settings.seed,
            train_sampling_strategy="sequential",  # the order above, as is
            remove_unused_columns=False,
            disable_tqdm=True,
        )
        trainer_class = SameScheduleTrainer if schedule == "ours" else Trainer
        trainer = trainer_class(model=model, args=arguments, train_dataset=dataset, data_collator=collate)
        trainer.remove_callback(PrinterCallback)
        started = time.perf_counter()
        trainer.train()
        seconds = time.perf_counter() - started
    steps = [entry for entry in trainer.state.log_history if "loss" in entry]
    return seconds, [s["loss"] for s in steps], [s["learning_rate"] for s in steps]


def child(side: str, path: Path, args) -> None:
    import torch

    model, examples, pad_id = load_side(path)
    settings = training_settings(args)
    if side == "ours":
        seconds, losses, rates = run_ours(model, examples, settings, pad_id)
    else:
        seconds, losses, rates = run_reference(model, examples, settings, pad_id, args.reference_schedule)
    tokens = sum(len(e.input_ids) for e in examples)
    answers = sum(int((e.labels[1:] != -100).sum()) for e in examples)
    result = dict(seconds=seconds, tokens=tokens, answer_tokens=answers, threads=torch.get_num_threads())
    print_result(result | dict(losses=losses, learning_rates=rates))


def training_settings(args):
    from instruct_assets.training.sft_loop import TrainingSettings

    size = args.batch_size  # one forward pass per optimizer step, as the Trainer's (no accumulation)
    fixed = dict(learning_rate=LEARNING_RATE, epochs=1, warmup_ratio=0.1, weight_decay=0.0, max_grad_norm=1.0)
    return TrainingSettings(batch_size=size, micro_batch_size=size, seed=0, precision=args.precision, **fixed)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--samples", type=int, default=64)
    parser.add_argument("--max-length", type=int, default=192)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--precision", default="bf16-mixed", choices=["bf16-mixed", "fp32"])
    parser.add_argument("--repeat", type=int, default=1, help="runs per side; the fastest is reported")
    parser.add_argument(
        "--reference-schedule",
        default="ours",
        choices=["ours", "linear"],
        help="the reference's lr schedule: ours (every step comparable), or the Trainer's own linear one "
        "(its first step runs at lr 0, so only step 1 is comparable)",
    )
    parser.add_argument("--side", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.side:
        child(args.side[0], Path(args.side[1]), args)
        return
    if args.samples % args.batch_size:
        parser.error("--samples must be a multiple of --batch-size (both sides then make the same batches)")

    flags = [f"--{k.replace('_', '-')}={v}" for k, v in vars(args).items() if k not in ("side", "repeat")]
    runs = {"reference": [], "ours": []}
    with tempfile.TemporaryDirectory() as work:
        path = Path(work) / "examples.json"
        write_examples(path, args.samples, args.max_length)
        for _ in range(args.repeat):
            for side, side_runs in runs.items():
                side_runs.append(
                    run_module(side, "benchmarks.training", [*flags, "--side", side, str(path)], 0)
                )
    reference, ours = fastest(runs["reference"]), fastest(runs["ours"])
    first = ours.result
    print(
        f"SmolLM2-135M {args.precision}: {args.samples} ShareGPT conversations x <= {args.max_length} "
        f"tokens ({first['tokens']:,} tokens, {first['answer_tokens']:,} answer tokens), batch "
        f"{args.batch_size}, {len(first['losses'])} steps, reference schedule {args.reference_schedule}; "
        f"torch threads {first['threads']}, load average {os.getloadavg()[0]:.1f}"
    )
    for side, side_runs in runs.items():
        print(
            f"{side} seconds over {args.repeat} run(s): "
            + ", ".join(f"{r.result['seconds']:.1f}" for r in side_runs)
        )
    report(args, reference, ours)


def report(args, reference: StageRun, ours: StageRun) -> None:
    header = ("side", "seconds", "tok/s", "answer/s", "peak RSS", "loss 1st", "last", "mean")
    print("{:<10} {:>8} {:>7} {:>9} {:>10} {:>8} {:>7} {:>7}".format(*header))
    for run in (reference, ours):
        r, losses = run.result, run.result["losses"]
        print(
            f"{run.name:<10} {r['seconds']:>8.1f} {r['tokens'] / r['seconds']:>7.1f} "
            f"{r['answer_tokens'] / r['seconds']:>9.1f} {run.peak_rss_bytes / 2**30:>6.2f} GiB "
            f"{losses[0]:>8.4f} {losses[-1]:>7.4f} {sum(losses) / len(losses):>7.4f}"
        )
    speed = reference.result["seconds"] / ours.result["seconds"]
    fast = speed >= MIN_SPEED_RATIO
    print(f"tokens/s ours/reference: {speed:.2f} (goal >= {MIN_SPEED_RATIO}) {verdict(fast)}")
    rss = ours.peak_rss_bytes / reference.peak_rss_bytes
    print(f"peak RSS ours/reference: {rss:.3f} (goal <= {MAX_RSS_RATIO}) {verdict(rss <= MAX_RSS_RATIO)}")

    a, b = ours.result, reference.result
    gaps = [abs(x - y) for x, y in zip(a["losses"], b["losses"], strict=True)]
    print("step  lr ours   lr ref    loss ours   loss ref    |diff|")
    for i, gap in enumerate(gaps):
        rates, losses = (a["learning_rates"][i], b["learning_rates"][i]), (a["losses"][i], b["losses"][i])
        print(f"{i + 1:>4}  {rates[0]:.2e}  {rates[1]:.2e}  {losses[0]:9.5f}  {losses[1]:9.5f}  {gap:.2e}")
    checked, tolerance = (
        (gaps if args.reference_schedule == "ours" else gaps[:1]),
        LOSS_TOLERANCE[args.precision],
    )
    mean_gap = abs(sum(a["losses"]) - sum(b["losses"])) / len(gaps)
    print(
        f"loss agreement: max |diff| {max(gaps):.2e}, mean loss |diff| {mean_gap:.2e}; "
        f"{len(checked)} step(s) checked (tolerance {tolerance:g}) {verdict(max(checked) <= tolerance)}"
    )


if __name__ == "__main__":
    main()
