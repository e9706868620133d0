"""The diagrams draw what the course computes: the numbers on the logistic-regression graph are the
chain rule's (checked against helpers.logistic), and every picture is wide enough for a slide."""

from __future__ import annotations

import re

import matplotlib.pyplot as plt
import numpy as np
import pytest

from helpers import diagrams
from helpers.logistic import logistic_loss_and_grads


def texts(fig) -> list[str]:
    return [t.get_text() for ax in fig.axes for t in ax.texts]


def shown(fig, label: str) -> float:
    """The number printed after `label =` somewhere on the figure."""
    for text in texts(fig):
        m = re.fullmatch(rf"{re.escape(label)} = (-?[\d.]+)", text)
        if m:
            return float(m.group(1))
    raise AssertionError(f"{label} not on the figure: {texts(fig)}")


@pytest.mark.parametrize("x, y, theta, b", [(1.5, 1.0, 0.7, -0.3), (-2.0, 0.0, 0.4, 1.1)])
def test_logistic_graph_shows_the_chain_rules_numbers(x, y, theta, b):
    fig = diagrams.logistic_graph(x, y, theta, b)
    loss, d_theta, d_b = logistic_loss_and_grads(np.array([[x]]), np.array([y]), np.array([theta]), b)
    assert shown(fig, "L") == pytest.approx(loss, abs=5e-4)
    assert shown(fig, "∂L/∂θ") == pytest.approx(d_theta[0], abs=5e-4)
    assert shown(fig, "∂L/∂b") == pytest.approx(d_b, abs=5e-4)
    plt.close(fig)


def test_a_wrong_number_would_be_caught():
    fig = diagrams.logistic_graph(1.5, 1.0, 0.7, -0.3)
    _, d_theta, _ = logistic_loss_and_grads(np.array([[1.5]]), np.array([0.0]), np.array([0.7]), -0.3)
    assert shown(fig, "∂L/∂θ") != pytest.approx(d_theta[0], abs=5e-4)  # the other label's gradient
    plt.close(fig)


@pytest.mark.parametrize(
    "draw, labels",
    [
        (lambda: diagrams.unrolled_rnn(3), ["$h_0 = 0$", "$x_{3}$"]),
        (diagrams.lstm_cell, ["f = σ", "i = σ", "g = tanh", "o = σ", "$c_t$", "$h_t$"]),
        (lambda: diagrams.bidirectional_layer(["a", "b", "c"]), ["a", "c", "forward\nreader", "backward\nreader"]),
        (diagrams.pretrained_starts, ["one-way (GPT)", "two one-way joined (ELMo)", "two-way (BERT)"]),
        (diagrams.transformer_block, ["multi-head\nattention", "layer\nnorm", "+", "X", "H", "Y"]),
    ],
)
def test_pictures_have_their_labels_and_fit_a_slide(draw, labels):
    fig = draw()
    assert set(labels) <= set(texts(fig))
    assert fig.get_size_inches()[0] * 100 >= 600  # slides want figures at least 600 px wide
    plt.close(fig)


def test_lora_diagram_counts_what_it_shows():
    fig = diagrams.lora_layer(128, 256, 4)
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert any("1,536" in t and "32,768" in t for t in texts)  # 4·(128 + 256) trained, 128·256 frozen


def test_the_starts_diagram_names_every_pretrained_start_of_finetune():
    """The picture and `helpers.finetune.STARTS` (the code it explains) name the same starts."""
    from helpers.finetune import STARTS

    fig = diagrams.pretrained_starts()
    assert set(STARTS) - {"scratch"} <= set(texts(fig))
    plt.close(fig)
