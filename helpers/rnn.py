"""Recurrent layers by hand in NumPy: a simple RNN (forward and reverse pass) and an LSTM
(forward pass), with the same weight layout as Keras so that trained Keras weights can be
loaded into them. Taught in notebook 04; `tests/unit/test_rnn.py` checks them against Keras.

Shapes: inputs X (N, T, d) batch-first; mask (N, T) of 0/1 (1 = a real token); units u.
Masking follows Keras: at a masked step the state is carried over unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from helpers.losses import binary_cross_entropy_from_logits, sigmoid


def _mask(mask: np.ndarray | None, X: np.ndarray) -> np.ndarray:
    return np.ones(X.shape[:2]) if mask is None else np.asarray(mask, dtype=np.float64)


# --------------------------------------------------------------------------- simple RNN


def rnn_forward(
    X: np.ndarray,
    W: np.ndarray,
    U: np.ndarray,
    b: np.ndarray,
    mask: np.ndarray | None = None,
    h0: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Simple (Elman) RNN, Keras `SimpleRNN` layout: kernel W (d, u), recurrent U (u, u), bias b (u,).

        a_t = x_t W + h_{t-1} U + b,   h̃_t = tanh(a_t),   h_t = m_t h̃_t + (1 − m_t) h_{t-1},   h_0 = 0

    Returns (H, H_new): H[:, t] = h_t (state after step t) and H_new[:, t] = h̃_t (the candidate
    before masking, which the reverse pass needs). The last state is H[:, -1]. `h0` (shape (u,)
    or (N, u)) replaces the zero initial state.
    """
    N, T, _ = X.shape
    m = _mask(mask, X)
    h = np.zeros((N, U.shape[0])) if h0 is None else np.broadcast_to(h0, (N, U.shape[0])).astype(np.float64)
    H, H_new = np.zeros((N, T, U.shape[0])), np.zeros((N, T, U.shape[0]))
    for t in range(T):
        h_new = np.tanh(X[:, t] @ W + h @ U + b)
        h = m[:, t, None] * h_new + (1 - m[:, t, None]) * h
        H[:, t], H_new[:, t] = h, h_new
    return H, H_new


@dataclass
class RNNGrads:
    """Gradients of the loss with respect to every weight, and to the inputs."""

    W: np.ndarray
    U: np.ndarray
    b: np.ndarray
    w: np.ndarray
    c: float
    X: np.ndarray


def rnn_classifier_loss_and_grads(
    X: np.ndarray,
    y: np.ndarray,
    W: np.ndarray,
    U: np.ndarray,
    b: np.ndarray,
    w: np.ndarray,
    c: float,
    mask: np.ndarray | None = None,
) -> tuple[float, RNNGrads]:
    """Loss and backpropagation through time for RNN → last state → sigmoid head → BCE.

    Forward:  h_T from `rnn_forward`,  z = h_T·w + c,  L = mean BCE(y, σ(z)).
    Reverse:  ∂L/∂z = (σ(z) − y)/N;  ∂L/∂w = h_Tᵀ ∂L/∂z;  ∂L/∂c = Σ ∂L/∂z;  δ = ∂L/∂h_T = ∂L/∂z wᵀ.
    Then for t = T … 1:   ∂L/∂a_t = m_t δ ⊙ (1 − h̃_t²);
        ∂L/∂W += x_tᵀ ∂L/∂a_t,  ∂L/∂U += h_{t-1}ᵀ ∂L/∂a_t,  ∂L/∂b += Σ ∂L/∂a_t,  ∂L/∂x_t = ∂L/∂a_t Wᵀ;
        δ ← ∂L/∂a_t Uᵀ + (1 − m_t) δ     (the gradient reaching h_{t-1}).
    """
    N, T, _ = X.shape
    m = _mask(mask, X)
    H, H_new = rnn_forward(X, W, U, b, mask)
    z = H[:, -1] @ w + c
    loss = binary_cross_entropy_from_logits(y, z)
    dz = (sigmoid(z) - y) / N
    grads = RNNGrads(
        np.zeros_like(W), np.zeros_like(U), np.zeros_like(b), H[:, -1].T @ dz, float(dz.sum()), np.zeros_like(X)
    )
    delta = dz[:, None] * w[None, :]
    for t in reversed(range(T)):
        h_prev = H[:, t - 1] if t > 0 else np.zeros_like(H[:, 0])
        da = m[:, t, None] * delta * (1 - H_new[:, t] ** 2)
        grads.W += X[:, t].T @ da
        grads.U += h_prev.T @ da
        grads.b += da.sum(axis=0)
        grads.X[:, t] = da @ W.T
        delta = da @ U.T + (1 - m[:, t, None]) * delta
    return loss, grads


# --------------------------------------------------------------------------- LSTM


def lstm_step(
    x_t: np.ndarray, h: np.ndarray, c: np.ndarray, kernel: np.ndarray, recurrent_kernel: np.ndarray, bias: np.ndarray
) -> tuple[np.ndarray, np.ndarray, dict]:
    """One LSTM step in the Keras layout: kernel (d, 4u), recurrent_kernel (u, 4u), bias (4u,),
    blocks stacked in the order input gate, forget gate, cell candidate, output gate:

        [a_i, a_f, a_g, a_o] = x_t K + h_{t-1} R + b
        i = σ(a_i)   f = σ(a_f)   g = tanh(a_g)   o = σ(a_o)
        c_t = f ⊙ c_{t-1} + i ⊙ g          (forget some old memory, write some new)
        h_t = o ⊙ tanh(c_t)                (expose part of the memory)

    Returns (h_t, c_t, gates) with gates = {"i", "f", "g", "o"}.
    """
    a = x_t @ kernel + h @ recurrent_kernel + bias
    a_i, a_f, a_g, a_o = np.split(a, 4, axis=-1)
    gates = {"i": sigmoid(a_i), "f": sigmoid(a_f), "g": np.tanh(a_g), "o": sigmoid(a_o)}
    c_new = gates["f"] * c + gates["i"] * gates["g"]
    h_new = gates["o"] * np.tanh(c_new)
    return h_new, c_new, gates


def lstm_forward(
    X: np.ndarray,
    kernel: np.ndarray,
    recurrent_kernel: np.ndarray,
    bias: np.ndarray,
    mask: np.ndarray | None = None,
    go_backwards: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Run `lstm_step` over the sequence (h_0 = c_0 = 0); masked steps carry h and c over.

    With `go_backwards=True` the sequence is read from the last step to the first, as Keras's
    `LSTM(go_backwards=True)` does. Returns (H, h_T, c_T) with H[:, t] the state after the
    t-th step *in reading order*.
    """
    N, T, _ = X.shape
    u = recurrent_kernel.shape[0]
    m = _mask(mask, X)
    order = range(T - 1, -1, -1) if go_backwards else range(T)
    h, c = np.zeros((N, u)), np.zeros((N, u))
    H = np.zeros((N, T, u))
    for k, t in enumerate(order):
        h_new, c_new, _ = lstm_step(X[:, t], h, c, kernel, recurrent_kernel, bias)
        keep = m[:, t, None]
        h, c = keep * h_new + (1 - keep) * h, keep * c_new + (1 - keep) * c
        H[:, k] = h
    return H, h, c
