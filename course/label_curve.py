"""`course label-curve` (`make label-curve` → results/label_curve.json): notebook 10 section 6's
frozen-state readers — the course's strongest — at few labels, read in notebook 11 (section 3).

- segmentation: section 6's tagger (character and bigram embeddings learnt for the task, a
  start's frozen states beside them, a BiLSTM, Viterbi decoding of whole sentences) trained on
  `budget` labelled sentences; "no pretrained states" is the same tagger without them.
- sentiment: section 6's probe (each whole review's states pooled, a logistic regression) on
  `budget` labelled reviews; an untrained encoder's states and TF-IDF beside it.

Each seed draws its own label sample (the first `budget` of a seeded permutation of the training
split) and, for the tagger, its initial weights and batch order. The tagger trains for `updates`
updates and scores the validation sentences every `every` updates; the weights with the best
validation F1 (the earliest on a tie) are kept and scored on every test sentence once. The probe
has no setting to choose (scikit-learn's default strength, as in section 6). At all labels the
full-size run of section 6 (`results/full_size.json`) gives the curve's last point.
Tested in tests/notebooks/test_studies.py.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from course.studies import Report, Texts, _finish, checkpoints_for, option, segmentation_split
from helpers import pretraining
from helpers.adaptation import LABEL_CURVE_FILE, TAGGER_SIZES_FILE
from helpers.progress import Progress

NO_STATES = "no pretrained states"
PROBE_SCRATCH = "untrained encoder (random features)"


@dataclass(frozen=True)
class LabelCurve:
    """`course label-curve`: section 6's readers at `budgets` labels, `seeds` label samples each."""

    seeds: int = option(3, "--seeds", 2, 10, "label samples (and tagger seeds) per start and budget")
    updates: int = option(400, "--updates", 10, 100_000, "updates of every tagger run")
    budgets: tuple[int, ...] = (100, 1000)
    starts: tuple[str, ...] = ()  # empty: every start of helpers.finetune.STARTS
    every: int = 50  # the tagger scores the validation sentences every this many updates
    num_valid: int = 500  # validation sentences (in the order of a hash)
    num_test: int = 0  # test sentences (in the order of a hash); 0: every one
    max_len: int = 64  # characters per piece (section 6's full-size run)
    units: int = 128
    embedding_dim: int = 64
    batch_size: int = 32
    lr: float = 0.003
    seed: int = 0
    results: Path = LABEL_CURVE_FILE
    command: str = "course label-curve"
    help: str = "Part IV: section 6's frozen-state readers at 100 and 1,000 labels, 3 label samples (results/)"


class Pieces:
    """Sentences cut into pieces of at most max_len characters (`helpers.elmo.piece_rows`), with
    the whole sentences' tags to score against."""

    def __init__(self, pairs: list, max_len: int):
        from helpers.elmo import piece_rows

        self.texts, self.tags, self.where = piece_rows(pairs, max_len)
        self.whole_tags, self.count = [tags for _, tags in pairs], len(pairs)

    def f1(self, tagger, inputs: list) -> float:
        """Word F1 of the tagger's Viterbi tags on the whole sentences."""
        from helpers.elmo import decode_sentences
        from helpers.segmentation import segmentation_prf

        probs = tagger.predict(inputs, batch_size=256, verbose=0)
        return segmentation_prf(self.whole_tags, decode_sentences(probs, self.texts, self.where, self.count)[1])[2]


def kept_size(counts: Counter) -> int:
    """A vocabulary size (padding and unknown included) that keeps what occurs at least twice. With
    a few hundred sentences most bigrams occur once: kept, the "unknown" embedding would never be
    trained, yet it is what the tagger meets most on new sentences (its validation F1 fell after
    the first epochs when every bigram was kept). Section 6's full data cut at 50,000 bigrams."""
    return 2 + sum(1 for n in counts.values() if n >= 2)


