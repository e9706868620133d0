"""Diagrams drawn by code: the pictures the notebooks and slides show instead of paragraphs.

    logistic_graph      notebook 02, section 4   forward values and reverse-pass derivatives
    unrolled_rnn        notebook 04, section 3   one cell applied T times, and the way back (BPTT)
    lstm_cell           notebook 04, section 2   gates i, f, g, o and the cell state's straight road
    bidirectional_layer notebook 05, section 1   two one-way readers whose states are joined
    lora_layer          notebook 12, section 2   W frozen, A and B beside it, their sum
    transformer_block   notebook 09, section 7   attention and feed-forward, each with a residual and a norm
    pretrained_starts   notebook 10, section 3   how each pretrained start feeds the task's head

Each function returns a matplotlib Figure and draws only boxes, arrows and labels, so a figure can
never disagree with the code it explains: `logistic_graph` even computes the numbers it shows.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from helpers.losses import binary_cross_entropy, sigmoid

FORWARD, REVERSE, STATE = "#1f4e79", "#c0392b", "#7d3c98"
FILL = {"op": "#eaf2fb", "value": "#ffffff", "gate": "#fdebd0", "state": "#f4ecf7", "io": "#e9f7ef"}


def _canvas(width: float, height: float, xlim: tuple[float, float], ylim: tuple[float, float]):
    fig, ax = plt.subplots(figsize=(width, height))
    ax.set(xlim=xlim, ylim=ylim, aspect="equal")
    ax.axis("off")
    return fig, ax


def _box(ax, x: float, y: float, text: str, kind: str = "op", w: float = 1.0, h: float = 0.6, size: int = 12):
    ax.add_patch(
        FancyBboxPatch(
            (x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.04", fc=FILL[kind], ec="#555555", lw=1.2, zorder=2
        )
    )
    ax.text(x, y, text, ha="center", va="center", fontsize=size, zorder=3)


def _arrow(ax, start, end, color: str = FORWARD, style: str = "-", rad: float = 0.0, lw: float = 1.5):
    ax.add_patch(
        FancyArrowPatch(
            start,
            end,
            arrowstyle="-|>",
            mutation_scale=14,
            color=color,
            lw=lw,
            linestyle=style,
            connectionstyle=f"arc3,rad={rad}",
            shrinkA=2,
            shrinkB=2,
            zorder=1,
        )
    )


def logistic_graph(x: float = 1.5, y: float = 1.0, theta: float = 0.7, b: float = -0.3) -> Figure:
    """The computational graph of one sample of logistic regression, z = θx + b, ŷ = σ(z),
    L = BCE(y, ŷ): forward values above the arrows (blue), reverse-pass derivatives ∂L/∂· below
    them (red), computed here by the chain rule from the numbers given."""
    z = theta * x + b
    y_hat = float(sigmoid(z))
    loss = binary_cross_entropy([y], [y_hat])
    d_y_hat = (y_hat - y) / (y_hat * (1 - y_hat))
    d_z = y_hat - y  # d_y_hat · σ'(z)
    d_theta, d_b, d_u = d_z * x, d_z, d_z  # u = θx

    fig, ax = _canvas(12, 3.8, (-0.8, 16.4), (-2.0, 2.4))
    _box(ax, 0, 1.6, f"x = {x:g}", "io", w=1.3)
    _box(ax, 0, -0.6, f"θ = {theta:g}", "value", w=1.3)
    _box(ax, 3.2, 0.9, "×")
    _box(ax, 3.2, -1.3, f"b = {b:g}", "value", w=1.3)
    _box(ax, 6.4, 0.9, "+")
    _box(ax, 9.2, 0.9, "σ")
    _box(ax, 12.0, 0.9, "BCE", w=1.1)
    _box(ax, 12.0, -1.3, f"y = {y:g}", "io")
    _box(ax, 15.2, 0.9, f"L = {loss:.3f}", "value", w=1.9)
    edges = [  # (from, to, forward label, reverse label, where the labels go)
        ((0.65, 1.6), (2.7, 1.0), "", "", (0, 0)),
        ((0.65, -0.6), (2.7, 0.75), "", f"∂L/∂θ = {d_theta:.3f}", (0.5, -0.45)),
        ((3.7, 0.9), (5.9, 0.9), f"u = θx = {theta * x:.3f}", f"{d_u:.3f}", (0, 0)),
        ((3.85, -1.3), (5.95, 0.7), "", f"∂L/∂b = {d_b:.3f}", (0.9, -0.5)),
        ((6.9, 0.9), (8.7, 0.9), f"z = {z:.3f}", f"{d_z:.3f}", (0, 0)),
        ((9.7, 0.9), (11.45, 0.9), f"ŷ = {y_hat:.3f}", f"{d_y_hat:.3f}", (0, 0)),
        ((12.0, -1.0), (12.0, 0.6), "", "", (0, 0)),
        ((12.55, 0.9), (14.25, 0.9), "", "1", (0, 0)),
    ]
    for start, end, fwd, rev, (dx, dy) in edges:
        _arrow(ax, start, end)
        mid = ((start[0] + end[0]) / 2, (start[1] + end[1]) / 2)
        if fwd:
            ax.text(mid[0], mid[1] + 0.2, fwd, ha="center", fontsize=10, color=FORWARD)
        if rev:
            ax.text(mid[0] + dx, mid[1] - 0.38 + dy, rev, ha="center", fontsize=10, color=REVERSE)
    ax.text(7.8, -1.95, "reverse pass: each red number is ∂L/∂(the value on that arrow)", color=REVERSE, ha="center")
    ax.text(7.8, 2.15, "forward pass: each blue number is the value on that arrow", color=FORWARD, ha="center")
    return fig


def unrolled_rnn(num_steps: int = 4, tokens: list[str] | None = None) -> Figure:
    """A recurrent layer unrolled over `num_steps` inputs: the same cell (same W, U, b) at every
    step, the state h_t passed right, the loss at the end, and the gradient's way back (BPTT)."""
    tokens = tokens or [f"$x_{{{t}}}$" for t in range(1, num_steps + 1)]
    fig, ax = _canvas(11, 3.8, (-1.2, 2.4 * num_steps + 2.4), (-1.9, 2.4))
    _box(ax, 0, 0.6, "$h_0 = 0$", "state", w=1.2)
    for t in range(1, num_steps + 1):
        cx = 2.4 * t - 0.4
        _box(ax, cx, 0.6, "cell\nW, U, b", "op", w=1.3, h=0.9, size=10)
        _box(ax, cx, -1.2, tokens[t - 1], "io", w=1.0)
        _arrow(ax, (cx, -0.9), (cx, 0.15))
        _arrow(ax, (cx - 1.75, 0.6), (cx - 0.65, 0.6), STATE)
        ax.text(cx - 1.2, 0.8, f"$h_{{{t - 1}}}$", ha="center", fontsize=11, color=STATE)
        _arrow(ax, (cx - 0.65, 0.35), (cx - 1.75, 0.35), REVERSE, "--", lw=1.0)
    last = 2.4 * num_steps - 0.4
    _box(ax, last + 2.0, 0.6, "Dense\n→ ŷ, L", "value", w=1.3, h=0.9, size=10)
    _arrow(ax, (last + 0.65, 0.6), (last + 1.35, 0.6), STATE)
    _arrow(ax, (last + 1.35, 0.35), (last + 0.65, 0.35), REVERSE, "--", lw=1.0)
    ax.text(
        (last + 2.0) / 2,
        1.65,
        r"forward: one cell, the same weights, applied at every step (purple: the hidden state $h_t$)",
        ha="center",
        color=FORWARD,
    )
    ax.text(
        (last + 2.0) / 2,
        -1.85,
        r"reverse (red, dashed): $\partial L/\partial h_t$ flows back through every step, "
        r"times $\partial h_t/\partial h_{t-1}$ each time",
        ha="center",
        color=REVERSE,
    )
    return fig


