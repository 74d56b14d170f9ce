"""Model-bound methods: chat encoding, LLM backends (transformers, vllm), the sentence embedder."""
