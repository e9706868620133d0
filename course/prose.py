"""Numbers in the prose must come from the page: the check behind `tests/unit/test_prose.py`
(and, for the README's results, `readme_results_not_shown` at the end).

Every number of three or more significant digits in a notebook's markdown must be one of:

- a number its outputs show (at the digits written; a percentage also matches a fraction:
  "97.5 %" matches 0.975), the recorded results included;
- a default in its `parameters` cell (the configuration the page states);
- a number in a committed results file that the same markdown cell names
  (`results/full_size.json`, made by `make results-full`);
- a number declared in the notebook's metadata under `course.declared_numbers`, with where it
  comes from: one of the source's own numbers, with its section ("0.928": "§5.2, the claimed
  output"), or part of a name ("1998": "the corpus: People's Daily, January 1998").

Significant digits: leading zeros never count, and an integer's trailing zeros do not either
(so 100, 0.025 and 2000 are exempt; 0.0821, 128 and 13,884 are checked). A number inside code
(inline or fenced), a link target, an HTML tag or a `§` section reference is not prose.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from helpers.paths import REPO_ROOT

MIN_SIGNIFICANT = 3
NUMBER = re.compile(r"(?<![\w.§])(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?(?![\w])(\s?%)?")
NOT_PROSE = re.compile(r"```.*?```|`[^`]*`|\]\([^)]*\)|<[^>]+>|§\s?\d+(?:\.\d+)*|https?://\S+", re.S)
RESULTS_FILE = re.compile(r"results/[\w.-]+\.json")


@dataclass(frozen=True)
class ProseNumber:
    """A number as written in prose: its value, decimals written, and whether it is a percentage."""

    text: str
    value: Decimal
    decimals: int
    percent: bool

    @property
    def significant(self) -> int:
        digits = str(self.value.copy_abs()).replace(".", "").lstrip("0")
        if self.decimals == 0:
            digits = digits.rstrip("0")
        return len(digits)


def prose_numbers(markdown: str) -> list[ProseNumber]:
    """The numbers written in a markdown text (link targets, HTML tags and § references removed)."""
    text = NOT_PROSE.sub(" ", markdown)
    found = []
    for m in NUMBER.finditer(text):
        whole, fraction, percent = m.group(1).replace(",", ""), m.group(2), m.group(3)
        value = Decimal(f"{whole}.{fraction}" if fraction else whole)
        found.append(ProseNumber(m.group(0).strip(), value, len(fraction or ""), bool(percent)))
    return found


def numbers_in(text: str) -> set[Decimal]:
    """Every number in a text (outputs, code, a results file), as exact decimals, signs dropped."""
    out = set()
    for token in re.findall(r"\d[\d,]*(?:\.\d+)?(?:[eE][-+]?\d+)?", text):
        try:
            out.add(Decimal(token.replace(",", "")))
        except InvalidOperation:
            continue
    return out


def _json_numbers(value: Any) -> set[Decimal]:
    if isinstance(value, bool):
        return set()
    if isinstance(value, (int, float)):
        return {Decimal(repr(abs(value)))}
    if isinstance(value, dict):
        return set().union(*(_json_numbers(v) for v in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(_json_numbers(v) for v in value)) if value else set()
    return numbers_in(value) if isinstance(value, str) else set()


def matches(number: ProseNumber, candidates: set[Decimal]) -> bool:
    """True when some candidate, rounded to the decimals written (or as a percentage), is it."""
    quantum = Decimal(1).scaleb(-number.decimals)
    target = number.value
    for x in candidates:
        for scaled in (x, x * 100):
            try:
                if scaled.quantize(quantum, rounding="ROUND_HALF_EVEN") == target or scaled == target:
                    return True
                if scaled.quantize(quantum, rounding="ROUND_HALF_UP") == target:
                    return True
            except InvalidOperation:  # too many digits to round this way (e.g. 8.2e+307): not it
                continue
    return False


def _source(cell: dict) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def page_numbers(nb: dict) -> set[Decimal]:
    """Every number the notebook's outputs show, and the defaults of its parameters cell."""
    found: set[Decimal] = set()
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        if "parameters" in cell.get("metadata", {}).get("tags", []):
            found |= numbers_in(_source(cell))
        for out in cell.get("outputs", []):
            for text in _printed(out, ("text/plain", "text/markdown", "text/html")):
                found |= numbers_in(text)
            if "application/json" in out.get("data", {}):
                found |= _json_numbers(out["data"]["application/json"])
    return found


def _printed(out: dict, kinds: tuple[str, ...]) -> list[str]:
    """What one output of a code cell shows as text: its stream text, then each of its `kinds`."""
    data = out.get("data", {})
    return ["".join(out.get("text", "")), *("".join(data.get(kind, "")) for kind in kinds)]


@dataclass(frozen=True)
class Unsourced:
    cell: int
    number: str
    context: str

    def __str__(self) -> str:
        return f"cell {self.cell}: {self.number!r} in “…{self.context}…”"