def lstm_cell() -> Figure:
    """One LSTM step, as notebook 04 writes it: from [x_t, h_{t−1}] four gates
    i = σ(·), f = σ(·), g = tanh(·), o = σ(·); then c_t = f ⊙ c_{t−1} + i ⊙ g and h_t = o ⊙ tanh(c_t)."""
    fig, ax = _canvas(11, 5.0, (-1.0, 12.0), (-2.6, 3.2))
    # the cell state's road along the top
    _box(ax, -0.2, 2.4, "$c_{t-1}$", "state", w=1.1)
    _box(ax, 3.0, 2.4, "×", "op", w=0.6)
    _box(ax, 6.0, 2.4, "+", "op", w=0.6)
    _box(ax, 10.8, 2.4, "$c_t$", "state", w=0.9)
    _arrow(ax, (0.35, 2.4), (2.7, 2.4), STATE, lw=2.5)
    _arrow(ax, (3.3, 2.4), (5.7, 2.4), STATE, lw=2.5)
    _arrow(ax, (6.3, 2.4), (10.35, 2.4), STATE, lw=2.5)
    # inputs and gates
    _box(ax, -0.2, -1.9, "$h_{t-1}$", "state", w=1.1)
    _box(ax, 1.2, -1.9, "$x_t$", "io", w=0.8)
    gates = [
        (3.0, "f = σ", "forget"),
        (4.8, "i = σ", "input"),
        (6.6, "g = tanh", "candidate"),
        (8.4, "o = σ", "output"),
    ]
    for gx, label, name in gates:
        _box(ax, gx, -0.2, label, "gate", w=1.3)
        ax.text(gx, -0.75, name, ha="center", fontsize=9, color="#7e5109")
        _arrow(ax, (0.6, -1.6), (gx - 0.2, -0.5), "#888888", lw=0.9)
    _box(ax, 5.7, 1.2, "×", "op", w=0.6)  # i ⊙ g
    _arrow(ax, (3.0, 0.1), (3.0, 2.1))  # f → ×
    _arrow(ax, (4.8, 0.1), (5.45, 1.0))  # i → ×
    _arrow(ax, (6.6, 0.1), (5.95, 1.0))  # g → ×
    _arrow(ax, (5.8, 1.5), (6.0, 2.1))  # i⊙g → +
    _box(ax, 9.4, 1.5, "tanh", "op", w=0.9)
    _arrow(ax, (9.4, 2.4), (9.4, 1.8), STATE)
    _box(ax, 9.4, 0.5, "×", "op", w=0.6)
    _arrow(ax, (9.4, 1.2), (9.4, 0.8))
    _arrow(ax, (8.75, -0.05), (9.1, 0.4))  # o → ×
    _box(ax, 10.8, 0.5, "$h_t$", "state", w=0.9)
    _arrow(ax, (9.7, 0.5), (10.35, 0.5), STATE)
    ax.text(
        4.5,
        3.0,
        r"$c_t = f \odot c_{t-1} + i \odot g$: the cell state's road has only × and +, no squashing",
        ha="center",
    )
    ax.text(8.4, -2.0, r"$h_t = o \odot \tanh(c_t)$", ha="center")
    ax.text(
        3.2, -2.45, r"each gate: σ or tanh of $x_t W_k + h_{t-1} U_k + b_k$", ha="center", fontsize=10, color="#555"
    )
    return fig


