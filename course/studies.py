"""Part IV's two long studies of review sentiment at full data (read in notebook 11).

    make pretrain-more   (= course pretrain-more [--steps N])                → results/pretrain_more.json
    make finetune-all    (= course finetune-all [--epochs N] [--patience N] ...) → results/finetune_all.json
    make peft            (= course peft [--seeds N] [--updates N] [--max-len L]) → results/peft.json (notebook 12)
    make direction-controls (= course direction-controls [--seeds N] [--updates N] [--max-len L])
                                                                  → results/direction_controls.json
    make pretrain-seeds  (= course pretrain-seeds [--seeds N] [--steps N] [--ft-seeds N] ...)
                                                                  → results/pretrain_seeds.json
    make label-curve     (= course label-curve [--seeds N] [--updates N]) → results/label_curve.json
                                                                  (`course.label_curve`)

**More pretraining, spent two ways** (`pretrain_more`). Section 6's frozen readers stay below
TF-IDF on review sentiment. Two ways to spend more pretraining on that, each `steps` more updates
of the same objective from each committed checkpoint (forward, backward, masked), with a fresh
Adam at the same learning rate and batch size, and seed + 1 for the order of the windows:

- ``longer``:  the same pretraining text (People's Daily and the review lines): longer pretraining;
- ``reviews``: the review lines only, test reviews removed: ULMFiT's step (Howard and Ruder),
  which adapts a language model to the task's own unlabelled text before the task (for a masked
  model: task-adaptive pretraining). ULMFiT's learning-rate schedules are not used here.

Every arm, and the committed checkpoints (``as committed``), is read by section 6's probe
(`helpers.elmo.probe_probabilities`), with TF-IDF on the same split beside them. Held-out losses
on People's Daily test sentences and on test reviews show what each arm did to the models. One
pretraining seed; the continued models are not kept, only their numbers.

**Fine-tuning on every training review** (`finetune_all`). Notebook 10's fine-tuning runs see at
most num_updates × batch_size reviews. This study fine-tunes every start (and scratch) with the
same procedure (`helpers.finetune.fine_tune`) for whole epochs over every training review, one
seed, beside TF-IDF on the same split.

Each study has one config dataclass; its fields with a `flag` are the command's options (their
defaults and allowed ranges come from here). What notebook 11 reads back — the arms' names,
`correct_of`, `paired_interval`, `read` — is lesson code in `helpers.adaptation`.
Tested in tests/notebooks/test_studies.py and tests/unit/test_cli_inputs.py.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

import numpy as np

from course.resume import Partial, code_sha256
from helpers import pretraining
from helpers.adaptation import (
    ARM_NAMES,
    ARMS,
    FINETUNE_FILE,
    READERS,
    RESULTS_FILE,
    bits,
    correct_of,
)
from helpers.paths import REPO_ROOT
from helpers.progress import Progress
from helpers.provenance import hardware, versions
from helpers.results import write_results

Report = Callable[[str], None]


def option(default: int, flag: str, low: int, high: int, help: str, note: str = ""):
    """A config field that is also a command-line option `flag`, allowed in [low, high]."""
    return field(default=default, metadata={"flag": flag, "range": (low, high), "help": help, "note": note})


@dataclass(frozen=True)
class PretrainMore:
    """`course pretrain-more`: more updates per objective and arm."""

    steps: int = option(3000, "--steps", 1, 1_000_000, "more updates per objective and arm")
    results: Path = RESULTS_FILE
    command: str = "course pretrain-more"
    help: str = "Part IV: more pretraining on the same text or on the reviews only (ULMFiT), probed on sentiment"


@dataclass(frozen=True)
class FinetuneAll:
    """`course finetune-all`: every start fine-tuned for sentiment on every training review."""

    epochs: int = option(16, "--epochs", 1, 50, "the most epochs over the training reviews")
    patience: int = option(3, "--patience", 1, 50, "stop after this many epochs without a better validation score")
    frozen_epochs: int = option(2, "--frozen-epochs", 0, 50, "epochs a pretrained start trains its new layer alone")
    max_len: int = option(128, "--max-len", 8, 128, "characters read per review", "the checkpoints' positions")
    batch_size: int = 32
    lr: float = 3e-3
    lr_pretrained: float = 3e-4
    seed: int = 0
    every: int = 100  # progress every this many updates
    results: Path = FINETUNE_FILE
    command: str = "course finetune-all"
    help: str = "Part IV: fine-tune every start for sentiment on every training review (results/)"

    def schedule(self, num_reviews: int) -> tuple[int, int]:
        """(updates per epoch, at most how many updates in all) for `num_reviews` training reviews."""
        updates_per_epoch = -(-num_reviews // self.batch_size)
        return updates_per_epoch, self.epochs * updates_per_epoch


def options(config: type) -> list:
    """The fields of a study's config that are command-line options."""
    return [f for f in fields(config) if "flag" in f.metadata]


def flag_of(config: type, name: str) -> str:
    """The option of a config field: `max_len` → `--max-len`."""
    return next(f.metadata["flag"] for f in options(config) if f.name == name)


