"""The `course` subcommands: a registry, each command's options declared next to its handler.

    @command("params", "list a notebook's parameters and profiles", params_arguments)
    def cmd_params(args): ...

`course.cli` builds the parser from `COMMANDS` and dispatches. The option groups several commands
share are defined once here. The handlers:

    running   run, params, sweep: the notebooks headless
    making    tidy, refresh, student, slides, check-slides, setup-browser, site, bench
    part4     pretrain, pretrain-more, finetune-all, peft, direction-controls, pretrain-seeds, label-curve,
              results-full
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from course.runner import UsageError

Handler = Callable[[argparse.Namespace], int]
Arguments = Callable[[argparse.ArgumentParser], None]


@dataclass(frozen=True)
class Command:
    """One subcommand: its handler, one line of help and the function that declares its options."""

    handler: Handler
    help: str
    arguments: Arguments


COMMANDS: dict[str, Command] = {}


def command(name: str, help: str, arguments: Arguments = lambda parser: None) -> Callable[[Handler], Handler]:
    """Register `handler` as `course NAME` (its options declared by `arguments`)."""

    def register(handler: Handler) -> Handler:
        COMMANDS[name] = Command(handler, help, arguments)
        return handler

    return register


# --- option groups shared by several commands -----------------------------------------------------


def values_options(parser: argparse.ArgumentParser) -> None:
    """-p NAME VALUE, -f FILE and --profile: the parameter values of `run` and `sweep`."""
    parser.add_argument(
        "-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
        help="set a parameter; repeatable",
    )  # fmt: skip
    parser.add_argument("-f", "--file", action="append", help="YAML file of parameters (name: value); at most one")
    parser.add_argument("--profile", default="teaching", help="named parameter set (default: teaching)")


def scheduler_options(parser: argparse.ArgumentParser) -> None:
    """--scheduler and --scheduler-file: run on Dask instead of local processes."""
    parser.add_argument(
        "--scheduler",
        help="run on Dask: a scheduler address (tcp://host:8786, tls://...) or local[:N] for a LocalCluster",
    )
    parser.add_argument("--scheduler-file", help="run on the Dask scheduler described in this file (HPC launchers)")


def out_option(default: Path | None, where: str) -> Arguments:
    """--out DIR, with its default described as `where`."""

    def add(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--out", type=Path, default=default, help=f"folder (default: {where})")

    return add


def notebooks_argument(parser: argparse.ArgumentParser, default: str = "all") -> None:
    """Zero or more NOTEBOOK names."""
    parser.add_argument("notebooks", nargs="*", help=f"notebooks (default: {default})")


def scheduler_problems(args: argparse.Namespace) -> list[str]:
    """What is wrong with --scheduler / --scheduler-file (course.cluster checks them)."""
    from course.cluster import scheduler_problems as problems

    return problems(args.scheduler, args.scheduler_file)


def make_folder(folder: Path) -> None:
    """Create `folder` (and its parents), or UsageError naming why not."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise UsageError(f"--out {folder}: cannot create it ({err.strerror or err})") from None