def bidirectional_layer(tokens: list[str] | None = None) -> Figure:
    """`Bidirectional(LSTM)` as two readers: one reads left to right, the other right to left (its
    own weights), and their final states are joined, [h→_T ; h←_1], for the Dense layer."""
    tokens = tokens or [f"$x_{{{t}}}$" for t in range(1, 5)]
    n = len(tokens)
    fig, ax = _canvas(11, 4.6, (-1.6, 2.2 * n + 3.4), (-2.2, 3.0))
    for k, tok in enumerate(tokens):
        cx = 2.2 * k + 1.0
        _box(ax, cx, -1.6, tok, "io", w=0.9)
        _box(ax, cx, 0.0, "→", "op", w=0.9)
        _box(ax, cx, 1.6, "←", "gate", w=0.9)
        _arrow(ax, (cx - 0.2, -1.3), (cx, -0.3), "#888888", lw=0.9)
        _arrow(ax, (cx + 0.5, -1.35), (cx + 0.35, 1.3), "#888888", lw=0.9, rad=0.25)
        if k:
            _arrow(ax, (cx - 1.75, 0.0), (cx - 0.45, 0.0), FORWARD)
            _arrow(ax, (cx - 0.45, 1.6), (cx - 1.75, 1.6), REVERSE)
    end = 2.2 * (n - 1) + 1.0
    _box(ax, end + 2.4, 0.8, "[h→ ; h←]\n→ Dense", "value", w=1.7, h=0.9, size=10)
    _arrow(ax, (end + 0.45, 0.0), (end + 1.55, 0.65), FORWARD)
    _arrow(ax, (0.55, 1.9), (end + 1.6, 1.05), REVERSE, rad=-0.25)
    ax.text(-1.0, 0.0, "forward\nreader", ha="center", va="center", color=FORWARD, fontsize=10)
    ax.text(-1.0, 1.6, "backward\nreader", ha="center", va="center", color=REVERSE, fontsize=10)
    ax.text(
        (end + 2.4) / 2,
        2.65,
        "two one-way LSTMs with their own weights; the layer outputs both final states, joined",
        ha="center",
    )
    return fig


