"""Decoding and cutting for word segmentation (helpers.segmentation, helpers.elmo): the Viterbi pass
finds the same string as trying every valid one, long sentences are cut at punctuation into pieces
that cover them, and the pieces' tags join back into each sentence's."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from helpers.segmentation import TAGS, is_valid_tagging, sentence_pieces, viterbi_tags

pytestmark = pytest.mark.unit


def best_by_trying_every_string(log_probs: np.ndarray) -> str:
    scored = (
        (sum(log_probs[t, TAGS.index(c)] for t, c in enumerate(tags)), "".join(tags))
        for tags in itertools.product(TAGS, repeat=len(log_probs))
        if is_valid_tagging("".join(tags))
    )
    return max(scored)[1]


@pytest.mark.parametrize("T", [1, 2, 3, 5, 8])
def test_viterbi_finds_the_best_valid_string(T):
    rng = np.random.default_rng(T)
    for _ in range(5):
        log_probs = np.log(rng.dirichlet(np.ones(4) * 0.5, size=T))
        assert viterbi_tags(log_probs) == best_by_trying_every_string(log_probs)


def test_viterbi_repairs_what_the_greedy_choice_breaks():
    # greedy: b then b (invalid); the best valid string is "be"
    log_probs = np.log(np.array([[0.9, 0.0, 0.05, 0.05], [0.6, 0.0, 0.4, 0.0]]) + 1e-12)
    greedy = "".join(TAGS[k] for k in log_probs.argmax(axis=1))
    assert greedy == "bb" and not is_valid_tagging(greedy)
    assert viterbi_tags(log_probs) == "be"


def test_the_check_can_fail():
    """A decoder that ignores the constraints disagrees with trying every string."""
    rng = np.random.default_rng(0)
    disagreements = 0
    for _ in range(20):
        log_probs = np.log(rng.dirichlet(np.ones(4) * 0.5, size=6))
        greedy = "".join(TAGS[k] for k in log_probs.argmax(axis=1))
        disagreements += greedy != best_by_trying_every_string(log_probs)
    assert disagreements > 0


@pytest.mark.parametrize(
    ("text", "max_len", "expected"),
    [
        ("好", 4, [(0, 1)]),
        ("", 4, [(0, 0)]),
        ("ab，cdefgh。ij", 5, [(0, 3), (3, 8), (8, 12)]),  # after "，"; no mark in reach: at max_len
        ("abcdefghijk", 4, [(0, 4), (4, 8), (8, 11)]),
        ("我们。你们。他们", 7, [(0, 6), (6, 8)]),  # the last mark within reach
        ("我们,你们;他们", 7, [(0, 6), (6, 8)]),  # half-width marks, as NFKC leaves them
    ],
)
def test_sentence_pieces_cover_the_text_at_most_max_len_each(text, max_len, expected):
    spans = sentence_pieces(text, max_len)
    assert spans == expected
    assert "".join(text[a:b] for a, b in spans) == text
    assert all(b - a <= max_len for a, b in spans)


def test_long_corpus_sentences_are_cut_at_a_word_end():
    """On the real corpus (NFKC-normalised: half-width commas), pieces end where a word ends."""
    from helpers.corpora import load_segmentation

    long_ones = [(t, g) for t, g in load_segmentation() if len(t) > 64][:300]
    cuts = inside = 0
    for text, tags in long_ones:
        for _, end in sentence_pieces(text, 64)[:-1]:
            cuts += 1
            inside += tags[end - 1] not in "es"
    assert cuts > 300 and inside / cuts < 0.02, (inside, cuts)


def test_pieces_decode_back_into_whole_sentences():
    from helpers.elmo import decode_sentences, piece_rows, tag_ids

    pairs = [("我们走了。你们呢？", "bessssbes"[:9]), ("好", "s")]
    texts, tags, where = piece_rows(pairs, 5)
    assert texts == ["我们走了。", "你们呢？", "好"] and where == [(0, 0), (0, 5), (1, 0)]
    Y = tag_ids(tags, 5)
    probs = np.eye(4)[Y] * 0.9 + 0.025  # confident in the true tags
    greedy, best = decode_sentences(probs, texts, where, len(pairs))
    assert greedy == best == [t for _, t in pairs]


def test_bigrams_pair_each_character_with_the_next():
    from helpers.elmo import bigram_vocab, bigrams, encode_bigrams

    assert bigrams("迈向新") == ["迈向", "向新", "新$"]
    vocab = bigram_vocab(["迈向新", "向新"], 10)
    assert vocab["向新"] == 2  # the most frequent first
    assert encode_bigrams(["迈向", "新x"], vocab, 3).tolist() == [[vocab["迈向"], 1, 0], [1, 1, 0]]


def test_length_batches_visit_every_row_once_in_width_groups():
    from helpers.elmo import length_batches

    lengths = np.array([3, 17, 5, 40, 16, 33, 1, 12])
    batches = length_batches(lengths, 2, np.random.default_rng(0))
    rows = np.concatenate([r for r, _ in batches])
    assert sorted(rows.tolist()) == list(range(len(lengths)))
    for r, width in batches:
        assert width % 32 == 0 and (lengths[r] <= width).all() and (lengths[r] > width - 32).all()
