"""The self-checking exercises at the end of every notebook: one module of checkers per notebook,
over one checking core.

    core               verdicts; `check_value` and `check_function`, which know the common mistakes
    loss_functions     01        gradient_descent  02        keras_lstm     03
    passes             04        directions        05        real_data      06
    finetuning         07        bidirectional     08        attention      09
    pretraining        10        full_data         11        peft           12

A notebook's check cell imports its checker from here, e.g. `from helpers.exercises import
check_huber_grad`. Each checker compares the learner's answer with one computed from the course's
own helpers (or scipy, numpy), never with a number typed in by hand, and gives a hint for each
common mistake, never the answer. Every checker gives a verdict for any answer at all, within a
time and memory limit (see `core`); its random inputs are drawn afresh on every call.
`tests/unit/test_exercises.py` shows every checker accepting a right answer and naming each
mistake; `tests/unit/test_checker_battery.py` hands every checker right answers in every form,
plausible wrong ones and hostile objects, and checks each verdict.
"""

from helpers.exercises.attention import (
    check_bert_corruption,
    check_causal_mask,
    check_distance_attention,
    check_gated_block_params,
)
from helpers.exercises.bidirectional import check_constrained_decode, check_tags_to_words, check_word_prf
from helpers.exercises.core import Verdict, checker
from helpers.exercises.directions import check_backward_last_state, check_join_states, check_saliency_centre
from helpers.exercises.finetuning import check_paired_interval, check_permutation_test, check_sign_test
from helpers.exercises.full_data import check_best_epoch, check_encoder_params, check_seed_interval
from helpers.exercises.gradient_descent import (
    check_adamw_update,
    check_first_order_decrease,
    check_huber_grad,
    check_l2_logistic_grads,
)
from helpers.exercises.keras_lstm import check_classifier_param_count, check_lstm_param_count, check_pad_sequences
from helpers.exercises.loss_functions import (
    check_bce_value,
    check_mae,
    check_mse_value,
    check_softmax_ce_grad,
    check_weighted_bce_from_logits,
)
from helpers.exercises.passes import (
    check_clip_by_global_norm,
    check_forget_gate_bias,
    check_gru_step,
    check_lstm_forget_grad,
    check_rnn_grad_h0,
)
from helpers.exercises.peft import check_lora_count, check_lora_forward, check_lora_grads, check_lora_switch
from helpers.exercises.pretraining import check_align_backward, check_corpus_perplexity, check_masked_mean
from helpers.exercises.real_data import check_duplicate_share, check_macro_f1, check_near_twins

__all__ = [
    "Verdict",
    "check_align_backward",
    "check_masked_mean",
    "check_corpus_perplexity",
    "check_best_epoch",
    "check_seed_interval",
    "check_encoder_params",
    "check_distance_attention",
    "check_bert_corruption",
    "check_gated_block_params",
    "check_lora_count",
    "check_lora_forward",
    "check_lora_switch",
    "check_lora_grads",
    "check_causal_mask",
    "check_weighted_bce_from_logits",
    "check_bce_value",
    "check_mae",
    "check_mse_value",
    "check_softmax_ce_grad",
    "check_adamw_update",
    "check_first_order_decrease",
    "check_l2_logistic_grads",
    "check_huber_grad",
    "check_classifier_param_count",
    "check_lstm_param_count",
    "check_pad_sequences",
    "check_forget_gate_bias",
    "check_gru_step",
    "check_lstm_forget_grad",
    "check_clip_by_global_norm",
    "check_rnn_grad_h0",
    "check_backward_last_state",
    "check_saliency_centre",
    "check_join_states",
    "check_duplicate_share",
    "check_macro_f1",
    "check_near_twins",
    "check_paired_interval",
    "check_permutation_test",
    "check_sign_test",
    "check_constrained_decode",
    "check_tags_to_words",
    "check_word_prf",
]

# Every checker exported here gives a verdict for any answer, computes its own numbers under
# np.errstate(all="ignore") whatever the learner set, and never lets a traceback out (see
# `core.checker`); a checker added to __all__ gets the same without doing anything.
for _name in __all__:
    if _name.startswith("check_"):
        globals()[_name] = checker(globals()[_name])
del _name
