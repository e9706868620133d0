"""A small character Transformer in Keras, one-way (causal mask, GPT-style) or two-way (no mask,
BERT-style), and the character data it reads. Taught in notebook 09; the same blocks are the
encoder of Part IV's pretraining.

The block is the one notebook 09 writes by hand in NumPy (`helpers.attention`): self-attention,
then a feed-forward layer, each added back to its input (a residual) and layer-normalised
(post-norm, as in the original Transformer). With ``distance_bias=True`` the attention adds
ALiBi's fixed score −m_j·|t − s| (`DistanceBiasedAttention`, `helpers.attention.distance_bias`):
Part IV's pretrained encoders use it: in the course's 3,000-update pretraining run, the masked
objective's training loss fell far less without it (notebook 10, section 2, prints both loss
curves from `make pretrain`).
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np

from helpers.text import PAD, UNK, build_vocab


@keras.saving.register_keras_serializable(package="course")
class TokenAndPosition(keras.layers.Layer):
    """x ↦ E[x_t] + P[t]: a learnt embedding of each character plus one of each position t.
    Padding positions are masked for the layers after it (Keras passes the mask on)."""

    def __init__(self, vocab_size: int, max_len: int, d_model: int, **kwargs):
        super().__init__(**kwargs)
        self.vocab_size, self.max_len, self.d_model = vocab_size, max_len, d_model
        self.tokens = keras.layers.Embedding(vocab_size, d_model)
        self.positions = keras.layers.Embedding(max_len, d_model)

    def call(self, x):
        T = keras.ops.shape(x)[-1]
        return self.tokens(x) + self.positions(keras.ops.arange(T))

    def compute_mask(self, x, mask=None):
        """Padding (id 0) is masked: attention never looks at it, and the loss skips it."""
        return keras.ops.not_equal(x, PAD)

    def get_config(self) -> dict:
        return {**super().get_config(), "vocab_size": self.vocab_size, "max_len": self.max_len, "d_model": self.d_model}


@keras.saving.register_keras_serializable(package="course")
class DistanceBiasedAttention(keras.layers.MultiHeadAttention):
    """Keras's multi-head attention with a fixed score added before the softmax (ALiBi):

        A_j[t, s] = softmax over s of ( q_t · k_s / √d_k − m_j · |t − s| + M[t, s] ),
        m_j = `distance_slopes(h)`[j − 1] for heads j = 1 … h.

    M is 0 where the query may look and −∞ elsewhere (the causal mask, padding). Unlike Press et
    al., who use ALiBi in one-way models instead of position embeddings, the penalty here is
    symmetric (a two-way reader is penalised for distance on both sides) and the learnt position
    embeddings stay. Dropout on the attention weights is not supported.

    The same weights as `keras.layers.MultiHeadAttention` (nothing new is learnt); checked against
    `helpers.attention.multi_head_attention(..., bias=distance_bias(T, slopes))` in
    tests/unit/test_attention.py.
    """

    def __init__(self, slopes: Sequence[float], **kwargs):
        if kwargs.get("dropout", 0.0):
            raise ValueError("DistanceBiasedAttention does not apply dropout: leave dropout at 0")
        super().__init__(**kwargs)
        self.slopes = [float(m) for m in slopes]

    def _compute_attention(
        self,
        query,
        key,
        value,
        attention_mask=None,
        training=None,
        return_attention_scores=False,
        use_causal_mask=False,
    ):
        ops = keras.ops
        if use_causal_mask:  # (Keras passes the causal mask inside attention_mask to a subclass)
            causal = self._compute_causal_mask(query, value)
            attention_mask = (
                causal if attention_mask is None else ops.logical_and(ops.cast(attention_mask, "bool"), causal)
            )
        query = ops.multiply(query, ops.cast(self._inverse_sqrt_key_dim, query.dtype))
        scores = ops.einsum(self._dot_product_equation, key, query)  # (N, h, T, S)
        t, s = ops.arange(ops.shape(query)[1]), ops.arange(ops.shape(key)[1])
        distance = ops.cast(ops.abs(t[:, None] - s[None, :]), scores.dtype)
        slopes = ops.convert_to_tensor(self.slopes, dtype=scores.dtype)
        weights = self._masked_softmax(scores - slopes[:, None, None] * distance, attention_mask)
        return ops.einsum(self._combine_equation, weights, value), weights

    def get_config(self) -> dict:
        return {**super().get_config(), "slopes": self.slopes}


def transformer_block(
    x, num_heads: int, key_dim: int, d_ff: int, causal: bool, name: str, distance_bias: bool = False, pre_norm=False
):
    """One post-norm block: h = LN(x + MHA(x, x)), y = LN(h + FFN(h)), FFN = Dense(d_ff, relu) → Dense(d).
    With `distance_bias`, MHA is `DistanceBiasedAttention` (ALiBi's slopes for `num_heads` heads).
    With `pre_norm` (GPT-2's order), each sublayer reads a normalised copy and the residual stays
    raw: h = x + MHA(LN(x)), y = h + FFN(LN(h)) (the model then normalises once after the last block)."""
    from helpers.attention import distance_slopes

    d_model = x.shape[-1]
    if distance_bias:
        attention = DistanceBiasedAttention(
            distance_slopes(num_heads), num_heads=num_heads, key_dim=key_dim, name=f"{name}_attention"
        )
    else:
        attention = keras.layers.MultiHeadAttention(num_heads=num_heads, key_dim=key_dim, name=f"{name}_attention")
    norm1 = keras.layers.LayerNormalization(name=f"{name}_norm1")
    norm2 = keras.layers.LayerNormalization(name=f"{name}_norm2")
    ff1 = keras.layers.Dense(d_ff, activation="relu", name=f"{name}_ff1")
    ff2 = keras.layers.Dense(d_model, name=f"{name}_ff2")
    if pre_norm:
        a = norm1(x)
        h = x + attention(a, a, use_causal_mask=causal)
        return h + ff2(ff1(norm2(h)))
    h = norm1(x + attention(x, x, use_causal_mask=causal))
    return norm2(h + ff2(ff1(h)))


def char_transformer(
    vocab_size: int,
    max_len: int,
    d_model: int = 32,
    num_heads: int = 2,
    d_ff: int = 64,
    num_layers: int = 1,
    causal: bool = True,
    distance_bias: bool = False,
    pre_norm: bool = False,
) -> keras.Model:
    """Characters (N, T) → logits over the vocabulary at every position (N, T, vocab_size).
    `distance_bias`: ALiBi's fixed distance penalty in every block's attention (see the module docstring).
    `pre_norm`: pre-norm blocks and one layer norm after the last (`transformer_block`)."""
    ids = keras.Input(shape=(None,), dtype="int32")  # any length up to max_len (the positions learnt)
    x = TokenAndPosition(vocab_size, max_len, d_model, name="embed")(ids)
    for layer in range(num_layers):
        x = transformer_block(
            x, num_heads, d_model // num_heads, d_ff, causal, f"block{layer + 1}", distance_bias, pre_norm
        )
    if pre_norm:
        x = keras.layers.LayerNormalization(name="final_norm")(x)
    logits = keras.layers.Dense(vocab_size, name="logits")(x)
    return keras.Model(ids, logits, name="causal_transformer" if causal else "bidirectional_transformer")


def char_windows(texts: Sequence[str], length: int, vocab: dict[str, int]) -> np.ndarray:
    """Every text cut into non-overlapping windows of `length` + 1 character ids (shorter tails
    dropped): column t is the input at position t, column t + 1 its next character."""
    rows = []
    for text in texts:
        ids = [vocab.get(ch, UNK) for ch in text]
        rows += [ids[i : i + length + 1] for i in range(0, len(ids) - length, length + 1)]
    return np.asarray(rows, dtype=np.int32).reshape(-1, length + 1)


def char_vocab(texts: Sequence[str], max_size: int) -> dict[str, int]:
    """The `max_size` − 3 most frequent characters (ids 2…), plus padding (0), unknown (1) and a
    [MASK] id (the last id, for the masked objective): ids run over 0 … max_size − 1."""
    vocab = build_vocab(texts, max_size - 1)
    vocab["[MASK]"] = max_size - 1
    return vocab


def mask_characters(
    X: np.ndarray, mask_id: int, rate: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """BERT's corruption, simplified: each non-padding position is chosen with probability
    `rate` and replaced by [MASK]. Returns (corrupted X, chosen positions as a boolean array)."""
    chosen = (rng.random(X.shape) < rate) & (X != PAD)
    return np.where(chosen, mask_id, X), chosen
