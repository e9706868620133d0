"""Parameter-efficient fine-tuning on a Keras model: LoRA (`LoRADense`, and Keras's own
`enable_lora` on a model's projections), a bottleneck adapter, BitFit, frozen features + a head;
the course's fair comparison of them (`choose_then_test`), switching tasks and merging, and the
committed full comparison (`make peft`). The formulas, by hand in NumPy, are `helpers.lora`'s.
Taught in notebook 12; tested in tests/unit/test_lora.py.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

from helpers.lora import ADAM_STATES, BYTES, lora_merge
from helpers.models import outputs_of
from helpers.paths import REPO_ROOT
from helpers.results import read_results

# ---------------------------------------------------------------------------- Keras layers


@keras.saving.register_keras_serializable(package="course")
class LoRADense(keras.layers.Layer):
    """y = x W + b + (α/r)·(x A) B with W frozen (a copy of a built Dense layer's kernel), b, A, B
    trained; A starts He-uniform and B at zero, as Keras's `enable_lora`. The same trainable
    weights as `Dense.enable_lora` (bias, A, B), checked against it in tests/unit/test_lora.py."""

    def __init__(self, units: int, rank: int, alpha: float | None = None, **kwargs):
        super().__init__(**kwargs)
        self.units, self.rank, self.alpha = units, rank, float(alpha if alpha is not None else rank)

    def build(self, input_shape):
        d_in = input_shape[-1]
        self.kernel = self.add_weight(
            shape=(d_in, self.units), initializer="glorot_uniform", trainable=False, name="kernel"
        )
        self.bias = self.add_weight(shape=(self.units,), initializer="zeros", name="bias")
        self.lora_a = self.add_weight(shape=(d_in, self.rank), initializer="he_uniform", name="lora_a")
        self.lora_b = self.add_weight(shape=(self.rank, self.units), initializer="zeros", name="lora_b")

    def call(self, x):
        ops = keras.ops
        low_rank = ops.matmul(ops.matmul(x, self.lora_a), self.lora_b)
        return ops.matmul(x, self.kernel) + self.bias + (self.alpha / self.rank) * low_rank

    @classmethod
    def from_dense(cls, dense: keras.layers.Dense, rank: int, alpha: float | None = None) -> LoRADense:
        """A LoRADense holding `dense`'s kernel (frozen) and bias; `dense` must be built, without activation."""
        if not dense.built or dense.activation is not keras.activations.linear or dense.bias is None:
            raise ValueError(f"{dense.name}: a built Dense layer with a bias and no activation is needed")
        layer = cls(dense.units, rank, alpha)
        layer.build((None, dense.kernel.shape[0]))
        layer.kernel.assign(dense.kernel)
        layer.bias.assign(dense.bias)
        return layer

    def merged_kernel(self) -> np.ndarray:
        """W + (α/r) A B (`lora_merge`)."""
        return lora_merge(*(v.numpy() for v in (self.kernel, self.lora_a, self.lora_b)), self.alpha)

    def get_config(self) -> dict:
        return {**super().get_config(), "units": self.units, "rank": self.rank, "alpha": self.alpha}


@keras.saving.register_keras_serializable(package="course")
class BottleneckAdapter(keras.layers.Layer):
    """h ↦ h + relu(h D + c) U + e (`helpers.lora.adapter_forward`): down to `bottleneck` numbers and back up,
    added to its input. U and e start at zero, so a new adapter changes nothing."""

    def __init__(self, bottleneck: int, **kwargs):
        super().__init__(**kwargs)
        self.bottleneck = bottleneck
        self.supports_masking = True  # padding stays masked for the layers after it

    def build(self, input_shape):
        d, m = input_shape[-1], self.bottleneck
        self.down = self.add_weight(shape=(d, m), initializer="glorot_uniform", name="down")
        self.down_bias = self.add_weight(shape=(m,), initializer="zeros", name="down_bias")
        self.up = self.add_weight(shape=(m, d), initializer="zeros", name="up")
        self.up_bias = self.add_weight(shape=(d,), initializer="zeros", name="up_bias")

    def call(self, h):
        ops = keras.ops
        return h + ops.matmul(ops.relu(ops.matmul(h, self.down) + self.down_bias), self.up) + self.up_bias

    def get_config(self) -> dict:
        return {**super().get_config(), "bottleneck": self.bottleneck}


# ---------------------------------------------------------------------------- on a whole model


def is_bias(variable) -> bool:
    """BitFit's selection (Ben Zaken et al. 2022): every additive bias — a Dense or EinsumDense
    `bias` and a LayerNormalization's β (`beta`) — and nothing else."""
    return variable.path.split("/")[-1] in ("bias", "beta")


def freeze_all_but(model: keras.Model, keep) -> int:
    """Set every variable of `model` non-trainable except those for which keep(variable) is true;
    returns the number of trainable scalars left."""
    for variable in model.weights:
        variable.trainable = bool(keep(variable))
    return trainable_count(model)


def trainable_count(model: keras.layers.Layer) -> int:
    """Σ over the trainable variables of their sizes (what Adam keeps two states for)."""
    return int(sum(np.prod(v.shape) for v in model.trainable_weights))


ATTENTION = ("_query_dense", "_key_dense", "_value_dense", "_output_dense")  # MultiHeadAttention's EinsumDense


def lora_layers(model: keras.Model, where: str) -> list[keras.layers.Layer]:
    """The layers LoRA adapts: ``attention`` — every block's query, key, value and output
    projections; ``all`` — those and the feed-forward Dense layers (`*_ff1`, `*_ff2`)."""
    if where not in ("attention", "all"):
        raise ValueError(f"where = {where!r}: 'attention' or 'all'")
    layers = []
    for layer in model.layers:
        if isinstance(layer, keras.layers.MultiHeadAttention):
            layers += [getattr(layer, name) for name in ATTENTION]
        elif where == "all" and layer.name.endswith(("_ff1", "_ff2")):
            layers.append(layer)
    return layers


def apply_lora(model: keras.Model, rank: int, where: str = "attention", alpha: float | None = None) -> int:
    """Freeze every weight of `model`, then Keras's `enable_lora(rank)` on `lora_layers(model, where)`
    (their A and B are the only trainable weights). Returns the trainable count."""
    freeze_all_but(model, lambda v: False)
    for layer in lora_layers(model, where):
        layer.enable_lora(rank, lora_alpha=alpha)
    return trainable_count(model)


def with_adapters(model: keras.Model, bottleneck: int) -> keras.Model:
    """A copy of `model` (a `helpers.transformer.char_transformer`) with a `BottleneckAdapter` on
    the output of each block's feed-forward layer, before its residual and LayerNorm (Houlsby's
    place): y = LN(h + adapter(FFN(h))). The copy holds `model`'s weights, all frozen; only the
    adapters train. New adapters change nothing: its outputs equal `model`'s."""

    def call(layer, *args, **kwargs):
        out = layer(*args, **kwargs)
        if layer.name.endswith("_ff2"):
            return BottleneckAdapter(bottleneck, name=layer.name.replace("_ff2", "_adapter"))(out)
        return out

    copy = keras.models.clone_model(model, call_function=call)
    for layer in model.layers:
        if layer.weights:
            copy.get_layer(layer.name).set_weights(layer.get_weights())
    freeze_all_but(copy, lambda v: "_adapter/" in v.path)
    return copy


# ---------------------------------------------------------------------------- a fine-tuning method


@dataclass(frozen=True)
class Method:
    """One way to fine-tune the masked (two-way) encoder: ``full`` (every weight), ``lora`` (rank
    `rank` on `where`), ``adapter`` (bottleneck `bottleneck`), ``bitfit`` (biases), ``head`` (frozen
    encoder, the new output layer alone). The new output layer always trains."""

    kind: str
    rank: int = 4
    where: str = "attention"
    bottleneck: int = 16

    @property
    def label(self) -> str:
        if self.kind == "lora":
            return f"LoRA r={self.rank} ({'attention' if self.where == 'attention' else 'all dense'})"
        if self.kind == "adapter":
            return f"adapter m={self.bottleneck}"
        return {"full": "full fine-tuning", "bitfit": "BitFit (biases)", "head": "frozen + head"}[self.kind]


def peft_task_model(method: Method, task: str, max_len: int, masked: keras.Model) -> tuple[keras.Model, keras.Model]:
    """(task model, language model) for `method` on a freshly loaded masked checkpoint `masked`
    (changed in place: its weights are frozen or given LoRA; an adapter model is a copy). The task
    model is `helpers.finetune.build_task_model`'s (two-way start) with its gradient gate open;
    the language model shares the task model's encoder, so its held-out loss after fine-tuning
    measures what the method forgot."""
    from helpers.finetune import build_task_model

    keep = {"full": lambda v: True, "bitfit": is_bias, "head": lambda v: False}
    if method.kind == "adapter":
        masked = with_adapters(masked, method.bottleneck)
    elif method.kind == "lora":
        apply_lora(masked, method.rank, method.where)
    elif method.kind in keep:
        freeze_all_but(masked, keep[method.kind])
    else:
        raise ValueError(f"method {method.kind!r}: one of full, lora, adapter, bitfit, head")
    model, _ = build_task_model(task, "two-way (BERT)", max_len, {"masked": masked}, make_scratch=lambda: None)
    model.get_layer("gate").gate.assign(1.0)  # the frozen weights are frozen by `trainable`, not the gate
    return model, masked


@dataclass
class Task:
    """A labelled task as `fine_tune` reads it, with its two scorers (validation, test)."""

    name: str  # "segmentation" or "sentiment" (`helpers.finetune.build_task_model`)
    X: np.ndarray
    y: np.ndarray
    loss: str
    validation: Callable[[keras.Model], float]
    test: Callable[[keras.Model], float]
    sample_weight: np.ndarray | None = None


@functools.lru_cache(maxsize=4)
def _masked_weights(folder: str) -> list[np.ndarray]:
    from helpers.pretraining import load_pretrained

    return load_pretrained("masked", Path(folder)).get_weights()


def fresh_masked(folder: Path | None = None) -> keras.Model:
    """A new masked model holding the checkpoint's weights: the file is read and verified by
    `helpers.pretraining.load_pretrained` once per folder and session, then only copied (each
    fine-tuning run needs a fresh copy, and the check costs more than the copy)."""
    from helpers.pretraining import CHECKPOINT_DIR, build_model, config_of, read_provenance

    folder = Path(folder or CHECKPOINT_DIR)
    model = build_model(config_of(read_provenance(folder)), "masked")
    model.set_weights(_masked_weights(str(folder.resolve())))
    return model


def run_method(
    method: Method, task: Task, lr: float, seed: int, *, num_updates: int, batch_size: int, max_len: int, folder=None
):
    """Fine-tune a fresh masked checkpoint with `method` (one stage, Adam at `lr`, `num_updates`
    updates); returns (record, task model, language model). The record holds the validation score,
    the trainable count, Adam's state bytes (2 float32 numbers per trained parameter), the bytes
    to store per task (the trained parameters in float32) and seconds per update (scoring and the
    first call's tracing included). `folder`: where the checkpoints are (default: data/pretrained/)."""
    from helpers.finetune import fine_tune

    keras.utils.set_random_seed(seed)
    masked = fresh_masked(folder)
    model, lm = peft_task_model(method, task.name, max_len, masked)
    result = fine_tune(
        model, [], task.X, task.y, task.validation, num_updates=num_updates, batch_size=batch_size, lr=lr,
        lr_pretrained=lr, seed=seed, loss=task.loss, sample_weight=task.sample_weight,
    )  # fmt: skip
    n = trainable_count(model)
    record = {
        "method": method.label, "lr": lr, "seed": seed, "validation": result.fine_tuned, "trainable": n,
        "state_bytes": ADAM_STATES * BYTES["float32"] * n, "task_bytes": BYTES["float32"] * n,
        "seconds_per_update": result.seconds / num_updates,
    }  # fmt: skip
    return record, model, lm


def choose_then_test(method: Method, task: Task, lrs: list[float], seeds: list[int], lm_loss, **sizes):
    """The course's rule for a fair comparison: on the first seed, train at every learning rate of
    `lrs` and keep the one with the best validation score (the smaller rate on a tie); every seed
    then runs at that rate, and each run is scored on the test set once. `lm_loss(lm)` is the
    language model's held-out loss after the run (what it forgot). Returns (records, each with the
    first seed's validation score at every rate, and the first seed's task model and language model)."""
    first = [run_method(method, task, lr, seeds[0], **sizes) for lr in sorted(lrs)]
    best = max(range(len(first)), key=lambda k: (first[k][0]["validation"], -k))
    chosen = first[best][0]["lr"]
    runs = [first[best]] + [run_method(method, task, chosen, s, **sizes) for s in seeds[1:]]
    tried = {run[0]["lr"]: run[0]["validation"] for run in first}  # the first seed's validation score per rate
    records = []
    for record, model, lm in runs:
        records.append({**record, "test": task.test(model), "lm_loss": lm_loss(lm), "lrs_tried": sorted(lrs),
                        "validation_by_lr": tried})  # fmt: skip
    return records, runs[0][1], runs[0][2]


# ---------------------------------------------------------------------------- switching and merging


def lora_state(model: keras.Model) -> dict[str, np.ndarray]:
    """A task's LoRA weights (every `lora_kernel_a`, `lora_kernel_b`) by path: all a task adds to
    the shared base, besides its own output layer."""
    return {v.path: v.numpy() for v in model.weights if "lora_kernel" in v.path}


def load_lora_state(model: keras.Model, state: dict[str, np.ndarray]) -> None:
    """Put a task's LoRA weights (`lora_state`) into `model`'s LoRA variables: switching tasks
    without reloading the base."""
    variables = {v.path: v for v in model.weights if "lora_kernel" in v.path}
    if variables.keys() != state.keys():
        raise ValueError(f"the state has {len(state)} LoRA weights, the model {len(variables)}: another layout")
    for path, value in state.items():
        variables[path].assign(value)


def merge_into(lora_model: keras.Model, plain: keras.Model) -> keras.Model:
    """Write each LoRA layer's merged kernel W + (α/r) A B (what Keras's `kernel` property returns
    once LoRA is enabled) into the same layer of `plain`, a model of the same layout without LoRA,
    and its biases too: a plain model that computes what `lora_model` computes, at no extra cost."""
    pairs = zip(lora_layers(lora_model, "all"), lora_layers(plain, "all"), strict=True)
    for adapted, target in pairs:
        if adapted.lora_enabled:
            target.kernel.assign(adapted.kernel)
        target.bias.assign(adapted.bias)
    return plain


# ---------------------------------------------------------------------------- the full comparison

STUDY_FILE = REPO_ROOT / "results" / "peft.json"
STUDY_REBUILD = "make peft"


def read_study(path: Path = STUDY_FILE) -> dict | None:
    """`make peft`'s committed comparison (`course.studies.peft`), or None when it has not been made."""
    return read_results(path)


def study_cells(study: dict) -> dict[tuple[str, int], list[dict]]:
    """The study's records grouped by (task, label budget), in the order they were run."""
    cells: dict[tuple[str, int], list[dict]] = {}
    for record in study["records"]:
        cells.setdefault((record["task"], record["budget"]), []).append(record)
    return cells


# ---------------------------------------------------------------------------- the two tasks


def word_f1_scorer(data: list[tuple[str, str]], vocab: dict[str, int], max_len: int) -> Callable[[keras.Model], float]:
    """model ↦ word F1 of its argmax tags on the (text, tags) pairs of `data` (cut at max_len)."""
    from helpers.segmentation import TAGS, encode_tagged, segmentation_prf

    X, _ = encode_tagged(data, vocab, max_len)
    true = [tags[:max_len] for _, tags in data]

    def word_f1(model: keras.Model) -> float:
        predicted = outputs_of(model, X).argmax(-1)
        guessed = ["".join(TAGS[k] for k in predicted[i, : len(true[i])]) for i in range(len(data))]
        return segmentation_prf(true, guessed)[2]

    return word_f1


def accuracy_scorer(texts: list[str], labels, vocab: dict[str, int], max_len: int) -> Callable[[keras.Model], float]:
    """model ↦ share of `texts` whose sigmoid output is on the side of their 0/1 label."""
    from helpers.text import encode

    X, y = encode(texts, vocab, max_len), np.asarray(labels)
    return lambda model: float(np.mean((outputs_of(model, X)[:, 0] > 0.5) == y))


def segmentation_task(train, validation, test, vocab: dict[str, int], max_len: int) -> Task:
    """Notebook 10's segmentation task on (text, tags) pairs: a tag per character, padding unweighted."""
    from helpers.segmentation import encode_tagged
    from helpers.text import PAD

    X, Y = encode_tagged(train, vocab, max_len)
    return Task(
        "segmentation", X, Y, "sparse_categorical_crossentropy", word_f1_scorer(validation, vocab, max_len),
        word_f1_scorer(test, vocab, max_len), sample_weight=(X != PAD).astype("float32"),
    )  # fmt: skip


def sentiment_task(train, validation, test, vocab: dict[str, int], max_len: int) -> Task:
    """Notebook 10's sentiment task; each argument is a (texts, 0/1 labels) pair."""
    from helpers.text import encode

    X, y = encode(train[0], vocab, max_len), np.asarray(train[1], dtype="float32")
    validate, score = (accuracy_scorer(*part, vocab, max_len) for part in (validation, test))
    return Task("sentiment", X, y, "binary_crossentropy", validate, score)