@dataclass
class Texts:
    """What a study reads: the pretraining text, its review lines, the labelled reviews and
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
    clean review line but the test split's); every training, validation and test review of
    notebook 06's split, in notebook 10's order (by a hash of the text)."""
    from helpers.corpora import clean_reviews, load_reviews, review_split, stable_hash

    held_out = pretraining.test_sentences()
    text = pretraining.pretraining_text(held_out)
    reviews = clean_reviews(load_reviews())[0]
    split = review_split(reviews)

    def hashed(part):
        order = sorted(range(len(part.texts)), key=lambda i: stable_hash(part.texts[i]))
        return [part.texts[i] for i in order], np.asarray([part.labels[i] for i in order])

    (train, y_train), (test, y_test), (valid, y_valid) = map(hashed, (split.train, split.test, split.validation))
    sentences = sorted(held_out["segmentation"], key=stable_hash)[: pretraining.HELD_OUT_TEXTS]
    losses_on = {"People's Daily test sentences": sentences, "test reviews": test[: pretraining.HELD_OUT_TEXTS]}
    review_lines = [t for t in reviews.texts if t not in held_out["sentiment"]]
    return Texts(text.texts, review_lines, train, y_train, test, y_test, losses_on, valid, y_valid)


def _no_scratch():
    raise ValueError("the study reads pretrained starts only")


def probe(models: dict, vocab: dict[str, int], texts: Texts, seq_len: int) -> dict[str, str]:
    """Section 6's probe (whole reviews) for every reader of `models`: which test reviews it gets
    right, as a string of 0s and 1s in test order (`helpers.adaptation.correct_of` reads it back)."""
    from helpers.elmo import probe_probabilities, state_reader

    correct = {}
    for start in READERS:
        reader = state_reader(start, seq_len, models, _no_scratch)
        p = probe_probabilities(reader, texts.train, texts.y_train, texts.test, vocab)
        correct[start] = bits((p > 0.5) == texts.y_test)
    return correct


def checkpoints_for(texts: Texts, folder: Path) -> tuple[dict, pretraining.PretrainConfig, dict[str, int]]:
    """(provenance, configuration, vocabulary) of the checkpoints in `folder`, refused when they
    were pretrained on another text than `texts.pretraining`."""
    provenance = pretraining.read_provenance(folder)
    if provenance["data"]["pretraining_text_sha256"] != pretraining.text_sha256(texts.pretraining):
        raise pretraining.CheckpointError(
            f"the checkpoints in {folder} were pretrained on another text: run `{pretraining.REBUILD}`"
        )
    return provenance, pretraining.config_of(provenance), pretraining.load_vocab(folder)


def tfidf_and_provenance(result: dict, texts: Texts, provenance: dict, start: float) -> dict:
    """Add TF-IDF on the same split, the checkpoints' identity, versions, hardware and time."""
    from helpers.baselines import tfidf_logreg

    tfidf = tfidf_logreg(texts.train, texts.y_train).predict_proba(texts.test)[:, 1]
    result["correct"]["TF-IDF"] = bits((tfidf > 0.5) == texts.y_test)
    result["tfidf"] = float(correct_of(result["correct"]["TF-IDF"]).mean())
    result["checkpoints"] = {"made": provenance["made"], "files_sha256": provenance["files_sha256"]}
    result["versions"], result["hardware"] = versions(), hardware()
    result["total_seconds"] = round(time.perf_counter() - start, 1)
    return result


# ------------------------------------------------------------------ more pretraining, two ways


def held_out_losses(models: dict, texts: Texts, vocab: dict, config: pretraining.PretrainConfig) -> dict:
    """objective → held-out set → {"loss", "accuracy"} of each model's own objective."""
    out = {}
    for objective in pretraining.OBJECTIVES:
        out[objective] = {}
        for name, held in texts.held_out.items():
            rng = np.random.default_rng(config.seed)
            loss, accuracy = pretraining.held_out_loss(models[objective], objective, held, vocab, config, rng)
            out[objective][name] = {"loss": loss, "accuracy": accuracy}
    return out


def continue_arm(arm: str, models: dict, texts: Texts, vocab: dict, more, progress, report: Report) -> tuple:
    """Train every objective of `models` `more.num_steps` further on the arm's text, in place;
    returns (loss curves, seconds) by objective. `progress` reports the time left."""
    corpus = texts.pretraining if arm == "longer" else texts.reviews
    curves, seconds = {}, {}
    for objective in pretraining.OBJECTIVES:
        what = f"the {objective} objective, {more.num_steps:,} more updates on {len(corpus):,} texts"
        report(progress.starting(f"{ARM_NAMES[arm]}: {what}"))
        models[objective], curve, took = pretraining.pretrain(
            objective, corpus, vocab, more, report, model=models[objective]
        )
        progress.update(1)
        curves[objective], seconds[objective] = [round(x, 4) for x in curve], round(took, 1)
    return curves, seconds


def pretrain_more(
    config: PretrainMore, texts: Texts, folder: Path = pretraining.CHECKPOINT_DIR, report: Report = print
) -> dict:
    """The three arms: continue every checkpoint in `folder` for `config.steps` updates (except
    ``as committed``), then held-out losses and the probe. Returns everything as a dict."""
    import keras

    provenance, pre, vocab = checkpoints_for(texts, folder)
    more = replace(pre, num_steps=config.steps, seed=pre.seed + 1)
    result = {"held_out": {}, "probe": {}, "correct": {}, "loss_curves": {"every_steps": 100}, "wall_seconds": {}}
    progress = Progress(len(ARMS[1:]) * len(pretraining.OBJECTIVES), "more pretraining", unit="objective")
    start = progress.start
    for arm in ARMS:
        keras.utils.set_random_seed(pre.seed)
        models = {o: pretraining.load_pretrained(o, folder) for o in pretraining.OBJECTIVES}
        if arm != "as committed":
            result["loss_curves"][arm], result["wall_seconds"][arm] = continue_arm(
                arm, models, texts, vocab, more, progress, report
            )
        result["held_out"][arm] = held_out_losses(models, texts, vocab, pre)
        result["correct"][arm] = probe(models, vocab, texts, pre.seq_len)
        result["probe"][arm] = {r: float(correct_of(c).mean()) for r, c in result["correct"][arm].items()}
        accuracies = ", ".join(f"{r} {a:.3f}" for r, a in result["probe"][arm].items())
        report(f"  {ARM_NAMES[arm]}: probe accuracy {accuracies}  ({time.perf_counter() - start:.0f} s so far)")
    eval_texts = {k: len(v) for k, v in texts.held_out.items()}
    result["parameters"] = {
        "extra_steps": config.steps,
        "seed": more.seed,
        "lr": more.lr,
        "batch_size": more.batch_size,
        "eval_texts": eval_texts,
    }
    result["data"] = {
        "pretraining texts": len(texts.pretraining),
        "review lines (the reviews arm)": len(texts.reviews),
        "review characters": sum(map(len, texts.reviews)),
        "pretraining characters": sum(map(len, texts.pretraining)),
        "training reviews": len(texts.train),
        "test reviews": len(texts.test),
    }
    return tfidf_and_provenance(result, texts, provenance, start)


# ------------------------------------------------------------ fine-tuning on every review


def epoch_ticker(
    name: str, updates_per_epoch: int, num_updates: int, every: int, valid, report: Report, clock, model,
    patience: int | None = None, after: int = 0,
):  # fmt: skip
    """The `on_update` of one start's fine-tuning: validation accuracy after each epoch (kept in
    `tick.per_epoch`), the weights of the best epoch so far (`tick.best`: the earliest on a tie),
    and progress every `every` updates with the time left in all (`clock`). Early stopping: once
    more than `after` epochs are done (the frozen stage), it returns True (stop) when `patience`
    epochs have passed without a better validation score; the clock then drops the updates left."""

    def tick() -> bool:
        tick.done += 1
        clock.update(1)
        if tick.done % every == 0:
            report(f"  {name}: update {tick.done:,}/{num_updates:,}; {clock.status()}")
        if tick.done % updates_per_epoch:
            return False
        tick.per_epoch.append(valid())
        epoch = len(tick.per_epoch)
        if tick.per_epoch[-1] > max(tick.per_epoch[:-1], default=-1.0):
            tick.best = (epoch, model.get_weights())
        stop = patience is not None and epoch > after and epoch - tick.best[0] >= patience and tick.done < num_updates
        if stop:
            clock.drop(num_updates - tick.done)
            report(f"  {name}: no better validation score in {patience} epochs: stopped after epoch {epoch}")
        return stop

    tick.done, tick.per_epoch, tick.best = 0, [], (0, None)
    return tick


