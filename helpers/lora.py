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
        return lora_merge(*(np.asarray(v) for v in (self.kernel, self.lora_a, self.lora_b)), self.alpha)

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
