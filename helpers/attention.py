"""Self-attention by hand in NumPy: scaled dot-product attention, its masks, multi-head attention
with Keras's weight layout, its reverse pass, positions, layer norm, and a Transformer block's size.

Taught in notebook 09 (attention, one way and two ways), where every function is checked against
`keras.layers.MultiHeadAttention` and `tf.GradientTape`; `tests/unit/test_attention.py` does the
same with explicit tolerances.

Shapes: a batch `X` is (N, T, d_model). Multi-head weights follow Keras 3's `MultiHeadAttention`:
query/key/value kernels (d_model, h, d_k), their biases (h, d_k), the output kernel (h, d_k,
d_model) and its bias (d_model,), so weights can be copied across in either direction.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from helpers.losses import softmax

NEG_INF = -1e9  # added to the score of a position the mask hides: its weight becomes exactly 0


def causal_mask(T: int) -> np.ndarray:
    """(T, T) boolean: position t may look at positions s ≤ t (True), never at later ones.

    The mask is the direction: with it a reader is one-way (GPT); without it, two-way (BERT).
    """
    return np.tril(np.ones((T, T), dtype=bool))


def distance_slopes(num_heads: int) -> np.ndarray:
    """ALiBi's slopes (Press et al. 2022), one per head: m_j = 2^(−8 j / h) for j = 1 … h (the
    paper's rule when h is a power of 2).
    A steep head (m = 1/4 for h = 4) reads its neighbours; a shallow one (1/256) reads far."""
    return 2.0 ** (-8.0 * np.arange(1, num_heads + 1) / num_heads)


def distance_bias(T: int, slopes: np.ndarray) -> np.ndarray:
    """(h, T, T) scores added before the softmax: B[j, t, s] = −m_j · |t − s|.

    Each head starts out preferring nearby positions, more or less steeply, so a query finds its
    neighbours from the first update on. Taught in notebook 10 (section 2), which shows the masked
    objective's pretraining loss with and without it.
    """
    t = np.arange(T)
    return -np.asarray(slopes, dtype=float)[:, None, None] * np.abs(t[:, None] - t[None, :])


def scaled_dot_product_attention(
    Q: np.ndarray,
    K: np.ndarray,
    V: np.ndarray,
    mask: np.ndarray | None = None,
    bias: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """softmax(Q Kᵀ / √d_k + B + M) V over the last two axes; returns (output, weights A).

    Q: (..., T_q, d_k), K: (..., T_k, d_k), V: (..., T_k, d_v). `mask` (broadcastable to
    (..., T_q, T_k)) is True where a query may look; M is 0 there and NEG_INF elsewhere, so each
    row of A is a probability distribution over the positions the query may see. `bias` B
    (broadcastable likewise; e.g. `distance_bias`) is a fixed score added to every query's row.
    """
    d_k = Q.shape[-1]
    scores = Q @ np.swapaxes(K, -1, -2) / np.sqrt(d_k)
    if bias is not None:
        scores = scores + bias
    if mask is not None:
        scores = np.where(mask, scores, NEG_INF)
    A = softmax(scores)
    return A @ V, A


@dataclass
class MHAWeights:
    """Multi-head attention weights in Keras's layout (see the module docstring)."""

    Wq: np.ndarray
    bq: np.ndarray
    Wk: np.ndarray
    bk: np.ndarray
    Wv: np.ndarray
    bv: np.ndarray
    Wo: np.ndarray
    bo: np.ndarray

    def as_keras(self) -> list[np.ndarray]:
        """In the order `MultiHeadAttention.get_weights()` / `set_weights()` uses."""
        return [self.Wq, self.bq, self.Wk, self.bk, self.Wv, self.bv, self.Wo, self.bo]

    @classmethod
    def from_keras(cls, weights: list[np.ndarray]) -> MHAWeights:
        return cls(*(np.asarray(w, dtype=np.float64) for w in weights))

    @classmethod
    def random(cls, d_model: int, num_heads: int, key_dim: int, rng: np.random.Generator) -> MHAWeights:
        """Small random weights (scale 1/√d_model), for checks and exercises."""

        def w(*shape: int) -> np.ndarray:
            return rng.normal(size=shape) / np.sqrt(d_model)

        h, k, d = num_heads, key_dim, d_model
        return cls(w(d, h, k), w(h, k), w(d, h, k), w(h, k), w(d, h, k), w(h, k), w(h, k, d), w(d))

    def num_params(self) -> int:
        return sum(w.size for w in self.as_keras())


@dataclass
class MHACache:
    """What the forward pass remembers for the reverse pass."""

    X: np.ndarray
    Q: np.ndarray
    K: np.ndarray
    V: np.ndarray
    A: np.ndarray
    O: np.ndarray  # noqa: E741 - the attention output per head, before the output projection


