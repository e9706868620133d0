"""`course masked-ablation` (`make masked-ablation` → results/masked_ablation.json): the masked
(BERT-style) objective learns slowly from a standing start; which remedy helps, decided on text
no variant trains on? Read in notebook 10, section 2.

ALiBi's distance bias was added to the course's encoders after a first full-size run had been
scored on the *test* sentences. This study asks the question again the way the course's rule
requires, against the two usual remedies for a Transformer's slow start:

- **ALiBi** — the committed recipe: a fixed distance penalty in every attention layer;
- **no distance bias** — the same encoder without it;
- **warm-up** — no bias, the learning rate rising linearly from 0 over the first `warmup` updates;
- **pre-norm** — no bias, each sublayer reading a normalised copy of its input (GPT-2's order);
- **ALiBi with pre-norm** — both: added after the first run (pre-norm alone had closed most of the
  gap to ALiBi), it completes a two-by-two (distance bias × block order), so that each change is
  measured with the other held fixed.

`course masked-corruption` (`make masked-corruption` → results/masked_corruption.json) asks the
same way about the corruption itself: the committed recipe shows every hidden character as [MASK];
BERT shows 80 % as [MASK], 10 % as a random character and leaves 10 % as they are
(`helpers.pretraining.corrupt`), so that fine-tuning, which never shows [MASK], is not a new kind
of input; and 15 % hidden gives the masked objective about 6.7 times fewer targets per update than
a language model, so a third recipe hides 40 %. Its rule is downstream, since that is what the
corruption is for: validation F1 after fine-tuning. The third recipe changes two things at once; a
fourth, [MASK] only with 40 % hidden, added after the first run had chosen the third, completes the
two-by-two (corruption × share hidden) so that each change is measured with the other held fixed.

`course forward-pre-norm` (`make forward-pre-norm` → results/forward_pre_norm.json) asks of the
forward (GPT) objective what the ablation's rule, over all five recipes, answered for the masked one:
ALiBi with post-norm blocks (committed) or with pre-norm, three seeds each, the same rule on the
forward loss of the same validation texts; downstream, the one-way (GPT) start for segmentation at
100 labels. The course holds the encoder fixed across objectives (so that a difference between
starts is the objective's, not the block order's), so this study decides
the encoder of the next `make pretrain`, by a rule written down before its result was seen (its
"only if" half before the run, the rest while it ran): all three
objectives take pre-norm blocks if the rule chooses pre-norm here too, as the ablation's rule over its
five recipes did for the masked objective (the backward objective, not run, is assumed to follow
the forward one: the same objective on reversed text); otherwise all three keep post-norm.

Every variant pretrains its study's objective (`objective`: masked, or forward for `course
forward-pre-norm`) from the same seeds for `steps` updates (the
ablation's variants on the same batches and hidden characters; every corruption reads the same
windows until the first reshuffle, a 40 % recipe hiding a superset of its 15 % partner's
characters throughout, while 80/10/10's extra random draws give it other hidden characters from
the second update on and other batches after the reshuffle), on the pretraining text without its validation texts (every
`valid_every`-th text in the order of a hash). The ablation's choice rests on the masked loss on
those validation texts, scored for every variant on the same hidden characters, hidden as the
`REFERENCE` hides them; the corruption study's on fine-tuned validation F1. Downstream, each checkpoint is
fine-tuned for segmentation at 100 labels (notebook 10's two stages, validation and test scored
once per run). The forward study scores its forward loss on the same validation texts. Tested in
tests/notebooks/test_studies.py.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from course.studies import Report, Texts, _finish, checkpoints_for, held_out_config, option, peft_tasks, task_run
from helpers import pretraining
from helpers.adaptation import FORWARD_PRE_NORM_FILE, MASKED_ABLATION_FILE, MASKED_CORRUPTION_FILE, MASKED_REFERENCE
from helpers.corpora import stable_hash
from helpers.progress import Progress

START = {"masked": "two-way (BERT)", "forward": "one-way (GPT)"}  # the start each objective's checkpoints make
VARIANTS = ("ALiBi (committed)", "no distance bias", "no bias, warm-up", "no bias, pre-norm", "ALiBi, pre-norm")
CORRUPTIONS = ("[MASK] only (committed)", "80/10/10", "80/10/10, 40 % hidden", "[MASK] only, 40 % hidden")
BLOCK_ORDERS = ("ALiBi (committed)", "ALiBi, pre-norm")  # the forward objective's two recipes
REFERENCE = MASKED_REFERENCE  # the recipe every variant changes (pinned in helpers.adaptation: why there)
RECIPES = {  # each variant's change to `REFERENCE`
    "ALiBi (committed)": {"distance_bias": True},
    "no distance bias": {"distance_bias": False},
    "no bias, warm-up": {"distance_bias": False, "warmup_steps": "warmup"},  # the config's `warmup`
    "no bias, pre-norm": {"distance_bias": False, "pre_norm": True},
    "ALiBi, pre-norm": {"distance_bias": True, "pre_norm": True},  # added after the first run: the two-by-two
    "[MASK] only (committed)": {"distance_bias": True},
    "80/10/10": {"distance_bias": True, "mask_share": 0.8},
    "80/10/10, 40 % hidden": {"distance_bias": True, "mask_share": 0.8, "mask_rate": 0.4},
    "[MASK] only, 40 % hidden": {"distance_bias": True, "mask_rate": 0.4},  # with the one above: the two changes apart
}


@dataclass(frozen=True)
class MaskedAblation:
    """`course masked-ablation`: the masked objective under five recipes, `seeds` pretraining seeds each."""

    seeds: int = option(3, "--seeds", 2, 10, "pretraining seeds per variant: 0, 1, ...")
    steps: int = option(1000, "--steps", 10, 100_000, "pretraining updates of every variant")
    warmup: int = option(100, "--warmup", 1, 100_000, "updates of the warm-up variant's linear warm-up")
    ft_seeds: int = option(2, "--ft-seeds", 1, 10, "fine-tuning seeds per checkpoint (segmentation, 100 labels)")
    updates: int = option(150, "--updates", 3, 100_000, "Adam updates of every fine-tuning run")
    variants: tuple[str, ...] = VARIANTS
    objective: str = "masked"  # the objective every recipe pretrains (`START`: the start it fine-tunes)
    valid_every: int = 50  # every 50th pretraining text (by hash) is validation text, trained on by no variant
    # of data/pretrained/, the study reads the vocabulary and provenance.json's sizes (every variant
    # pretrains its own models from `REFERENCE`): `course studies` asks only that vocab.json be the same
    reads: tuple[str, ...] = ("vocab.json",)
    budgets: tuple[int, ...] = (100,)
    max_len: int = 64
    num_eval: int = 1000  # validation and test sentences of the fine-tuning task
    batch_size: int = 32
    lr: float = 0.003  # notebook 10's rates: the new layer, then the pretrained layers
    lr_pretrained: float = 0.0003
    seed: int = 0  # the label sample; fine-tuning seeds seed, seed + 1, ...
    results: Path = MASKED_ABLATION_FILE
    command: str = "course masked-ablation"
    help: str = "Part IV: the masked objective with ALiBi, without, with warm-up, with pre-norm, with both (results/)"


@dataclass(frozen=True)
class MaskedCorruption(MaskedAblation):
    """`course masked-corruption`: the committed [MASK]-only corruption against BERT's 80/10/10, each
    at 15 % and 40 % hidden, `seeds` pretraining seeds each (the same study, other recipes)."""

    variants: tuple[str, ...] = CORRUPTIONS
    warmup: int = 100  # no warm-up recipe here: not an option
    results: Path = MASKED_CORRUPTION_FILE
    command: str = "course masked-corruption"
    help: str = "Part IV: the masked objective's corruption: [MASK] only or 80/10/10, each at two rates (results/)"


@dataclass(frozen=True)
class ForwardPreNorm(MaskedAblation):
    """`course forward-pre-norm`: the forward objective with ALiBi and post-norm blocks (committed) or
    pre-norm, `seeds` pretraining seeds each (the same study, the forward objective, two recipes)."""

    variants: tuple[str, ...] = BLOCK_ORDERS
    objective: str = "forward"
    warmup: int = 100  # no warm-up recipe here: not an option
    results: Path = FORWARD_PRE_NORM_FILE
    command: str = "course forward-pre-norm"
    help: str = "Part IV: the forward objective with post-norm or pre-norm blocks, both with ALiBi (results/)"


def variant_config(base: pretraining.PretrainConfig, variant: str, config: MaskedAblation, seed: int):
    """The checkpoints' sizes with `REFERENCE`'s recipe and the variant's change (`RECIPES`),
    `config.steps` updates, seed `seed`."""
    changes = {k: getattr(config, v) if isinstance(v, str) else v for k, v in RECIPES[variant].items()}
    return replace(base, num_steps=config.steps, seed=seed, **{**REFERENCE, **changes})


def validation_split(texts: list[str], every: int) -> tuple[list[str], list[str]]:
    """(training texts, validation texts): every `every`-th text in the order of a hash is validation."""
    held = [stable_hash(t) % every == 0 for t in texts]
    return [t for t, h in zip(texts, held, strict=True) if not h], [t for t, h in zip(texts, held, strict=True) if h]


def downstream(config: MaskedAblation, model, pre, task, seed: int) -> dict:
    """Fine-tune a copy of `model`'s encoder for the task (notebook 10's two stages): its scores."""

    def copy() -> dict:  # fine-tuning changes the weights it reads
        fresh = pretraining.build_model(pre, config.objective)
        fresh.set_weights(model.get_weights())
        return {config.objective: fresh}

    record, net = task_run(config, task, START[config.objective], config.lr_pretrained, seed, copy, pre)
    return {"seed": seed, "validation": record["validation"], "test": task.test(net)}


def masked_ablation(
    config: MaskedAblation, texts: Texts, folder: Path = pretraining.CHECKPOINT_DIR, report: Report = print
) -> dict:
    """One record per (variant, pretraining seed): its loss curve, its validation loss and
    accuracy on hidden characters, and its fine-tuning runs."""
    provenance, base, vocab = checkpoints_for(texts, folder)
    train, valid = validation_split(texts.pretraining, config.valid_every)
    task = peft_tasks(config, texts, vocab, config.budgets[0], config.seed)["segmentation"]
    clock = Progress(len(config.variants) * config.seeds, f"{config.objective}-objective variants", unit="checkpoint")
    records = []
    for p in range(config.seeds):
        for variant in config.variants:
            pre = variant_config(base, variant, config, p)
            report(clock.starting(f"{variant}, pretraining seed {p}: {config.steps:,} updates"))
            model, curve, seconds = pretraining.pretrain(
                config.objective, train, vocab, pre, report=report, every=max(1, config.steps // 20)
            )
            scored = held_out_config(pre, replace(base, **REFERENCE))  # every recipe on the same task: REFERENCE's
            rng = np.random.default_rng(0)
            loss, accuracy = pretraining.held_out_loss(model, config.objective, valid, vocab, scored, rng)
            runs = [downstream(config, model, pre, task, config.seed + k) for k in range(config.ft_seeds)]
            records.append({"variant": variant, "pretraining_seed": p, "valid_loss": loss, "valid_accuracy": accuracy,
                            "loss_curve": [round(x, 4) for x in curve], "seconds": round(seconds, 1),
                            "fine_tuning": runs})  # fmt: skip
            clock.update(1)
            tests = ", ".join(f"{r['test']:.3f}" for r in runs)
            report(f"{variant}, seed {p}: validation loss {loss:.3f}; segmentation test F1 {tests}; {clock.status()}")
    names = ("objective", "seeds", "steps", "warmup", "ft_seeds", "updates", "valid_every", "max_len", "num_eval",
             "lr_pretrained")  # fmt: skip
    result = {"records": records, "variants": list(config.variants), "every_steps": max(1, config.steps // 20)}
    result["recipes"] = {v: RECIPES[v] for v in config.variants}
    result["data"] = {"training texts": len(train), "validation texts": len(valid)}
    return _finish(result, config, (*names, "seed"), provenance, clock)
