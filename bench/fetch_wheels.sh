#!/usr/bin/env bash
# Downloads into bench/wheels/ (ignored by git) the wheels a GPU machine of the device tool
# needs to run bench/gpu.py and, for issue #6 part 4, build.py's Jupyter kernel stack.
#
# Assumptions (from ../.library/device/KINDS.md, read 2026-11): the GPU image's python3 is
# CPython 3.12.3 on x86-64 glibc Linux, with JAX 0.11.2 (CUDA), numpy, h5py, pillow,
# matplotlib, absl-py, ml-dtypes, rich, packaging, pyyaml, jinja2, pygments, markdown-it-py,
# psutil ... installed, but no TensorFlow, keras, namex, optree nor any Jupyter package, and
# no network. So: resolve the requirements of the roots below from the versions installed
# HERE (the project's own environment, so the GPU run uses the same keras/jupytext/nbclient
# as CI), evaluated for Python 3.12 on Linux, drop what the image already has, and download
# each remaining one with `pip download --no-deps` for cp312 manylinux x86-64.
#
#   bash bench/fetch_wheels.sh            # then: du -sh bench/wheels  (~20 MiB)
#   bash bench/fetch_wheels.sh --bench    # only keras, namex, optree (for bench/gpu.py alone)
set -euo pipefail
cd "$(dirname "$0")/.."
DEST=bench/wheels
PY=${PYTHON:-python3}
ROOTS="keras namex optree"
if [[ "${1:-}" != "--bench" ]]; then
  ROOTS="$ROOTS ipykernel nbclient jupytext nbformat jupyter_client nbconvert mdit-py-plugins"
fi
# On the GPU image already (KINDS.md, 'Python packages already there', 2026-11-17): not carried.
PRESENT="absl-py attrs certifi charset-normalizer click colorama contourpy cycler filelock
fonttools h5py idna jinja2 kiwisolver markdown markdown-it-py markupsafe matplotlib mdurl
ml-dtypes numpy packaging pillow pip psutil pygments pyparsing python-dateutil pyyaml requests
rich setuptools six typing-extensions urllib3 wheel zipp"
mkdir -p "$DEST"
REQS=$("$PY" - "$ROOTS" "$PRESENT" <<'PY'
import importlib.metadata as md, sys
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name as cn
roots, present = sys.argv[1].split(), {cn(n) for n in sys.argv[2].split()}
base = {"python_version": "3.12", "python_full_version": "3.12.3", "sys_platform": "linux",
        "platform_system": "Linux", "platform_machine": "x86_64", "implementation_name": "cpython",
        "platform_python_implementation": "CPython", "os_name": "posix"}
seen, todo = {}, [(cn(r), ()) for r in roots]
while todo:
    name, extras = todo.pop(0)
    key = (name, extras)
    if key in seen:
        continue
    dist = md.distribution(name)  # raises if the project's environment lacks it: install it first
    seen[key] = dist.version
    for line in dist.requires or []:
        req = Requirement(line)
        if req.marker and not any(req.marker.evaluate({**base, "extra": e}) for e in ("",) + extras):
            continue
        todo.append((cn(req.name), tuple(sorted(req.extras))))
pins = sorted({f"{n}=={v}" for (n, _), v in seen.items() if n not in present})
print("\n".join(pins))
PY
)
echo "$REQS" > "$DEST/requirements.txt"
echo "carrying $(wc -l < "$DEST/requirements.txt") packages (list in $DEST/requirements.txt)"
# One pip call per package: pip download --no-deps with --platform matches tags exactly.
for req in $REQS; do
  name=${req%%==*}
  if ls "$DEST" | grep -qi "^$(echo "$name" | tr - _)-${req##*==}-"; then continue; fi
  "$PY" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
    --implementation cp --abi cp312 --abi abi3 --abi none \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 \
    --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
    --platform manylinux_2_5_x86_64 --platform manylinux1_x86_64 --platform any \
    -d "$DEST" "$req" 2> >(grep -v "is ignored: it is neither" >&2) \
    || { echo "FAILED: $req" >&2; exit 1; }
done
# Exactly one wheel per package, or `pip install --no-index` stops on the duplicate.
dups=$(ls "$DEST"/*.whl | xargs -n1 basename | cut -d- -f1 | tr A-Z a-z | sort | uniq -d)
[[ -z "$dups" ]] || { echo "two versions of: $dups (empty $DEST and rerun)" >&2; exit 1; }
du -sh "$DEST"
