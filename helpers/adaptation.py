"""Review sentiment at full data, two studies beyond notebook 10's runs (read in its section 8).

    make pretrain-more      (= course pretrain-more [--steps N]) → results/pretrain_more.json
    make finetune-all       (= course finetune-all [--epochs N]) → results/finetune_all.json

**More pretraining, spent two ways** (`run`).

Section 6's frozen readers stay below TF-IDF on review sentiment. Two ways to spend more
pretraining on that, each `extra_steps` more updates of the same objective from each committed
checkpoint (forward, backward, masked), with a fresh Adam at the same learning rate and batch size,
and seed + 1 for the order of the windows:

- ``longer``:  the same pretraining text (People's Daily and the review lines): longer pretraining;
- ``reviews``: the review lines only, test reviews removed: ULMFiT's step (Howard and Ruder),
  which adapts a language model to the task's own unlabelled text before the task (for a masked
  model: task-adaptive pretraining). ULMFiT's learning-rate schedules are not used here.

The arms differ in their text, and so in how many passes over it the same updates make.

Every arm, and the committed checkpoints (``as committed``), is read by section 6's probe
(`helpers.elmo.probe_probabilities`: whole reviews, pooled frozen states, logistic regression on
every training review), with TF-IDF on the same split beside them. Held-out losses on People's
Daily test sentences and on test reviews show what each arm did to the models themselves.
One pretraining seed; the continued models are not kept, only their numbers.

**Fine-tuning on every training review** (`fine_tune_every_review`). Notebook 10's fine-tuning
runs see at most num_updates × batch_size reviews, fewer than the training split holds. This study
fine-tunes every start (and scratch) with the same procedure (`helpers.finetune.fine_tune`) for
whole epochs over every training review, one seed, beside TF-IDF on the same split.
Tested in tests/unit/test_pretraining.py.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from helpers import pretraining
from helpers.paths import REPO_ROOT
from helpers.provenance import hardware, versions
from helpers.results import read_results, write_results

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
EVAL_TEXTS = 300  # held-out texts per set for the losses (a fixed sample, in the order of a hash)


@dataclass
class Texts:
    """What the study reads: the pretraining text, its review lines, the labelled reviews and
    the held-out texts of the losses."""

    pretraining: list[str]
    reviews: list[str]
    train: list[str]
    y_train: np.ndarray
    test: list[str]
    y_test: np.ndarray
    held_out: dict[str, list[str]]
    valid: list[str] = field(default_factory=list)  # validation reviews: a learning curve that never reads the test
    y_valid: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))


def course_texts() -> Texts:
    """The course's texts: the committed checkpoints' pretraining text; its review lines (every
    clean review line but the test split's); every training and test review of notebook 06's split."""
    from helpers.corpora import clean_reviews, load_reviews, review_split, stable_hash

    held_out = pretraining.test_sentences()
    text = pretraining.pretraining_text(held_out)
    reviews = clean_reviews(load_reviews())[0]
    review_lines = [t for t in reviews.texts if t not in held_out["sentiment"]]
    split = review_split(reviews)

    def hashed(texts, labels):  # notebook 10's order: by a hash of the text
        order = sorted(range(len(texts)), key=lambda i: stable_hash(texts[i]))
        return [texts[i] for i in order], np.asarray([labels[i] for i in order])

    train, y_train = hashed(split.train.texts, split.train.labels)
    test, y_test = hashed(split.test.texts, split.test.labels)
    valid, y_valid = hashed(split.validation.texts, split.validation.labels)
    return Texts(
        text.texts,
        review_lines,
        train,
        y_train,
        test,
        y_test,
        {
            "People's Daily test sentences": sorted(held_out["segmentation"], key=stable_hash)[:EVAL_TEXTS],
            "test reviews": test[:EVAL_TEXTS],
        },
        valid,
        y_valid,
    )


def _no_scratch():
    raise ValueError("the study reads pretrained starts only")


def probe(models: dict, vocab: dict[str, int], texts: Texts, seq_len: int) -> dict[str, str]:
    """Section 6's probe (whole reviews) for every reader of `models`: which test reviews it gets
    right, as a string of 0s and 1s in test order (`correct_of` reads it back)."""
    from helpers.elmo import probe_probabilities, state_reader

    correct = {}
    for start in READERS:
        reader = state_reader(start, seq_len, models, _no_scratch)
        p = probe_probabilities(reader, texts.train, texts.y_train, texts.test, vocab)
        correct[start] = bits((p > 0.5) == texts.y_test)
    return correct


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
    from scipy import stats

    d = np.asarray(correct_a, dtype=float) - np.asarray(correct_b, dtype=float)
    n = len(d)
    half = stats.t.ppf(0.5 + level / 2, n - 1) * d.std(ddof=1) / np.sqrt(n)
    return float(d.mean()), float(d.mean() - half), float(d.mean() + half)


def checkpoints_for(texts: Texts, folder: Path) -> tuple[dict, pretraining.PretrainConfig, dict[str, int]]:
    """(provenance, configuration, vocabulary) of the checkpoints in `folder`, refused when they
    were pretrained on another text than `texts.pretraining`."""
    provenance = pretraining.read_provenance(folder)
    if provenance["data"]["pretraining_text_sha256"] != pretraining.text_sha256(texts.pretraining):
        raise pretraining.CheckpointError(
            f"the checkpoints in {folder} were pretrained on another text: run `{pretraining.REBUILD}`"
        )
    return provenance, pretraining.config_of(provenance), pretraining.load_vocab(folder)


def run(
    extra_steps: int,
    texts: Texts,
    folder: Path = pretraining.CHECKPOINT_DIR,
    report: Callable[[str], None] = print,
) -> dict:
    """The three arms: continue every checkpoint in `folder` for `extra_steps` updates (except
    ``as committed``), then held-out losses and the probe. Returns everything as a dict."""
    import keras

    from helpers.baselines import tfidf_logreg

    provenance, config, vocab = checkpoints_for(texts, folder)
    more = replace(config, num_steps=extra_steps, seed=config.seed + 1)
    runs = [(arm, o) for arm in ARMS[1:] for o in pretraining.OBJECTIVES]
    result = {"held_out": {}, "probe": {}, "correct": {}, "loss_curves": {"every_steps": 100}, "wall_seconds": {}}
    trained, trained_seconds, start = 0, 0.0, time.perf_counter()
    for arm in ARMS:
        keras.utils.set_random_seed(config.seed)
        models = {o: pretraining.load_pretrained(o, folder) for o in pretraining.OBJECTIVES}
        if arm != "as committed":
            corpus = texts.pretraining if arm == "longer" else texts.reviews
            result["loss_curves"][arm], result["wall_seconds"][arm] = {}, {}
            for objective in pretraining.OBJECTIVES:
                trained += 1
                left = (
                    f"; about {trained_seconds / (trained - 1) * (len(runs) - trained + 1) / 60:.0f} min of "
                    "pretraining left"
                    if trained > 1
                    else ""
                )
                report(
                    f"[{trained}/{len(runs)}] {ARM_NAMES[arm]}: the {objective} objective, {extra_steps:,} more "
                    f"updates on {len(corpus):,} texts{left}"
                )
                models[objective], curve, seconds = pretraining.pretrain(
                    objective, corpus, vocab, more, report, model=models[objective]
                )
                trained_seconds += seconds
                result["loss_curves"][arm][objective] = [round(x, 4) for x in curve]
                result["wall_seconds"][arm][objective] = round(seconds, 1)
        result["held_out"][arm] = {
            objective: {
                name: dict(
                    zip(
                        ("loss", "accuracy"),
                        pretraining.held_out_loss(
                            models[objective], objective, held, vocab, config, np.random.default_rng(config.seed)
                        ),
                        strict=True,
                    )
                )
                for name, held in texts.held_out.items()
            }
            for objective in pretraining.OBJECTIVES
        }
        result["correct"][arm] = probe(models, vocab, texts, config.seq_len)
        result["probe"][arm] = {r: float(correct_of(c).mean()) for r, c in result["correct"][arm].items()}
        report(
            f"  {ARM_NAMES[arm]}: probe accuracy "
            + ", ".join(f"{r} {a:.3f}" for r, a in result["probe"][arm].items())
            + f"  ({time.perf_counter() - start:.0f} s so far)"
        )
    tfidf = tfidf_logreg(texts.train, texts.y_train).predict_proba(texts.test)[:, 1]
    result["correct"]["TF-IDF"] = bits((tfidf > 0.5) == texts.y_test)
    result["tfidf"] = float(correct_of(result["correct"]["TF-IDF"]).mean())
    result["checkpoints"] = {"made": provenance["made"], "files_sha256": provenance["files_sha256"]}
    result["parameters"] = {
        "extra_steps": extra_steps,
        "seed": more.seed,
        "lr": more.lr,
        "batch_size": more.batch_size,
        "eval_texts": {k: len(v) for k, v in texts.held_out.items()},
    }
    result["data"] = {
        "pretraining texts": len(texts.pretraining),
        "review lines (the reviews arm)": len(texts.reviews),
        "review characters": sum(map(len, texts.reviews)),
        "pretraining characters": sum(map(len, texts.pretraining)),
        "training reviews": len(texts.train),
        "test reviews": len(texts.test),
    }
    result["versions"], result["hardware"] = versions(), hardware()
    result["total_seconds"] = round(time.perf_counter() - start, 1)
    return result


def fine_tune_every_review(
    texts: Texts,
    epochs: int,
    max_len: int,
    folder: Path = pretraining.CHECKPOINT_DIR,
    report: Callable[[str], None] = print,
    *,
    batch_size: int = 32,
    lr: float = 3e-3,
    lr_pretrained: float = 3e-4,
    seed: int = 0,
    every: int = 100,
) -> dict:
    """Fine-tune every start of `helpers.finetune.STARTS` for sentiment on every training review
    (cut at max_len characters) for `epochs` epochs, notebook 10's way; score it on every test
    review at the end, and on every validation review after each epoch (a learning curve that
    never reads the test). Prints progress every `every` updates, with the time left. Returns everything as a dict."""
    import keras

    from helpers.baselines import tfidf_logreg
    from helpers.finetune import NEEDS, STARTS, build_task_model, fine_tune
    from helpers.text import encode

    provenance, config, vocab = checkpoints_for(texts, folder)
    if not 1 <= max_len <= config.seq_len:
        raise ValueError(f"max_len = {max_len}: the checkpoints know {config.seq_len} positions")
    X, y = encode(texts.train, vocab, max_len), texts.y_train.astype("float32")
    X_test, X_valid = encode(texts.test, vocab, max_len), encode(texts.valid, vocab, max_len)
    updates_per_epoch = -(-len(X) // batch_size)
    num_updates = epochs * updates_per_epoch

    def predicted(model, X=X_test):
        return model.predict(X, batch_size=256, verbose=0)[:, 0] > 0.5

    def accuracy(model):
        return float(np.mean(predicted(model) == texts.y_test))

    def valid_accuracy(model):
        return float(np.mean(predicted(model, X_valid) == texts.y_valid)) if len(X_valid) else float("nan")

    result = {"runs": {}, "correct": {}}
    start_time = time.perf_counter()
    total, done = num_updates * len(STARTS), [0]  # updates of every start, and those done so far
    for k, start in enumerate(STARTS):
        keras.utils.set_random_seed(seed)
        checkpoints = {o: pretraining.load_pretrained(o, folder) for o in NEEDS[start]}
        model, frozen = build_task_model(
            "sentiment", start, max_len, checkpoints, lambda: pretraining.build_model(config, "masked")
        )

        per_epoch = []  # validation accuracy after each epoch: is it still learning at the end?

        def tick(start=start, first=k * num_updates, model=model, per_epoch=per_epoch):
            done[0] += 1
            if (done[0] - first) % updates_per_epoch == 0:
                per_epoch.append(valid_accuracy(model))
            if (done[0] - first) % every == 0:
                elapsed = time.perf_counter() - start_time
                left = elapsed / done[0] * (total - done[0]) / 60
                report(
                    f"  {start}: update {done[0] - first:,}/{num_updates:,}; "
                    f"{elapsed:.0f} s elapsed, about {left:.0f} min left in all"
                )

        report(f"[{k + 1}/{len(STARTS)}] {start}: {num_updates:,} updates ({epochs} epochs of {len(X):,} reviews)")
        run = fine_tune(
            model,
            frozen,
            X,
            y,
            accuracy,
            num_updates=num_updates,
            batch_size=batch_size,
            lr=lr,
            lr_pretrained=lr_pretrained,
            seed=seed,
            loss="binary_crossentropy",
            on_update=tick,
        )
        result["correct"][start] = bits(predicted(model) == texts.y_test)
        result["runs"][start] = {
            "frozen": run.frozen,
            "accuracy": run.fine_tuned,
            "valid_per_epoch": per_epoch,
            "seconds": round(run.seconds, 1),
        }
        frozen_note = "" if run.frozen is None else f" (frozen stage: {run.frozen:.3f})"
        report(f"  {start}: test accuracy {run.fine_tuned:.3f}{frozen_note}, {run.seconds:.0f} s")
    tfidf = tfidf_logreg(texts.train, texts.y_train).predict_proba(texts.test)[:, 1]
    result["correct"]["TF-IDF"] = bits((tfidf > 0.5) == texts.y_test)
    result["tfidf"] = float(correct_of(result["correct"]["TF-IDF"]).mean())
    result["parameters"] = {
        "epochs": epochs,
        "num_updates": num_updates,
        "max_len": max_len,
        "batch_size": batch_size,
        "lr": lr,
        "lr_pretrained": lr_pretrained,
        "seed": seed,
    }
    result["data"] = {
        "training reviews": len(texts.train),
        "validation reviews": len(texts.valid),
        "test reviews": len(texts.test),
        "test reviews longer than max_len": sum(len(t) > max_len for t in texts.test),
    }
    result["checkpoints"] = {"made": provenance["made"], "files_sha256": provenance["files_sha256"]}
    result["versions"], result["hardware"] = versions(), hardware()
    result["total_seconds"] = round(time.perf_counter() - start_time, 1)
    return result


def write(result: dict, command: str, path: Path = RESULTS_FILE) -> Path:
    """Save the study (`helpers.results.write_results`)."""
    return write_results(result, command, path)


def read(path: Path = RESULTS_FILE) -> dict | None:
    """The committed study, or None when it has not been made."""
    return read_results(path)
