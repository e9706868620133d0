"""Part IV's pretraining text, checkpoints and fine-tuning procedure (helpers.pretraining,
helpers.finetune, helpers.adaptation, course.studies): no test sentence is pretrained on, a checkpoint that is
missing or altered is refused with a message naming the command that rebuilds it, the committed
checkpoints match their provenance, the fine-tuning stages freeze and unfreeze what they say, and
the sentiment studies go on from the checkpoints without touching them or reading a test review."""

from __future__ import annotations

import json

import numpy as np
import pytest

from helpers import pretraining
from helpers.tf_quiet import import_tensorflow

pytestmark = pytest.mark.unit
TINY = pretraining.PretrainConfig(
    d_model=8, num_heads=2, d_ff=16, num_layers=1, seq_len=16, vocab_size=40, batch_size=4, num_steps=2
)
TEXTS = ["今天天气很好，我们去公园散步。", "这本书写得不错，值得一读。", "服务态度太差了，不会再来。"] * 4


@pytest.fixture(scope="module")
def keras():
    import_tensorflow(quiet_retracing=True)
    import keras

    return keras


@pytest.fixture(scope="module")
def text():
    return pretraining.pretraining_text()


def test_no_test_sentence_is_pretrained_on(text):
    held_out = pretraining.test_sentences()
    kept = set(text.texts)
    assert held_out["segmentation"] and held_out["sentiment"]
    assert not any(t in kept for s in held_out.values() for t in s)
    counts = text.counts
    assert counts["texts kept"] == len(text.texts)
    assert counts["characters kept"] == sum(map(len, text.texts))


def test_the_tag_copy_repeats_people_s_daily():
    copy = pretraining.tag_copy_texts()
    assert copy[0] == "迈向充满希望的新世纪——一九九八年新年讲话(附图片1张)"
    assert not any(re_tag in copy[5] for re_tag in ("/n", "/v", "]nt"))


def test_loss_and_accuracy_is_the_course_s_cross_entropy_on_the_positions_that_weigh(keras):
    from helpers.losses import log_softmax

    rng = np.random.default_rng(0)
    logits = rng.normal(scale=4.0, size=(6, 9, 50)).astype("float32")
    targets = rng.integers(0, 50, size=(6, 9))
    weight = rng.random((6, 9)) < 0.3
    loss, accuracy = pretraining.loss_and_accuracy(logits, targets, weight)
    log_p = np.take_along_axis(log_softmax(logits), targets[..., None], -1)[..., 0]  # float64, every position
    assert loss == pytest.approx(-log_p[weight].mean(), rel=1e-6)
    assert accuracy == (logits.argmax(-1) == targets)[weight].mean()
    every = np.ones_like(weight)
    assert pretraining.loss_and_accuracy(logits, targets, every)[0] == pytest.approx(-log_p.mean(), rel=1e-6)


def test_backward_windows_read_the_text_reversed():
    vocab = {c: i + 2 for i, c in enumerate("abcdef")}
    rng = np.random.default_rng(0)
    forward = pretraining.objective_windows(["abc", "def"], vocab, 2, "forward", np.random.default_rng(0))
    backward = pretraining.objective_windows(["abc", "def"], vocab, 2, "backward", rng)
    to_text = {i: c for c, i in vocab.items()}
    assert sorted("".join(to_text[i] for i in w) for w in forward) == ["abc", "cde"]
    assert sorted("".join(to_text[i] for i in w) for w in backward) == ["dcb", "fed"]


@pytest.fixture(scope="module")
def checkpoints(keras, tmp_path_factory):
    from helpers.transformer import char_vocab

    folder = tmp_path_factory.mktemp("pretrained")
    vocab = char_vocab(TEXTS, TINY.vocab_size)
    models, curves, seconds = {}, {}, {}
    for objective in pretraining.OBJECTIVES:
        models[objective], curves[objective], seconds[objective] = pretraining.pretrain(
            objective, TEXTS, vocab, TINY, report=lambda line: None
        )
    text = pretraining.PretrainingText(TEXTS, {"texts kept": len(TEXTS)})
    pretraining.write_checkpoints(models, curves, seconds, vocab, TINY, text, "test", folder)
    return folder, models