def finetune_all(
    config: FinetuneAll,
    texts: Texts,
    folder: Path = pretraining.CHECKPOINT_DIR,
    report: Report = print,
    partial: Partial | None = None,
) -> dict:
    """Fine-tune every start of `helpers.finetune.STARTS` for sentiment on every training review
    (cut at max_len characters) for up to `epochs` epochs, notebook 10's way (a pretrained start's
    new layer alone for its first `frozen_epochs`), scoring the validation reviews after each epoch
    and stopping once `patience` epochs after the frozen stage bring no better score; keep the
    weights of the epoch with the best validation accuracy (the earliest on a tie) and score them
    on every test review, once. Returns everything as a dict. With `partial`, each start is saved
    as it finishes and the starts it holds already are not run again (`course.resume`)."""
    from helpers.finetune import NEEDS, STARTS
    from helpers.text import encode

    provenance, pre, vocab = checkpoints_for(texts, folder)
    if not 1 <= config.max_len <= pre.seq_len:
        raise ValueError(f"max_len = {config.max_len}: the checkpoints know {pre.seq_len} positions")
    X, y = encode(texts.train, vocab, config.max_len), texts.y_train.astype("float32")
    X_test, X_valid = encode(texts.test, vocab, config.max_len), encode(texts.valid, vocab, config.max_len)
    num_updates = config.schedule(len(X))[1]

    done = {}
    if partial is not None and (found := partial.load(finetune_key(config, texts, provenance))):
        report(found)
        done = {start: unit for start, unit in partial.units.items() if start in STARTS}
    # the two-encoder start last: a run stopped midway has finished as many starts as it could
    order = [start for start in sorted(STARTS, key=lambda s: len(NEEDS[s])) if start not in done]
    clock = Progress(num_updates * len(order), "fine-tuning", unit="update")
    for k, start in enumerate(order):
        report(
            f"[{k + 1}/{len(order)}] {start}: at most {num_updates:,} updates "
            f"({config.epochs} epochs of {len(X):,} reviews)"
        )
        done[start] = finetune_one(start, config, (X, y, X_valid, X_test), texts, pre, folder, clock, report)
        if partial is not None:
            partial.save(start, done[start])
    result = {"runs": {s: done[s]["run"] for s in STARTS}, "correct": {s: done[s]["correct"] for s in STARTS}}
    names = ("epochs", "patience", "frozen_epochs", "max_len", "batch_size", "lr", "lr_pretrained", "seed")
    result["parameters"] = {"num_updates": num_updates, **{n: getattr(config, n) for n in names}}
    result["data"] = {"training reviews": len(texts.train), "validation reviews": len(texts.valid),
                      "test reviews": len(texts.test),
                      "test reviews longer than max_len": sum(len(t) > config.max_len for t in texts.test)}  # fmt: skip
    earlier = [s for s in STARTS if s not in order]
    if earlier:  # finished by an earlier run that was stopped: their time counts too
        result["resumed"] = {"starts": earlier, "their_seconds": round(sum(done[s]["wall"] for s in earlier), 1)}
    result = tfidf_and_provenance(result, texts, provenance, clock.start)
    result["total_seconds"] = round(result["total_seconds"] + result.get("resumed", {}).get("their_seconds", 0), 1)
    return result


def finetune_one(
    start: str, config: FinetuneAll, arrays: tuple, texts: Texts, pre, folder: Path, clock, report
) -> dict:
    """One start of `finetune_all`: fine-tuned, stopped on validation, its best epoch scored on the
    test reviews once. Returns {"run": its record, "correct": test bits, "wall": seconds}."""
    import keras

    from helpers.finetune import NEEDS, build_task_model, fine_tune

    X, y, X_valid, X_test = arrays
    updates_per_epoch, num_updates = config.schedule(len(X))
    began = time.perf_counter()
    keras.utils.set_random_seed(config.seed)
    checkpoints = {o: pretraining.load_pretrained(o, folder) for o in NEEDS[start]}
    model, frozen = build_task_model(
        "sentiment", start, config.max_len, checkpoints, lambda: pretraining.build_model(pre, "masked")
    )

    def predicted(model, X=X_test):
        return model.predict(X, batch_size=256, verbose=0)[:, 0] > 0.5

    def valid(m=model) -> float:  # validation accuracy (nan with no validation reviews)
        return float(np.mean(predicted(m, X_valid) == texts.y_valid)) if len(X_valid) else float("nan")

    after = config.frozen_epochs if frozen else 0  # no stopping during the frozen stage
    tick = epoch_ticker(
        start, updates_per_epoch, num_updates, config.every, valid, report, clock, model, config.patience, after
    )
    run = fine_tune(
        model, frozen, X, y, valid,
        num_updates=num_updates, batch_size=config.batch_size, lr=config.lr, lr_pretrained=config.lr_pretrained,
        seed=config.seed, loss="binary_crossentropy", on_update=tick,
        frozen_updates=config.frozen_epochs * updates_per_epoch,
    )  # fmt: skip
    model.set_weights(tick.best[1])  # the best epoch on validation: the only weights the test reads
    correct = predicted(model) == texts.y_test
    report(f"  {start}: best on validation after epoch {tick.best[0]}; test accuracy {np.mean(correct):.3f}")
    record = {"frozen_valid": run.frozen, "accuracy": float(np.mean(correct)), "best_epoch": tick.best[0],
              "valid_per_epoch": tick.per_epoch, "epochs_run": len(tick.per_epoch),
              "seconds": round(run.seconds, 1)}  # fmt: skip
    return {"run": record, "correct": bits(correct), "wall": time.perf_counter() - began}


def finetune_key(config: FinetuneAll, texts: Texts, provenance: dict) -> dict:
    """What `finetune_all`'s finished starts depend on: a saved start is reused only if all agree."""
    settings = {f.name: getattr(config, f.name) for f in fields(config) if f.name not in ("every", "results", "help")}
    sizes = [len(texts.train), len(texts.valid), len(texts.test), int(np.sum(texts.y_train))]
    return {
        "settings": settings,
        "checkpoints": provenance["files_sha256"],
        "sizes": sizes,
        "versions": versions(),
        "code": code_sha256(),
    }


# ------------------------------------------------------------ parameter-efficient fine-tuning (notebook 12)