def _tagger_run(
    config: LabelCurve, labelled: list, reader, parts: dict, seed: int, epochs: int = 0, say: Report | None = None
) -> dict:
    """One tagger on `labelled` pairs, with `reader`'s frozen states (None: without): its best
    validation F1, when it was reached, every validation F1 it measured, and the best checkpoint's
    test F1 (scored once). `epochs`: train that many epochs, scored on validation after each
    (0: `config.updates` updates, scored every `config.every`); `say`: a line after each score."""
    from helpers.elmo import (
        bigram_vocab,
        bigrams,
        build_feature_tagger,
        encode_bigrams,
        frozen_states,
        length_batches,
        tag_ids,
        train_tagger,
    )
    from helpers.text import build_vocab, encode

    train, texts = Pieces(labelled, config.max_len), [t for t, _ in labelled]
    char_ids = build_vocab(texts, kept_size(Counter(ch for t in texts for ch in t)))  # from its labels only
    pair_ids = bigram_vocab(texts, kept_size(Counter(b for t in texts for b in bigrams(t))))
    vocab = parts["vocab"]

    def inputs(pieces: Pieces, states=None) -> list:
        ids = [encode(pieces.texts, char_ids, config.max_len), encode_bigrams(pieces.texts, pair_ids, config.max_len)]
        if reader is not None and states is None:
            states = frozen_states(reader, encode(pieces.texts, vocab, config.max_len))
        return ids + ([] if reader is None else [states.astype("float32")])

    X, B, *S = inputs(train)
    sizes = {"embedding_dim": config.embedding_dim, "units": config.units, "seed": seed, "lr": config.lr}
    tagger = build_feature_tagger(len(char_ids) + 2, len(pair_ids) + 2, S[0].shape[-1] if S else 0, **sizes)
    per_epoch = len(length_batches((X != 0).sum(axis=1), config.batch_size, np.random.default_rng(0)))
    num_epochs = epochs or -(-config.updates // per_epoch)
    every = per_epoch if epochs else config.every
    valid_inputs = inputs(parts["valid"], parts.get("valid_states"))
    best, curve = {"valid": -1.0, "weights": None, "updates": 0}, []

    def after_epoch(epoch: int) -> None:
        if (epoch * per_epoch) // every > ((epoch - 1) * per_epoch) // every or epoch == num_epochs:
            score = parts["valid"].f1(tagger, valid_inputs)
            curve.append([epoch * per_epoch, score])
            if say:
                say(f"  epoch {epoch}/{num_epochs}: validation F1 {score:.4f}")
            if score > best["valid"]:  # the earliest best is kept on a tie
                best.update(valid=score, weights=tagger.get_weights(), updates=epoch * per_epoch)

    train_tagger(tagger, X, B, S[0] if S else None, tag_ids(train.tags, config.max_len), num_epochs=num_epochs,
                 batch_size=config.batch_size, seed=seed, after_epoch=after_epoch)  # fmt: skip
    tagger.set_weights(best["weights"])
    test = parts["test"].f1(tagger, inputs(parts["test"], parts.get("test_states")))
    return {"seed": seed, "validation": best["valid"], "best_updates": best["updates"], "test": test,
            "valid_curve": curve, "updates_per_epoch": per_epoch}  # fmt: skip


def _reader(start: str, max_len: int, folder: Path, pre):
    """The start's frozen state reader (`helpers.elmo.state_reader`); scratch: an untrained encoder."""
    import keras

    from helpers.elmo import state_reader
    from helpers.finetune import NEEDS

    keras.utils.set_random_seed(0)  # the untrained encoder's weights
    checkpoints = {o: pretraining.load_pretrained(o, folder) for o in NEEDS[start]}
    return state_reader(start, max_len, checkpoints, lambda: pretraining.build_model(pre, "masked"))


def _reader_and_states(start: str, config: LabelCurve, folder: Path, pre, parts: dict):
    """The start's frozen reader (None for "scratch"), its states of the validation and test pieces
    stored in `parts` ("valid_states", "test_states"; None without a reader)."""
    from helpers.elmo import frozen_states
    from helpers.text import encode

    reader = None if start == "scratch" else _reader(start, config.max_len, folder, pre)
    for split in ("valid", "test"):
        ids = encode(parts[split].texts, parts["vocab"], config.max_len)
        parts[f"{split}_states"] = None if reader is None else frozen_states(reader, ids)
    return reader


def _sentiment(texts: Texts, readers: dict, vocab: dict, samples: dict) -> list[dict]:
    """Section 6's probe from every reader, and TF-IDF, on each seed's sample at each budget."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from helpers.baselines import tfidf_logreg
    from helpers.elmo import pooled_states, text_pieces

    used = sorted({i for sample in samples.values() for i in sample})  # every review some sample holds
    row = {i: k for k, i in enumerate(used)}
    records = []
    for start, reader in readers.items():
        length = reader.input_shape[-1]
        train = pooled_states(reader, *text_pieces([texts.train[i] for i in used], length), vocab, len(used))
        test = pooled_states(reader, *text_pieces(texts.test, length), vocab, len(texts.test))
        for (budget, seed), sample in samples.items():
            rows = [row[i] for i in sample]
            logistic = make_pipeline(StandardScaler(), LogisticRegression(max_iter=3000))
            logistic.fit(train[rows], texts.y_train[sample])
            accuracy = float(np.mean(logistic.predict(test) == texts.y_test))
            records.append({"start": start, "budget": budget, "seed": seed, "test": accuracy})
    for (budget, seed), sample in samples.items():
        tfidf = tfidf_logreg([texts.train[i] for i in sample], texts.y_train[sample])
        accuracy = float(np.mean(tfidf.predict(texts.test) == texts.y_test))
        records.append({"start": "TF-IDF", "budget": budget, "seed": seed, "test": accuracy})
    return records


def label_curve(
    config: LabelCurve, texts: Texts, folder: Path = pretraining.CHECKPOINT_DIR, report: Report = print
) -> dict:
    """Segmentation records (start, budget, seed, validation, best_updates, test) and sentiment
    records (start, budget, seed, test), every seed its own label sample."""
    from helpers.finetune import STARTS

    provenance, pre, vocab = checkpoints_for(texts, folder)
    if not 1 <= config.max_len <= pre.seq_len:
        raise ValueError(f"max_len = {config.max_len}: the checkpoints know {pre.seq_len} positions")
    train, valid, test = segmentation_split(config.num_valid, config.num_test)
    parts = {"valid": Pieces(valid, config.max_len), "test": Pieces(test, config.max_len), "vocab": vocab}
    seeds = [config.seed + k for k in range(config.seeds)]
    starts = config.starts or STARTS
    clock = Progress(len(starts) * len(config.budgets) * len(seeds) + 1, "label curve", unit="run")
    segmentation = []
    for start in starts:
        reader = _reader_and_states(start, config, folder, pre, parts)
        for budget in config.budgets:
            for seed in seeds:
                pick = np.random.default_rng(seed).permutation(len(train))[:budget]
                run = _tagger_run(config, [train[i] for i in pick], reader, parts, seed)
                segmentation.append({"start": NO_STATES if start == "scratch" else start, "budget": budget, **run})
                clock.update(1)
                report(f"segmentation, {budget} labels, {segmentation[-1]['start']}, seed {seed}: "
                       f"test F1 {run['test']:.3f} (best on validation after {run['best_updates']} updates); "
                       f"{clock.status()}")  # fmt: skip
    readers = {PROBE_SCRATCH if s == "scratch" else s: _reader(s, pre.seq_len, folder, pre) for s in starts}
    order = {s: np.random.default_rng(s).permutation(len(texts.train)) for s in seeds}
    samples = {(b, s): order[s][:b] for b in config.budgets for s in seeds}
    sentiment = _sentiment(texts, readers, vocab, samples)
    clock.update(1)
    report(f"sentiment: {len(readers)} readers and TF-IDF on {len(samples)} samples; {clock.status()}")
    names = (
        "seeds",
        "updates",
        "every",
        "num_valid",
        "num_test",
        "max_len",
        "units",
        "embedding_dim",
        "batch_size",
        "lr",
        "seed",
    )
    result = {"segmentation": segmentation, "sentiment": sentiment, "test_sentences": len(test),
              "test_reviews": len(texts.test)}  # fmt: skip
    return _finish(result, config, names, provenance, clock)


@dataclass(frozen=True)
class TaggerSizes(LabelCurve):
    """`course tagger-sizes`: section 6's tagger on every training sentence at each of `units_grid`
    LSTM sizes, `epochs` epochs with the validation sentences scored after each and the best
    epoch's weights kept; the size with the highest mean best validation F1 over `starts` (every
    start of section 6's table: no states, GPT's, ELMo's, BERT's) is the one the rule chooses
    (notebook 11, section 2). The same tagger and protocol as `label-curve`."""

    seeds: int = option(1, "--seeds", 1, 10, "tagger seeds per start and size")
    epochs: int = option(3, "--epochs", 1, 50, "epochs over every training sentence, validation after each")
    updates: int = 0  # not an option here: `epochs` decides
    train_size: int = 0  # training sentences (the first of the split); 0: every one (the study; tests use a few)
    units_grid: tuple[int, ...] = (64, 128, 256)
    starts: tuple[str, ...] = ()  # empty: every start of helpers.finetune.STARTS, as in section 6's table
    results: Path = TAGGER_SIZES_FILE
    command: str = "course tagger-sizes"
    help: str = "Part IV: section 6's tagger sizes chosen on validation at all labels (results/)"


def tagger_sizes(
    config: TaggerSizes, texts: Texts, folder: Path = pretraining.CHECKPOINT_DIR, report: Report = print
) -> dict:
    """One record per (start, units, seed): the tagger trained on every training sentence, its
    validation F1 after each epoch, the best epoch, and that epoch's test F1."""
    from dataclasses import replace

    from helpers.finetune import STARTS

    provenance, pre, vocab = checkpoints_for(texts, folder)
    train, valid, test = segmentation_split(config.num_valid, config.num_test)
    train = train[: config.train_size or None]
    parts = {"valid": Pieces(valid, config.max_len), "test": Pieces(test, config.max_len), "vocab": vocab}
    seeds = [config.seed + k for k in range(config.seeds)]
    starts = config.starts or STARTS
    clock = Progress(len(starts) * len(config.units_grid) * len(seeds), "tagger sizes", unit="run")
    records = []
    for start in starts:
        reader = _reader_and_states(start, config, folder, pre, parts)
        for units in config.units_grid:
            for seed in seeds:
                name = NO_STATES if start == "scratch" else start
                report(clock.starting(f"{name}, {units} units, seed {seed}: {config.epochs} epochs"))
                run = _tagger_run(replace(config, units=units), train, reader, parts, seed, config.epochs, report)
                records.append({"start": name, "units": units, **run})
                clock.update(1)
                report(f"{name}, {units} units, seed {seed}: best validation F1 {run['validation']:.4f} after "
                       f"{run['best_updates']:,} updates, test F1 {run['test']:.4f}; {clock.status()}")  # fmt: skip
    names = ("seeds", "epochs", "train_size", "num_valid", "num_test", "max_len", "embedding_dim", "batch_size", "lr",
             "seed")  # fmt: skip
    result = {"segmentation": records, "training_sentences": len(train), "test_sentences": len(test)}
    return _finish(result, config, names, provenance, clock, units_grid=list(config.units_grid))
