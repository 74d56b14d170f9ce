"""The SFT pieces for real on a tiny Llama with SmolLM2's tokenizer and chat template: encoding, the loop,
checkpoint folders, loss-difference verdicts."""

import json

import numpy as np
import polars as pl
import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from instruct_assets.models.chat_encoding import ChatEncoder
from instruct_assets.models.transformers_lm import TransformersLM
from instruct_assets.training.checkpoint_files import (
    LINEAGE_FILE,
    prune_versions,
    read_lineage,
    save_checkpoint,
)
from instruct_assets.training.loss_difference import OUTLIER, UNSCORABLE, loss_difference_verdicts
from instruct_assets.training.sft_examples import IGNORED, encode_for_sft
from instruct_assets.training.sft_loop import TrainingSettings, learning_rate_at, step_batches, train_sft

CONVERSATION = [
    {"role": "user", "content": "Name a primary colour."},
    {"role": "assistant", "content": "Red."},
    {"role": "user", "content": "Another one?"},
    {"role": "assistant", "content": "Blue, and also yellow."},
]


@pytest.fixture(scope="module")
def tokenizer(tiny_llm_folder):
    return AutoTokenizer.from_pretrained(tiny_llm_folder)


@pytest.fixture(scope="module")
def encoder(tokenizer):
    return ChatEncoder(tokenizer, max_length=512, max_response_tokens=511)


def test_labels_cover_each_answer_and_its_end_of_turn_and_nothing_else(tokenizer, encoder):
    example = encode_for_sft(encoder, CONVERSATION, max_length=512)
    assert tokenizer.decode(example.input_ids) == tokenizer.apply_chat_template(CONVERSATION, tokenize=False)
    trained = example.labels != IGNORED
    np.testing.assert_array_equal(example.labels[trained], example.input_ids[trained])
    # The labelled spans, decoded, are exactly the two answers with ChatML's end-of-turn marker.
    spans, current = [], []
    for token, is_trained in zip(example.input_ids, trained, strict=True):
        if is_trained:
            current.append(int(token))
        elif current:
            spans.append(tokenizer.decode(current))
            current = []
    assert spans == ["Red.<|im_end|>", "Blue, and also yellow.<|im_end|>"]
    # Same answer ids as the scoring path encodes for the first exchange.
    scored = encoder.encode(CONVERSATION)
    first = example.input_ids[: len(scored.conditional_ids)].tolist()
    assert first == scored.conditional_ids


def test_long_conversations_are_cut_and_a_prompt_longer_than_max_length_is_skipped(encoder):
    example = encode_for_sft(encoder, CONVERSATION, max_length=40)
    assert len(example.input_ids) == 40 and example.truncated and example.trained_tokens > 0
    long_prompt = [{"role": "user", "content": "word " * 300}, {"role": "assistant", "content": "ok"}]
    assert encode_for_sft(encoder, long_prompt, max_length=64) is None


def answer_loss(model, examples) -> float:
    """Transformers' own loss (it shifts labels itself), averaged over the examples, as an independent
    measure of what training should lower."""
    with torch.inference_mode():
        losses = [
            model(
                input_ids=torch.from_numpy(e.input_ids)[None], labels=torch.from_numpy(e.labels)[None]
            ).loss.item()
            for e in examples
        ]
    return float(np.mean(losses))


def training_examples(encoder, real_conversations, n=8):
    from instruct_assets.demo.packaged_data import sharegpt_messages

    examples = [encode_for_sft(encoder, sharegpt_messages(r), max_length=96) for r in real_conversations]
    return [e for e in examples if e is not None][:n]


@pytest.mark.parametrize("precision", ["fp32", "bf16-mixed"])
def test_a_few_steps_lower_the_training_loss(tiny_llm_folder, encoder, real_conversations, precision):
    model = AutoModelForCausalLM.from_pretrained(tiny_llm_folder, dtype=torch.float32)
    examples = training_examples(encoder, real_conversations)
    before = answer_loss(model, examples)
    settings = TrainingSettings(
        learning_rate=3e-3, epochs=6, batch_size=4, micro_batch_size=2, precision=precision
    )
    steps = []
    log = train_sft(model, examples, settings, pad_id=0, on_step=steps.append)
    after = answer_loss(model, examples)
    assert after < before - 0.5, (before, after)
    assert log.steps.height == len(steps) == 12 and log.steps["step"].to_list() == list(range(1, 13))
    assert log.trained_tokens == 6 * sum(int((e.labels[1:] != IGNORED).sum()) for e in examples)
    assert not model.training


def test_micro_batches_accumulate_to_the_same_step(tiny_llm_folder, encoder, real_conversations):
    """Each step's loss is normalised by the step's answer tokens, not the micro-batch's: splitting a step
    into micro-batches gives the same losses, and (second epoch) the same updates."""
    examples = training_examples(encoder, real_conversations)
    losses = []
    for micro in (4, 1):
        model = AutoModelForCausalLM.from_pretrained(tiny_llm_folder, dtype=torch.float32)
        settings = TrainingSettings(learning_rate=1e-3, epochs=2, batch_size=4, micro_batch_size=micro)
        losses.append(train_sft(model, examples, settings, pad_id=0).steps["loss"].to_numpy())
    np.testing.assert_allclose(losses[0], losses[1], rtol=1e-4)
    assert losses[0][-1] < losses[0][0]


