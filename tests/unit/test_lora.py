"""helpers.lora against the framework: the hand LoRA forward and reverse passes against
tf.GradientTape (float64, rounding-level tolerance) and central finite differences; `LoRADense`
and `lora_merge` against Keras's own `Dense.enable_lora` (same weights → same outputs, gradients
and trainable count); the adapter and BitFit on a small Transformer; and checks that can fail."""

from __future__ import annotations

import numpy as np
import pytest

from helpers import lora, peft
from helpers.gradients import numerical_gradient
from helpers.tf_quiet import import_tensorflow

pytestmark = pytest.mark.unit
TOL64 = 1e-12  # float64: differences are rounding only
TOL32 = 1e-5  # float32 layers: a few units in the last place of values near 1
FD_TOL = 1e-6  # central differences with h = 1e-5 on a quadratic-in-weights loss


@pytest.fixture(scope="module")
def tf():
    return import_tensorflow()


def weights(rng, d_in=5, d_out=3, r=2, n=4, zero_b=False):
    x, W, b = rng.normal(size=(n, d_in)), rng.normal(size=(d_in, d_out)), rng.normal(size=d_out)
    A, B = rng.normal(size=(d_in, r)), np.zeros((r, d_out)) if zero_b else rng.normal(size=(r, d_out))
    return x, W, b, A, B


def tape_gradients(tf, x, W, b, A, B, alpha, G):
    """∂(Σ G ⊙ y)/∂(A, B, b, x) by tf.GradientTape, y written with TensorFlow's own ops."""
    x, W, b, A, B = (tf.constant(v, tf.float64) for v in (x, W, b, A, B))
    with tf.GradientTape() as tape:
        tape.watch([x, A, B, b])
        y = x @ W + b + (alpha / A.shape[1]) * (x @ A) @ B
        loss = tf.reduce_sum(tf.constant(G) * y)
    dA, dB, db, dx = tape.gradient(loss, [A, B, b, x])
    return y.numpy(), {"A": dA.numpy(), "B": dB.numpy(), "b": db.numpy(), "x": dx.numpy()}


def test_forward_and_gradients_match_gradient_tape(tf):
    rng = np.random.default_rng(0)
    for alpha in (1.0, 8.0):
        x, W, b, A, B = weights(rng)
        G = rng.normal(size=(4, 3))
        y, tape = tape_gradients(tf, x, W, b, A, B, alpha, G)
        np.testing.assert_allclose(lora.lora_forward(x, W, b, A, B, alpha), y, atol=TOL64, rtol=0)
        ours = lora.lora_backward(x, W, A, B, alpha, G)
        for name in ("A", "B", "b", "x"):
            np.testing.assert_allclose(ours[name], tape[name], atol=TOL64, rtol=0, err_msg=name)


def test_gradients_match_finite_differences():
    rng = np.random.default_rng(1)
    x, W, b, A, B = weights(rng)
    G, alpha = rng.normal(size=(4, 3)), 4.0
    ours = lora.lora_backward(x, W, A, B, alpha, G)
    fd_A = numerical_gradient(lambda a: float(np.sum(G * lora.lora_forward(x, W, b, a, B, alpha))), A)
    fd_B = numerical_gradient(lambda m: float(np.sum(G * lora.lora_forward(x, W, b, A, m, alpha))), B)
    np.testing.assert_allclose(ours["A"], fd_A, atol=FD_TOL, rtol=0)
    np.testing.assert_allclose(ours["B"], fd_B, atol=FD_TOL, rtol=0)


def test_a_wrong_gradient_fails_the_same_check(tf):
    """The check can fail: the gradient of A without the scale α/r is caught."""
    rng = np.random.default_rng(2)
    x, W, b, A, B = weights(rng)
    G = rng.normal(size=(4, 3))
    _, tape = tape_gradients(tf, x, W, b, A, B, 4.0, G)
    wrong = x.T @ (G @ B.T)  # α/r forgotten (here α/r = 2)
    assert not np.allclose(wrong, tape["A"], atol=TOL64, rtol=0)


def test_b_zero_starts_at_the_pretrained_function_and_only_b_moves_first():
    rng = np.random.default_rng(3)
    x, W, b, A, B = weights(rng, zero_b=True)
    assert np.array_equal(lora.lora_forward(x, W, b, A, B, 8.0), x @ W + b)
    grads = lora.lora_backward(x, W, A, B, 8.0, rng.normal(size=(4, 3)))
    assert np.array_equal(grads["A"], np.zeros_like(A)) and np.abs(grads["B"]).max() > 0.1


def test_merge_gives_the_same_outputs():
    rng = np.random.default_rng(4)
    x, W, b, A, B = weights(rng)
    merged = lora.lora_merge(W, A, B, 6.0)
    np.testing.assert_allclose(x @ merged + b, lora.lora_forward(x, W, b, A, B, 6.0), atol=TOL64, rtol=0)
    assert np.linalg.matrix_rank(merged - W) <= A.shape[1]


