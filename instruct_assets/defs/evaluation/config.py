from dataclasses import fields

import dagster as dg
from pydantic import Field

from instruct_assets.evaluation.suite import EvaluationSettings


class EvaluationConfig(dg.Config):
    """What an evaluation measures and on how many items (caps: fewer available items are all used).
    The defaults (EvaluationSettings') keep one evaluation of the CPU demo model to about a minute;
    resources/run_config/training_gpu.yaml has larger ones."""

    dev_samples: int = Field(
        EvaluationSettings.dev_samples,
        description="instruction dev conversations whose answer loss is measured",
    )
    items_per_benchmark: int = Field(
        EvaluationSettings.items_per_benchmark,
        description="eval-split items per benchmark (dev loss, choices)",
    )
    exact_match_items: int = Field(
        EvaluationSettings.exact_match_items, description="generated short answers per benchmark; 0 disables"
    )
    judge_items: int = Field(
        EvaluationSettings.judge_items,
        description="dev prompts answered by the checkpoint and judged; 0 disables",
    )
    max_new_tokens: int = Field(EvaluationSettings.max_new_tokens, description="tokens generated per answer")
    judge_model: str | None = Field(None, description="the judge; default the llm resource's model")
    judge_template: str = Field("resources/prompts/judge.txt", description="the judge prompt file")

    def settings(self) -> EvaluationSettings:
        return EvaluationSettings(**{f.name: getattr(self, f.name) for f in fields(EvaluationSettings)})
