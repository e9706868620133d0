"""What the notebooks of the course "Fine-tuning from scratch: if one direction is not enough, go
bidirectional" import: the lesson code, and the small utilities a lesson uses.

Each module is small and single-purpose; each function's docstring gives its formula and the
notebook that teaches it. `tests/unit/` checks every function, against TensorFlow where
TensorFlow has the same thing. The `course` command and the maintainer's tools are in the
`course` package, which imports this one (never the reverse).

Lesson code
-----------
losses     MSE, binary cross-entropy (probabilities and logits), the source's one-sided form,
           softmax and categorical cross-entropy with log-sum-exp (01)
gradients  gradients of the losses, central finite differences, relative error (02)
logistic   logistic regression by hand: forward pass, reverse pass, gradient descent (02)
optimizers  mini-batch SGD, momentum, Adam (02); clipping by norm (04)
rnn        a simple RNN and an LSTM, forward and backpropagation through time, in NumPy (04, 05)
sequence_data  synthetic sequence tasks: the counting task (04, 05)
diagrams   pictures drawn by code: computational graph, unrolled RNN, LSTM cell, Bi-LSTM (02, 04, 05)
data       the small data files in data/: the source's §5.2 toy data and program (03)
corpora, text, segmentation, baselines, models   real data and its models (06-08)
results    the committed full-size results, shown next to the teaching-size ones (06-08, 11)
attention  self-attention by hand: masks, multi-head, its reverse pass, positions (09)
transformer  a small character Transformer, one-way or two-way (09, 10)
pretraining  Part IV's objectives, pretraining loop and checkpoints with provenance (10)
finetune   fine-tuning a pretrained start or a scratch model for tagging and sentiment (10)
finetune_tables  Part IV's records as tables: mean ± std over seeds, against TF-IDF (10, 11)
elmo       ELMo's own recipe: frozen states, a BiLSTM tagger, Viterbi, the sentiment probe (10)
adaptation  Part IV's studies read back: their files, arms' names, paired intervals (11)
lora       LoRA by hand in NumPy: forward, reverse pass, merging; an adapter; memory counts (12)
peft       LoRA, adapters, BitFit on a Keras model; the fair comparison, switching, merging (12)

Utilities a lesson uses
-----------------------
params     the `parameters`-cell grammar and `check_parameters`, run right after it
compare    `cmp`: compare our numbers with a reference and assert they agree
display    show a helper's source, format a table, std (the sample one), mean ± std, a 95% interval
           and where it lies, shorten a value
record     name a result in the notebook's outputs (the `course` runner reads it back)
tf_quiet   import TensorFlow without its start-up log lines
paths      where the repository's folders are (from this package, never from the cwd)
provenance  versions, hardware and whole-file writes behind every committed result
progress   long work's progress with the time left (tqdm's estimate; a bar in a terminal)
exercises  the self-checking exercises: one module of checkers per notebook over `core`
"""

__version__ = "0.1.0"