def unsourced_numbers(path: Path) -> list[Unsourced]:
    """The prose numbers of the notebook at `path` that nothing on the page, no named results
    file and no declared source number accounts for."""
    nb = json.loads(Path(path).read_text(encoding="utf-8"))
    on_page = page_numbers(nb)
    declared = {Decimal(k) for k in nb.get("metadata", {}).get("course", {}).get("declared_numbers", {})}
    problems = []
    for index, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "markdown" or "course-nav" in cell.get("metadata", {}).get("tags", []):
            continue
        text = _source(cell)
        named = set()
        for name in set(RESULTS_FILE.findall(text)):
            results = REPO_ROOT / name
            if results.exists():
                named |= _json_numbers(json.loads(results.read_text(encoding="utf-8")))
        for number in prose_numbers(text):
            if number.significant < MIN_SIGNIFICANT:
                continue
            if number.value in declared or matches(number, on_page | named):
                continue
            at = text.find(number.text)
            context = " ".join(text[max(0, at - 40) : at + len(number.text) + 20].split())
            problems.append(Unsourced(index, number.text, context))
    return problems


# The source article's sections (the first, complete chunk of shared/seed/000_242c87319029b4d0.txt):
SOURCE_SECTIONS = frozenset(
    "1 2 2.1 2.2 2.3 2.4 2.5 3 3.1 3.2 3.3 3.4 4 4.1 4.2 4.3 5 5.1 5.2 5.3 6 7 7.1 7.2 8 9 9.1 9.2 9.3 10".split()
)
SECTION_REF = re.compile(r"\b[Ss]ections? (\d+)(?!\.\d)(?:\s?(?:[–-]|and|or)\s?(\d+))?")
EXERCISE_REF = re.compile(r"\b[Ee]xercises? (\d+)(?:\s?(?:[–-]|and|or)\s?(\d+))?")
SOURCE_REF = re.compile(r"§\s?(\d+(?:\.\d+)?)(?:\s?[–-]\s?(\d+(?:\.\d+)?))?")
OTHER_NOTEBOOK = re.compile(r"notebook (\d\d)(?:'s)?[^.\n]{0,12}$")


def headings(nb: dict, level: str) -> set[str]:
    """The numbers of a notebook's `## N · …` sections (level "##") or `### Exercise N` headings."""
    found = set()
    for cell in nb["cells"]:
        if cell["cell_type"] != "markdown":
            continue
        for line in _source(cell).splitlines():
            m = re.match(r"## (\d+) · ", line) if level == "##" else re.match(r"### Exercise (\d+) · ", line)
            if m:
                found.add(m.group(1))
    return found


def broken_references(path: Path, all_notebooks: dict[str, dict] | None = None) -> list[Unsourced]:
    """References in the notebook at `path` to a section or an exercise that does not exist:
    `section N` (of this notebook, or of `notebook NN` just before it), `exercise N`, and the
    source's `§N.M`."""
    nb = json.loads(Path(path).read_text(encoding="utf-8"))
    others = all_notebooks or {}
    problems = []
    for index, cell in enumerate(nb["cells"]):
        if "course-nav" in cell.get("metadata", {}).get("tags", []):
            continue
        text = _source(cell)
        for pattern, kind in ((SECTION_REF, "##"), (EXERCISE_REF, "###")):
            for m in pattern.finditer(text):
                target = nb
                other = OTHER_NOTEBOOK.search(text[max(0, m.start() - 30) : m.start()])
                if other and kind == "##":
                    target = others.get(other.group(1), nb)
                known = headings(target, kind)
                wanted = {m.group(1), *(m.group(2),) * bool(m.group(2))}
                if m.group(2) and pattern is SECTION_REF:  # a range: every section in it
                    wanted = {str(k) for k in range(int(m.group(1)), int(m.group(2)) + 1)}
                for number in sorted(wanted - known):
                    what = "section" if kind == "##" else "exercise"
                    problems.append(Unsourced(index, f"{what} {number}", m.group(0)))
        for m in SOURCE_REF.finditer(text):
            for number in filter(None, m.groups()):
                if number not in SOURCE_SECTIONS:
                    problems.append(Unsourced(index, f"§{number}", m.group(0)))
    return problems


RESULT = re.compile(r"(?<![\w.])([+-]?)(\d+\.\d+)(?![\w])")  # "+4.5", "-2.1", "0.626" (after − → -)


def _outputs_text(nb: dict) -> str:
    """Everything a notebook's code cells print, as text."""
    outputs = [out for cell in nb["cells"] if cell["cell_type"] == "code" for out in cell.get("outputs", [])]
    return "\n".join(text for out in outputs for text in _printed(out, ("text/plain", "text/markdown")))


def readme_results_not_shown(readme: str, pages: list[dict]) -> list[str]:
    """The README's results that no notebook prints (`tests/unit/test_prose.py`). The README reads
    its verdicts off the pages, so every signed decimal of its prose ("+4.5", "−2.1 to −0.7": a
    difference, in points or nats) must appear with its sign in some notebook's stored outputs,
    and every score written with three or more decimals ("0.626") must appear there with either
    sign. A number a rerun changed on the page, and not in the README, is caught — unless the old
    number happens to be printed somewhere else too: this is a net, not a proof."""
    printed = list(RESULT.finditer("\n".join(_outputs_text(nb) for nb in pages).replace("−", "-")))
    shown, unsigned = {m.group(0) for m in printed}, {m.group(2) for m in printed}
    missing = []
    for m in RESULT.finditer(NOT_PROSE.sub(" ", readme.replace("−", "-"))):
        sign, number = m.groups()
        if sign and m.group(0) not in shown:
            missing.append(m.group(0))
        elif not sign and len(number.split(".")[1]) >= 3 and number not in unsigned:
            missing.append(number)
    return list(dict.fromkeys(missing))