def lora_layer(d_in: int = 128, d_out: int = 128, rank: int = 4) -> Figure:
    """LoRA on one layer: x goes through the frozen W (d_in × d_out) and, beside it, through A
    (d_in × r, down to r numbers) and B (r × d_out, B = 0 at the start), scaled by α/r; the two
    are added. Only A and B are trained: r·(d_in + d_out) numbers against d_in·d_out."""
    fig, ax = _canvas(8, 4.2, (-1.0, 9.6), (-2.6, 2.6))
    _box(ax, 0, 0, "x", "io", w=0.9)
    _box(ax, 3.6, 1.3, f"W  (frozen)\n{d_in} × {d_out}", "value", w=3.0, h=1.1, size=11)
    _box(ax, 2.6, -1.3, f"A\n{d_in} × {rank}", "gate", w=1.3, h=1.1, size=11)
    _box(ax, 4.6, -1.3, f"B = 0 at first\n{rank} × {d_out}", "gate", w=1.9, h=1.1, size=10)
    _box(ax, 7.0, 0, "+", w=0.7)
    _box(ax, 8.6, 0, "y", "io", w=0.9)
    _arrow(ax, (0.45, 0.1), (2.1, 1.2))
    _arrow(ax, (0.45, -0.1), (1.95, -1.2))
    _arrow(ax, (3.25, -1.3), (3.65, -1.3))
    _arrow(ax, (5.1, 1.3), (6.65, 0.15))
    _arrow(ax, (5.55, -1.3), (6.65, -0.15), REVERSE)
    ax.text(6.2, -1.0, "× α/r", color=REVERSE, fontsize=11)
    ax.text(
        4.6,
        -2.35,
        f"trained: r·(d_in + d_out) = {rank * (d_in + d_out):,}   frozen: {d_in * d_out:,}",
        ha="center",
        fontsize=10,
        color="#555",
    )
    ax.text(3.6, 2.25, "y = x W + (α/r)·x A B", ha="center", fontsize=12, color=FORWARD)
    return fig


