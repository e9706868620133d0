"""Recurrent layers by hand in NumPy: a simple RNN (forward and reverse pass) and an LSTM
(forward pass), with the same weight layout as Keras so that trained Keras weights can be
loaded into them. Taught in notebooks 04 and 05; `tests/unit/test_rnn.py` checks them against Keras.

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


@dataclass
class LSTMGrads:
    """Gradients of the LSTM classifier's loss: LSTM weights (Keras layout), head, and inputs."""

    kernel: np.ndarray
    recurrent_kernel: np.ndarray
    bias: np.ndarray
    w: np.ndarray
    c: float
    X: np.ndarray


def lstm_classifier_loss_and_grads(
    X: np.ndarray,
    y: np.ndarray,
    kernel: np.ndarray,
    recurrent_kernel: np.ndarray,
    bias: np.ndarray,
    w: np.ndarray,
    c: float,
    mask: np.ndarray | None = None,
) -> tuple[float, LSTMGrads]:
    """Loss and backpropagation through time for LSTM → last state → sigmoid head → BCE.

    Forward: `lstm_step` at every t (masked steps carry h and c over), z = h_T·w + c, L = mean BCE.
    Reverse: carry two gradients back in time, δh = ∂L/∂h_t and δc = ∂L/∂c_t; δh_T = ∂L/∂z wᵀ, δc_T = 0.
    At step t (with m_t the mask):
        ∂o = m δh ⊙ tanh(c_t)                          from h_t = o ⊙ tanh(c_t)
        ∂c = m δc + m δh ⊙ o ⊙ (1 − tanh²(c_t))        c_t reaches the loss two ways
        ∂f = ∂c ⊙ c_{t−1},  ∂i = ∂c ⊙ g,  ∂g = ∂c ⊙ i   from c_t = f ⊙ c_{t−1} + i ⊙ g
        ∂a = [∂i ⊙ i(1−i), ∂f ⊙ f(1−f), ∂g ⊙ (1−g²), ∂o ⊙ o(1−o)]   through σ and tanh
        ∂K += x_tᵀ ∂a,  ∂R += h_{t−1}ᵀ ∂a,  ∂b += Σ ∂a,  ∂L/∂x_t = ∂a Kᵀ
        δh ← ∂a Rᵀ + (1 − m) δh,   δc ← ∂c ⊙ f + (1 − m) δc
    The cell's own road back, δc ← ∂c ⊙ f, has no squashing derivative on it: with f ≈ 1 the
    gradient passes through unchanged.
    """
    N, T, _ = X.shape
    u = recurrent_kernel.shape[0]
    m = _mask(mask, X)
    h, cell = np.zeros((N, u)), np.zeros((N, u))
    tape = []  # what the reverse pass needs from every step
    for t in range(T):
        h_new, c_new, gates = lstm_step(X[:, t], h, cell, kernel, recurrent_kernel, bias)
        tape.append((h, cell, c_new, gates))
        keep = m[:, t, None]
        h, cell = keep * h_new + (1 - keep) * h, keep * c_new + (1 - keep) * cell
    z = h @ w + c
    loss = binary_cross_entropy_from_logits(y, z)
    dz = (sigmoid(z) - y) / N
    grads = LSTMGrads(
        np.zeros_like(kernel),
        np.zeros_like(recurrent_kernel),
        np.zeros_like(bias),
        h.T @ dz,
        float(dz.sum()),
        np.zeros_like(X),
    )
    d_h, d_c = dz[:, None] * w[None, :], np.zeros((N, u))
    for t in reversed(range(T)):
        h_prev, c_prev, c_new, g8 = tape[t]
        keep = m[:, t, None]
        tanh_c = np.tanh(c_new)
        d_o = keep * d_h * tanh_c
        d_cell = keep * d_c + keep * d_h * g8["o"] * (1 - tanh_c**2)
        d_f, d_i, d_g = d_cell * c_prev, d_cell * g8["g"], d_cell * g8["i"]
        d_a = np.concatenate(
            [
                d_i * g8["i"] * (1 - g8["i"]),
                d_f * g8["f"] * (1 - g8["f"]),
                d_g * (1 - g8["g"] ** 2),
                d_o * g8["o"] * (1 - g8["o"]),
            ],
            axis=-1,
        )
        grads.kernel += X[:, t].T @ d_a
        grads.recurrent_kernel += h_prev.T @ d_a
        grads.bias += d_a.sum(axis=0)
        grads.X[:, t] = d_a @ kernel.T
        d_h = d_a @ recurrent_kernel.T + (1 - keep) * d_h
        d_c = d_cell * g8["f"] + (1 - keep) * d_c
    return loss, grads


@dataclass
class SGDRun:
    """A simple RNN trained by `train_rnn_sgd`: the gradient norm and the loss at every update
    (before clipping); at the end, the accuracy on held-out sequences, the largest singular value
    of the recurrent weights U, and the share of hidden-state values on held-out sequences that
    are saturated (|h| > 0.99, where tanh passes less than 2% of a gradient)."""

    grad_norms: np.ndarray
    losses: np.ndarray
    accuracy: float
    recurrent_norm: float
    saturated: float


def train_rnn_sgd(
    X: np.ndarray,
    y: np.ndarray,
    X_val: np.ndarray,
    y_val: np.ndarray,
    *,
    units: int,
    lr: float,
    num_epochs: int,
    clip_norm: float | None,
    recurrent_scale: float,
    seed: int,
    batch_size: int = 32,
) -> SGDRun:
    """Mini-batch SGD on RNN → sigmoid head → BCE with our BPTT (`rnn_classifier_loss_and_grads`),
    optionally clipping the global gradient norm to `clip_norm` (notebook 04, section 6).

    The recurrent weights start as `recurrent_scale` × a random orthogonal matrix, so every
    singular value of U equals the scale: above 1, gradients can grow on their way back.
    """
    from helpers.optimizers import clip_by_global_norm

    rng = np.random.default_rng(seed)
    d = X.shape[-1]
    q, _ = np.linalg.qr(rng.normal(size=(units, units)))
    params = [
        rng.normal(scale=0.3, size=(d, units)),
        recurrent_scale * q,
        np.zeros(units),
        rng.normal(scale=0.3, size=units),
    ]
    c = 0.0
    norms, losses = [], []
    for _ in range(num_epochs):
        order = rng.permutation(len(y))
        for k in range(0, len(y), batch_size):
            idx = order[k : k + batch_size]
            loss, g = rnn_classifier_loss_and_grads(X[idx], y[idx], *params, c)
            grads = [g.W, g.U, g.b, g.w, np.array(g.c)]
            norms.append(float(np.sqrt(sum(np.sum(v**2) for v in grads))))
            losses.append(loss)
            if clip_norm is not None:
                grads = clip_by_global_norm(grads, clip_norm)
            params = [p - lr * gp for p, gp in zip(params, grads[:4])]
            c -= lr * float(grads[4])
    H, _ = rnn_forward(X_val, *params[:3])
    accuracy = float(np.mean(((H[:, -1] @ params[3] + c) > 0) == (y_val > 0.5)))
    return SGDRun(
        np.array(norms),
        np.array(losses),
        accuracy,
        float(np.linalg.norm(params[1], 2)),
        float(np.mean(np.abs(H) > 0.99)),
    )