def test_schedule_warms_up_then_decays_to_zero_and_batches_cover_every_example_once():
    settings = TrainingSettings(learning_rate=1.0, warmup_ratio=0.2, batch_size=3)
    rates = [learning_rate_at(step, 10, settings) for step in range(10)]
    assert (
        rates[:2] == [0.5, 1.0]
        and rates[-1] == pytest.approx(0.125)
        and rates == sorted(rates[:2]) + sorted(rates[2:], reverse=True)
    )

    class Example:
        def __init__(self, n):
            self.input_ids = np.zeros(n)

    examples = [Example(n) for n in range(1, 20)]
    batches = step_batches(examples, settings, epoch=0)
    assert sorted(np.concatenate(batches).tolist()) == list(range(19))
    assert [b.tolist() for b in batches] == [b.tolist() for b in step_batches(examples, settings, epoch=0)]
    assert [b.tolist() for b in batches] != [b.tolist() for b in step_batches(examples, settings, epoch=1)]


def test_a_saved_checkpoint_reloads_with_identical_log_probs(
    tmp_path, tiny_llm_folder, encoder, real_conversations
):
    from instruct_assets.demo.packaged_data import sharegpt_messages

    model = AutoModelForCausalLM.from_pretrained(tiny_llm_folder, dtype=torch.float32)
    tokenizer = AutoTokenizer.from_pretrained(tiny_llm_folder)
    log = train_sft(
        model, training_examples(encoder, real_conversations), TrainingSettings(learning_rate=1e-3), 0
    )
    lineage = {"training_sets": [{"asset_key": "random_selection", "partition": None, "data_version": "abc"}]}
    folder = save_checkpoint(
        tmp_path / "versions" / "run1", model, tokenizer, {"learning_rate": 1e-3}, lineage, log.steps,
        pl.DataFrame({"sample_id": ["a", "b"]}),
    )  # fmt: skip
    assert read_lineage(folder) == lineage
    assert json.loads((folder / "training_config.json").read_text()) == {"learning_rate": 1e-3}
    assert pl.read_parquet(folder / "train_log.parquet").equals(log.steps)

    reloaded = TransformersLM(str(folder), model_id="checkpoint", max_length=256, max_response_tokens=128)
    in_memory = TransformersLM(str(folder), model_id="in-memory", max_length=256, max_response_tokens=128)
    in_memory.model = model.eval()
    samples = reloaded.encoder.encode_all([sharegpt_messages(r) for r in real_conversations[:6]])
    first, second = reloaded.response_logprobs(samples), in_memory.response_logprobs(samples)
    for a, b in zip(
        first.conditional + first.unconditional, second.conditional + second.unconditional, strict=True
    ):
        np.testing.assert_array_equal(a, b)
    base = TransformersLM(str(tiny_llm_folder), model_id="base", max_length=256, max_response_tokens=128)
    assert not np.array_equal(base.response_logprobs(samples).conditional[0], first.conditional[0])


def test_checkpoints_are_never_overwritten_and_a_failed_save_leaves_nothing(tmp_path, tiny_llm_folder):
    model = AutoModelForCausalLM.from_pretrained(tiny_llm_folder, dtype=torch.float32)
    tokenizer = AutoTokenizer.from_pretrained(tiny_llm_folder)
    steps, trained = pl.DataFrame({"step": [1]}), pl.DataFrame({"sample_id": ["a"]})
    with pytest.raises(TypeError):  # the lineage cannot be written as JSON: the save fails halfway
        save_checkpoint(tmp_path / "v" / "bad", model, tokenizer, {}, {"x": object()}, steps, trained)
    assert list((tmp_path / "v").iterdir()) == []
    first = save_checkpoint(tmp_path / "v" / "one", model, tokenizer, {}, {}, steps, trained)
    with pytest.raises(FileExistsError):
        save_checkpoint(first, model, tokenizer, {}, {}, steps, trained)
    save_checkpoint(tmp_path / "v" / "two", model, tokenizer, {}, {}, steps, trained)
    save_checkpoint(tmp_path / "v" / "three", model, tokenizer, {}, {}, steps, trained)
    removed = prune_versions(tmp_path / "v", keep=2)
    assert [p.name for p in removed] == ["one"]
    assert sorted(p.name for p in (tmp_path / "v").iterdir()) == ["three", "two"]
    assert (tmp_path / "v" / "two" / LINEAGE_FILE).is_file()


def test_loss_difference_drops_both_tails_and_unscorable_samples():
    base = np.array([2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, np.nan])
    tuned = np.array([1.9, 1.8, 1.7, 1.6, 1.5, 1.4, 1.3, 1.2, 0.1, 2.5, 1.0])
    verdicts = loss_difference_verdicts(base, tuned, quantile=0.1)
    # differences: 0.1 .. 0.8, 1.9 (memorised) and -0.5 (loss rose); the 10% and 90% quantiles cut both.
    assert (
        verdicts.reason[8] == OUTLIER and verdicts.reason[9] == OUTLIER and verdicts.reason[10] == UNSCORABLE
    )
    assert verdicts.kept.tolist() == [True] * 8 + [False] * 3
    assert verdicts.low == pytest.approx(np.quantile(verdicts.difference[:10], 0.1))
    assert loss_difference_verdicts(base, tuned, quantile=0.0).kept.sum() == 10
    with pytest.raises(ValueError):
        loss_difference_verdicts(base, tuned, quantile=0.5)
