"""`course pretrain`, the long Part IV studies (`pretrain-more`, `finetune-all`, `peft`: each one's
options come from its config in `course.studies`), `course studies` (which results come from the
committed checkpoints; `--run` makes the others again) and `course results-full`."""

from __future__ import annotations

import argparse
import inspect
import shlex
import time
from pathlib import Path
from typing import Any

from course import inputs, label_curve, masked_ablation, resume, studies
from course.commands import Arguments, command, notebooks_argument, scheduler_options, scheduler_problems
from course.runner import UsageError

# every study: course.studies's; section 6's readers at few labels and the masked objective's
# recipes (each a module of its own)
STUDIES = {
    **studies.STUDIES,
    "label-curve": (label_curve.LabelCurve, label_curve.label_curve),
    "tagger-sizes": (label_curve.TaggerSizes, label_curve.tagger_sizes),
    "masked-ablation": (masked_ablation.MaskedAblation, masked_ablation.masked_ablation),
    "masked-corruption": (masked_ablation.MaskedCorruption, masked_ablation.masked_ablation),
    "forward-pre-norm": (masked_ablation.ForwardPreNorm, masked_ablation.masked_ablation),
}


def checked_out(out: Path | None) -> None:
    """UsageError if a given --out may not be written (None: the course's default folder)."""
    if out is not None and (problems := inputs.out_problems(out)):
        raise UsageError(problems[0])


