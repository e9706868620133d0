"""`course masked-ablation` (`make masked-ablation` → results/masked_ablation.json): the masked
(BERT-style) objective learns slowly from a standing start; which remedy helps, decided on text
no variant trains on? Read in notebook 10, section 2.

ALiBi's distance bias was added to the course's encoders after a first full-size run had been
scored on the *test* sentences. This study asks the question again the way the course's rule
requires, against the two usual remedies for a Transformer's slow start:

- **ALiBi** — the committed recipe: a fixed distance penalty in every attention layer;
- **no distance bias** — the same encoder without it;
- **warm-up** — no bias, the learning rate rising linearly from 0 over the first `warmup` updates;
- **pre-norm** — no bias, each sublayer reading a normalised copy of its input (GPT-2's order).

Every variant pretrains the masked objective from the same seeds, on the same batches and hidden
characters, for `steps` updates, on the pretraining text without its validation texts (every
`valid_every`-th text in the order of a hash); the choice rests on its masked loss on those
validation texts (the same hidden characters for every variant). Downstream, each checkpoint is
fine-tuned for segmentation at 100 labels (notebook 10's two stages, validation and test scored
once per run). Tested in tests/notebooks/test_studies.py.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from course.studies import Report, Texts, _finish, checkpoints_for, option, peft_tasks, task_run
from helpers import pretraining
from helpers.adaptation import MASKED_ABLATION_FILE
from helpers.corpora import stable_hash
from helpers.progress import Progress

VARIANTS = ("ALiBi (committed)", "no distance bias", "no bias, warm-up", "no bias, pre-norm")


@dataclass(frozen=True)
class MaskedAblation:
    """`course masked-ablation`: the masked objective under four recipes, `seeds` pretraining seeds each."""

    seeds: int = option(3, "--seeds", 2, 10, "pretraining seeds per variant: 0, 1, ...")
    steps: int = option(1000, "--steps", 10, 100_000, "pretraining updates of every variant")
    warmup: int = option(100, "--warmup", 1, 100_000, "updates of the warm-up variant's linear warm-up")
    ft_seeds: int = option(2, "--ft-seeds", 1, 10, "fine-tuning seeds per checkpoint (segmentation, 100 labels)")
    updates: int = option(150, "--updates", 3, 100_000, "Adam updates of every fine-tuning run")
    valid_every: int = 50  # every 50th pretraining text (by hash) is validation text, trained on by no variant
    budgets: tuple[int, ...] = (100,)
    max_len: int = 64
    num_eval: int = 1000  # validation and test sentences of the fine-tuning task
    batch_size: int = 32
    lr: float = 0.003  # notebook 10's rates: the new layer, then the pretrained layers
    lr_pretrained: float = 0.0003
    seed: int = 0  # the label sample; fine-tuning seeds seed, seed + 1, ...
    results: Path = MASKED_ABLATION_FILE
    command: str = "course masked-ablation"
    help: str = "Part IV: the masked objective with ALiBi, without, with warm-up, with pre-norm (results/)"


def variant_config(base: pretraining.PretrainConfig, variant: str, config: MaskedAblation, seed: int):
    """The committed configuration with the variant's change, `config.steps` updates, seed `seed`."""
    changes = {
        "ALiBi (committed)": {"distance_bias": True},
        "no distance bias": {"distance_bias": False},
        "no bias, warm-up": {"distance_bias": False, "warmup_steps": config.warmup},
        "no bias, pre-norm": {"distance_bias": False, "pre_norm": True},
    }[variant]
    return replace(base, num_steps=config.steps, seed=seed, **{"pre_norm": False, "warmup_steps": 0, **changes})


def validation_split(texts: list[str], every: int) -> tuple[list[str], list[str]]:
    """(training texts, validation texts): every `every`-th text in the order of a hash is validation."""
    held = [stable_hash(t) % every == 0 for t in texts]
    return [t for t, h in zip(texts, held, strict=True) if not h], [t for t, h in zip(texts, held, strict=True) if h]


def downstream(config: MaskedAblation, model, pre, task, seed: int) -> dict:
    """Fine-tune a copy of `model`'s encoder for the task (notebook 10's two stages): its scores."""

    def copy() -> dict:  # fine-tuning changes the weights it reads
        masked = pretraining.build_model(pre, "masked")
        masked.set_weights(model.get_weights())
        return {"masked": masked}

    record, net = task_run(config, task, "two-way (BERT)", config.lr_pretrained, seed, copy, pre)
    return {"seed": seed, "validation": record["validation"], "test": task.test(net)}


def masked_ablation(
    config: MaskedAblation, texts: Texts, folder: Path = pretraining.CHECKPOINT_DIR, report: Report = print
) -> dict:
    """One record per (variant, pretraining seed): its loss curve, its validation loss and
    accuracy on hidden characters, and its fine-tuning runs."""
    provenance, base, vocab = checkpoints_for(texts, folder)
    train, valid = validation_split(texts.pretraining, config.valid_every)
    task = peft_tasks(config, texts, vocab, config.budgets[0], config.seed)["segmentation"]
    clock = Progress(len(VARIANTS) * config.seeds, "masked-objective variants", unit="checkpoint")
    records = []
    for p in range(config.seeds):
        for variant in VARIANTS:
            pre = variant_config(base, variant, config, p)
            report(clock.starting(f"{variant}, pretraining seed {p}: {config.steps:,} updates"))
            model, curve, seconds = pretraining.pretrain(
                "masked", train, vocab, pre, report=report, every=max(1, config.steps // 20)
            )
            loss, accuracy = pretraining.held_out_loss(model, "masked", valid, vocab, pre, np.random.default_rng(0))
            runs = [downstream(config, model, pre, task, config.seed + k) for k in range(config.ft_seeds)]
            records.append({"variant": variant, "pretraining_seed": p, "valid_loss": loss, "valid_accuracy": accuracy,
                            "loss_curve": [round(x, 4) for x in curve], "seconds": round(seconds, 1),
                            "fine_tuning": runs})  # fmt: skip
            clock.update(1)
            tests = ", ".join(f"{r['test']:.3f}" for r in runs)
            report(f"{variant}, seed {p}: validation loss {loss:.3f}; segmentation test F1 {tests}; {clock.status()}")
    names = ("seeds", "steps", "warmup", "ft_seeds", "updates", "valid_every", "max_len", "num_eval", "lr_pretrained")
    result = {"records": records, "variants": list(VARIANTS), "every_steps": max(1, config.steps // 20)}
    result["data"] = {"training texts": len(train), "validation texts": len(valid)}
    return _finish(result, config, (*names, "seed"), provenance, clock)
