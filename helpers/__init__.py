"""Shared code for the course "Fine-tuning from scratch: if one direction is not enough, go bidirectional".

Each module is small and single-purpose; each function's docstring gives its formula and the
notebook that teaches it. Notebooks import from here; `tests/` checks every function, against
TensorFlow where TensorFlow has the same thing.

Modules
-------
paths      where the repository's folders are (resolved from this package, never from the cwd)
params     the `parameters`-cell grammar and the validation every notebook runs first
compare    `cmp`: compare our numbers with a reference and assert they agree
losses     MSE, binary cross-entropy (probabilities and logits), the source's one-sided form
gradients  gradients of the losses, central finite differences, relative error
logistic   logistic regression by hand: forward pass, reverse pass, gradient descent
rnn        a simple RNN (forward + backpropagation through time) and an LSTM, in NumPy
sequence_data  synthetic sequence tasks (the counting task of notebook 04)
data       the small data files in data/ (the source's §5.2 toy data and program)
display    small display utilities: show a helper's source, format a table
tf_quiet   import TensorFlow without its start-up log lines
runner     execute notebooks headless with papermill (used by `make run`)
cli        the `course` command: run, params, sweep
record     named results stored in a notebook's outputs, and read back
corpora, text, segmentation, baselines, models, results   Part III: real data and its models
checks     the machinery of self-checking exercises: verdicts, values, functions, known mistakes
exercises  the checker of every exercise, grouped by notebook
"""

__version__ = "0.1.0"
