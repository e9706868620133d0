"""Repository checks: one environment for pip and conda, and notebooks that follow the course
conventions (README, "Contributing")."""

from __future__ import annotations

import ast
import importlib.metadata
import json
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import yaml

from helpers.params import notebook_spec
from helpers.paths import REPO_ROOT, notebook_paths

NOTEBOOKS = notebook_paths()


def pins(path: Path) -> dict[str, str]:
    out = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, sep, version = line.partition("==")
            assert sep, f"{path.name}: {line!r} is not pinned with =="
            out[name.lower().replace("_", "-")] = version
    return out


def test_lock_contains_every_direct_pin_at_the_same_version():
    direct, lock = pins(REPO_ROOT / "requirements.in"), pins(REPO_ROOT / "requirements.txt")
    for name, version in direct.items():
        assert lock.get(name) == version, f"{name}: requirements.in says {version}, lock says {lock.get(name)}"


def test_every_direct_dependency_says_why():
    for line in (REPO_ROOT / "requirements.in").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            assert "#" in line and len(line.split("#", 1)[1].strip()) > 10, f"no reason given: {line!r}"


def third_party_imports() -> dict[str, set[str]]:
    """Top-level module → files importing it, over the packages, the tests and the notebooks' code."""
    found: dict[str, set[str]] = {}
    sources = [
        (p, p.read_text(encoding="utf-8"))
        for d in ("helpers", "course", "tests")
        for p in REPO_ROOT.glob(f"{d}/**/*.py")
    ]
    for path in notebook_paths():
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
        sources.append(
            (path, "\n".join(line for line in code.splitlines() if not line.lstrip().startswith(("%", "!"))))
        )
    for path, source in sources:
        for node in ast.walk(ast.parse(source)):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and top not in ("helpers", "course", "tests"):
                    found.setdefault(top, set()).add(path.name)
    return found


def test_every_package_imported_directly_is_declared_with_its_reason():
    """A package the code imports is a direct dependency, whatever else happens to pull it in."""
    direct = pins(REPO_ROOT / "requirements.in")
    distributions = importlib.metadata.packages_distributions()
    imports = third_party_imports()
    assert {"numpy", "yaml", "nbconvert"} <= imports.keys(), "the scan finds imports"
    for module, files in sorted(imports.items()):
        names = {d.lower().replace("_", "-") for d in distributions.get(module, [module])}
        assert names & direct.keys(), f"{module} (imported by {sorted(files)[:3]}) is not in requirements.in"


def test_environment_yml_installs_the_same_lock():
    env = yaml.safe_load((REPO_ROOT / "environment.yml").read_text())
    deps = env["dependencies"]
    pip_section = next(d["pip"] for d in deps if isinstance(d, dict))
    assert pip_section == ["-r requirements.txt", "-e ."]
    conda_python = next(d for d in deps if isinstance(d, str) and d.startswith("python="))
    assert conda_python == "python=3.11"
    assert 'requires-python = ">=3.11,<3.12"' in (REPO_ROOT / "pyproject.toml").read_text()
    assert sys.version_info[:2] == (3, 11)


def test_ci_runs_the_readme_test_command():
    assert "make test" in (REPO_ROOT / ".ci" / "run").read_text()
    assert "make test" in (REPO_ROOT / "README.md").read_text()


def test_notebooks_exist_and_are_numbered_in_order():
    assert len(NOTEBOOKS) >= 2
    numbers = [int(p.name[:2]) for p in NOTEBOOKS]
    assert numbers == list(range(1, len(NOTEBOOKS) + 1))
    for p in NOTEBOOKS:
        assert re.fullmatch(r"\d\d_[a-z0-9_]+\.ipynb", p.name)


