"""Part IV at full size, read in notebook 11: the names of the arms and
readers of Part IV's long studies, and how their stored answers are read back and compared.

    make pretrain-more   → results/pretrain_more.json   (`course.studies.pretrain_more`)
    make finetune-all    → results/finetune_all.json    (`course.studies.finetune_all`)
    make direction-controls → results/direction_controls.json (`course.studies.direction_controls`)
    make pretrain-seeds  → results/pretrain_seeds.json  (`course.studies.pretrain_seeds`)
    make label-curve     → results/label_curve.json     (`course.label_curve`)
    make tagger-sizes    → results/tagger_sizes.json    (`course.label_curve`, notebook 11)
    make masked-ablation → results/masked_ablation.json (`course.masked_ablation`, notebook 10)
    make masked-corruption → results/masked_corruption.json (`course.masked_ablation`, notebook 10)
    make forward-pre-norm → results/forward_pre_norm.json (`course.masked_ablation`, notebook 10)

The studies themselves (more pretraining spent two ways — longer, or ULMFiT's step on the review
lines —, fine-tuning every start on every training review, the direction controls and three
pretraining seeds) are maintainer's runs in
`course/studies.py`; a notebook only reads their results. Each result stores which test reviews
a reader got right as a string of 0s and 1s (`bits`, `correct_of`), so that two readers can be
compared review by review (`paired_interval`). Tested in tests/unit/test_pretraining.py.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from helpers.display import t_interval
from helpers.paths import REPO_ROOT
from helpers.results import read_results

ARMS = ("as committed", "longer", "reviews")
ARM_NAMES = {  # what each arm is, for tables
    "as committed": "the committed checkpoints",
    "longer": "longer pretraining (same text)",
    "reviews": "ULMFiT's step (reviews only)",
}
READERS = ("one-way (GPT)", "two one-way joined (ELMo)", "two-way (BERT)")  # helpers.finetune.STARTS[1:]
RESULTS_FILE = REPO_ROOT / "results" / "pretrain_more.json"
REBUILD = "make pretrain-more"
FINETUNE_FILE = REPO_ROOT / "results" / "finetune_all.json"
FINETUNE_REBUILD = "make finetune-all"
# the same study before it stopped on validation: 8 epochs, a maximum picked on test reviews (notebook 11 §7)
FINETUNE_EARLIER_FILE = REPO_ROOT / "results" / "finetune_all_8_epochs.json"
CONTROLS_FILE = REPO_ROOT / "results" / "direction_controls.json"
CONTROLS_REBUILD = "make direction-controls"
SEEDS_FILE = REPO_ROOT / "results" / "pretrain_seeds.json"
SEEDS_REBUILD = "make pretrain-seeds"
LABEL_CURVE_FILE = REPO_ROOT / "results" / "label_curve.json"
LABEL_CURVE_REBUILD = "make label-curve"
MASKED_ABLATION_FILE = REPO_ROOT / "results" / "masked_ablation.json"
MASKED_ABLATION_REBUILD = "make masked-ablation"
TAGGER_SIZES_FILE = REPO_ROOT / "results" / "tagger_sizes.json"
TAGGER_SIZES_REBUILD = "make tagger-sizes"
MASKED_CORRUPTION_FILE = REPO_ROOT / "results" / "masked_corruption.json"
MASKED_CORRUPTION_REBUILD = "make masked-corruption"
FORWARD_PRE_NORM_FILE = REPO_ROOT / "results" / "forward_pre_norm.json"
FORWARD_PRE_NORM_REBUILD = "make forward-pre-norm"
# The recipe every variant of the three studies above changes, and the task every masked validation
# loss is scored on: the one the checkpoints were pretrained with when those studies were made
# (data/pretrained/provenance.json of 2026-11-30, before `make pretrain` was run again with the
# recipes they chose). Pinned, so that each study stays the experiment it was; a results file's
# "(committed)" in a variant's name means this recipe, which notebook 10 calls the reference.
# tests/unit/test_pretraining.py checks it against that provenance, read from the git history.
MASKED_REFERENCE = {"distance_bias": True, "pre_norm": False, "warmup_steps": 0, "mask_rate": 0.15, "mask_share": 1.0}


def bits(correct: np.ndarray) -> str:
    return "".join("1" if c else "0" for c in correct)


def correct_of(bit_string: str) -> np.ndarray:
    """The 0/1 string `probe` stores, as a boolean array (its mean is the accuracy)."""
    return np.frombuffer(bit_string.encode("ascii"), dtype=np.uint8) == ord("1")


def paired_interval(correct_a: np.ndarray, correct_b: np.ndarray, level: float = 0.95) -> tuple[float, float, float]:
    """Accuracy of a − accuracy of b on the same test reviews, with its Student-t interval over
    reviews (paired: d_i = a_i − b_i ∈ {−1, 0, 1}):

        d̄ ± t_{n−1} · s_d / √n

    It measures the noise of the test sample only; a second pretraining seed could move more."""
    return t_interval(np.asarray(correct_a, dtype=float) - np.asarray(correct_b, dtype=float), level)


def read(path: Path = RESULTS_FILE) -> dict | None:
    """The committed study, or None when it has not been made."""
    return read_results(path)