@dataclass(frozen=True)
class Peft:
    """`course peft`: notebook 12's comparison at full size: both tasks, two label budgets, every
    method (LoRA at ranks 1, 4, 16 on attention, rank 4 on every dense layer too)."""

    seeds: int = option(3, "--seeds", 2, 10, "seeds per method, task and budget")
    updates: int = option(100, "--updates", 3, 100_000, "Adam updates of every run")
    max_len: int = option(64, "--max-len", 8, 128, "characters read per text", "the checkpoints' positions")
    budgets: tuple[int, ...] = (100, 1000)
    num_eval: int = 1000  # validation and test texts scored per task
    batch_size: int = 32
    seed: int = 0
    results: Path = REPO_ROOT / "results" / "peft.json"
    command: str = "course peft"
    help: str = "Part IV: LoRA, adapters, BitFit, frozen + head against full fine-tuning, both tasks (results/)"


def peft_methods() -> list:
    """Notebook 12's methods, with LoRA at ranks 1, 4 and 16 (attention) and rank 4 on every dense layer."""
    from helpers.peft import Method

    loras = [Method("lora", rank=r) for r in (1, 4, 16)] + [Method("lora", rank=4, where="all")]
    return [Method("full"), *loras, Method("adapter", bottleneck=16), Method("bitfit"), Method("head")]


PEFT_RATES = {"full": [3e-4, 1e-3], "other": [1e-3, 1e-2]}  # tried on validation (`choose_then_test`)


def segmentation_split(num_valid: int, num_test: int = 0) -> tuple[list, list, list]:
    """Notebook 08's split of the segmentation corpus as (text, tags) pairs: every training
    sentence, then the first `num_valid` validation and `num_test` test sentences (0: all) in the
    order of a hash of their text."""
    from helpers.corpora import hash_split, load_segmentation, stable_hash

    sentences = load_segmentation()
    train, valid, test = hash_split(sentences, key=lambda pair: pair[0])

    def hashed(idx, n):
        return sorted((sentences[i] for i in idx), key=lambda pair: stable_hash(pair[0]))[: n or None]

    return [sentences[i] for i in train], hashed(valid, num_valid), hashed(test, num_test)


def peft_tasks(config: Peft, texts: Texts, vocab: dict, budget: int, seed: int) -> dict:
    """task → helpers.peft.Task at `budget` labels (the first `budget` of a seeded permutation)."""
    from helpers.peft import segmentation_task, sentiment_task

    train, valid, test = segmentation_split(config.num_eval, config.num_eval)
    pick = np.random.default_rng(seed).permutation(len(train))[:budget]
    reviews = np.random.default_rng(seed).permutation(len(texts.train))[:budget]
    n = config.num_eval
    return {
        "segmentation": segmentation_task([train[i] for i in pick], valid, test, vocab,
                                          config.max_len),
        "sentiment": sentiment_task(([texts.train[i] for i in reviews], texts.y_train[reviews]),
                                    (texts.valid[:n], texts.y_valid[:n]), (texts.test[:n], texts.y_test[:n]), vocab,
                                    config.max_len),
    }  # fmt: skip


def peft(config: Peft, texts: Texts, folder: Path = pretraining.CHECKPOINT_DIR, report: Report = print) -> dict:
    """Every method of `peft_methods` on both tasks at every budget, `seeds` seeds, the rate chosen
    on validation by `helpers.peft.choose_then_test`; each record also holds what the masked
    language model forgot (its loss on held-out People's Daily sentences)."""
    from helpers.peft import choose_then_test

    provenance, pre, vocab = checkpoints_for(texts, folder)
    if not 1 <= config.max_len <= pre.seq_len:
        raise ValueError(f"max_len = {config.max_len}: the checkpoints know {pre.seq_len} positions")
    held = texts.held_out["People's Daily test sentences"]

    def lm_loss(model):
        return pretraining.held_out_loss(model, "masked", held, vocab, pre, np.random.default_rng(config.seed))[0]

    methods, seeds = peft_methods(), [config.seed + k for k in range(config.seeds)]
    clock = Progress(len(config.budgets) * 2 * len(methods) * (len(seeds) + 1), "peft")  # 2 rates + the other seeds
    sizes = {
        "num_updates": config.updates,
        "batch_size": config.batch_size,
        "max_len": config.max_len,
        "folder": folder,
    }
    records = []
    for budget in config.budgets:
        for name, task in peft_tasks(config, texts, vocab, budget, config.seed).items():
            for method in methods:
                rates = PEFT_RATES["full" if method.kind == "full" else "other"]
                runs, _, _ = choose_then_test(method, task, rates, seeds, lm_loss, **sizes)
                records += [{"task": name, "budget": budget, **r} for r in runs]
                clock.update(len(seeds) + 1)
                tests = ", ".join(f"{r['test']:.3f}" for r in runs)
                report(
                    f"{name}, {budget} labels, {method.label}: rate {runs[0]['lr']:g}, test {tests}; {clock.status()}"
                )
    result = {"records": records, "metric": {"segmentation": "word F1", "sentiment": "accuracy"}}
    result["pretrained_loss"] = lm_loss(pretraining.load_pretrained("masked", folder))
    names = ("seeds", "updates", "max_len", "num_eval", "batch_size")
    return _finish(result, config, names, provenance, clock, rates=PEFT_RATES)