def test_checkpoints_round_trip_with_provenance(checkpoints):
    folder, models = checkpoints
    provenance = pretraining.read_provenance(folder)
    assert provenance["config"]["d_model"] == TINY.d_model and provenance["command"] == "test"
    assert set(provenance["files_sha256"]) == {
        "forward.weights.h5",
        "backward.weights.h5",
        "masked.weights.h5",
        "vocab.json",
    }
    for key in ("versions", "hardware", "wall_seconds", "loss_curves", "data"):
        assert provenance[key]
    for objective in pretraining.OBJECTIVES:
        loaded = pretraining.load_pretrained(objective, folder)
        for a, b in zip(loaded.get_weights(), models[objective].get_weights(), strict=True):
            np.testing.assert_array_equal(a, b)
    assert pretraining.load_vocab(folder)["[MASK]"] == TINY.vocab_size - 1
    from helpers.transformer import DistanceBiasedAttention

    attention = pretraining.load_pretrained("masked", folder).get_layer("block1_attention")
    assert isinstance(attention, DistanceBiasedAttention) == TINY.distance_bias


def test_checkpoints_made_before_the_distance_bias_load_without_it():
    old = {"config": {k: v for k, v in pretraining.asdict(TINY).items() if k != "distance_bias"}}
    assert pretraining.config_of(old).distance_bias is False
    assert pretraining.config_of({"config": pretraining.asdict(TINY)}).distance_bias == TINY.distance_bias


def test_an_altered_or_missing_checkpoint_names_the_rebuild_command(checkpoints, tmp_path):
    import shutil

    folder = tmp_path / "copy"
    shutil.copytree(checkpoints[0], folder)
    weights = folder / "masked.weights.h5"
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(pretraining.CheckpointError, match="does not match its SHA-256.*make pretrain"):
        pretraining.load_pretrained("masked", folder)
    (folder / "forward.weights.h5").unlink()
    with pytest.raises(pretraining.CheckpointError, match="missing.*make pretrain"):
        pretraining.load_pretrained("forward", folder)
    (folder / "provenance.json").unlink()
    with pytest.raises(pretraining.CheckpointError, match="no pretrained checkpoints.*make pretrain"):
        pretraining.load_pretrained("backward", folder)


def test_committed_checkpoints_match_their_provenance_and_the_text(text):
    provenance = pretraining.read_provenance()
    assert provenance["data"]["pretraining_text_sha256"] == pretraining.text_sha256(text.texts)
    for name in provenance["files_sha256"]:
        pretraining.verified(name, provenance, pretraining.CHECKPOINT_DIR)
        assert (pretraining.CHECKPOINT_DIR / name).stat().st_size < 8_000_000, "keep checkpoints small"
    assert json.loads((pretraining.CHECKPOINT_DIR / "provenance.json").read_text())["command"]
    # notebook 10 plots the masked objective with and without the distance bias from these
    assert provenance["config"]["distance_bias"]
    ablation = provenance["ablations"]["masked, no distance bias"]
    assert len(ablation["loss_curve"]) == len(provenance["loss_curves"]["masked"])


def test_reverse_valid_lines_up_a_backward_reader(keras):
    from helpers.finetune import ReverseValid
    from helpers.models import reverse_valid

    ids = np.array([[5, 6, 7, 0, 0], [3, 4, 0, 0, 0], [1, 2, 3, 4, 5]])
    values = np.random.default_rng(0).normal(size=(3, 5, 2))
    out = ReverseValid()(values, ids).numpy()
    np.testing.assert_array_equal(ReverseValid()(ids, ids).numpy(), reverse_valid(ids))
    np.testing.assert_allclose(out[0, :3], values[0, 2::-1])
    np.testing.assert_allclose(out[0, 3:], values[0, 3:])
    np.testing.assert_allclose(ReverseValid()(out, ids).numpy(), values)


@pytest.mark.parametrize("task", ["segmentation", "sentiment"])
def test_fine_tuning_freezes_then_unfreezes_the_pretrained_encoder(keras, checkpoints, task):
    from helpers.finetune import CONTROLS, STARTS, build_task_model, fine_tune

    folder, _ = checkpoints
    X = np.array([[3, 4, 5, 0], [6, 7, 0, 0], [3, 3, 3, 3], [8, 9, 10, 0]] * 2, dtype="int32")
    y = (X % 4).astype("int32") if task == "segmentation" else np.array([0, 1, 0, 1] * 2, dtype="float32")
    loss = "sparse_categorical_crossentropy" if task == "segmentation" else "binary_crossentropy"
    for start in STARTS + CONTROLS:
        pretrained = {o: pretraining.load_pretrained(o, folder) for o in pretraining.OBJECTIVES}
        model, frozen = build_task_model(task, start, 4, pretrained, lambda: pretraining.build_model(TINY, "masked"))
        assert bool(frozen) == (start != "scratch")
        before = [w.copy() for e in frozen for w in e.get_weights()]
        seen = []

        def score(m, frozen=frozen, seen=seen):
            seen.append([w.copy() for e in frozen for w in e.get_weights()])
            return 0.5

        result = fine_tune(
            model, frozen, X, y, score, num_updates=3, batch_size=4, lr=0.01, lr_pretrained=0.01, seed=0, loss=loss
        )
        if frozen:
            assert result.frozen == 0.5 and len(seen) == 2
            assert all(np.array_equal(a, b) for a, b in zip(before, seen[0])), "stage 1 must not move the encoder"
            assert any(not np.array_equal(a, b) for a, b in zip(before, seen[1])), "stage 2 must move it"
        else:
            assert result.frozen is None


@pytest.mark.parametrize(
    "start, sees_ahead, encoders",
    [
        ("one-way (GPT)", 0, 1),
        ("one-way, mask off", 3, 1),  # every later position
        ("one-way + next state", 1, 1),  # exactly one character ahead
        ("two one-way, same way", 0, 2),  # ELMo's size, still left to right
        ("two one-way joined (ELMo)", 3, 2),
    ],
)
def test_each_direction_control_sees_what_its_name_says(keras, checkpoints, start, sees_ahead, encoders):
    """Change the character k places after position 0: the tag probabilities at 0 move only for
    k ≤ sees_ahead; the encoders are the forward checkpoint's, counted."""
    from helpers.finetune import NEEDS, build_task_model

    folder, _ = checkpoints
    pretrained = {o: pretraining.load_pretrained(o, folder) for o in NEEDS[start]}
    keras.utils.set_random_seed(0)
    model, frozen = build_task_model(
        "segmentation", start, 4, pretrained, lambda: pretraining.build_model(TINY, "masked")
    )
    assert len(frozen) == encoders
    base = np.array([[3, 4, 5, 6]], dtype="int32")
    at_0 = model(base, training=False).numpy()[0, 0]
    for k in (1, 2, 3):
        changed = base.copy()
        changed[0, k] = 9
        moved = not np.allclose(model(changed, training=False).numpy()[0, 0], at_0, atol=1e-7)
        assert moved == (k <= sees_ahead), f"{start}: position 0 {'sees' if moved else 'misses'} position {k}"
    if start in ("one-way (GPT)", "one-way + next state", "two one-way, same way"):
        for encoder in frozen:  # a copy of the forward checkpoint's encoder layers, weights unchanged
            n = len(encoder.get_weights())
            for a, b in zip(encoder.get_weights(), pretrained["forward"].get_weights()[:n], strict=True):
                np.testing.assert_array_equal(a, b)


def test_verdict_lines_pair_runs_by_seed():
    from helpers.finetune import describe_difference, paired_differences, verdict_lines

    records = [
        {"start": s, "budget": 100, "seed": k, "f1": base + k / 100}
        for s, base in [
            ("scratch", 0.5),
            ("one-way (GPT)", 0.6),
            ("two one-way joined (ELMo)", 0.65),
            ("two-way (BERT)", 0.4),
        ]
        for k in range(3)
    ]
    records.append({"start": "one-way (GPT)", "budget": 100, "seed": 9, "f1": 0.0})  # no partner: ignored
    d = paired_differences(records, "f1", "one-way (GPT)", "scratch", 100)
    np.testing.assert_allclose(d, [0.1, 0.1, 0.1])
    assert describe_difference(d) == "+10.0 points, 95% interval +10.0 to +10.0 over 3 seeds (excludes 0)"
    assert describe_difference(np.array([-0.02])) == "-2.0 points (one seed: no interval)"
    assert describe_difference(np.array([0.01, -0.01, 0.03])).endswith("over 3 seeds (includes 0)")
    lines = verdict_lines(records, "f1", "segmentation", [100])
    assert lines[0] == "segmentation, 100 labels:"
    assert "two-way (BERT) − scratch: -10.0 points, 95% interval -10.0 to -10.0 over 3 seeds (excludes 0)" in lines[3]
    assert "two one-way joined (ELMo) − one-way (GPT): +5.0" in lines[4]


def test_encode_tagged_cuts_pads_and_aligns_tags():
    from helpers.segmentation import TAG_IDS, encode_tagged

    X, Y = encode_tagged([("迈向新世纪", "besbe"), ("好", "s")], {"迈": 2, "向": 3, "新": 4, "好": 5}, 4)
    assert X.tolist() == [[2, 3, 4, 1], [5, 0, 0, 0]]
    assert Y.tolist() == [[TAG_IDS[t] for t in "besb"], [TAG_IDS["s"], 0, 0, 0]]


def test_more_pretraining_goes_on_from_each_checkpoint_and_leaves_it_alone(checkpoints, tmp_path, monkeypatch):
    """course.studies.pretrain_more (read in notebook 10, section 8): both arms train every
    objective further, from the checkpoint and not from scratch; the checkpoint files stay as they were."""
    from course import studies
    from helpers import adaptation

    folder, models = checkpoints
    calls, pretrain = [], pretraining.pretrain

    def spy(objective, corpus, vocab, config, report=print, every=100, model=None):
        same = model is not None and all(
            np.array_equal(a, b) for a, b in zip(model.get_weights(), models[objective].get_weights(), strict=True)
        )
        calls.append((objective, len(corpus), config.num_steps, same))
        return pretrain(objective, corpus, vocab, config, report, every, model=model)

    monkeypatch.setattr(pretraining, "pretrain", spy)
    positive = np.asarray([1, 1, 0] * 4)  # TEXTS: two kind sentences, then an unkind one
    texts = studies.Texts(
        TEXTS, TEXTS[2::3], TEXTS, positive, TEXTS[:3], positive[:3], {"held": TEXTS[:3], "reviews": TEXTS[1:3]}
    )
    lines = []
    result = studies.pretrain_more(studies.PretrainMore(steps=2), texts, folder, report=lines.append)
    assert list(result["probe"]) == list(adaptation.ARMS)
    for arm in adaptation.ARMS:
        assert set(result["probe"][arm]) == set(adaptation.READERS)
        for reader, accuracy in result["probe"][arm].items():
            correct = adaptation.correct_of(result["correct"][arm][reader])
            assert len(correct) == 3 and accuracy == correct.mean()
        for objective in pretraining.OBJECTIVES:
            assert set(result["held_out"][arm][objective]) == {"held", "reviews"}
    assert set(result["loss_curves"]) == {"every_steps", "longer", "reviews"}
    # each arm starts every objective from its checkpoint's weights, on its own text
    assert calls == [(o, n, 2, True) for n in (len(TEXTS), len(TEXTS[2::3])) for o in pretraining.OBJECTIVES]
    assert all(len(result["loss_curves"][arm][o]) == 1 for arm in ("longer", "reviews") for o in models)
    assert any(line.startswith("[6/6]") for line in lines)  # progress: three objectives, two arms
    for objective in pretraining.OBJECTIVES:  # the committed arm is the checkpoint, measured
        committed = result["held_out"]["as committed"][objective]["held"]["loss"]
        loss, _ = pretraining.held_out_loss(
            models[objective], objective, TEXTS[:3], pretraining.load_vocab(folder), TINY, np.random.default_rng(0)
        )
        assert committed == pytest.approx(loss, rel=1e-6)
        for arm in ("longer", "reviews"):  # they did train
            assert result["held_out"][arm][objective]["held"]["loss"] != committed
        loaded = pretraining.load_pretrained(objective, folder)  # verified by SHA-256: untouched
        for a, b in zip(loaded.get_weights(), models[objective].get_weights(), strict=True):
            np.testing.assert_array_equal(a, b)
    path = studies.write(result, "test", tmp_path / "more.json")
    assert adaptation.read(path)["command"] == "test" and [p.name for p in tmp_path.iterdir()] == ["more.json"]
    wrong = studies.Texts(TEXTS[1:], *list(vars(texts).values())[1:])
    with pytest.raises(pretraining.CheckpointError, match="another text"):
        studies.pretrain_more(studies.PretrainMore(steps=2), wrong, folder, report=lines.append)


def test_the_paired_interval_is_student_s_t_over_reviews():
    from scipy import stats

    from helpers.adaptation import correct_of, paired_interval

    rng = np.random.default_rng(0)
    a = rng.random(500) < 0.8
    b = a.copy()
    b[rng.choice(500, 40, replace=False)] ^= True  # two readers that mostly agree, review by review
    mean, low, high = paired_interval(a, b)
    oracle = stats.ttest_rel(a.astype(float), b.astype(float)).confidence_interval(0.95)
    assert mean == pytest.approx(a.mean() - b.mean())
    assert (low, high) == pytest.approx((oracle.low, oracle.high), rel=1e-9)
    unpaired = stats.ttest_ind(a.astype(float), b.astype(float)).confidence_interval(0.95)
    assert high - low < (unpaired.high - unpaired.low) / 2  # pairing by review is what makes it narrow
    assert correct_of("1001").tolist() == [True, False, False, True]


def test_the_study_never_trains_or_fits_on_a_test_review(text):
    from course import studies

    texts = studies.course_texts()
    test = set(texts.test)
    assert texts.pretraining == text.texts and len(test) == len(texts.test) == len(texts.y_test)
    assert not test & set(texts.reviews) and not test & set(texts.pretraining) and not test & set(texts.train)
    assert not test & set(texts.valid) and not set(texts.valid) & set(texts.train) and len(texts.y_valid)
    assert set(texts.reviews) <= set(texts.pretraining)
    assert set(texts.held_out["test reviews"]) <= test
    assert not set(texts.held_out["People's Daily test sentences"]) & set(texts.pretraining)
    assert set(np.unique(texts.y_train)) == set(np.unique(texts.y_test)) == {0, 1}


def test_fine_tuning_on_every_review_runs_every_start_and_keeps_its_best_epoch_on_validation(checkpoints):
    from course import studies
    from helpers import adaptation
    from helpers.finetune import STARTS

    folder, _ = checkpoints
    positive = np.asarray([1, 1, 0] * 4)
    texts = studies.Texts(TEXTS, [], TEXTS, positive, TEXTS[:3], positive[:3], {}, TEXTS[3:5], positive[3:5])
    lines = []
    config = studies.FinetuneAll(epochs=2, max_len=TINY.seq_len, batch_size=5, every=3)
    result = studies.finetune_all(config, texts, folder, lines.append)
    assert result["parameters"]["num_updates"] == 2 * 3  # ceil(12 / 5) updates per epoch
    assert list(result["runs"]) == list(STARTS)
    for start, run in result["runs"].items():
        correct = adaptation.correct_of(result["correct"][start])
        assert len(correct) == 3 and run["accuracy"] == correct.mean()
        assert (run["frozen_valid"] is None) == (start == "scratch")
        assert len(run["valid_per_epoch"]) == 2 and all(0 <= a <= 1 for a in run["valid_per_epoch"])
        assert run["best_epoch"] == int(np.argmax(run["valid_per_epoch"])) + 1  # the earliest best: kept, tested
    assert [line for line in lines if "update 6/6" in line] and lines[0].startswith("[1/4]")
    assert result["data"]["test reviews longer than max_len"] == 0
    with pytest.raises(ValueError, match="positions"):
        studies.finetune_all(studies.FinetuneAll(epochs=1, max_len=TINY.seq_len + 1), texts, folder, lines.append)


def _reseal(folder, *names):
    """Edit provenance.json's checksums to match the files, as someone tampering would."""
    provenance = json.loads((folder / "provenance.json").read_text())
    for name in names:
        provenance["files_sha256"][name] = pretraining.sha256_file(folder / name)
    (folder / "provenance.json").write_text(json.dumps(provenance))


@pytest.mark.parametrize(
    "damage, says",
    [
        (lambda p: "{not json", "not JSON"),
        (lambda p: "[1, 2]", "not a JSON object"),
        (lambda p: json.dumps({k: v for k, v in p.items() if k != "files_sha256"}), "no 'files_sha256'"),
        (lambda p: json.dumps({**p, "config": {**p["config"], "wings": 2}}), "config is damaged"),
        (lambda p: json.dumps({**p, "config": {**p["config"], "d_model": -1}}), "impossible sizes"),
        (lambda p: "[" * 100_000, "not JSON"),
    ],
)
def test_a_damaged_provenance_file_names_the_rebuild_command(checkpoints, tmp_path, damage, says):
    import shutil

    folder = tmp_path / "copy"
    shutil.copytree(checkpoints[0], folder)
    provenance = json.loads((folder / "provenance.json").read_text())
    (folder / "provenance.json").write_text(damage(provenance))
    with pytest.raises(pretraining.CheckpointError, match=f"{says}.*make pretrain") as err:
        pretraining.load_pretrained("forward", folder)
    assert "\n" not in str(err.value)


def test_nan_weights_a_wrong_shape_or_vocabulary_are_refused_even_with_checksums_edited(checkpoints, keras, tmp_path):
    import shutil

    folder = tmp_path / "copy"
    shutil.copytree(checkpoints[0], folder)
    model = pretraining.build_model(TINY, "forward")
    model.set_weights([np.full_like(w, np.nan) for w in checkpoints[1]["forward"].get_weights()])
    model.save_weights(folder / "forward.weights.h5")
    _reseal(folder, "forward.weights.h5")
    with pytest.raises(pretraining.CheckpointError, match="NaN or infinite.*make pretrain"):
        pretraining.load_pretrained("forward", folder)
    wider = pretraining.build_model(pretraining.replace(TINY, d_model=12), "backward")
    wider.save_weights(folder / "backward.weights.h5")
    _reseal(folder, "backward.weights.h5")
    with pytest.raises(pretraining.CheckpointError, match="does not fit the model.*make pretrain"):
        pretraining.load_pretrained("backward", folder)
    vocab = json.loads((folder / "vocab.json").read_text())
    (folder / "vocab.json").write_text(json.dumps({k: v for k, v in vocab.items() if k != "[MASK]"}))
    _reseal(folder, "vocab.json")
    with pytest.raises(pretraining.CheckpointError, match="not a vocabulary of 40 ids.*make pretrain"):
        pretraining.load_vocab(folder)


@pytest.fixture(scope="module")
def committed(keras):
    """The committed checkpoints' config and vocabulary, and each file loaded under each objective's attention."""
    provenance = pretraining.read_provenance()
    config, vocab = pretraining.config_of(provenance), pretraining.load_vocab()
    models = {}
    for built in pretraining.OBJECTIVES:
        for stored in pretraining.OBJECTIVES:
            model = pretraining.build_model(config, built)
            model.load_weights(pretraining.weights_path(stored))
            models[built, stored] = model
    return config, vocab, models


def test_each_committed_checkpoint_predicts_as_its_own_objective_by_more_than_a_nat(committed):
    config, vocab, models = committed
    for (built, stored), model in models.items():
        losses = pretraining.objective_losses(model, vocab, config.seq_len)
        others = [loss for name, loss in losses.items() if name != stored]
        assert losses[stored] + 1 < min(others), (built, stored, losses)
        assert pretraining.objective_of(model, vocab, config.seq_len) == stored


def test_swapped_forward_and_backward_files_are_refused_even_with_checksums_edited(keras, tmp_path):
    import shutil

    folder = tmp_path / "swapped"
    shutil.copytree(pretraining.CHECKPOINT_DIR, folder)
    forward, backward = folder / "forward.weights.h5", folder / "backward.weights.h5"
    forward.rename(folder / "tmp.h5")
    backward.rename(forward)
    (folder / "tmp.h5").rename(backward)
    _reseal(folder, forward.name, backward.name)
    with pytest.raises(pretraining.CheckpointError, match="behaves as the backward model, not forward.*make pretrain"):
        pretraining.load_pretrained("forward", folder)
    with pytest.raises(pretraining.CheckpointError, match="behaves as the forward model, not backward"):
        pretraining.load_pretrained("backward", folder)
    assert pretraining.load_pretrained("masked", folder) is not None


def test_the_peft_study_runs_every_method_on_both_tasks_with_its_rule(checkpoints, monkeypatch):
    """`course peft` on the tiny checkpoints, two methods, one budget: a record per (task, method,
    seed), the rate chosen on validation, progress with the time left, provenance."""
    from course import studies
    from helpers.peft import Method

    folder, _ = checkpoints
    monkeypatch.setattr(studies, "peft_methods", lambda: [Method("full"), Method("lora", rank=1)])
    positive = np.asarray([1, 1, 0] * 4)
    texts = studies.Texts(TEXTS, [], TEXTS, positive, TEXTS[:3], positive[:3], {}, TEXTS[3:6], positive[3:6])
    texts.held_out["People's Daily test sentences"] = TEXTS[:3]
    lines = []
    config = studies.Peft(seeds=2, updates=2, max_len=TINY.seq_len, budgets=(6,), num_eval=5, batch_size=3)
    result = studies.peft(config, texts, folder, lines.append)
    records = result["records"]
    assert len(records) == 2 * 2 * 2  # tasks × methods × seeds
    assert {(r["task"], r["method"]) for r in records} == {
        (t, m) for t in ("segmentation", "sentiment") for m in ("full fine-tuning", "LoRA r=1 (attention)")
    }
    for r in records:
        assert r["lr"] in r["lrs_tried"] and 0 <= r["test"] <= 1 and np.isfinite(r["lm_loss"])
        assert r["trainable"] > 0 and r["state_bytes"] == 8 * r["trainable"]
    assert lines[-1].endswith("about 00:00 left") and "[12/12]" in lines[-1] and len(lines) == 4
    assert result["versions"] and result["hardware"] and result["wall_seconds"] >= 0
    with pytest.raises(ValueError, match="positions"):
        studies.peft(studies.Peft(max_len=TINY.seq_len + 1), texts, folder, lines.append)


def test_the_direction_study_chooses_each_rate_on_validation_and_tests_each_kept_run_once(checkpoints, monkeypatch):
    """`course direction-controls` on the tiny checkpoints: per (task, start) the pretrained layers'
    rate with the best validation score on the first seed (the smaller on a tie), every seed at it."""
    from course import studies

    folder, _ = checkpoints
    positive = np.asarray([1, 1, 0] * 4)
    texts = studies.Texts(TEXTS, [], TEXTS, positive, TEXTS[:3], positive[:3], {}, TEXTS[3:6], positive[3:6])
    calls, real = [], studies._control_run

    def spy(config, task, start, rate, seed, *args):
        record, model = real(config, task, start, rate, seed, *args)
        calls.append((task.name, start, rate, seed, record["validation"]))
        return record, model

    monkeypatch.setattr(studies, "_control_run", spy)
    lines = []
    starts = ("one-way + next state",)  # one of them: the rule is the same for every start
    config = studies.DirectionControls(seeds=2, updates=2, max_len=TINY.seq_len, budgets=(6,), num_eval=5, batch_size=3,
                                       starts=starts)  # fmt: skip
    result = studies.direction_controls(config, texts, folder, lines.append)
    records = result["records"]
    assert len(records) == 2 * len(starts) * 2 and len(calls) == 2 * len(starts) * 3  # 2 rates + 1 more seed
    for task in ("segmentation", "sentiment"):
        for start in starts:
            tried = [(v, -k, rate) for k, (t, s, rate, seed, v) in enumerate(c for c in calls if c[:2] == (task, start))
                     if seed == 0]  # fmt: skip
            chosen = max(tried)[2]
            kept = [r for r in records if (r["task"], r["start"]) == (task, start)]
            assert [r["seed"] for r in kept] == [0, 1] and {r["lr_pretrained"] for r in kept} == {chosen}
            assert all(0 <= r["test"] <= 1 and r["parameters"] > 0 for r in kept)
    assert "[6/6]" in lines[-1] and lines[-1].endswith("about 00:00 left") and len(lines) == 2 * len(starts)
    assert result["versions"] and result["hardware"] and result["parameters"]["rates_tried"] == [3e-4, 1e-3]


def test_the_pretraining_seed_study_pretrains_each_seed_then_fine_tunes_from_it(checkpoints, tmp_path):
    """`course pretrain-seeds` on the tiny checkpoints' settings: each seed's three checkpoints saved
    (with that seed and the smaller budget in their provenance, and different weights), each
    fine-tuned; scratch once, not per pretraining seed."""
    from course import studies

    folder, _ = checkpoints
    positive = np.asarray([1, 1, 0] * 4)
    texts = studies.Texts(TEXTS, [], TEXTS, positive, TEXTS[:3], positive[:3], {"held": TEXTS[:3]}, TEXTS[3:6],
                          positive[3:6])  # fmt: skip
    lines = []
    config = studies.PretrainSeeds(seeds=2, steps=3, ft_seeds=2, updates=2, max_len=TINY.seq_len, budgets=(6,),
                                   starts=("scratch", "one-way (GPT)"), num_eval=5, batch_size=3,
                                   folder=tmp_path / "seeds")  # fmt: skip
    result = studies.pretrain_seeds(config, texts, folder, lines.append)
    records = result["records"]
    gpt = [r for r in records if r["start"] == "one-way (GPT)"]
    scratch = [r for r in records if r["start"] == "scratch"]
    assert len(gpt) == 2 * 2 * 2 and len(scratch) == 2 * 2  # (seeds ×) tasks × fine-tuning seeds
    assert sorted({r["pretraining_seed"] for r in gpt}) == [0, 1] and {r["pretraining_seed"] for r in scratch} == {None}
    assert all(r["lr_pretrained"] == config.lr_pretrained and 0 <= r["test"] <= 1 for r in records)
    for p in (0, 1):
        provenance = pretraining.read_provenance(tmp_path / "seeds" / f"seed-{p}")
        assert provenance["config"]["seed"] == p and provenance["config"]["num_steps"] == 3
        assert provenance["files_sha256"] == result["seed_checkpoints_sha256"][p]
        assert set(result["held_out"][p]) == set(pretraining.OBJECTIVES)
    first, second = result["seed_checkpoints_sha256"][0], result["seed_checkpoints_sha256"][1]
    assert first["forward.weights.h5"] != second["forward.weights.h5"]
    assert lines[-1].endswith("about 00:00 left") and "[2/2]" in lines[-1]


def test_the_epoch_ticker_keeps_the_earliest_best_epoch_on_validation():
    from course import studies

    scores = iter([0.5, 0.7, 0.7, 0.6])
    model = type("Model", (), {"epoch": 0, "get_weights": lambda self: [self.epoch]})()
    clock = studies.Progress(8, "test")
    tick = studies.epoch_ticker("x", 2, 8, 100, lambda: next(scores), lambda line: None, clock, model)
    for update in range(8):
        model.epoch = update // 2 + 1  # the weights as they are during epoch 1, 2, ...
        tick()
    assert tick.per_epoch == [0.5, 0.7, 0.7, 0.6] and tick.best == (2, [2])


def test_the_label_curve_keeps_each_taggers_best_validation_checkpoint_and_tests_it_once(checkpoints, monkeypatch):
    """`course label-curve` on the tiny checkpoints: per start, budget and seed one tagger whose
    kept validation F1 is the best it reached, scored on the test sentences once; the probe and
    TF-IDF on every seed's review sample."""
    from course import label_curve, studies

    folder, _ = checkpoints
    positive = np.asarray([1, 1, 0] * 4)
    texts = studies.Texts(TEXTS, [], TEXTS, positive, TEXTS[:3], positive[:3], {}, TEXTS[3:6], positive[3:6])
    scored, real = [], label_curve.Pieces.f1

    def spy(self, tagger, inputs):
        score = real(self, tagger, inputs)
        scored.append(("valid" if self.count == 5 else "test", score))
        return score

    monkeypatch.setattr(label_curve.Pieces, "f1", spy)
    config = label_curve.LabelCurve(seeds=2, updates=6, budgets=(6,), every=2, num_valid=5, num_test=7,
                                    max_len=TINY.seq_len, units=3, embedding_dim=4, batch_size=3,
                                    starts=("scratch", "one-way (GPT)"))  # fmt: skip
    lines = []
    result = label_curve.label_curve(config, texts, folder, lines.append)
    runs = result["segmentation"]
    assert [(r["start"], r["seed"]) for r in runs] == [
        ("no pretrained states", 0), ("no pretrained states", 1), ("one-way (GPT)", 0), ("one-way (GPT)", 1),
    ]  # fmt: skip
    per_run, current = [], []
    for kind, score in scored:  # each run: its validation scores, then its one test score
        current.append((kind, score))
        if kind == "test":
            per_run.append(current)
            current = []
    assert len(per_run) == len(runs) and not current
    for run, calls in zip(runs, per_run, strict=True):
        valid = [score for kind, score in calls if kind == "valid"]
        assert [kind for kind, _ in calls].count("test") == 1 and valid
        assert run["validation"] == max(valid) and run["test"] == calls[-1][1] and run["best_updates"] > 0
    sentiment = result["sentiment"]
    names = {r["start"] for r in sentiment}
    assert names == {label_curve.PROBE_SCRATCH, "one-way (GPT)", "TF-IDF"} and len(sentiment) == 3 * 2
    assert "[5/5]" in lines[-1] and lines[-1].endswith("about 00:00 left")
    assert result["parameters"]["budgets"] == [6] and result["test_sentences"] == 7