def cells(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def source(cell: dict) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_reads_as_a_lesson(path):
    all_cells = cells(path)
    title = source(all_cells[0])
    assert all_cells[0]["cell_type"] == "markdown" and title.startswith(f"# {path.name[:2]} · ")
    first_code = next(i for i, c in enumerate(all_cells) if c["cell_type"] == "code")
    opening = "\n".join(source(c) for c in all_cells[:first_code])
    for needed in ("You will be able to", "Prerequisites", "Expected run time"):
        assert needed in opening, f"the opening (before the first code cell) lacks {needed!r}"
    headings = [
        line
        for c in all_cells
        if c["cell_type"] == "markdown"
        for line in source(c).splitlines()
        if line.startswith("## ")
    ]
    assert "## Exercises" in headings and headings[-1] == "## Summary"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_imports_then_parameters_then_one_line_validation(path):
    code = [c for c in cells(path) if c["cell_type"] == "code"]
    assert "parameters" in code[1]["metadata"].get("tags", []), "the second code cell must be tagged 'parameters'"
    imports = ast.parse(source(code[0])).body
    assert all(isinstance(node, (ast.Import, ast.ImportFrom)) for node in imports), "the first code cell only imports"
    assert "from helpers.params import check_parameters" in source(code[0])
    spec = notebook_spec(path)
    for name, param in spec.items():
        assert len(param.doc) > 5, f"{name}: say what the parameter means"
    assert source(code[2]) == f'check_parameters("{path.stem}", globals())'


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_stored_outputs_are_complete_clean_and_in_order(path):
    code = [c for c in cells(path) if c["cell_type"] == "code"]
    counts = [c["execution_count"] for c in code]
    assert counts == list(range(1, len(code) + 1)), "re-run top to bottom: `make refresh NB=..`"
    for c in code:
        for out in c["outputs"]:
            assert out["output_type"] != "error", f"stored error: {out.get('ename')}"
            text = "".join(out.get("text", ""))
            assert "absl::" not in text and "cuda" not in text.lower(), "TensorFlow start-up log stored"
            assert "image/svg+xml" not in out.get("data", {}), "SVG figures are compared by nbval: use PNG"
            plain = "".join(out.get("data", {}).get("text/plain", ""))
            assert not re.search(r" at 0x[0-9a-f]{6,}", plain + text), "a memory address is stored"


def test_notebooks_are_tidy_and_generated_cells_current():
    """Slide metadata, navigation, glossary links and metadata: `course tidy --check` changes nothing."""
    result = subprocess.run([sys.executable, "-m", "course", "tidy", "--check"], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    for path in NOTEBOOKS:
        nav = [c for c in cells(path) if "course-nav" in c["metadata"].get("tags", [])]
        assert len(nav) == 2 and "(you are here)" in source(nav[0])


def test_tidy_joins_a_cells_stream_chunks_and_nothing_else():
    """Printing that arrived in two chunks is stored as one output; stdout and stderr stay apart."""
    from course.notebooks import joined_streams

    out = nbformat.v4.new_output
    outputs = [out("stream", name="stdout", text="a"), out("stream", name="stdout", text="\n")]
    outputs += [out("stream", name="stderr", text="w"), out("stream", name="stdout", text="b")]
    joined = joined_streams(outputs)
    assert [(o.name, o.text) for o in joined] == [("stdout", "a\n"), ("stderr", "w"), ("stdout", "b")]


def test_readme_lists_every_notebook():
    readme = (REPO_ROOT / "README.md").read_text()
    for path in NOTEBOOKS:
        assert f"(notebooks/{path.name})" in readme, f"README's course table lacks {path.name}"


NBVAL_TAGS = {"nbval-ignore-output", "nbval-skip", "nbval-check-output", "raises-exception"}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_nbval_markers_are_tags_not_code(path):
    """Learners never see test machinery: nbval's markers are cell tags, not `# NBVAL_...` lines."""
    for c in cells(path):
        assert "NBVAL_" not in source(c), f"an nbval comment in the code: {source(c)[:80]!r}"
    tags = {t for c in cells(path) for t in c["metadata"].get("tags", [])}
    assert tags & NBVAL_TAGS <= NBVAL_TAGS
    assert not {t for t in tags if t.startswith("nbval") or t.startswith("NBVAL")} - NBVAL_TAGS, "unknown nbval tag"


def test_every_notebook_states_a_run_time_within_the_budget():
    """The title cell promises "under N s"; `course run` checks it against what it measures.
    The course's budget: every notebook under 90 s, 01 and 02 under 15 s, on 2 cores."""
    from course.runner import stated_budget
    from helpers.paths import notebook_paths

    for path in notebook_paths():
        budget = stated_budget(path)
        assert budget is not None, f"{path.name}: no '**Expected run time:** under N s' in its title cells"
        assert budget <= (15 if path.name[:2] in ("01", "02") else 90), (path.name, budget)


DOC_PATH = re.compile(r"(?<![\w./-])((?:notebooks|helpers|course|tests|data|results|\.ci)/[\w./-]*\w)")


def test_every_path_named_in_docs_and_docstrings_exists():
    """A file or folder the README, the Makefile, a docstring or a notebook names is there
    (patterns such as `notebooks/NN_slug.ipynb` or `tests/unit/test_*.py` are not paths)."""
    skip = {"test_cli_inputs.py", "test_repository.py"}  # hostile inputs; this test's own examples
    places = [REPO_ROOT / "README.md", REPO_ROOT / "Makefile", REPO_ROOT / "data" / "README.md"]
    places += [p for d in ("helpers", "course", "tests") for p in REPO_ROOT.glob(f"{d}/**/*.py") if p.name not in skip]
    places += [*NOTEBOOKS, REPO_ROOT / "notebooks" / "glossary.md"]
    missing = []
    for place in places:
        for match in DOC_PATH.finditer(place.read_text(encoding="utf-8")):
            path = match.group(1).rstrip(".")
            if "NN" not in path and not path.endswith("_") and not (REPO_ROOT / path).exists():
                missing.append(f"{place.relative_to(REPO_ROOT)}: {path}")
    assert not missing, missing


@pytest.mark.parametrize("package", ["helpers", "course", "course/commands", "helpers/exercises"])
def test_each_package_docstring_lists_its_modules(package):
    """The module list at the top of a package's `__init__.py` names every module in it."""
    folder = REPO_ROOT / package
    docstring = ast.get_docstring(ast.parse((folder / "__init__.py").read_text(encoding="utf-8"))) or ""
    listed = set(re.findall(r"\b(\w+)(?=,|  )", docstring))  # a name column: `name, ...` or `name   what`
    modules = {p.stem for p in folder.glob("*.py") if p.stem not in ("__init__", "__main__")}
    assert not modules - listed, f"{package}/__init__.py does not list {sorted(modules - listed)}"


LONG_FUNCTIONS = {  # allowed over MAX_FUNCTION_LINES, with the reason
    "helpers/rnn.py:lstm_classifier_loss_and_grads": "notebook 04 shows it whole: the reverse pass in one piece",
}
MAX_FUNCTION_LINES = 60


def test_no_function_in_the_packages_is_longer_than_a_screen():
    """Short functions (nanoGPT's rule of thumb): none in `course/` or `helpers/` over 60 lines
    but the ones allowed above."""
    long = []
    for path in sorted([*REPO_ROOT.glob("course/**/*.py"), *REPO_ROOT.glob("helpers/**/*.py")]):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                name = f"{path.relative_to(REPO_ROOT)}:{node.name}"
                if node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES and name not in LONG_FUNCTIONS:
                    long.append(f"{name} ({node.end_lineno - node.lineno + 1} lines)")
    assert not long, long


def test_durations_and_deadlines_use_a_monotonic_clock():
    """`time.time()` is the wall clock, which the system may step while a test runs (a suite run
    here saw it advance 16.7 s in a test that took 13.5 s): every duration and deadline in the
    tests and packages uses `time.monotonic()` or `time.perf_counter()`."""
    sources = [*REPO_ROOT.glob("course/**/*.py"), *REPO_ROOT.glob("helpers/**/*.py"), *REPO_ROOT.glob("tests/**/*.py")]
    here = Path(__file__).resolve()
    wall = [p.name for p in sources if p.resolve() != here and "time.time()" in p.read_text(encoding="utf-8")]
    assert not wall, wall


def test_the_command_line_lists_every_command_in_its_usage():
    """`course --help` and the usage at the top of course/cli.py name the same commands."""
    from course import cli
    from course.commands import COMMANDS

    usage = set(re.findall(r"^    course ([a-z-]+)", cli.__doc__, flags=re.M))
    assert usage == set(COMMANDS) == set(cli.ORDER)


def test_make_help_lists_every_make_target_the_readme_names():
    """`make help` prints the Makefile's whole comment block (it once stopped at a fixed line and
    left out the two newest studies), and every `make TARGET` the README names is in it."""
    done = subprocess.run(["make", "-s", "help"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    listed = set(re.findall(r"^\s*make ([a-z-]+)", done.stdout, flags=re.M))
    named = set(re.findall(r"`make ([a-z-]+)", (REPO_ROOT / "README.md").read_text(encoding="utf-8")))
    assert named <= listed, sorted(named - listed)
    header = (REPO_ROOT / "Makefile").read_text(encoding="utf-8").split("\n\n", 1)[0]
    assert len(done.stdout.splitlines()) == len(header.splitlines()) - 1  # all but its first line


def test_every_command_prints_its_help():
    """`course --help` and `course COMMAND --help` print and exit 0: argparse formats help strings
    with %, so a stray "%" in one (say "40 %") would turn the help into a traceback."""
    import contextlib
    import io

    from course import cli
    from course.commands import COMMANDS

    for args in (["--help"], *([name, "--help"] for name in COMMANDS)):
        out = io.StringIO()
        with contextlib.redirect_stdout(out), pytest.raises(SystemExit) as exit_:
            cli._parser().parse_args(args)
        assert exit_.value.code == 0 and "usage: course" in out.getvalue(), args