def pretrain_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--steps", type=int, default=None, help="updates per objective (default: PretrainConfig's)")
    parser.add_argument("--out", type=Path, default=None, help="folder (default: data/pretrained/)")


@command("pretrain", "pretrain Part IV's three checkpoints into data/pretrained/", pretrain_arguments)
def cmd_pretrain(args: argparse.Namespace) -> int:
    from helpers import pretraining

    config = pretraining.PretrainConfig()
    if args.steps is not None:
        if not 1 <= args.steps <= 1_000_000:
            raise UsageError(f"--steps {args.steps}: allowed is an int in [1, 1000000]")
        config.num_steps = args.steps
    checked_out(args.out)
    out = args.out or pretraining.CHECKPOINT_DIR
    start = time.perf_counter()
    command_line = "course pretrain" + (f" --steps {args.steps}" if args.steps is not None else "")
    path = pretraining.make(config, out, command=command_line)
    print(f"pretrained checkpoints and {path.name} in {out} ({time.perf_counter() - start:.0f} s)")
    return 0


def study_arguments(config: type) -> Arguments:
    """A study's options: one per config field that has a flag, and --out."""

    def add(parser: argparse.ArgumentParser) -> None:
        for f in studies.options(config):
            flag, help = f.metadata["flag"], f.metadata["help"]
            parser.add_argument(flag, type=int, default=None, help=f"{help} (default: {f.default})")
        where = f"another folder for {config.results.name}, outside the course's own (default: results/)"
        parser.add_argument("--out", type=Path, default=None, help=where)

    return add


def study_config(name: str, args: argparse.Namespace):
    """The study's config from its options (each checked against its range), or UsageError."""
    config, _ = STUDIES[name]
    given = {}
    for f in studies.options(config):
        value = getattr(args, f.name)
        low, high = f.metadata["range"]
        if value is not None and not low <= value <= high:
            note = f" ({f.metadata['note']})" if f.metadata["note"] else ""
            raise UsageError(f"{f.metadata['flag']} {value}: allowed is an int in [{low}, {high}]{note}")
        if value is not None:
            given[f.name] = value
    return config(**given), "".join(f" {studies.flag_of(config, k)} {v}" for k, v in given.items())


def cmd_study(args: argparse.Namespace) -> int:
    """`course pretrain-more`, `course finetune-all` and `course peft`: one of Part IV's long studies."""
    config, options = study_config(args.command, args)
    checked_out(args.out)
    with resume.study_lock(config, args.out) as lock:  # a second run of it at once stops here, in one line
        if lock.stale_pid:
            print(f"an earlier {config.command} (process {lock.stale_pid}) was stopped before it finished")
        result, path = run_study(args, config, options)
    print(f"{path} ({result['total_seconds']:.0f} s)")
    return 0


def run_study(args: argparse.Namespace, config: Any, options: str) -> tuple[dict, Path]:
    """Run one study (its lock held), write its results; return them and where they went."""
    from helpers import pretraining
    from helpers.progress import say
    from helpers.tf_quiet import import_tensorflow

    path = config.results if args.out is None else args.out / config.results.name
    import_tensorflow(quiet_retracing=True)  # before Keras: without its start-up log
    run = STUDIES[args.command][1]
    # a study that can resume keeps each finished unit (course.resume) until its results are written
    partial = resume.Partial(resume.partial_path(config.results, args.out))
    resumable = {"partial": partial} if "partial" in inspect.signature(run).parameters else {}
    try:
        pretraining.read_provenance()
        result = run(config, studies.course_texts(), report=say, **resumable)
    except pretraining.CheckpointError as err:
        raise UsageError(str(err)) from None
    studies.write(result, config.command + options, path)
    if resumable:
        partial.remove()
    return result, path


for _name, (_config, _) in STUDIES.items():
    command(_name, _config.help, study_arguments(_config))(cmd_study)


def same_files(recorded: object, current: dict, reads: tuple[str, ...] | None) -> bool:
    """Whether a results file's recorded SHA-256 (`recorded`) are `current`'s for every file the study
    reads (`reads`; None: every file of data/pretrained/)."""
    if not isinstance(recorded, dict):
        return False
    if reads is None:
        return recorded == current
    return all(name in current and recorded.get(name) == current[name] for name in reads)


def study_states(
    current: dict | None, paths: dict[str, Path] | None = None, reads: dict[str, tuple[str, ...] | None] | None = None
) -> list[tuple[str, str, dict | None]]:
    """(name, state, results) of every study, in `STUDIES` order. The state: "current" when its results
    file records, for every file of data/pretrained/ the study reads, the SHA-256 in `current`,
    "other checkpoints" when it records others (after `make pretrain`: run it again), "missing" or
    "unreadable" when there is no file it can be read from. `paths`: each study's results file;
    `reads`: the files each reads (default: its config's `reads`, every file when it has none — a
    study that pretrains its own models, `course.masked_ablation`'s, reads only the vocabulary)."""
    from helpers.results import read_results

    paths = paths or {name: config.results for name, (config, _) in STUDIES.items()}
    reads = reads or {name: getattr(config, "reads", None) for name, (config, _) in STUDIES.items()}
    states = []
    for name, path in paths.items():
        try:
            result = read_results(path)
        except (OSError, ValueError):  # not JSON, not UTF-8, not a file
            states.append((name, "unreadable", None))
            continue
        recorded = (result or {}).get("checkpoints") if isinstance(result, dict) else None
        state = "missing" if result is None else "other checkpoints"
        files = recorded.get("files_sha256") if isinstance(recorded, dict) else None
        if current is not None and same_files(files, current, reads.get(name)):
            state = "current"
        states.append((name, state, result if isinstance(result, dict) else None))
    return states


FULL_SIZE = "10_pretraining_then_finetuning"  # the notebook whose full-size run reads the checkpoints


def full_size_state(current: dict | None, path: Path | None = None) -> tuple[str, dict]:
    """(state, results) of notebook 10's full-size run in results/full_size.json (`path`), in
    `study_states`' words: "current" when the SHA-256 the run recorded (notebook 10 records
    `checkpoints_sha256`) are `current`, "other checkpoints" when they differ or were not recorded
    (runs before it was), "missing" or "unreadable" without an entry. The results, as `run_in_turn`
    reads a study's: its command and its seconds."""
    from helpers.results import FULL_RESULTS, load_full_results

    as_study = {"command": f"course results-full {FULL_SIZE[:2]}"}
    try:
        entry = (load_full_results(path or FULL_RESULTS) or {}).get("notebooks", {}).get(FULL_SIZE)
    except (OSError, ValueError, AttributeError):  # not JSON, not UTF-8, not a dict
        return "unreadable", as_study
    if not isinstance(entry, dict):
        return "missing", as_study
    recorded = (entry.get("records") or {}).get("checkpoints_sha256")
    state = "current" if current is not None and same_files(recorded, current, None) else "other checkpoints"
    return state, {**as_study, "made": entry.get("made", "-"), "total_seconds": entry.get("seconds")}


def recorded_command(name: str, result: dict | None) -> list[str]:
    """The command line that made a study's results (its options kept: `course peft --updates 100`),
    as arguments of `course`; the study's plain command when none was recorded, or when the one
    recorded is not this study's or wrote elsewhere (--out)."""
    try:
        words = shlex.split(str((result or {}).get("command", "")))
    except ValueError:  # not a command line (an unclosed quote)
        words = []
    if words[:2] != ["course", name] or "--out" in words:
        return [name]
    return words[1:]


def studies_arguments(parser: argparse.ArgumentParser) -> None:
    what = "make again, one after another, every study not made from data/pretrained/'s checkpoints"
    parser.add_argument("--run", action="store_true", help=what)


@command("studies", "Part IV's studies: which come from data/pretrained/'s checkpoints (--run: make the others)",
         studies_arguments)  # fmt: skip
def cmd_studies(args: argparse.Namespace) -> int:
    """`course studies [--run]`: the table of `study_states`, what is left to make and its time by
    the last runs; with --run, `run_in_turn`."""
    from helpers import pretraining
    from helpers.display import format_table

    try:
        current = pretraining.read_provenance()["files_sha256"]
    except pretraining.CheckpointError as err:
        raise UsageError(str(err)) from None
    full_state, full = full_size_state(current)
    states = [*study_states(current), ("results-full", full_state, full)]  # notebook 10 at full size
    rows = [[f"make {name}" if name in STUDIES else full["command"], str((r or {}).get("made", "-"))[:16],
             f"{seconds_of(r) / 60:.0f} min" if seconds_of(r) else "-", state]
            for name, state, r in states]  # fmt: skip
    print(format_table(["study", "made (UTC)", "took", "checkpoints"], rows))
    todo = [(name, r) for name, state, r in states if state != "current"]
    if not todo:
        print(f"all {len(states) - 1} studies and notebook 10's full-size run were made from the files of "
              "data/pretrained/ they read")  # fmt: skip
        return 0
    known = [seconds_of(r) for _, r in todo if seconds_of(r)]
    print(f"{len(todo)} of {len(states)} to make again: {', '.join(name for name, _ in todo)} "
          f"(about {sum(known) / 3600:.1f} h on the machine of their last runs"
          f"{'' if len(known) == len(todo) else ', more for those never made'})")  # fmt: skip
    if not args.run:
        print("`make studies-run` (course studies --run) makes them again, one after another")
        return 0
    return run_in_turn(todo)


def seconds_of(result: dict | None) -> float:
    """How long a study's last run took (its results' total_seconds), 0 when not recorded."""
    seconds = (result or {}).get("total_seconds")
    return float(seconds) if isinstance(seconds, int | float) and seconds > 0 else 0.0


def run_in_turn(todo: list[tuple[str, dict | None]]) -> int:
    """Each study of `todo` as its results were made (`recorded_command`), one after another, with
    the time left by their last runs; stops at the first that fails, with its exit code."""
    from course.cli import main
    from helpers.progress import say

    start, seconds = time.perf_counter(), [seconds_of(r) for _, r in todo]
    for k, (name, result) in enumerate(todo):
        words = recorded_command(name, result)
        left = sum(seconds[k:]) / 60
        say(f"[{k + 1}/{len(todo)}] course {shlex.join(words)}: about {left:.0f} min left by the last runs")
        try:
            code = main(words)
        except SystemExit as end:  # argparse refused the recorded options (a study's flags changed since)
            code = end.code if isinstance(end.code, int) else 2
        if code:
            say(f"course {shlex.join(words)} failed (exit {code}); the studies after it were not run")
            return code
    say(f"made again: {len(todo)} studies in {(time.perf_counter() - start) / 60:.0f} min")
    return 0


def results_full_arguments(parser: argparse.ArgumentParser) -> None:
    notebooks_argument(parser, "06 07 08")
    scheduler_options(parser)


@command(
    "results-full",
    "run notebooks with their full profile into results/full_size.json (default: Part III; `10` for Part IV)",
    results_full_arguments,
)
def cmd_results_full(args: argparse.Namespace) -> int:
    from course import full_results

    if problems := scheduler_problems(args):
        raise UsageError("\n".join(problems))
    return full_results.make(args.notebooks, args.scheduler, args.scheduler_file)