def keras_pair(tf, rank, alpha, seed=0):
    """A Dense with Keras's LoRA and a LoRADense holding the same W, b, A, B (B made non-zero)."""
    import keras

    keras.utils.set_random_seed(seed)  # Keras draws W and A itself: seed them too
    rng = np.random.default_rng(seed)
    dense = keras.layers.Dense(6)
    dense.build((None, 7))
    dense.enable_lora(rank, lora_alpha=alpha)
    dense.lora_kernel_b.assign(rng.normal(size=dense.lora_kernel_b.shape).astype("float32"))
    ours = peft.LoRADense(6, rank, alpha)
    ours.build((None, 7))
    for mine, theirs in ((ours.kernel, dense._kernel), (ours.bias, dense.bias)):
        mine.assign(theirs)
    ours.lora_a.assign(dense.lora_kernel_a), ours.lora_b.assign(dense.lora_kernel_b)
    return dense, ours, rng.normal(size=(5, 7)).astype("float32")


@pytest.mark.parametrize(("rank", "alpha"), [(1, None), (4, 8.0)])
def test_lora_dense_matches_keras_enable_lora(tf, rank, alpha):
    dense, ours, x = keras_pair(tf, rank, alpha)
    np.testing.assert_allclose(ours(x).numpy(), dense(x).numpy(), atol=TOL32, rtol=TOL32)
    assert peft.trainable_count(ours) == peft.trainable_count(dense)
    assert peft.trainable_count(ours) == lora.lora_param_count(7, 6, rank) + 6  # + the bias
    grads = []
    for layer, variables in ((dense, (dense.lora_kernel_a, dense.lora_kernel_b, dense.bias)), (ours, None)):
        variables = variables or (ours.lora_a, ours.lora_b, ours.bias)
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(tf.sin(layer(x)))
        grads.append(tape.gradient(loss, list(variables)))
    for theirs, mine in zip(*grads, strict=True):
        # float32 rounding of y (|y| up to tens) passes through cos(y): judge each gradient
        # against its own largest entry, not entry by entry (entries near 0 have no digits left)
        scale = np.abs(theirs.numpy()).max()
        np.testing.assert_allclose(mine.numpy(), theirs.numpy(), atol=TOL32 * scale, rtol=TOL32)
    np.testing.assert_allclose(ours.merged_kernel(), dense.kernel.numpy(), atol=TOL32, rtol=TOL32)


def test_lora_dense_from_dense_starts_at_its_outputs(tf):
    import keras

    dense = keras.layers.Dense(4)
    x = np.random.default_rng(5).normal(size=(3, 6)).astype("float32")
    y = dense(x).numpy()
    np.testing.assert_array_equal(peft.LoRADense.from_dense(dense, 2)(x).numpy(), y)
    with pytest.raises(ValueError, match="no activation"):
        peft.LoRADense.from_dense(keras.layers.Dense(4, activation="relu"), 2)


def test_adapter_layer_matches_numpy_and_starts_as_identity(tf):
    rng = np.random.default_rng(6)
    h = rng.normal(size=(2, 3, 8)).astype("float32")
    layer = peft.BottleneckAdapter(3)
    np.testing.assert_array_equal(layer(h).numpy(), h)
    for variable in layer.weights:
        variable.assign(rng.normal(size=variable.shape).astype("float32"))
    D, c, U, e = (v.numpy().astype(float) for v in (layer.down, layer.down_bias, layer.up, layer.up_bias))
    np.testing.assert_allclose(layer(h).numpy(), lora.adapter_forward(h.astype(float), D, c, U, e), atol=TOL32)


@pytest.fixture()
def small_model(tf):
    import keras

    from helpers.transformer import char_transformer

    keras.utils.set_random_seed(0)
    model = char_transformer(50, 12, d_model=16, num_heads=2, d_ff=24, num_layers=2, causal=False, distance_bias=True)
    ids = np.random.default_rng(7).integers(2, 50, size=(3, 12)).astype("int32")
    ids[:, 9:] = 0
    return model, ids


def test_adapters_and_lora_start_at_the_pretrained_function(small_model):
    model, ids = small_model
    before = model(ids).numpy()
    adapted = peft.with_adapters(model, 4)
    np.testing.assert_array_equal(adapted(ids).numpy(), before)
    assert all("_adapter/" in v.path for v in adapted.trainable_weights)
    assert peft.trainable_count(adapted) == 2 * (16 * 4 + 4 + 4 * 16 + 16)
    count = peft.apply_lora(model, 2, "all")
    np.testing.assert_array_equal(model(ids).numpy(), before)
    assert all("lora_kernel" in v.path for v in model.trainable_weights)
    assert count == sum(int(np.prod(v.shape)) for v in model.weights if "lora_kernel" in v.path)