def _finish(result: dict, config, names: tuple[str, ...], provenance: dict, clock: Progress, **extra) -> dict:
    """Add a study's parameters (the config's `names`, its budgets, `extra`), the checkpoints'
    identity, versions, hardware and wall time."""
    result["parameters"] = {**{n: getattr(config, n) for n in names}, "budgets": list(config.budgets), **extra}
    result["checkpoints"] = {"made": provenance["made"], "files_sha256": provenance["files_sha256"]}
    result["versions"], result["hardware"] = versions(), hardware()
    result["total_seconds"] = result["wall_seconds"] = round(time.perf_counter() - clock.start, 1)
    return result


@dataclass(frozen=True)
class DirectionControls:
    """`course direction-controls`: is it the second direction? Every pretrained start and the three
    controls of `helpers.finetune.CONTROLS` (the forward checkpoint without its causal mask, with one
    character of look-ahead, and twice over at ELMo's size), fine-tuned by notebook 10's procedure on
    both tasks at two label budgets (one fixed label sample per budget, so runs pair by seed)."""

    seeds: int = option(3, "--seeds", 2, 10, "seeds per start, task and budget")
    updates: int = option(150, "--updates", 3, 100_000, "Adam updates of every run")
    max_len: int = option(64, "--max-len", 8, 128, "characters read per text", "the checkpoints' positions")
    budgets: tuple[int, ...] = (100, 1000)
    starts: tuple[str, ...] = ()  # empty: every pretrained start of helpers.finetune.STARTS, then CONTROLS
    num_eval: int = 1000  # validation and test texts scored per task
    batch_size: int = 32
    lr: float = 0.003  # the new output layer's rate, as in notebook 10
    rates: tuple[float, ...] = (3e-4, 1e-3)  # the second stage's, tried on validation (notebook 10's: 3e-4)
    seed: int = 0
    results: Path = REPO_ROOT / "results" / "direction_controls.json"
    command: str = "course direction-controls"
    help: str = "Part IV: GPT without its mask, with one character ahead, twice over, against ELMo and BERT (results/)"


def chosen_on_validation(run: Callable[[float, int], tuple], rates: tuple[float, ...], seeds: list[int]) -> tuple:
    """The rule of the studies that choose a rate: every rate of `rates` (ascending) with the first
    seed, the one with the best validation score kept (the smaller on a tie), then every other seed
    at it. `run(rate, seed)` gives (record, model). Returns (the rate, [(record, model) of each
    kept run], {the rate as text: the first seed's validation score})."""
    first = [run(rate, seeds[0]) for rate in rates]
    best = max(range(len(first)), key=lambda k: (first[k][0]["validation"], -k))
    tried = {f"{rate:g}": record["validation"] for rate, (record, _) in zip(rates, first, strict=True)}
    return rates[best], [first[best]] + [run(rates[best], s) for s in seeds[1:]], tried


def task_run(config, task, start: str, rate: float, seed: int, load: Callable[[], dict], pre) -> tuple:
    """One fine-tuning run of `start` (notebook 10's two stages) on the checkpoints `load()` returns
    (objective -> model), after seeding: (its record without the test score, the task model).
    `config` gives the sizes and rates (max_len, updates, batch_size, lr: the first stage's, the new layer's);
    `rate` the second stage's (every layer's, once the pretrained ones are unfrozen)."""
    import keras

    from helpers.finetune import build_task_model, fine_tune

    keras.utils.set_random_seed(seed)  # before loading: the task head's weights are drawn after
    model, frozen = build_task_model(
        task.name, start, config.max_len, load(), lambda: pretraining.build_model(pre, "masked")
    )
    result = fine_tune(
        model, frozen, task.X, task.y, task.validation, num_updates=config.updates, batch_size=config.batch_size,
        lr=config.lr, lr_pretrained=rate, seed=seed, loss=task.loss, sample_weight=task.sample_weight,
    )  # fmt: skip
    record = {"start": start, "lr": config.lr, "lr_pretrained": rate if frozen else None, "seed": seed,
              "validation": result.fine_tuned}  # fmt: skip
    return {**record, "frozen_validation": result.frozen, "parameters": model.count_params()}, model


def _control_run(config: DirectionControls, task, start: str, rate: float, seed: int, folder: Path, pre) -> tuple:
    """One fine-tuning run on the checkpoints in `folder`: (record without the test score, the task model)."""
    from helpers.finetune import NEEDS

    load = lambda: {o: pretraining.load_pretrained(o, folder) for o in NEEDS[start]}  # noqa: E731
    return task_run(config, task, start, rate, seed, load, pre)


