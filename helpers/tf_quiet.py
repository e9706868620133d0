"""Import TensorFlow without its start-up log lines.

TensorFlow's C++ core writes lines such as "Could not find cuda drivers" straight to file
descriptor 2 while it is imported. Under papermill and JupyterLab they land in the cell's output,
under nbval they do not, so a stored output would never match. `TF_CPP_MIN_LOG_LEVEL=3` alone
leaves a few absl lines; redirecting descriptor 2 to /dev/null during the import removes them.
(`TF_ENABLE_ONEDNN_OPTS=0` would hide one more line but changes the numerics: not used.)
"""

from __future__ import annotations

import os
import sys
from types import ModuleType


def import_tensorflow(quiet_retracing: bool = False) -> ModuleType:
    """Import and return `tensorflow`, with its C++ start-up log silenced.

    `quiet_retracing=True` also hides TensorFlow's Python warnings (level below ERROR), such as
    the "triggered tf.function retracing" notice that a notebook building one model per seed
    gets on purpose; that notice prints a memory address, which would break stored outputs.
    """
    if "tensorflow" in sys.modules:
        tf = sys.modules["tensorflow"]
        if quiet_retracing:
            tf.get_logger().setLevel("ERROR")
        return tf
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        import tensorflow as tf
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
    if quiet_retracing:
        tf.get_logger().setLevel("ERROR")
    return tf