def test_lora_places(small_model):
    model, _ = small_model
    attention = peft.lora_layers(model, "attention")
    assert len(attention) == 8 and len(peft.lora_layers(model, "all")) == 12
    with pytest.raises(ValueError, match="'attention' or 'all'"):
        peft.lora_layers(model, "everything")


def test_bitfit_trains_the_biases_only(small_model):
    model, _ = small_model
    count = peft.freeze_all_but(model, peft.is_bias)
    names = {v.path.split("/")[-1] for v in model.trainable_weights}
    assert names == {"bias", "beta"}
    dense_biases = 2 * (3 * 16 + 16 + 24 + 16) + 50  # q, k, v (h·k each), output, ff1, ff2; the logits
    assert count == dense_biases + 2 * 2 * 16  # and two LayerNorms' β per block


def test_memory_and_energy():
    m = lora.memory_bytes(1000, 10, "float32")
    assert m == {"weights": 4000, "gradients": 40, "optimizer states": 80, "total": 4120}
    assert lora.memory_bytes(10, 10, "bfloat16")["total"] == 80
    assert lora.energy_share(np.array([3.0, 4.0]), 1) == pytest.approx(16 / 25)
    assert lora.energy_share(np.zeros(3), 1) == 1.0


def test_switching_tasks_and_merging(small_model):
    from helpers.transformer import char_transformer

    model, ids = small_model
    plain_weights = model.get_weights()
    peft.apply_lora(model, 2, "all")
    rng = np.random.default_rng(8)
    states = []
    for _ in range(2):  # two tasks: two sets of A, B on one base
        for v in model.weights:
            if "lora_kernel" in v.path:
                v.assign(rng.normal(scale=0.1, size=v.shape).astype("float32"))
        states.append((peft.lora_state(model), model(ids).numpy()))
    assert np.abs(states[0][1] - states[1][1]).max() > 1e-3  # the tasks differ
    for state, outputs in states:
        peft.load_lora_state(model, state)
        np.testing.assert_array_equal(model(ids).numpy(), outputs)
    with pytest.raises(ValueError, match="another layout"):
        peft.load_lora_state(model, {})
    plain = char_transformer(50, 12, d_model=16, num_heads=2, d_ff=24, num_layers=2, causal=False, distance_bias=True)
    plain.set_weights(plain_weights)
    peft.merge_into(model, plain)
    assert all("lora" not in v.path for v in plain.weights)  # a plain model: nothing extra to compute
    np.testing.assert_allclose(plain(ids).numpy(), states[1][1], atol=TOL32, rtol=TOL32)


def test_choose_then_test_follows_the_stated_rule(monkeypatch):
    """The best validation score picks the rate (the smaller one on a tie); the other seeds run at
    it; the test set is scored once per kept run, never for the rates not chosen."""
    validation = {0.01: 0.5, 0.001: 0.7, 0.003: 0.7}
    calls, tested = [], []

    def fake_run(method, task, lr, seed, **sizes):
        calls.append((lr, seed))
        return {"lr": lr, "seed": seed, "validation": validation[lr]}, f"model {lr} {seed}", f"lm {lr} {seed}"

    monkeypatch.setattr(peft, "run_method", fake_run)
    task = peft.Task("segmentation", None, None, "loss", None, lambda m: tested.append(m) or 0.5)
    records, model, lm = peft.choose_then_test(peft.Method("full"), task, [0.01, 0.003, 0.001], [5, 6, 7], len)
    assert calls == [(0.001, 5), (0.003, 5), (0.01, 5), (0.001, 6), (0.001, 7)]
    assert [r["lr"] for r in records] == [0.001] * 3 and tested == ["model 0.001 5", "model 0.001 6", "model 0.001 7"]
    assert model == "model 0.001 5" and records[0]["lm_loss"] == len("lm 0.001 5")
    assert all(r["validation_by_lr"] == validation for r in records)  # what the page prints beside the choice


def test_methods_and_their_labels():
    assert peft.Method("lora", rank=16, where="all").label == "LoRA r=16 (all dense)"
    assert peft.Method("head").label == "frozen + head"
    with pytest.raises(ValueError, match="one of full, lora"):
        peft.peft_task_model(peft.Method("prefix"), "segmentation", 8, None)


def test_a_fresh_masked_copy_is_the_checkpoint(tf):
    from helpers.pretraining import load_pretrained

    ids = np.random.default_rng(9).integers(2, 100, size=(2, 10)).astype("int32")
    first, second = peft.fresh_masked(), peft.fresh_masked()
    assert first is not second
    np.testing.assert_array_equal(first(ids).numpy(), load_pretrained("masked")(ids).numpy())
    first.get_layer("logits").bias.assign(np.ones(first.get_layer("logits").bias.shape, "float32"))
    np.testing.assert_array_equal(second(ids).numpy(), load_pretrained("masked")(ids).numpy())  # copies apart
