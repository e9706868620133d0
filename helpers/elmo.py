"""ELMo's own recipe, at full data (notebook 10, section 6): the pretrained encoders stay frozen,
their states at every character are computed once and fed, beside embeddings learnt for the
task, into an ordinary task model. For word segmentation that is a BiLSTM tagger, and a Viterbi
pass (`helpers.segmentation.viterbi_tags`) reads a valid tag string off its probabilities:

    h_t = [ E[x_t] ; B[x_t x_{t+1}] ; z_t ],   z_t = the start's frozen state at t (none: no states)
    p(tag_t | x) = softmax(W · BiLSTM(h)_t + b)

`B` embeds each character together with the next one (a character bigram, the classic input of
Chinese segmenters: "向新" rarely sits inside a word). `z_t` is the forward encoder's state (one
way, GPT), the forward and realigned backward states concatenated (two one-way joined, ELMo) or
the masked encoder's state (two-way, BERT); the starts and their checkpoints are
`helpers.finetune`'s. For sentiment a text's states are pooled (`pooled_states`) for a logistic
regression (`probe_probabilities`). Tested in tests/unit/test_segmentation.py and tests/unit/test_elmo.py.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence

import keras
import numpy as np

from helpers.finetune import features
from helpers.models import compile_model
from helpers.segmentation import TAG_IDS, TAGS, sentence_pieces, viterbi_tags
from helpers.text import PAD, UNK, encode

END = "$"  # pairs with a text's last character


def state_reader(
    start: str, max_len: int, pretrained: dict[str, keras.Model], make_scratch: Callable[[], keras.Model]
) -> keras.Model:
    """ids (N, max_len) → the start's states (N, max_len, d): `helpers.finetune.features` as a
    model of its own (for ``scratch``, one untrained encoder: build it once, read every split)."""
    inputs = keras.Input(shape=(max_len,), dtype="int32")
    states, _ = features(start, inputs, pretrained, make_scratch)
    return keras.Model(inputs, states)


def frozen_states(reader: keras.Model, ids: np.ndarray, batch_size: int = 128) -> np.ndarray:
    """The reader's states for every row of `ids`, computed once, as float16 (full data fits in
    memory; the task model reads them as float32)."""
    return reader.predict(ids, batch_size=batch_size, verbose=0).astype(np.float16)


def text_pieces(texts: Sequence[str], length: int) -> tuple[list[str], np.ndarray]:
    """Every text cut into consecutive pieces of at most `length` characters, so that a reader
    with `length` positions sees all of it. Returns (pieces, owner): piece k belongs to text owner[k]."""
    pieces, owner = [], []
    for k, text in enumerate(texts):
        for start in range(0, max(len(text), 1), length):
            pieces.append(text[start : start + length])
            owner.append(k)
    return pieces, np.asarray(owner, dtype=np.int64)


def pooled_states(
    reader: keras.Model,
    pieces: Sequence[str],
    owner: np.ndarray,
    vocab: dict[str, int],
    num_texts: int,
    batch_size: int = 256,
) -> np.ndarray:
    """(num_texts, 3d) = [mean ; max ; last] of each text's states z_t over all its characters:

        mean_i = Σ_t z_t / n_i,   max_i = max_t z_t (per dimension),   last_i = z at the text's last character

    (padding skipped), where the text's pieces (`text_pieces`, in order) are read one by one by
    `reader` (ids (N, L) → states (N, L, d)). A text read as one piece pools exactly as its states
    would; batch by batch, so full data never holds every state at once. Notebook 10, section 6.
    """
    owner = np.asarray(owner, dtype=np.int64)
    if len(owner) != len(pieces) or np.any(np.diff(owner) < 0) or (len(owner) and owner.max() >= num_texts):
        raise ValueError("owner must give, in non-decreasing order, a text below num_texts for every piece")
    L = reader.input_shape[-1]
    is_last = np.append(owner[1:] != owner[:-1], True)  # the last piece of each text
    d = reader.output_shape[-1]
    sums, maxima, last = np.zeros((num_texts, d)), np.full((num_texts, d), -np.inf), np.zeros((num_texts, d))
    counts = np.zeros(num_texts)
    for begin in range(0, len(pieces), batch_size):
        ids = encode(pieces[begin : begin + batch_size], vocab, L)
        states = np.asarray(reader(ids, training=False), dtype=np.float32)  # (n, L, d)
        keep = ids != PAD
        who = owner[begin : begin + len(ids)]
        np.add.at(sums, who, (states * keep[..., None]).sum(axis=1))
        np.add.at(counts, who, keep.sum(axis=1))
        np.maximum.at(maxima, who, np.where(keep[..., None], states, -np.inf).max(axis=1))
        ends = is_last[begin : begin + len(ids)]
        final = states[np.arange(len(ids)), np.maximum(keep.sum(axis=1) - 1, 0)]
        last[who[ends]] = final[ends]
    seen = (counts > 0)[:, None]  # an empty text pools to zeros
    mean = np.where(seen, sums / np.maximum(counts, 1)[:, None], 0.0)
    return np.concatenate([mean, np.where(seen, maxima, 0.0), np.where(seen, last, 0.0)], axis=1).astype(np.float32)


def probe_probabilities(
    reader: keras.Model,
    train_texts: Sequence[str],
    y_train: np.ndarray,
    test_texts: Sequence[str],
    vocab: dict[str, int],
) -> np.ndarray:
    """Notebook 10's sentiment probe: every text read whole by the frozen `reader` (in consecutive
    pieces of its length, `text_pieces`), its states pooled (`pooled_states`), and a logistic
    regression (standardised inputs, scikit-learn's default strength) fitted on the training texts:

        p(positive | text) = σ(w · standardise(pool(text)) + b)

    Returns p for every test text. Pass texts cut short to read only their beginnings."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    length = reader.input_shape[-1]
    pooled = [
        pooled_states(reader, *text_pieces(texts, length), vocab, len(texts)) for texts in (train_texts, test_texts)
    ]
    logistic = make_pipeline(StandardScaler(), LogisticRegression(max_iter=3000)).fit(pooled[0], y_train)
    return logistic.predict_proba(pooled[1])[:, 1]


def bigram_vocab(texts: Sequence[str], max_size: int) -> dict[str, int]:
    """The max_size − 2 most frequent character bigrams (a text's last character is paired with
    an end mark), ids from 2 like `helpers.text.build_vocab`."""
    counts = Counter(b for t in texts for b in bigrams(t))
    ranked = sorted(counts, key=lambda b: (-counts[b], b))[: max(0, max_size - 2)]
    return {b: i + 2 for i, b in enumerate(ranked)}


def bigrams(text: str) -> list[str]:
    """Each character with the next one: "迈向新" → ["迈向", "向新", "新$"]."""
    return [text[i : i + 2] if i + 1 < len(text) else text[i] + END for i in range(len(text))]


def encode_bigrams(texts: Sequence[str], vocab: dict[str, int], max_len: int) -> np.ndarray:
    """(N, max_len) bigram ids, 0 after each text's end, 1 for a bigram not in `vocab`."""
    out = np.zeros((len(texts), max_len), dtype=np.int32)
    for row, text in enumerate(texts):
        ids = [vocab.get(b, UNK) for b in bigrams(text[:max_len])]
        out[row, : len(ids)] = ids
    return out


def build_feature_tagger(
    vocab_size: int,
    bigram_size: int,
    feature_dim: int,
    *,
    embedding_dim: int,
    units: int,
    seed: int,
    lr: float,
) -> keras.Model:
    """(ids (N, T), bigram ids (N, T), states (N, T, feature_dim)) → tag probabilities (N, T, 4):
    character and bigram embeddings learnt for the task, concatenated with the frozen states, a
    BiLSTM, a softmax per character. feature_dim = 0 gives the same tagger without pretrained
    states (the scratch baseline: notebook 08's model, with bigrams)."""
    keras.utils.set_random_seed(seed)
    ids = keras.Input(shape=(None,), dtype="int32", name="ids")
    pairs = keras.Input(shape=(None,), dtype="int32", name="bigrams")
    x = keras.layers.Concatenate()(
        [
            keras.layers.Embedding(vocab_size, embedding_dim, mask_zero=True, name="embedding")(ids),
            keras.layers.Embedding(bigram_size, embedding_dim, name="bigram_embedding")(pairs),
        ]
    )
    inputs = [ids, pairs]
    if feature_dim:
        states = keras.Input(shape=(None, feature_dim), name="states")
        inputs.append(states)
        x = keras.layers.Concatenate()([x, states])
    x = keras.layers.Bidirectional(keras.layers.LSTM(units, return_sequences=True), name="bilstm")(x)
    tags = keras.layers.Dense(len(TAGS), activation="softmax", name="tags")(x)
    model = keras.Model(inputs, tags)
    return compile_model(model, keras.optimizers.Adam(lr), "sparse_categorical_crossentropy")


def piece_rows(pairs: Sequence[tuple[str, str]], max_len: int) -> tuple[list[str], list[str], list[tuple[int, int]]]:
    """Every sentence cut into pieces of at most max_len characters (`sentence_pieces`):
    (piece texts, piece tags, (sentence index, piece start) per piece)."""
    texts, tags, where = [], [], []
    for k, (text, tag) in enumerate(pairs):
        for a, b in sentence_pieces(text, max_len):
            texts.append(text[a:b])
            tags.append(tag[a:b])
            where.append((k, a))
    return texts, tags, where


def tag_ids(tags: Sequence[str], max_len: int) -> np.ndarray:
    """Tag strings → ids (N, max_len), padded with 0 (masked by the ids' padding)."""
    Y = np.zeros((len(tags), max_len), dtype=np.int32)
    for row, t in enumerate(tags):
        Y[row, : len(t)] = [TAG_IDS[c] for c in t]
    return Y


def decode_sentences(
    probs: np.ndarray, piece_texts: Sequence[str], where: Sequence[tuple[int, int]], num_sentences: int
) -> tuple[list[str], list[str]]:
    """Per-character probabilities of the pieces → each whole sentence's tags, twice: the most
    probable tag per character (argmax) and the best valid string per piece (Viterbi), joined."""
    greedy, best = [""] * num_sentences, [""] * num_sentences
    for row, (k, _) in enumerate(where):  # pieces come in order within each sentence
        p = probs[row, : len(piece_texts[row])]
        greedy[k] += "".join(TAGS[i] for i in p.argmax(axis=1))
        best[k] += viterbi_tags(np.log(np.maximum(p, 1e-12)))
    return greedy, best


def length_batches(lengths: np.ndarray, batch_size: int, rng: np.random.Generator, step: int = 32):
    """One epoch of (indices, width) batches: rows of similar length together (shuffled within
    and across groups), each batch cut to its longest row rounded up to `step` characters, so
    that short sentences do not pay for padding (few distinct widths: few traced graphs)."""
    widths = -(-np.maximum(lengths, 1) // step) * step
    batches = []
    for width in np.unique(widths):
        rows = rng.permutation(np.flatnonzero(widths == width))
        batches += [(rows[i : i + batch_size], int(width)) for i in range(0, len(rows), batch_size)]
    return [batches[i] for i in rng.permutation(len(batches))]


def train_tagger(
    model: keras.Model,
    X: np.ndarray,
    B: np.ndarray,
    states: np.ndarray | None,
    Y: np.ndarray,
    *,
    num_epochs: int,
    batch_size: int,
    seed: int,
    after_epoch: Callable[[int], None] | None = None,
) -> None:
    """num_epochs passes over (X, B, states, Y) in `length_batches`; padding is weighted 0."""
    rng = np.random.default_rng(seed)
    lengths = (X != 0).sum(axis=1)
    for epoch in range(1, num_epochs + 1):
        for rows, width in length_batches(lengths, batch_size, rng):
            inputs = [X[rows, :width], B[rows, :width]] + (
                [] if states is None else [states[rows, :width].astype("float32")]
            )
            model.train_on_batch(inputs, Y[rows, :width], sample_weight=(X[rows, :width] != 0).astype("float32"))
        if after_epoch:
            after_epoch(epoch)
