"""catdog: load image data, train and evaluate Keras image classifiers, draw plots.

Submodules load on first use (`catdog.data`, `catdog.models`, `catdog.train`,
`catdog.plots`, `catdog.results`, `catdog.stats`), so `import catdog` stays cheap and never imports
Keras by itself: the site builder imports `catdog.results` without a backend.
"""

import importlib

__version__ = "0.1.0"
__all__ = ["data", "models", "train", "plots", "results", "stats"]


def __getattr__(name):
    if name in __all__:
        return importlib.import_module(f"catdog.{name}")
    raise AttributeError(f"module 'catdog' has no attribute {name!r}")
