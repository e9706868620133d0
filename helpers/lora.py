"""Parameter-efficient fine-tuning (参数高效微调) by hand: LoRA, a bottleneck adapter and BitFit,
in NumPy and as small Keras layers, and what each costs in memory. Taught in notebook 11.

Row-vector convention, as Keras's `Dense` (y = x W + b, W of shape d_in × d_out). LoRA (Hu et al.
2021) keeps the pretrained W frozen and learns a low-rank change beside it:

    y = x W + b + (α/r) · (x A) B,     A: d_in × r,  B: r × d_out,  B = 0 at the start,

so the model starts exactly at the pretrained function, and the update ΔW = (α/r) A B has rank
at most r. (The paper writes h = W₀x + B A x for column vectors; its A is our Aᵀ.) Keras 3 has the
same thing built in: `Dense(..., lora_rank=r, lora_alpha=α)` or `layer.enable_lora(r)`, whose
`lora_kernel_a`, `lora_kernel_b` are our A, B. `tests/unit/test_lora.py` checks every function
here against GradientTape, central finite differences and Keras's own LoRA.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import keras
import numpy as np

ADAM_STATES = 2  # Adam keeps two numbers per trained parameter: the first and second moments
BYTES = {"float32": 4, "bfloat16": 2, "float16": 2, "int8": 1}


# ---------------------------------------------------------------------------- NumPy, by hand


def lora_forward(x: np.ndarray, W: np.ndarray, b: np.ndarray, A: np.ndarray, B: np.ndarray, alpha: float) -> np.ndarray:
    """y = x W + b + (α/r)·(x A) B, r = A.shape[1]. x: (N, d_in) → y: (N, d_out).

    Computed as (x A) B, never x (A B): N·r·(d_in + d_out) multiplications, not N·d_in·d_out."""
    r = A.shape[1]
    return x @ W + b + (alpha / r) * ((x @ A) @ B)


def lora_backward(
    x: np.ndarray, W: np.ndarray, A: np.ndarray, B: np.ndarray, alpha: float, G: np.ndarray
) -> dict[str, np.ndarray]:
    """The reverse pass of `lora_forward`, given G = ∂L/∂y (N, d_out), with s = α/r and u = x A:

        ∂L/∂B = s · uᵀ G          (r × d_out)
        ∂L/∂A = s · xᵀ (G Bᵀ)     (d_in × r)     — zero while B = 0: at the first update only B moves
        ∂L/∂b = Σ_n G_n           (d_out)
        ∂L/∂x = G (W + s A B)ᵀ    (N × d_in)

    W is frozen: its gradient xᵀG is never computed and no optimizer state is kept for it."""
    s = alpha / A.shape[1]
    u = x @ A
    return {"A": s * x.T @ (G @ B.T), "B": s * u.T @ G, "b": G.sum(axis=0), "x": G @ (W + s * A @ B).T}


def lora_merge(W: np.ndarray, A: np.ndarray, B: np.ndarray, alpha: float) -> np.ndarray:
    """W' = W + (α/r)·A B: the same layer with the update folded in, so inference costs nothing extra."""
    return W + (alpha / A.shape[1]) * (A @ B)


def lora_param_count(d_in: int, d_out: int, rank: int) -> int:
    """Trained numbers of LoRA on one d_in × d_out matrix: A has d_in·r, B has r·d_out: r·(d_in + d_out)."""
    return rank * (d_in + d_out)


def adapter_forward(h: np.ndarray, D: np.ndarray, c: np.ndarray, U: np.ndarray, e: np.ndarray) -> np.ndarray:
    """A bottleneck adapter (Houlsby et al. 2019): h + relu(h D + c) U + e, D: d × m, U: m × d, m ≪ d.
    With U = 0 and e = 0 at the start it is the identity, like LoRA's B = 0."""
    return h + np.maximum(h @ D + c, 0.0) @ U + e


def memory_bytes(num_params: int, num_trained: int, dtype: str = "float32", states: int = ADAM_STATES) -> dict:
    """Bytes to fine-tune: weights (all of them), gradients and optimizer states (the trained ones
    only, `states` per parameter for Adam), in `dtype` (states kept in the same precision here)."""
    size = BYTES[dtype]
    weights, gradients, optimizer = num_params * size, num_trained * size, states * num_trained * size
    return {
        "weights": weights,
        "gradients": gradients,
        "optimizer states": optimizer,
        "total": weights + gradients + optimizer,
    }


def energy_share(singular_values: np.ndarray, rank: int) -> float:
    """Σ_{i≤r} σ_i² / Σ_i σ_i²: the share of ‖ΔW‖²_F the best rank-r approximation keeps (Eckart–Young)."""
    s2 = np.sort(np.asarray(singular_values, dtype=float))[::-1] ** 2
    return float(s2[:rank].sum() / s2.sum()) if s2.sum() > 0 else 1.0


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
        layer = cls(dense.units, rank, alpha)
        layer.build((None, dense.kernel.shape[0]))
        layer.kernel.assign(dense.kernel)
        layer.bias.assign(dense.bias)
        return layer

    def merged_kernel(self) -> np.ndarray:
        """W + (α/r) A B (`lora_merge`)."""
        return lora_merge(*(keras.ops.convert_to_numpy(v) for v in (self.kernel, self.lora_a, self.lora_b)), self.alpha)

    def get_config(self) -> dict:
        return {**super().get_config(), "units": self.units, "rank": self.rank, "alpha": self.alpha}


@keras.saving.register_keras_serializable(package="course")
class BottleneckAdapter(keras.layers.Layer):
    """h ↦ h + relu(h D + c) U + e (`adapter_forward`): down to `bottleneck` numbers and back up,
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


def run_method(method: Method, task: Task, lr: float, seed: int, *, num_updates: int, batch_size: int, max_len: int):
    """Fine-tune a fresh masked checkpoint with `method` (one stage, Adam at `lr`, `num_updates`
    updates); returns (record, task model, language model). The record holds the validation score,
    the trainable count, Adam's state bytes (2 float32 numbers per trained parameter), the bytes
    to store per task (the trained parameters in float32) and seconds per update (scoring and the
    first call's tracing included)."""
    from helpers.finetune import fine_tune
    from helpers.pretraining import load_pretrained

    keras.utils.set_random_seed(seed)
    model, lm = peft_task_model(method, task.name, max_len, load_pretrained("masked"))
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
    language model's held-out loss after the run (what it forgot). Returns (records, the first
    seed's task model and language model)."""
    first = [run_method(method, task, lr, seeds[0], **sizes) for lr in sorted(lrs)]
    best = max(range(len(first)), key=lambda k: (first[k][0]["validation"], -k))
    chosen = first[best][0]["lr"]
    runs = [first[best]] + [run_method(method, task, chosen, s, **sizes) for s in seeds[1:]]
    records = []
    for record, model, lm in runs:
        records.append({**record, "test": task.test(model), "lm_loss": lm_loss(lm), "lrs_tried": sorted(lrs)})
    return records, runs[0][1], runs[0][2]


# ---------------------------------------------------------------------------- switching and merging


def lora_state(model: keras.Model) -> dict[str, np.ndarray]:
    """A task's LoRA weights (every `lora_kernel_a`, `lora_kernel_b`) by path: all a task adds to
    the shared base, besides its own output layer."""
    return {v.path: keras.ops.convert_to_numpy(v) for v in model.weights if "lora_kernel" in v.path}


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