def direction_controls(
    config: DirectionControls, texts: Texts, folder: Path = pretraining.CHECKPOINT_DIR, report: Report = print
) -> dict:
    """Per task, budget and start: the second stage's rate chosen on validation with the first
    seed (the best validation score; the smaller rate on a tie), then every other seed at that rate;
    each kept run is scored on the test set once. `rate_choices` keeps every rate's validation score."""
    from helpers.finetune import CONTROLS, STARTS

    provenance, pre, vocab = checkpoints_for(texts, folder)
    starts, seeds = config.starts or STARTS[1:] + CONTROLS, [config.seed + k for k in range(config.seeds)]
    runs_per_start = len(config.rates) + len(seeds) - 1
    clock = Progress(len(config.budgets) * 2 * len(starts) * runs_per_start, "direction controls", unit="run")
    records, choices = [], []
    for budget in config.budgets:
        for name, task in peft_tasks(config, texts, vocab, budget, config.seed).items():
            for start in starts:
                run = rate_runner(config, task, start, folder, pre)
                rate, kept, tried = chosen_on_validation(run, config.rates, seeds)
                records += [{"task": name, "budget": budget, **r, "test": task.test(m)} for r, m in kept]
                choices.append({"task": name, "budget": budget, "start": start, "tried": tried, "chosen": rate})
                clock.update(runs_per_start)
                tests = ", ".join(f"{r['test']:.3f}" for r in records[-len(seeds) :])
                report(f"{name}, {budget} labels, {start}: rate {rate:g}, test {tests}; {clock.status()}")
    names = ("seeds", "updates", "max_len", "num_eval", "batch_size", "lr", "seed")
    result = {"records": records, "metric": {"segmentation": "word F1", "sentiment": "accuracy"}}
    result["rate_choices"] = choices  # every rate's validation score with the first seed, as pretrain-seeds keeps
    return _finish(result, config, names, provenance, clock, rates_tried=list(config.rates))


@dataclass(frozen=True)
class PretrainSeeds:
    """`course pretrain-seeds`: how far a pretraining seed moves Part IV's verdict. The three
    objectives pretrained again from `seeds` seeds, at a smaller budget than the committed
    checkpoints (`steps` updates each, their other settings unchanged), and each seed's set
    fine-tuned as the direction study does (notebook 10's two stages, `updates` updates, the new
    layer at `lr`, one label sample per task) on both tasks at 100 labels, `ft_seeds` fine-tuning
    seeds per start; scratch beside them.
    Every start's rate is chosen on validation by the direction study's rule
    (`chosen_on_validation`) from a wider grid: the second stage's rate from `rates` per
    pretraining seed, task and start; scratch's one rate from `scratch_rates` per task. (Its first
    version used notebook 10's fixed rates; its second tried 3e-4 and 1e-3, and 3e-3 and 1e-2 for
    scratch; its third 1e-4 to 3e-3, and 1e-3 to 1e-2; its fourth 1e-4 to 1e-2, and 3e-4 to 1e-2.
    Each time some choices fell at an end of a grid — the masked start at the top on segmentation,
    scratch at the bottom on sentiment in the second, third and fourth, the pretrained starts
    sometimes at the bottom — and the grid was widened past it; its fifth 3e-5 to 1e-2 for both,
    where 4 of the pretrained starts' 9 sentiment choices fell at 3e-5: the second stage's grid now
    reaches 1e-5, scratch's, never chosen at 3e-5, stays.)
    The masked objective hides and shows characters as `course masked-corruption` chose on
    validation (`mask_rate`, `mask_share`: 40 % hidden, BERT's 80/10/10; typed here, and tested to
    be the committed checkpoints' recipe too since they were pretrained again with it); its held-out
    loss is scored on the committed checkpoints' task (`held_out_config`), each seed drawing its own
    hidden characters. The checkpoints go to build/pretrain_seeds/ (not committed); the results keep
    their SHA-256."""

    seeds: int = option(3, "--seeds", 2, 10, "pretraining seeds: 0, 1, ...")
    steps: int = option(1000, "--steps", 10, 100_000, "pretraining updates per objective and seed")
    ft_seeds: int = option(3, "--ft-seeds", 2, 10, "fine-tuning seeds per pretraining seed, start and task")
    updates: int = option(150, "--updates", 3, 100_000, "Adam updates of every fine-tuning run")
    max_len: int = option(64, "--max-len", 8, 128, "characters read per text", "the checkpoints' positions")
    budgets: tuple[int, ...] = (100,)
    starts: tuple[str, ...] = ()  # empty: every start of helpers.finetune.STARTS (scratch once, not per seed)
    num_eval: int = 1000  # validation and test texts scored per task
    batch_size: int = 32
    lr: float = 0.003  # notebook 10's rate of the new layer (scratch's is chosen from scratch_rates)
    rates: tuple[float, ...] = (1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2)  # the second stage's, tried on validation
    scratch_rates: tuple[float, ...] = (3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2)  # scratch's one rate, the same way
    mask_rate: float = 0.4  # the masked objective's share hidden: `course masked-corruption`'s choice
    mask_share: float = 0.8  # of those, the share shown as [MASK] (BERT's 80/10/10): the same choice
    seed: int = 0  # the label sample; fine-tuning seeds seed, seed + 1, ...
    folder: Path = REPO_ROOT / "build" / "pretrain_seeds"
    results: Path = REPO_ROOT / "results" / "pretrain_seeds.json"
    command: str = "course pretrain-seeds"
    help: str = "Part IV: the three objectives pretrained from 3 seeds (smaller budget), each fine-tuned (results/)"


