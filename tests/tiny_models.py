"""A tiny randomly initialised Llama with the real SmolLM2 tokenizer and chat template: the same code
paths as the packaged model at a fraction of the cost (../shared/OFFLINE.md). Its scores mean nothing;
tests that need meaningful scores use the real model."""

from pathlib import Path

from instruct_assets.models.model_files import PACKAGED_MODELS


def build_tiny_llama(folder: Path, seed: int = 0) -> Path:
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    gguf = PACKAGED_MODELS["smollm2-135m-instruct"].locate()
    tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=2048,
        tie_word_embeddings=True,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder
