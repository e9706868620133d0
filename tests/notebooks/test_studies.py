"""Part IV's long studies end to end on tiny checkpoints (`course.studies`, `course.label_curve`):
each runs every arm it promises, chooses its settings on validation by its stated rule, scores each
kept run on the test set once, never touches the checkpoints it starts from, and reports its
progress with the time left. They run the `course` studies' own functions, so they live with the
other end-to-end tests (`make test`), not in `make test-unit`."""

from __future__ import annotations

import os
from dataclasses import replace

import numpy as np
import pytest

from helpers import pretraining
from helpers.finetune_tables import RECIPE_STARTS
from tests.conftest import TEXTS, TINY


@pytest.fixture
def eagerly(tf):
    """Run TensorFlow's functions eagerly during the test. These tests check what each study runs,
    chooses and scores, not how TensorFlow executes it; where each of many tiny runs makes 2 or 3
    updates, most of the time went to tracing every new model's training step into a graph (the
    pretraining-seed test: 30 s in graphs, 19 s eagerly). Not for the tagger studies, whose runs
    are longer: they were faster in graphs (label curve 19 s, 36 s eagerly). The graph path is what
    the notebooks (nbval) and the `make` studies run."""
    tf.config.run_functions_eagerly(True)
    yield
    tf.config.run_functions_eagerly(False)


@pytest.mark.usefixtures("eagerly")
def test_more_pretraining_goes_on_from_each_checkpoint_and_leaves_it_alone(checkpoints, tmp_path, monkeypatch):
    """course.studies.pretrain_more (read in notebook 11, section 6): both arms train every
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


@pytest.mark.usefixtures("eagerly")
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


@pytest.mark.usefixtures("eagerly")
def test_fine_tuning_on_every_review_resumes_where_a_stopped_run_stopped(checkpoints, tmp_path, monkeypatch):
    """Stopped (Ctrl-C) while its third start runs, `course finetune-all` has saved the two it
    finished; the next run with the same settings runs only the others and gives what one whole
    run gives. Other settings, or other code, start afresh."""
    import json

    from course import resume, studies
    from helpers.finetune import STARTS

    folder, _ = checkpoints
    positive = np.asarray([1, 1, 0] * 4)
    texts = studies.Texts(TEXTS, [], TEXTS, positive, TEXTS[:3], positive[:3], {}, TEXTS[3:5], positive[3:5])
    config = studies.FinetuneAll(epochs=2, max_len=TINY.seq_len, batch_size=5, every=3)
    whole = studies.finetune_all(config, texts, folder, lambda line: None)

    def stop_at_the_third(line):
        if line.startswith("[3/4]"):
            raise KeyboardInterrupt

    def stop_at_the_first(line):  # a fresh start needs checking only up to its first start's line
        lines.append(line)
        if line.startswith("[1/4]"):
            raise KeyboardInterrupt

    path = tmp_path / "finetune_all.partial.json"
    with pytest.raises(KeyboardInterrupt):
        studies.finetune_all(config, texts, folder, stop_at_the_third, resume.Partial(path))
    finished = list(json.loads(path.read_text())["units"])
    assert finished == ["scratch", "one-way (GPT)"]  # the cheap starts first, ELMo's two encoders last
    lines = []
    again = studies.finetune_all(config, texts, folder, lines.append, resume.Partial(path))
    assert lines[0] == f"resuming from {path}: done already: scratch, one-way (GPT)"
    assert lines[1].startswith("[1/2]") and again["resumed"]["starts"] == finished
    assert list(again["runs"]) == list(STARTS) and again["correct"] == whole["correct"]
    for start in STARTS:
        for key in ("accuracy", "best_epoch", "valid_per_epoch", "frozen_valid", "epochs_run"):
            assert again["runs"][start][key] == whole["runs"][start][key], (start, key)
    lines.clear()
    other = studies.FinetuneAll(epochs=2, patience=1, max_len=TINY.seq_len, batch_size=5, every=3)
    with pytest.raises(KeyboardInterrupt):
        studies.finetune_all(other, texts, folder, stop_at_the_first, resume.Partial(path))
    assert lines[0].endswith("was made with other settings: starting afresh") and lines[1].startswith("[1/4]")
    assert sorted(json.loads(path.read_text())["units"]) == sorted(STARTS)  # kept until another run saves one
    lines.clear()
    monkeypatch.setattr(studies, "code_sha256", lambda: "0" * 64)
    with pytest.raises(KeyboardInterrupt):
        studies.finetune_all(config, texts, folder, stop_at_the_first, resume.Partial(path))
    assert lines[0].endswith("was made with other course code (helpers/ or course/ changed): starting afresh")
    assert lines[1].startswith("[1/4]")


def test_a_second_run_of_a_study_at_once_stops_in_one_line_and_a_killed_ones_lock_does_not_block(tmp_path):
    """Two `course finetune-all` into one folder would mix their saved starts: the second is refused
    (exit 2, one line naming the first's process) before it imports TensorFlow."""
    import subprocess
    import sys

    from helpers.paths import REPO_ROOT

    code = (
        "import pathlib, time\nfrom course import resume, studies\n"
        f"with resume.study_lock(studies.FinetuneAll(), pathlib.Path({str(tmp_path)!r})):\n"
        "    print('locked', flush=True)\n    time.sleep(60)"
    )
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, cwd=REPO_ROOT)
    try:
        assert holder.stdout.readline().strip() == "locked"
        stub = tmp_path / "stub" / "tensorflow"  # a TensorFlow whose import fails: the refusal comes first
        stub.mkdir(parents=True)
        (stub / "__init__.py").write_text("raise ImportError('TensorFlow was imported before the lock')\n")
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(stub.parent), str(REPO_ROOT)])}
        second = [sys.executable, "-m", "course", "finetune-all", "--out", str(tmp_path), "--epochs", "1"]
        done = subprocess.run(second, capture_output=True, text=True, cwd=tmp_path, timeout=60, env=env)
        assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
        said = f"another course finetune-all run (process {holder.pid}) is writing to {tmp_path / 'finetune_all.json'}"
        assert said in done.stderr
        assert "Traceback" not in done.stderr + done.stdout and not (tmp_path / "finetune_all.json").exists()
    finally:
        holder.kill()
        holder.wait()
    from course import resume, studies

    with resume.study_lock(studies.FinetuneAll(), tmp_path) as lock:  # the killed run's lock is gone
        assert lock.stale_pid == holder.pid


@pytest.mark.usefixtures("eagerly")
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


@pytest.mark.usefixtures("eagerly")
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
            (choice,) = [c for c in result["rate_choices"] if (c["task"], c["start"]) == (task, start)]
            assert choice["chosen"] == chosen and choice["budget"] == 6  # and every rate's score is kept
            assert choice["tried"] == {f"{rate:g}": v for v, _, rate in tried}
    assert "[6/6]" in lines[-1] and lines[-1].endswith("about 00:00 left") and len(lines) == 2 * len(starts)
    assert result["versions"] and result["hardware"] and result["parameters"]["rates_tried"] == [3e-4, 1e-3]


@pytest.mark.usefixtures("eagerly")
def test_the_pretraining_seed_study_pretrains_each_seed_then_fine_tunes_from_it(checkpoints, tmp_path):
    """`course pretrain-seeds` on the tiny checkpoints' settings: each seed's three checkpoints saved
    (with that seed and the smaller budget in their provenance, and different weights), each
    fine-tuned; scratch once, not per pretraining seed; every start's rate chosen on validation
    with the first fine-tuning seed (the pretrained layers' per pretraining seed, scratch's one rate
    per task), every kept run at it."""
    from course import studies

    folder, _ = checkpoints
    positive = np.asarray([1, 1, 0] * 4)
    texts = studies.Texts(TEXTS, [], TEXTS, positive, TEXTS[:3], positive[:3], {"held": TEXTS[:3]}, TEXTS[3:6],
                          positive[3:6])  # fmt: skip
    lines = []
    config = studies.PretrainSeeds(seeds=2, steps=3, ft_seeds=2, updates=2, max_len=TINY.seq_len, budgets=(6,),
                                   starts=("scratch", "one-way (GPT)"), num_eval=5, batch_size=3,
                                   rates=(3e-4, 1e-3), scratch_rates=(3e-3, 1e-2), mask_rate=0.3, mask_share=0.9,
                                   folder=tmp_path / "seeds")  # fmt: skip  # a corruption no checkpoint has
    result = studies.pretrain_seeds(config, texts, folder, lines.append)
    records = result["records"]
    gpt = [r for r in records if r["start"] == "one-way (GPT)"]
    scratch = [r for r in records if r["start"] == "scratch"]
    assert len(gpt) == 2 * 2 * 2 and len(scratch) == 2 * 2  # (seeds ×) tasks × fine-tuning seeds
    assert sorted({r["pretraining_seed"] for r in gpt}) == [0, 1] and {r["pretraining_seed"] for r in scratch} == {None}
    assert all(0 <= r["test"] <= 1 for r in records)
    choices = result["rate_choices"]
    assert len(choices) == 2 * 2 + 2  # (pretraining seed, task) for GPT; task for scratch
    for choice in choices:
        rates = config.scratch_rates if choice["start"] == "scratch" else config.rates
        assert list(choice["tried"]) == [f"{r:g}" for r in rates]
        best = max(range(len(rates)), key=lambda k: (list(choice["tried"].values())[k], -k))
        assert choice["chosen"] == rates[best]
        keys = ("pretraining_seed", "task", "start")
        kept = [r for r in records if all(r[k] == choice[k] for k in keys)]
        rate = "lr" if choice["start"] == "scratch" else "lr_pretrained"
        assert [r["seed"] for r in kept] == [0, 1] and {r[rate] for r in kept} == {choice["chosen"]}
    assert {r["lr_pretrained"] for r in scratch} == {None} and {r["lr"] for r in gpt} == {config.lr}
    assert result["parameters"]["rates_tried"] == list(config.rates)
    assert result["parameters"]["scratch_rates_tried"] == list(config.scratch_rates)
    base = pretraining.config_of(pretraining.read_provenance(folder))
    assert (base.mask_rate, base.mask_share) != (config.mask_rate, config.mask_share)
    for p in (0, 1):
        provenance = pretraining.read_provenance(tmp_path / "seeds" / f"seed-{p}")
        assert provenance["config"]["seed"] == p and provenance["config"]["num_steps"] == 3
        assert provenance["config"]["mask_rate"] == config.mask_rate == result["parameters"]["mask_rate"]
        assert provenance["config"]["mask_share"] == config.mask_share == result["parameters"]["mask_share"]
        assert provenance["files_sha256"] == result["seed_checkpoints_sha256"][p]
        assert set(result["held_out"][p]) == set(pretraining.OBJECTIVES)
    # the masked held-out loss is scored as the committed checkpoints hide characters, not as the seeds trained
    masked = pretraining.load_pretrained("masked", tmp_path / "seeds" / "seed-0")
    vocab, own = (
        pretraining.load_vocab(folder),
        pretraining.config_of(pretraining.read_provenance(tmp_path / "seeds" / "seed-0")),
    )
    scored = {
        name: pretraining.held_out_loss(masked, "masked", TEXTS[:3], vocab, cfg, np.random.default_rng(0))[0]
        for name, cfg in (
            ("committed", replace(own, mask_rate=base.mask_rate, mask_share=base.mask_share)),
            ("own", own),
        )
    }
    assert result["held_out"][0]["masked"]["held"]["loss"] == pytest.approx(scored["committed"], rel=1e-6)
    assert scored["own"] != pytest.approx(scored["committed"], rel=1e-3)
    # other seeds, other weights (not only other files: a file also holds Keras's layer names)
    first, second = (pretraining.load_pretrained("forward", tmp_path / "seeds" / f"seed-{p}") for p in (0, 1))
    assert not all(np.array_equal(a, b) for a, b in zip(first.get_weights(), second.get_weights(), strict=True))
    # progress: 3 objectives per seed, then 2 tasks x (scratch and GPT for seed 0, GPT for seed 1)
    assert "[1/12]" in next(line for line in lines if "forward pretrained" in line)
    assert lines[-1].endswith("about 00:00 left") and "[12/12]" in lines[-1]


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


def test_the_epoch_ticker_stops_after_its_patience_but_never_in_the_frozen_stage():
    from course import studies

    def run(scores, patience, after):
        scores, lines = iter(scores), []
        model = type("Model", (), {"get_weights": lambda self: []})()
        clock = studies.Progress(20, "test")
        tick = studies.epoch_ticker("x", 2, 20, 100, lambda: next(scores), lines.append, clock, model, patience, after)
        stops = []
        for _ in range(20):
            if tick():
                stops.append(tick.done)
                break
        return tick, stops, clock, lines

    tick, stops, clock, lines = run([0.5, 0.7, 0.6, 0.7, 0.9, 0.6, 0.6, 0.6, 0.6, 0.6], patience=2, after=0)
    assert stops == [8] and tick.best[0] == 2 and clock.total == 8  # epochs 3 and 4 not better than 2
    assert "stopped after epoch 4" in lines[-1]
    tick, stops, clock, _ = run([0.5, 0.4, 0.4, 0.4, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6], patience=2, after=4)
    assert stops == [14] and tick.best[0] == 5  # no stop in the 4 frozen epochs, then 2 without gain
    tick, stops, clock, _ = run([0.5] * 10, patience=None, after=0)
    assert stops == [] and len(tick.per_epoch) == 10 and clock.total == 20


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


def test_the_tagger_size_study_trains_every_size_and_keeps_each_runs_best_epoch(checkpoints):
    """`course tagger-sizes` on the tiny checkpoints: per start and size one tagger for the given
    epochs, its validation F1 after every epoch, the best kept (earliest on a tie), tested once.
    Every start of section 6's table by default, at one size here (each size is one more run of the
    same code)."""
    from course import label_curve, studies

    folder, _ = checkpoints
    positive = np.asarray([1, 1, 0] * 4)
    texts = studies.Texts(TEXTS, [], TEXTS, positive, TEXTS[:3], positive[:3], {}, TEXTS[3:6], positive[3:6])
    config = label_curve.TaggerSizes(epochs=2, train_size=6, units_grid=(3,), num_valid=5, num_test=7,
                                     max_len=TINY.seq_len, embedding_dim=4, batch_size=3)  # fmt: skip
    lines = []
    result = label_curve.tagger_sizes(config, texts, folder, lines.append)
    runs = result["segmentation"]
    assert [(r["start"], r["units"]) for r in runs] == [(name, 3) for name in RECIPE_STARTS]
    for run in runs:
        updates, scores = zip(*run["valid_curve"], strict=True)
        assert list(updates) == [run["updates_per_epoch"] * e for e in (1, 2)]
        assert run["validation"] == max(scores) and run["best_updates"] == updates[scores.index(max(scores))]
        assert 0 <= run["test"] <= 1
    assert result["training_sentences"] == 6 and result["parameters"]["units_grid"] == [3]
    assert sum("validation F1" in line and "epoch" in line for line in lines) == 4 * 2  # a line per epoch
    assert "[4/4]" in lines[-1] and lines[-1].endswith("about 00:00 left")


def tiny_masked_study(study, checkpoints, monkeypatch) -> tuple:
    """`study` (a config class of course.masked_ablation) run on the tiny checkpoints' settings, two
    pretraining seeds: (result, pretrain calls, (texts, config, objective) the validation loss was scored with,
    training texts, validation texts, progress lines)."""
    from course import masked_ablation, studies

    folder, _ = checkpoints
    every = next(k for k in range(2, 20) if all(masked_ablation.validation_split(TEXTS, k)))  # both non-empty
    train, valid = masked_ablation.validation_split(TEXTS, every)
    calls, scored, pretrain, held_out_loss = [], [], pretraining.pretrain, pretraining.held_out_loss

    def spy(objective, corpus, vocab, config, report=print, every=100, model=None):
        calls.append((objective, tuple(corpus), config))
        return pretrain(objective, corpus, vocab, config, report, every, model=model)

    def scored_with(model, objective, corpus, vocab, config, rng):
        scored.append((tuple(corpus), config, objective))
        return held_out_loss(model, objective, corpus, vocab, config, rng)

    monkeypatch.setattr(pretraining, "pretrain", spy)
    monkeypatch.setattr(pretraining, "held_out_loss", scored_with)
    positive = np.asarray([1, 1, 0] * 4)
    texts = studies.Texts(TEXTS, [], TEXTS, positive, TEXTS[:3], positive[:3], {}, TEXTS[3:6], positive[3:6])
    config = study(seeds=2, steps=3, warmup=2, ft_seeds=1, updates=2, valid_every=every, budgets=(6,),
                   max_len=TINY.seq_len, num_eval=5, batch_size=3)  # fmt: skip
    lines = []
    result = masked_ablation.masked_ablation(config, texts, folder, lines.append)
    return result, calls, scored, train, valid, lines