def pretrained_starts() -> Figure:
    """The three pretrained starts of `helpers.finetune.features`, each feeding the same new task
    head: the forward encoder (causal mask: position t sees 1..t), the forward and backward
    encoders with the backward states put back in reading order and concatenated per position
    (ELMo), and the masked encoder (no mask: every position sees every other)."""
    fig, ax = _canvas(12, 5.4, (-1.2, 14.2), (-3.6, 3.4))
    rows = {2.4: "one-way (GPT)", 0.0: "two one-way joined (ELMo)", -2.4: "two-way (BERT)"}
    for y, name in rows.items():
        ax.text(-1.0, y + 1.0, name, fontsize=11, color=FORWARD)
        _box(ax, 0.6, y, "characters", "io", w=1.6)
        _arrow(ax, (10.2, y), (11.2, 0.25 * y / 2.4))
    _box(ax, 3.4, 2.4, "forward encoder\n(causal mask)", w=2.6, h=0.9, size=10)
    _box(ax, 7.4, 2.4, "$h^{\\rightarrow}_t$", "value", w=1.6)
    for x0, x1, y in ((1.4, 2.1, 2.4), (4.7, 6.6, 2.4), (8.2, 10.2, 2.4)):
        _arrow(ax, (x0, y), (x1, y))
    _box(ax, 3.4, 0.55, "forward encoder", w=2.6, h=0.6, size=10)
    _box(ax, 3.4, -0.55, "backward encoder\n(text reversed)", "gate", w=2.6, h=0.8, size=10)
    _box(ax, 7.4, 0.0, "$[h^{\\rightarrow}_t ; h^{\\leftarrow}_t]$\nper position", "value", w=2.4, h=1.0, size=10)
    _arrow(ax, (1.4, 0.1), (2.1, 0.5))
    _arrow(ax, (1.4, -0.1), (2.1, -0.5), REVERSE)
    _arrow(ax, (4.7, 0.55), (6.2, 0.2))
    _arrow(ax, (4.7, -0.55), (6.2, -0.2), REVERSE)
    ax.text(5.45, -0.95, "back in order", fontsize=9, color=REVERSE, ha="center")
    _arrow(ax, (8.6, 0.0), (10.2, 0.0))
    _box(ax, 3.4, -2.4, "masked encoder\n(no mask)", "state", w=2.6, h=0.9, size=10)
    _box(ax, 7.4, -2.4, "$h_t$", "value", w=1.6)
    for x0, x1, y in ((1.4, 2.1, -2.4), (4.7, 6.6, -2.4), (8.2, 10.2, -2.4)):
        _arrow(ax, (x0, y), (x1, y))
    _box(
        ax,
        12.6,
        0.0,
        "new task head\n(trained)\n\ntags at every position,\nor the mean of the\nstates → sigmoid",
        "io",
        w=2.8,
        h=2.6,
        size=10,
    )
    ax.text(
        6.5,
        -3.45,
        "pretrained encoders: frozen first, then fine-tuned at a lower learning rate",
        ha="center",
        fontsize=10,
        color="#555",
    )
    return fig


def transformer_block() -> Figure:
    """One post-norm Transformer block as `helpers.transformer.transformer_block` builds it:
    H = LN(X + MHA(X)), Y = LN(H + FFN(H)), FFN(H) = ReLU(H W1 + b1) W2 + b2. The mask given to the
    attention is the only difference between a one-way and a two-way block."""
    fig, ax = _canvas(11, 3.4, (-0.6, 17.6), (-2.0, 2.2))
    steps = [  # (centre, width, text, kind)
        (0.4, 0.8, "X", "io"), (2.6, 2.0, "multi-head\nattention", "op"), (4.6, 0.6, "+", "op"),
        (6.3, 1.4, "layer\nnorm", "state"), (8.1, 0.8, "H", "value"),
        (10.4, 2.8, "feed-forward\n(ReLU, d_ff wide)", "gate"), (12.7, 0.6, "+", "op"),
        (14.4, 1.4, "layer\nnorm", "state"), (16.4, 0.8, "Y", "io"),
    ]  # fmt: skip
    for x, w, text, kind in steps:
        _box(ax, x, 0, text, kind, w=w, h=1.0, size=10)
    for (x0, w0, _, _), (x1, w1, _, _) in zip(steps, steps[1:]):
        _arrow(ax, (x0 + w0 / 2, 0), (x1 - w1 / 2, 0))
    _arrow(ax, (0.4, 0.5), (4.6, 0.5), STATE, rad=-0.4)
    _arrow(ax, (8.1, 0.5), (12.7, 0.5), STATE, rad=-0.4)
    ax.text(2.5, 1.75, "residual: add the input back", fontsize=9, color=STATE, ha="center")
    ax.text(2.6, -0.75, "mask: causal (one-way)\nor none (two-way)", fontsize=9, color=REVERSE, ha="center", va="top")
    ax.text(8.5, -1.85, "a Transformer stacks num_layers such blocks; every position goes through the same weights",
            fontsize=9, color="#555", ha="center")  # fmt: skip
    return fig