def _pretrain_one_seed(config: PretrainSeeds, p: int, base, texts: Texts, vocab: dict, provenance: dict, report,
                       clock: Progress):  # fmt: skip
    """Pretrain every objective from seed `p` (a unit of `clock` each); save them under
    config.folder/seed-p; return (folder, config, held-out losses)."""
    pre = replace(base, seed=p, num_steps=config.steps, mask_rate=config.mask_rate, mask_share=config.mask_share)
    models, curves, seconds = {}, {}, {}
    for objective in pretraining.OBJECTIVES:
        models[objective], curves[objective], seconds[objective] = pretraining.pretrain(
            objective, texts.pretraining, vocab, pre, report=report, every=max(1, config.steps // 5)
        )
        clock.update(1)
        report(f"pretraining seed {p}, {objective} pretrained; {clock.status()}")
    where = config.folder / f"seed-{p}"
    text = pretraining.PretrainingText(texts.pretraining, provenance["data"]["counts"])
    pretraining.write_checkpoints(models, curves, seconds, vocab, pre, text, config.command, where)
    return where, pre, held_out_losses(models, texts, vocab, held_out_config(pre, base))


def held_out_config(pre: pretraining.PretrainConfig, base: pretraining.PretrainConfig) -> pretraining.PretrainConfig:
    """`pre` scoring the masked objective as `base` (the committed checkpoints) hides characters,
    so that a held-out loss compares with the committed checkpoint's on the same task."""
    return replace(pre, mask_rate=base.mask_rate, mask_share=base.mask_share)


def pretrain_seeds(
    config: PretrainSeeds, texts: Texts, folder: Path = pretraining.CHECKPOINT_DIR, report: Report = print
) -> dict:
    """Every pretraining seed's checkpoints, their held-out losses, and one record per fine-tuning
    run (its pretraining seed; None for scratch, which reads no checkpoint and runs once)."""
    from helpers.finetune import STARTS

    provenance, base, vocab = checkpoints_for(texts, folder)
    ft_seeds = [config.seed + k for k in range(config.ft_seeds)]
    starts = config.starts or STARTS
    starts_of = {p: [s for s in starts if s != "scratch" or p == 0] for p in range(config.seeds)}  # scratch once
    # a unit: one objective pretrained, or one start's rate chosen and runs made for one task
    units = sum(len(pretraining.OBJECTIVES) + 2 * len(config.budgets) * len(starts_of[p]) for p in starts_of)
    clock = Progress(units, "pretraining seeds", unit="step")
    records, held, files, choices = [], {}, {}, []
    for p in range(config.seeds):
        where, pre, held[p] = _pretrain_one_seed(config, p, base, texts, vocab, provenance, report, clock)
        files[p] = pretraining.read_provenance(where)["files_sha256"]
        for budget in config.budgets:
            for name, task in peft_tasks(config, texts, vocab, budget, config.seed).items():
                for start in starts_of[p]:
                    grid = config.scratch_rates if start == "scratch" else config.rates
                    run = rate_runner(config, task, start, where, pre)
                    rate, kept, tried = chosen_on_validation(run, grid, ft_seeds)
                    seed_of = None if start == "scratch" else p
                    where_ = {"pretraining_seed": seed_of, "task": name, "budget": budget}
                    records += [{**where_, **record, "test": task.test(model)} for record, model in kept]
                    choices.append({**where_, "start": start, "tried": tried, "chosen": rate})
                    tests = ", ".join(f"{r['test']:.3f}" for r in records[-len(ft_seeds) :])
                    clock.update(1)
                    report(f"pretraining seed {p}, {name}, {start}: rate {rate:g}, test {tests}; {clock.status()}")
        report(f"pretraining seed {p} pretrained and fine-tuned; {clock.status()}")
    names = ("seeds", "steps", "ft_seeds", "updates", "max_len", "num_eval", "batch_size", "lr", "mask_rate",
             "mask_share")  # fmt: skip
    result = {"records": records, "held_out": held, "metric": {"segmentation": "word F1", "sentiment": "accuracy"}}
    result["seed_checkpoints_sha256"], result["rate_choices"] = files, choices
    rates = {"rates_tried": list(config.rates), "scratch_rates_tried": list(config.scratch_rates)}
    return _finish(result, config, (*names, "seed"), provenance, clock, **rates)


def rate_runner(config, task, start: str, folder: Path, pre) -> Callable[[float, int], tuple]:
    """run(rate, seed) for `chosen_on_validation`: a run on the checkpoints in `folder` with that
    rate for the second stage (every layer, once the pretrained ones are unfrozen), or, for scratch
    (one stage: no pretrained layer), as its one rate."""
    if start == "scratch":
        return lambda rate, seed: _control_run(replace(config, lr=rate), task, start, rate, seed, folder, pre)
    return lambda rate, seed: _control_run(config, task, start, rate, seed, folder, pre)


STUDIES = {
    "pretrain-more": (PretrainMore, pretrain_more),
    "finetune-all": (FinetuneAll, finetune_all),
    "peft": (Peft, peft),
    "direction-controls": (DirectionControls, direction_controls),
    "pretrain-seeds": (PretrainSeeds, pretrain_seeds),
}


def write(result: dict, command: str, path: Path) -> Path:
    """Save a study (`helpers.results.write_results`: written whole, with its command)."""
    return write_results(result, command, path)
