"""Runs a two-cell notebook in a real Jupyter kernel with nbclient, as build.py does (issue #6 part 4).

Proves on the GPU machine that the carried kernel stack (ipykernel, nbclient, jupytext,
nbformat, jupyter_client, nbconvert) works and that the kernel sees Keras on JAX and the GPU.

    python bench/kernel_smoke.py
"""

import sys
import time

import jupytext
import nbconvert  # noqa: F401  sitegen imports it: prove it imports
import nbformat
from nbclient import NotebookClient

SOURCE = """\
```python
import os, keras
print("backend", keras.backend.backend(), "keras", keras.__version__)
```

```python
import jax
print("devices", jax.devices())
```
"""


def main() -> int:
    notebook = jupytext.reads(SOURCE, fmt="md")
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                       "language": "python"}
    started = time.perf_counter()
    NotebookClient(notebook, timeout=120, kernel_name="python3").execute()
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            print(output.get("text", "").strip())
    print(f"kernel smoke: ok in {time.perf_counter() - started:.1f} s "
          f"(nbformat {nbformat.__version__}, jupytext {jupytext.__version__})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