def multi_head_attention(
    X: np.ndarray, weights: MHAWeights, mask: np.ndarray | None = None, bias: np.ndarray | None = None
) -> tuple[np.ndarray, MHACache]:
    """Multi-head self-attention of X (N, T, d_model): for each head j,

        Q_j = X W_q[:, j] + b_q[j],  K_j, V_j likewise,  O_j = softmax(Q_j K_jᵀ / √d_k + B_j + M) V_j,

    then Y = Σ_j O_j W_o[j] + b_o (the heads' outputs concatenated and projected back to d_model).
    Returns (Y, cache) with Y of shape (N, T, d_model). `bias` (h, T, T), if given, is added to
    every head's scores (a constant: the reverse pass below is the same with or without it).
    """
    w = weights
    Q = np.einsum("ntd,dhk->nhtk", X, w.Wq) + w.bq[None, :, None, :]
    K = np.einsum("ntd,dhk->nhtk", X, w.Wk) + w.bk[None, :, None, :]
    V = np.einsum("ntd,dhk->nhtk", X, w.Wv) + w.bv[None, :, None, :]
    O, A = scaled_dot_product_attention(Q, K, V, mask, bias)  # noqa: E741
    Y = np.einsum("nhtk,hkd->ntd", O, w.Wo) + w.bo
    return Y, MHACache(X, Q, K, V, A, O)


def multi_head_attention_backward(
    dY: np.ndarray, weights: MHAWeights, cache: MHACache
) -> tuple[MHAWeights, np.ndarray]:
    """The reverse pass of `multi_head_attention`: given dY = ∂L/∂Y, return (∂L/∂weights, ∂L/∂X).

    Backwards through each step of the forward pass:
        ∂L/∂O_j = dY W_o[j]ᵀ,          ∂L/∂W_o[j] = Σ O_jᵀ dY,       ∂L/∂b_o = Σ dY
        ∂L/∂A   = ∂L/∂O V_jᵀ,          ∂L/∂V_j    = Aᵀ ∂L/∂O
        ∂L/∂S   = A ⊙ (∂L/∂A − rowsum(∂L/∂A ⊙ A))      (softmax; masked entries have A = 0 → 0)
        ∂L/∂Q_j = ∂L/∂S K_j / √d_k,    ∂L/∂K_j    = ∂L/∂Sᵀ Q_j / √d_k
        ∂L/∂W_q = Σ Xᵀ ∂L/∂Q,          ∂L/∂b_q    = Σ ∂L/∂Q           (K and V likewise)
        ∂L/∂X   = ∂L/∂Q W_qᵀ + ∂L/∂K W_kᵀ + ∂L/∂V W_vᵀ   (X feeds all three in self-attention)
    """
    w, c = weights, cache
    d_k = c.Q.shape[-1]
    dO = np.einsum("ntd,hkd->nhtk", dY, w.Wo)
    dWo = np.einsum("nhtk,ntd->hkd", c.O, dY)
    dbo = dY.sum(axis=(0, 1))
    dA = dO @ np.swapaxes(c.V, -1, -2)
    dV = np.swapaxes(c.A, -1, -2) @ dO
    dS = c.A * (dA - np.sum(dA * c.A, axis=-1, keepdims=True))
    dQ = dS @ c.K / np.sqrt(d_k)
    dK = np.swapaxes(dS, -1, -2) @ c.Q / np.sqrt(d_k)
    grads = {}
    dX = np.zeros_like(c.X)
    for name, d in (("q", dQ), ("k", dK), ("v", dV)):
        W = getattr(w, f"W{name}")
        grads[f"W{name}"] = np.einsum("ntd,nhtk->dhk", c.X, d)
        grads[f"b{name}"] = d.sum(axis=(0, 2))
        dX += np.einsum("nhtk,dhk->ntd", d, W)
    return MHAWeights(grads["Wq"], grads["bq"], grads["Wk"], grads["bk"], grads["Wv"], grads["bv"], dWo, dbo), dX


def sinusoidal_positions(T: int, d_model: int) -> np.ndarray:
    """(T, d_model) position codes of the original Transformer (Vaswani et al. 2017):
    PE[t, 2i] = sin(t / 10000^(2i/d)), PE[t, 2i+1] = cos(t / 10000^(2i/d))."""
    t = np.arange(T)[:, None]
    i = np.arange(0, d_model, 2)[None, :]
    angles = t / np.power(10000.0, i / d_model)
    pe = np.zeros((T, d_model))
    pe[:, 0::2] = np.sin(angles)
    pe[:, 1::2] = np.cos(angles[:, : d_model // 2])
    return pe


def layer_norm(X: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float = 1e-3) -> np.ndarray:
    """γ ⊙ (x − mean(x)) / √(var(x) + ε) + β over the last axis (Keras's default ε = 1e-3)."""
    mean = X.mean(axis=-1, keepdims=True)
    var = X.var(axis=-1, keepdims=True)
    return gamma * (X - mean) / np.sqrt(var + eps) + beta


def transformer_block_params(d_model: int, num_heads: int, key_dim: int, d_ff: int) -> dict[str, int]:
    """Parameters of one Transformer block (attention, feed-forward, two layer norms), by part:

    attention:    3 (d·h·k + h·k)  +  h·k·d + d      (Q, K, V kernels and biases; output projection)
    feed-forward: d·d_ff + d_ff  +  d_ff·d + d       (two Dense layers)
    layer norms:  2 × 2d                             (a scale γ and a shift β each)
    """
    d, h, k = d_model, num_heads, key_dim
    parts = {
        "attention": 3 * (d * h * k + h * k) + h * k * d + d,
        "feed-forward": d * d_ff + d_ff + d_ff * d + d,
        "layer norms": 2 * 2 * d,
    }
    parts["total"] = sum(parts.values())
    return parts
