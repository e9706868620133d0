"""Fine-tuning from a pretrained start, or from scratch: the models and the procedure of
notebook 10, for word segmentation (a tag per character) and review sentiment (one label per text).

A **start** says where the encoder's weights come from (`helpers.pretraining`'s checkpoints):

- ``scratch``: a fresh two-way encoder, random weights (the baseline of every comparison);
- ``one-way (GPT)``: the forward language model's encoder: each position sees its left only;
- ``two one-way joined (ELMo)``: the forward encoder on the text and the backward encoder on the
  text reversed, their states lined up position by position and concatenated;
- ``two-way (BERT)``: the masked model's encoder: each position sees both sides at once.

The procedure (`fine_tune`) gives every start the same number of updates. A pretrained start is
trained in two stages, in the spirit of ULMFiT's gradual unfreezing: first the new output layer
alone on frozen features (recorded as *frozen*), then everything at a lower learning rate, so the
pretrained layers move only a little (recorded as *fine-tuned*); Adam starts afresh at each
stage. A `GradientGate` between the encoders and the new layer does the freezing, so the model
is compiled (and its training step traced) once, not once per stage. Scratch trains everything
from the first update. ELMo's own recipe differs (it keeps its language models frozen and learns
a weighted mix of their layers); here the top states are concatenated and fine-tuned — section 6
of notebook 10 also tries ELMo's way (`helpers.elmo`). Tested in tests/unit/test_pretraining.py.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import keras
import numpy as np

from helpers.display import t_interval
from helpers.models import compile_model
from helpers.text import PAD

STARTS = ("scratch", "one-way (GPT)", "two one-way joined (ELMo)", "two-way (BERT)")
# a run of at most this many updates trains eagerly: tracing its training step would cost more.
# Measured on the course's checkpoints (GPT start, sentiment, 2 cores): 3 updates 0.9 s eager
# against 2.4 s traced (max_len 8, batch 1) and 1.4 s against 2.1 s (max_len 64, batch 32);
# 8 updates 3.5 s eager against 2.9 s traced. Notebook 10's and 12's teaching runs stay traced.
EAGER_UPDATES = 5
# controls for the direction question (`course direction-controls`): the forward checkpoint only,
# given what ELMo and BERT have besides a second direction: no causal mask, one character ahead,
# or twice the encoder (ELMo's parameters and compute)
CONTROLS = ("one-way, mask off", "one-way + next state", "two one-way, same way")
NEEDS = {  # the checkpoints each start reads
    "scratch": (),
    "one-way (GPT)": ("forward",),
    "two one-way joined (ELMo)": ("forward", "backward"),
    "two-way (BERT)": ("masked",),
    **{control: ("forward",) for control in CONTROLS},
}


@keras.saving.register_keras_serializable(package="course")
class ReverseValid(keras.layers.Layer):
    """Reverse each sequence's non-padding part along time, padding left at the end:
    [a b c 0 0] → [c b a 0 0]. Applied twice, it is the identity; it lines up a backward
    reader's outputs with the positions they belong to (notebook 05, exercise 2)."""

    def call(self, values, ids):
        import tensorflow as tf

        lengths = tf.reduce_sum(tf.cast(tf.not_equal(ids, PAD), "int32"), axis=1)
        return tf.reverse_sequence(values, lengths, seq_axis=1, batch_axis=0)


