"""The transformers backend: IFD against transformers' own loss, batching, pooling, generation; the
embedder. The real SmolLM2 model where the numbers must mean something, the tiny one elsewhere."""

import numpy as np
import pytest
import torch

from instruct_assets.demo.packaged_data import sharegpt_messages
from instruct_assets.models.llm_backend import position_weights, sequence_nll
from instruct_assets.models.sentence_embedder import SentenceEmbedder
from instruct_assets.models.transformers_lm import TransformersLM
from instruct_assets.paths import PROJECT_ROOT
from instruct_assets.resources.llm import EmbedderResource


@pytest.fixture(scope="module")
def smollm2(smollm2_folder) -> TransformersLM:
    return TransformersLM(smollm2_folder, "smollm2", max_length=256, max_response_tokens=128)


@pytest.fixture(scope="module")
def tiny(tiny_llm_folder) -> TransformersLM:
    return TransformersLM(
        str(tiny_llm_folder), "tiny", max_length=256, max_response_tokens=128, max_batch_tokens=700
    )


def reference_mean_nll(model, context_ids: list[int], response_ids: list[int]) -> float:
    """Transformers' own loss: one unpadded sequence, labels -100 on the context."""
    ids = torch.tensor([context_ids + response_ids])
    labels = ids.clone()
    labels[0, : len(context_ids)] = -100
    with torch.no_grad():
        return model(input_ids=ids, labels=labels).loss.item()


def test_ifd_matches_transformers_loss_on_real_samples(smollm2, real_conversations):
    samples = smollm2.encoder.encode_all([sharegpt_messages(r) for r in real_conversations[:6]])
    scores = smollm2.response_logprobs(samples)
    assert any(s.truncated for s in samples), "the sample set should exercise truncation"
    for i, sample in enumerate(samples):
        conditional = reference_mean_nll(smollm2.model, sample.context_ids, sample.response_ids)
        unconditional = reference_mean_nll(smollm2.model, sample.bare_context_ids, sample.response_ids)
        ifd_reference = np.exp(conditional) / np.exp(unconditional)
        ifd = np.exp(sequence_nll(scores.conditional[i]) - sequence_nll(scores.unconditional[i]))
        assert ifd == pytest.approx(ifd_reference, rel=1e-4)
        assert sequence_nll(scores.conditional[i]) == pytest.approx(conditional, rel=1e-4)
    # A real instruction helps a real model: most answers are likelier given their prompt.
    assert (
        sum(np.mean(c) > np.mean(u) for c, u in zip(scores.conditional, scores.unconditional, strict=True))
        >= 4
    )


def test_encoding_is_the_chat_template_of_the_first_exchange(smollm2):
    messages = [
        {"role": "user", "content": "Name a prime."},
        {"role": "assistant", "content": "Seven."},
        {"role": "user", "content": "Another?"},
        {"role": "assistant", "content": "Eleven."},
    ]
    sample = smollm2.encoder.encode(messages)
    rendered = smollm2.tokenizer.apply_chat_template(messages[:2], tokenize=False)
    assert smollm2.tokenizer.decode(sample.conditional_ids) == rendered.rstrip("\n")
    assert smollm2.tokenizer.decode(sample.response_ids) == "Seven.<|im_end|>"
    assert smollm2.tokenizer.decode(sample.bare_context_ids) == "<|im_start|>assistant\n"


def test_truncation_keeps_the_generation_prompt_and_cuts_the_response(tiny):
    messages = [{"role": "user", "content": "word " * 400}, {"role": "assistant", "content": "answer " * 300}]
    sample = tiny.encoder.encode(messages)
    assert sample.truncated
    assert len(sample.response_ids) == 128 and len(sample.conditional_ids) == 256
    assert sample.context_ids[-len(sample.bare_context_ids) :] == sample.bare_context_ids


def test_bucketed_batches_score_as_single_sequences_do(tiny, real_conversations):
    samples = tiny.encoder.encode_all([sharegpt_messages(r) for r in real_conversations[:12]])
    batched = tiny.response_logprobs(samples, pooled=True)
    for i, sample in enumerate(samples):
        alone = tiny.response_logprobs([sample], pooled=True)
        np.testing.assert_allclose(batched.conditional[i], alone.conditional[0], atol=1e-5)
        np.testing.assert_allclose(batched.unconditional[i], alone.unconditional[0], atol=1e-5)
        np.testing.assert_allclose(batched.pooled[i], alone.pooled[0], atol=1e-5)
        assert len(batched.conditional[i]) == len(sample.response_ids)
    # The conditional term alone (what evaluations use) is the same numbers.
    for alone, both in zip(tiny.conditional_logprobs(samples), batched.conditional, strict=True):
        np.testing.assert_allclose(alone, both, atol=1e-5)


def test_pooled_state_is_the_position_weighted_mean_of_final_hidden_states(tiny, real_conversations):
    sample = tiny.encoder.encode(sharegpt_messages(real_conversations[0]))
    with torch.no_grad():
        out = tiny.model(input_ids=torch.tensor([sample.conditional_ids]), output_hidden_states=True)
    final = out.hidden_states[-1][0].double().numpy()
    expected = position_weights(len(sample.conditional_ids)) @ final
    np.testing.assert_allclose(tiny.pooled_hidden_states([sample])[0], expected, atol=1e-5)
    uniform = final.mean(axis=0)
    assert not np.allclose(expected, uniform, atol=1e-3), "weights must differ from a plain mean"


def test_real_model_answers_a_question(smollm2):
    answers = smollm2.generate(
        [[{"role": "user", "content": "What is 2 + 2? Answer with a number."}]], max_new_tokens=16
    )
    assert "4" in answers[0]


def test_embedder_puts_paraphrases_closer_than_unrelated_text():
    embedder = EmbedderResource(models_dir=str(PROJECT_ROOT / "data" / "models")).load()
    assert isinstance(embedder, SentenceEmbedder)
    texts = [
        "How do I bake bread at home?",
        "What is a simple recipe for homemade bread?",
        "Explain TCP handshakes.",
    ]
    vectors = embedder.embed(texts)
    assert vectors.shape == (3, 384)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.3
    np.testing.assert_allclose(embedder.embed(texts[2:])[0], vectors[2], atol=1e-5)
