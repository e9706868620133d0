"""`course`: run, inspect, sweep and look after the course notebooks.

    course run [NOTEBOOK ...] [-p NAME VALUE ...] [-f params.yaml] [--profile NAME] [--jobs N] [--out DIR]
    course params NOTEBOOK
    course sweep NOTEBOOK --grid NAME=V1,V2 [--grid ...] [-p ...] [-f ...] [--profile NAME] [--jobs N] [--out DIR]
                 [--scheduler ADDRESS|local[:N] | --scheduler-file FILE] [--large] [--y RESULT]
    course tidy [--check]          slide metadata, navigation, glossary links, tidy metadata
    course refresh [NOTEBOOK ...]  re-execute notebooks in place (their stored outputs)
    course student [--out DIR] [--reset NOTEBOOK ...]   the student edition (no solutions); your edits are kept
    course slides [--out DIR]      reveal.js decks that work offline
    course check-slides [--out DIR] [--shots DIR]   build the decks, then measure every slide in Chromium
    course setup-browser           install Debian's chromium and CJK fonts once (root)
    course pretrain [--steps N] [--out DIR]   Part IV's pretrained checkpoints (data/pretrained/), with provenance
    course pretrain-more [--steps N] [--out DIR]   Part IV: more pretraining, two ways (results/pretrain_more.json)
    course finetune-all [--epochs N] [--patience N] [--frozen-epochs N] [--max-len L] [--out DIR]
                                   Part IV: every start fine-tuned on every review, stopped on validation
    course peft [--seeds N] [--updates N] [--max-len L] [--out DIR]   notebook 12's comparison (results/peft.json)
    course direction-controls [--seeds N] [--updates N] [--max-len L] [--out DIR]   Part IV: is it the second
                                   direction? (results/direction_controls.json)
    course pretrain-seeds [--seeds N] [--steps N] [--ft-seeds N] [--updates N] [--max-len L] [--out DIR]
                                   Part IV: three pretraining seeds (results/pretrain_seeds.json)
    course label-curve [--seeds N] [--updates N] [--out DIR]   Part IV: notebook 10 §6's readers at 100 and 1,000
                                   labels (results/label_curve.json)
    course tagger-sizes [--seeds N] [--epochs N] [--out DIR]   Part IV: notebook 10 §6's tagger sizes chosen on
                                   validation (results/tagger_sizes.json)
    course masked-ablation [--seeds N] [--steps N] [--warmup N] [--ft-seeds N] [--updates N] [--out DIR]
                                   Part IV: the masked objective's recipes (results/masked_ablation.json)
    course masked-corruption [--seeds N] [--steps N] [--ft-seeds N] [--updates N] [--out DIR]
                                   Part IV: [MASK] only or BERT's 80/10/10 (results/masked_corruption.json)
    course forward-pre-norm [--seeds N] [--steps N] [--ft-seeds N] [--updates N] [--out DIR]
                                   Part IV: the forward objective, post-norm or pre-norm (results/forward_pre_norm.json)
    course studies [--run]         Part IV: which studies were made from data/pretrained/'s checkpoints;
                                   --run makes the others again, one after another
    course results-full [NOTEBOOK ...]   full-size runs (default Part III; 10 for Part IV): results/full_size.json
    course bench {runner,classroom,tests}   benchmarks that print figures
    course site [--out DIR]        the course as a static website in build/site/ (offline)

NOTEBOOK is a file name, a stem (`02_gradient_descent_by_hand`) or a number (`02`). Values follow
papermill's `-p` rules (True/False/None, int, float, else text); a list is written `"[1, 2]"`.
Bad input - an unknown notebook, profile or parameter name, a wrong type, an out-of-range value -
is rejected with exit status 2 and one line per problem, before any kernel starts. Also available
as `python -m course`.
"""

from __future__ import annotations

import argparse
import errno
import os
import signal
import sys
from typing import Any

from course import inputs
from course.commands import COMMANDS, making, part4, running  # noqa: F401 (importing registers them)
from course.runner import UsageError
from helpers.params import ParameterError, SpecError

# the order of `course --help`, as in the usage above
ORDER = (
    "run", "params", "sweep", "tidy", "refresh", "student", "slides", "check-slides", "setup-browser",
    "pretrain", "pretrain-more", "finetune-all", "peft", "direction-controls", "pretrain-seeds", "label-curve",
    "tagger-sizes", "masked-ablation", "masked-corruption", "forward-pre-norm", "studies",
    "results-full",
    "bench", "site",
)  # fmt: skip


def _parser() -> argparse.ArgumentParser:
    """The parser: one subcommand per entry of `COMMANDS`, each declaring its own options."""
    parser = argparse.ArgumentParser(
        prog="course",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Run `course COMMAND --help` for a command's options.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for name in sorted(COMMANDS, key=lambda n: ORDER.index(n) if n in ORDER else len(ORDER)):
        COMMANDS[name].arguments(sub.add_parser(name, help=COMMANDS[name].help))
    return parser


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt  # SIGTERM stops a run or a sweep exactly as Ctrl-C does


def _empty_out(argv: list[str]) -> bool:
    """`--out ''` (argparse would read it as the current folder)."""
    pairs = zip(argv, [*argv[1:], None])
    return any((a == "--out" and b is not None and not b.strip()) or a.strip() == "--out=" for a, b in pairs)


def _tolerant_streams() -> None:
    """An ASCII-only terminal (`PYTHONIOENCODING=ascii`) prints `\\u00e9` instead of a traceback,
    and each line goes out when it is printed, into a pipe or a log file too (`make studies | tee
    log`, `nohup`): Python would otherwise hold them in an 8 KB buffer until it filled or the
    command ended (for a study's few progress lines, the end), and a silent minute looks like a hang."""
    for stream in (sys.stdout, sys.stderr):
        if stream is not None and hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace", line_buffering=True)


def main(argv: list[str] | None = None) -> int:
    _tolerant_streams()
    argv = sys.argv[1:] if argv is None else argv
    if _empty_out(argv):
        print("course: error: --out '': the folder name is empty", file=sys.stderr)
        return 2
    args = _parser().parse_args(inputs.protect_values(argv))
    command = COMMANDS[args.command].handler
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        code = command(args)
        if sys.stdout is not None:
            sys.stdout.flush()
        return code
    except BrokenPipeError:  # `course params 02 | head -1`: the reader left; end quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # the interpreter's last flush too
        return 1
    except (UsageError, ParameterError, SpecError, inputs.LockedError, FileNotFoundError) as err:
        for line in str(err).splitlines():
            print(f"course {args.command}: error: {line}", file=sys.stderr)
        return 2
    except OSError as err:  # a full disk: one line, and nothing half-written counts as done
        if err.errno not in (errno.ENOSPC, errno.EDQUOT):
            raise
        print(f"course {args.command}: error: {err.strerror} ({err.filename or 'writing'})", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