@keras.saving.register_keras_serializable(package="course")
class GradientGate(keras.layers.Layer):
    """y = g·x + (1 − g)·stop_gradient(x): the input unchanged, with gradients flowing back
    through it only while the gate g is open (1). Closed, it freezes everything before it without
    recompiling the model, so both stages of `fine_tune` share one traced training step."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True  # padding stays masked for the layers after it
        self.gate = self.add_weight(shape=(), initializer="zeros", trainable=False, name="gate")

    def call(self, x):
        return self.gate * x + (1.0 - self.gate) * keras.ops.stop_gradient(x)


def encoder_of(model: keras.Model, name: str) -> keras.Model:
    """The pretrained model without its output layer: ids (N, T) → states (N, T, d), the states
    its output layer reads."""
    return keras.Model(model.input, model.get_layer("logits").input, name=name)


def features(start: str, ids, pretrained: dict[str, keras.Model], make_scratch: Callable[[], keras.Model]):
    """The per-position states a start gives for the ids tensor, and the encoders to freeze
    (`STARTS`, then the direction study's `CONTROLS`)."""
    if start == "scratch":
        encoder = encoder_of(make_scratch(), "scratch_encoder")
        return encoder(ids), []
    if start == "two-way (BERT)":
        encoder = encoder_of(pretrained["masked"], "masked_encoder")
        return encoder(ids), [encoder]
    if start not in NEEDS:
        raise ValueError(f"start {start!r}: choose one of {STARTS + CONTROLS}")
    forward = encoder_of(pretrained["forward"], "forward_encoder")
    if start == "one-way (GPT)":
        return forward(ids), [forward]
    if start == "two one-way joined (ELMo)":
        backward = encoder_of(pretrained["backward"], "backward_encoder")
        backward_states = ReverseValid()(backward(ReverseValid()(ids, ids)), ids)
        return keras.layers.Concatenate()([forward(ids), backward_states]), [forward, backward]
    if start == "one-way, mask off":  # the forward weights in the two-way model: the same layers, no mask
        model = make_scratch()
        model.set_weights(pretrained["forward"].get_weights())
        unmasked = encoder_of(model, "unmasked_forward_encoder")
        return unmasked(ids), [unmasked]
    if start == "one-way + next state":  # [h_t ; h_{t+1}], zeros after the last position
        states = forward(ids)
        ahead = keras.layers.Lambda(lambda h: keras.ops.pad(h[:, 1:], [[0, 0], [0, 1], [0, 0]]))(states)
        return keras.layers.Concatenate()([states, ahead]), [forward]
    twin = keras.models.clone_model(pretrained["forward"])  # two one-way, same way: ELMo's size
    twin.set_weights(pretrained["forward"].get_weights())
    second = encoder_of(twin, "forward_encoder_2")
    return keras.layers.Concatenate()([forward(ids), second(ids)]), [forward, second]


def build_task_model(
    task: str,
    start: str,
    max_len: int,
    pretrained: dict[str, keras.Model],
    make_scratch: Callable[[], keras.Model],
) -> tuple[keras.Model, list[keras.Model]]:
    """``segmentation``: a softmax over the 4 tags b/m/e/s at every position; ``sentiment``: the
    states averaged over the text's characters (padding skipped), then a sigmoid."""
    ids = keras.Input(shape=(max_len,), dtype="int32")
    states, frozen = features(start, ids, pretrained, make_scratch)
    if frozen:  # the pretrained encoders sit behind a gate that `fine_tune` opens after stage 1
        states = GradientGate(name="gate")(states)
    if task == "segmentation":
        out = keras.layers.Dense(4, activation="softmax", name="tags")(states)
    elif task == "sentiment":
        mask = keras.layers.Lambda(lambda x: keras.ops.cast(keras.ops.not_equal(x, PAD), "float32"))(ids)
        pooled = keras.layers.Lambda(
            lambda a: (
                keras.ops.sum(a[0] * a[1][..., None], axis=1)
                / keras.ops.maximum(keras.ops.sum(a[1], axis=1, keepdims=True), 1.0)
            )
        )([states, mask])
        out = keras.layers.Dense(1, activation="sigmoid", name="label")(pooled)
    else:
        raise ValueError(f"task {task!r}: segmentation or sentiment")
    return keras.Model(ids, out), frozen


@dataclass
class FineTuneResult:
    frozen: float | None  # score after the head alone was trained (None for scratch)
    fine_tuned: float  # score after the whole model was trained
    seconds: float


def batches(n: int, batch_size: int, num_updates: int, rng: np.random.Generator):
    """num_updates index batches, epoch after epoch in a fresh random order."""
    order, position = rng.permutation(n), 0
    for _ in range(num_updates):
        if position + batch_size > n:
            order, position = rng.permutation(n), 0
        yield order[position : position + min(batch_size, n)]
        position += batch_size


def fine_tune(
    model: keras.Model,
    frozen: list[keras.Model],
    X: np.ndarray,
    y: np.ndarray,
    score: Callable[[keras.Model], float],
    *,
    num_updates: int,
    batch_size: int,
    lr: float,
    lr_pretrained: float,
    seed: int,
    loss: str,
    sample_weight: np.ndarray | None = None,
    on_update: Callable[[], bool | None] | None = None,
    frozen_updates: int | None = None,
) -> FineTuneResult:
    """Train `model` for num_updates updates on (X, y); see the module docstring for the stages.
    The first stage is `frozen_updates` long (a third of num_updates if not given).
    `score(model)` is evaluated after each stage; `on_update()`, if given, after every update:
    if it returns True, training stops there (early stopping).
    The pretrained encoders are frozen by closing the model's GradientGate (a closed gate passes
    no gradient, so Adam never moves them), and the model is compiled once: both stages run the
    same traced training step (or, for a run of at most `EAGER_UPDATES` updates, run eagerly)."""
    rng = np.random.default_rng(seed)
    start = time.perf_counter()
    first = num_updates // 3 if frozen_updates is None else min(frozen_updates, num_updates)
    stages = [(num_updates, lr)] if not frozen else [(first, lr), (num_updates - first, lr_pretrained)]
    optimizer = keras.optimizers.Adam(lr)
    compile_model(model, optimizer, loss, run_eagerly=num_updates <= EAGER_UPDATES)
    scores, stopped = [], False
    for k, (updates, rate) in enumerate(stages):
        if stopped:
            break
        if frozen:
            model.get_layer("gate").gate.assign(float(k > 0))  # closed in stage 1, open in stage 2
        for variable in optimizer.variables:  # Adam starts afresh: no moments, step count 0
            if not variable.path.endswith("learning_rate"):
                variable.assign(keras.ops.zeros_like(variable))
        optimizer.learning_rate = rate
        for idx in batches(len(X), batch_size, updates, rng):
            model.train_on_batch(X[idx], y[idx], sample_weight=None if sample_weight is None else sample_weight[idx])
            if on_update is not None and on_update():
                stopped = True
                break
        scores.append(score(model))
    return FineTuneResult(scores[0] if frozen else None, scores[-1], time.perf_counter() - start)


# ---------------------------------------------------------------------------- reading the results


def scores(records: list[dict], metric: str, start: str, budget: int) -> dict[int, float]:
    """{seed: score} of one start at one label budget, from records like notebook 10's."""
    return {r["seed"]: r[metric] for r in records if r["start"] == start and r["budget"] == budget}


def paired_differences(records: list[dict], metric: str, start: str, other: str, budget: int) -> np.ndarray:
    """start − other, seed by seed (only seeds both have), as an array."""
    a, b = scores(records, metric, start, budget), scores(records, metric, other, budget)
    return np.array([a[s] - b[s] for s in sorted(a.keys() & b.keys())])


def describe_difference(d: np.ndarray, scale: float = 100) -> str:
    """Paired differences over seeds, in points: '+3.1 points, 95% interval +0.2 to +6.0 over 3
    seeds (excludes 0)' (`helpers.display.t_interval`); one seed has no interval."""
    if len(d) < 2:
        return f"{scale * float(np.mean(d)):+.1f} points (one seed: no interval)"
    mean, low, high = (scale * x for x in t_interval(d))
    verdict = "excludes" if low > 0 or high < 0 else "includes"
    return f"{mean:+.1f} points, 95% interval {low:+.1f} to {high:+.1f} over {len(d)} seeds ({verdict} 0)"


def verdict_lines(records: list[dict], metric: str, task: str, budgets: list[int]) -> list[str]:
    """Per label budget: each pretrained start against scratch, and two directions against one."""
    lines = []
    for budget in budgets:
        lines.append(f"{task}, {budget} labels:")
        for start in STARTS[1:]:
            d = paired_differences(records, metric, start, "scratch", budget)
            lines.append(f"  {start} − scratch: {describe_difference(d)}")
        for two_way in ("two one-way joined (ELMo)", "two-way (BERT)"):
            d = paired_differences(records, metric, two_way, "one-way (GPT)", budget)
            lines.append(f"  {two_way} − one-way (GPT): {describe_difference(d)}")
    return lines