@pytest.mark.usefixtures("eagerly")
def test_the_masked_ablation_pretrains_each_recipe_on_the_same_text_and_chooses_on_text_none_trained_on(
    checkpoints, monkeypatch
):
    """`course masked-ablation` on the tiny checkpoints' settings: every variant from every seed,
    each with exactly its change (the bias, a warm-up, pre-norm, both), all on the same training texts,
    none of which is a validation text; each checkpoint fine-tuned and tested once per run."""
    from course import masked_ablation

    result, calls, scored, train, valid, lines = tiny_masked_study(
        masked_ablation.MaskedAblation, checkpoints, monkeypatch
    )
    assert not set(train) & set(valid) and len(train) + len(valid) == len(TEXTS)
    records = result["records"]
    assert [(r["variant"], r["pretraining_seed"]) for r in records] == [
        (v, p) for p in (0, 1) for v in masked_ablation.VARIANTS
    ]
    assert {c[0] for c in calls} == {"masked"} and {c[1] for c in calls} == {tuple(train)}
    assert {s[0] for s in scored} == {tuple(valid)}
    changes = {(c[2].distance_bias, c[2].warmup_steps, c[2].pre_norm) for c in calls}
    assert changes == {(True, 0, False), (False, 0, False), (False, 2, False), (False, 0, True), (True, 0, True)}
    assert all(c[2].num_steps == 3 and c[2].d_model == TINY.d_model for c in calls)
    assert [c[2].seed for c in calls] == [p for p in (0, 1) for _ in masked_ablation.VARIANTS]
    for r in records:
        assert np.isfinite(r["valid_loss"]) and len(r["fine_tuning"]) == 1
        assert {"validation", "test"} <= set(r["fine_tuning"][0]) and 0 <= r["fine_tuning"][0]["test"] <= 1
    assert result["data"] == {"training texts": len(train), "validation texts": len(valid)}
    assert lines[-1].endswith("about 00:00 left") and "[10/10]" in lines[-1]


@pytest.mark.usefixtures("eagerly")
def test_the_corruption_study_pretrains_80_10_10_and_scores_every_recipe_on_the_same_hidden_characters(
    checkpoints, monkeypatch
):
    """`course masked-corruption`: the committed [MASK]-only corruption and BERT's 80/10/10, each at
    15 % and 40 % hidden, each with ALiBi from every seed; every recipe's validation loss is scored on
    characters hidden as the committed recipe hides them (one rate, [MASK] only), whatever it trained on."""
    from course import masked_ablation

    result, calls, scored, train, valid, lines = tiny_masked_study(
        masked_ablation.MaskedCorruption, checkpoints, monkeypatch
    )
    assert [(r["variant"], r["pretraining_seed"]) for r in result["records"]] == [
        (v, p) for p in (0, 1) for v in masked_ablation.CORRUPTIONS
    ]
    trained = [(c[2].distance_bias, c[2].mask_rate, c[2].mask_share) for c in calls]
    rate = masked_ablation.REFERENCE["mask_rate"]  # pinned: whatever the checkpoints' own recipe
    assert trained == [(True, rate, 1.0), (True, rate, 0.8), (True, 0.4, 0.8), (True, 0.4, 1.0)] * 2
    assert {(s[1].mask_rate, s[1].mask_share) for s in scored} == {(rate, 1.0)}
    assert {s[0] for s in scored} == {tuple(valid)} and {c[1] for c in calls} == {tuple(train)}
    assert result["variants"] == list(masked_ablation.CORRUPTIONS) and "[8/8]" in lines[-1]


@pytest.mark.usefixtures("eagerly")
def test_the_forward_block_order_study_pretrains_the_forward_objective_and_fine_tunes_the_gpt_start(
    checkpoints, monkeypatch
):
    """`course forward-pre-norm`: the forward objective (not the masked one) with ALiBi and post-norm
    or pre-norm blocks from every seed, on the ablation's training texts; its validation loss is the
    forward loss on the validation texts; downstream, the one-way (GPT) start."""
    from course import masked_ablation, studies

    starts = []
    task_run = studies.task_run

    def spy(config, task, start, *args):
        starts.append(start)
        return task_run(config, task, start, *args)

    monkeypatch.setattr(masked_ablation, "task_run", spy)
    result, calls, scored, train, valid, lines = tiny_masked_study(
        masked_ablation.ForwardPreNorm, checkpoints, monkeypatch
    )
    assert [(r["variant"], r["pretraining_seed"]) for r in result["records"]] == [
        (v, p) for p in (0, 1) for v in masked_ablation.BLOCK_ORDERS
    ]
    assert {c[0] for c in calls} == {"forward"} and {c[1] for c in calls} == {tuple(train)}
    assert [(c[2].distance_bias, c[2].pre_norm) for c in calls] == [(True, False), (True, True)] * 2
    assert {(s[0], s[2]) for s in scored} == {(tuple(valid), "forward")} and set(starts) == {"one-way (GPT)"}
    assert result["parameters"]["objective"] == "forward" and "[4/4]" in lines[-1]
