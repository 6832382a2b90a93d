"""Is a post's cache entry still its result? The key, and everything it is made from.

The key covers what decides a post's outputs: its code cells, kernel and parameters, and the
`catdog` package the kernel imports (the installed one, wherever the site lives: the kernel
never imports `<root>/catdog` unless that is what its Python finds); the data a run read and
the environment it ran in are checked again on every build from what the run recorded.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat

from catdog import results as catdog_results
from sitegen import datasources
from sitegen.cache import Cache, Entry, Unusable
from sitegen.cells import tags
from sitegen.config import SiteConfig
from sitegen.datasources import DataSource, FingerprintMemo
from sitegen.lock import Lock
from sitegen.posts import Post, parameter_names
from sitegen.stamps import package_hashes
from sitegen.state import BuildOptions, kernel_name, post_names

log = logging.getLogger(__name__)

# Environment differences that are only warnings unless --strict.
ENVIRONMENT_KEYS = ("python", "keras_backend", "keras", "tensorflow", "jax", "numpy")
FINGERPRINTS = "fingerprints.json"  # the data fingerprint memo, kept by the cache
PACKAGE = "catdog"  # the package whose source is part of every post's key
FIND_TIMEOUT_S = 60
# Run by the kernel's Python in an empty folder, as a kernel runs: where would `import NAME` go?
FIND_PACKAGE = ("import importlib.util, json, sys\n"
                "spec = importlib.util.find_spec(sys.argv[1])\n"
                "places = list(spec.submodule_search_locations or []) if spec else []\n"
                "print(json.dumps(places[:1] or [spec.origin] if spec else []))\n")


# --- assessing every post -----------------------------------------------------------------


def assess(posts: list[Post], cache: Cache, config: SiteConfig,
           options: BuildOptions) -> list[PostState]:
    """Each post with its cache entry, its key, and why the entry is stale, if it is.

    Everything the key is made of is gathered here, once per build: the catdog each kernel
    imports, this machine's environment, the lock's versions, the data fingerprint memo.
    """
    catdog = {kernel: package_hashes(kernel_package(kernel))
              for kernel in sorted({kernel_name(post.notebook) for post in posts})}
    fingerprints = FingerprintMemo(cache.memo_file(FINGERPRINTS))
    inputs = Inputs(catdog, fingerprints, catdog_results.environment(), Lock.read(options.root))
    states = [assess_post(post, cache, config, options, inputs) for post in posts]
    try:
        fingerprints.save()
    except OSError as error:  # a memo: the next build fingerprints the data again
        log.warning("Cannot save the data fingerprint memo %s: %s", error.filename,
                    error.strerror or error)
    for folder in cache.orphans({post.path.stem for post in posts}):
        log.warning("%s: cache entry of a post that no longer exists in %s; delete the "
                    "folder if the post is gone for good.", folder, config.posts_dir)
    return states


@dataclass
class Inputs:
    """What every post's key is checked against, read once per build."""

    catdog: dict[str, dict[str, str]]  # by kernel: the hashes of the catdog it imports
    fingerprints: FingerprintMemo
    environment: dict[str, Any]
    lock: Lock | None


def assess_post(post: Post, cache: Cache, config: SiteConfig, options: BuildOptions,
                inputs: Inputs) -> PostState:
    mode = options.mode_for(post)
    parameters = injected_parameters(post, config, options)
    kernel = kernel_name(post.notebook)
    key = make_key(post.notebook, kernel=kernel, parameters=parameters,
                   catdog_files=inputs.catdog[kernel])
    entry, failure = cache.load(post.path, mode), cache.load_failure(post.path, mode)
    if isinstance(entry, Unusable):
        if not options.frozen:  # under --frozen the failure says it instead
            log.warning("Ignoring cache entry %s: %s; the post will run again.",
                        entry.directory, entry.why)
        return PostState(post, key, parameters, None, Staleness(), failure, mode, unusable=entry)
    staleness = (stale_reasons(entry, key, root=options.root, fingerprints=inputs.fingerprints,
                               environment=inputs.environment, strict=options.strict)
                 if entry else Staleness())
    if entry and inputs.lock and (note := inputs.lock.note(entry.results.get("environment", {}))):
        staleness.warnings.append(note)
    return PostState(post, key, parameters, entry, staleness, failure, mode)


def injected_parameters(post: Post, config: SiteConfig, options: BuildOptions) -> dict:
    """Front matter `parameters`, then quick-run values under --smoke, then command-line ones:
    `-p name=value` only where the `parameters` cell assigns `name` (so it re-runs no other
    post), `-p POST:name=value` in that post alone."""
    parameters = dict(post.parameters)
    if options.mode_for(post) == "smoke":
        parameters.update(post.smoke or config.smoke)
    assigned = parameter_names(post.notebook)
    parameters.update({name: value for name, value in options.parameters.items()
                       if name in assigned})
    for target, values in options.post_parameters.items():
        if target in post_names(post):
            parameters.update(values)
    return parameters



# --- the catdog the kernel imports ---------------------------------------------------------


def kernel_python(kernel: str, env: Mapping[str, str] | None = None
                  ) -> tuple[str, dict[str, str]] | None:
    """The Python a kernel runs and its environment (this process's, `env` on top, the
    kernelspec's over both), as jupyter_client starts it; None when the kernel is not
    installed (its run will say so)."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        spec = KernelSpecManager().get_kernel_spec(kernel)
    except NoSuchKernel:
        return None
    program = spec.argv[0]
    # jupyter_client's KernelManager.format_kernel_cmd: `python` means this very Python.
    if program in {"python", f"python{sys.version_info[0]}", "python%i.%i" % sys.version_info[:2]}:
        program = sys.executable
    return program, {**os.environ, **(env or {}), **(spec.env or {})}


def kernel_package(kernel: str, name: str = PACKAGE,
                   env: Mapping[str, str] | None = None) -> Path | None:
    """The folder of package `name` as `kernel` would import it (started with `env`, as a
    cluster worker starts it with the author's catdog on its path), or None when it cannot."""
    found = kernel_python(kernel, env)
    if found is None:
        return None
    program, env = found
    with tempfile.TemporaryDirectory() as neutral:
        try:
            done = subprocess.run([program, "-c", FIND_PACKAGE, name], cwd=neutral, env=env,
                                  capture_output=True, text=True, timeout=FIND_TIMEOUT_S)
            places = json.loads(done.stdout or "[]")
        except (OSError, ValueError, subprocess.SubprocessError) as error:
            log.warning("Cannot ask kernel %s where %s is: %s", kernel, name, error)
            return None
    return Path(places[0]) if places else None


@dataclass
class Staleness:
    """Why an entry cannot be used as it is (`reasons`), and what only deserves a word.

    `warnings` are environment differences; `missing` is the recorded data this machine does
    not have, which leaves the results standing (they are known by content, not by place);
    `data_variables` point a new run at recorded data found at its recorded place.
    """

    reasons: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    missing: list[DataSource] = field(default_factory=list)
    data_variables: dict[str, str] = field(default_factory=dict)

    @property
    def notes(self) -> list[str]:
        """What `--status` says of an entry that is still used as it is."""
        if not self.missing:
            return list(self.warnings)
        names = "; ".join(source.describe() for source in self.missing)
        return [f"data not on this machine: {names}; results as recorded", *self.warnings]



# --- the key -------------------------------------------------------------------------------


def make_key(notebook: nbformat.NotebookNode, *, kernel: str, parameters: Mapping[str, Any],
             catdog_files: Mapping[str, str]) -> dict[str, Any]:
    """The parts of the cache key known before a run.

    Only code cells count (their source and the tags that change how they run), so editing
    prose, the title, tags or an `expect:` never re-runs a post.
    """
    return {
        "code": code_hash(notebook),
        "kernel": kernel,
        "parameters": catdog_results.to_json_value(dict(parameters), "parameters"),
        "catdog": dict(catdog_files),
    }


def code_hash(notebook: nbformat.NotebookNode) -> str:
    cells = [
        [cell.source, sorted(tags(cell) & {"raises-exception"})]
        for cell in notebook.cells
        if cell.cell_type == "code"
    ]
    return hashlib.sha256(json.dumps(cells).encode()).hexdigest()


# --- saying why ----------------------------------------------------------------------------


def stale_reasons(entry: Entry, key: Mapping[str, Any], *, root: Path,
                  fingerprints: FingerprintMemo, environment: Mapping[str, Any] | None = None,
                  strict: bool = False) -> Staleness:
    """Compares an entry with the current inputs and lists every difference, most useful first.

    `environment` is this process's (`catdog.results.environment()`), read once per build.
    """
    staleness = Staleness(reasons=_key_differences(entry.key, key))
    sources, unreadable = datasources.sources_of(entry.results, str(entry.manifest_file))
    staleness.warnings += unreadable
    for found in (datasources.locate(source, root, fingerprints) for source in sources):
        if found.missing:
            staleness.missing.append(found.source)
            if strict:
                staleness.reasons.append(f"data not on this machine: {found.source.describe()}"
                                         " (--strict)")
        elif not found.same:
            staleness.reasons.append(f"data changed: {found.change()}")
        staleness.data_variables.update(found.variable())
    differences = _environment_differences(entry.results.get("environment", {}),
                                           environment or catdog_results.environment())
    if strict:
        staleness.reasons += differences
    else:
        staleness.warnings += [f"{difference} (warning)" for difference in differences]
    return staleness


def _key_differences(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    reasons = []
    if old.get("code") != new["code"]:
        reasons.append("code cells changed")
    if old.get("kernel") != new["kernel"]:
        reasons.append(f"kernel changed: {old.get('kernel')} -> {new['kernel']}")
    reasons += _parameter_differences(old.get("parameters", {}), new["parameters"])
    if old.get("catdog") and not new["catdog"]:
        return reasons + ["catdog: the kernel cannot import it; install it (pip install -e .) "
                          "or put it on PYTHONPATH"]
    return reasons + _package_differences(old.get("catdog", {}), new["catdog"])


def _parameter_differences(old: Mapping, new: Mapping) -> list[str]:
    def shown(values: Mapping, name: str) -> str:
        return repr(values[name]) if name in values else "(the post's default)"

    changes = [f"{name} {shown(old, name)} -> {shown(new, name)}"
               for name in sorted(set(old) | set(new))
               if name not in old or name not in new or old[name] != new[name]]
    return [f"parameters changed: {', '.join(changes)}"] if changes else []


def _package_differences(old: Mapping[str, str], new: Mapping[str, str]) -> list[str]:
    reasons = []
    for path in sorted(set(old) | set(new)):
        if path not in old:
            reasons.append(f"{path} added")
        elif path not in new:
            reasons.append(f"{path} removed")
        elif old[path] != new[path]:
            reasons.append(f"{path} changed")
    return reasons


def _environment_differences(recorded: Mapping[str, Any], current: Mapping[str, Any]):
    if not recorded:
        return []
    return [
        f"{name} {recorded.get(name)} -> {current.get(name)}"
        for name in ENVIRONMENT_KEYS
        if name in recorded and recorded.get(name) != current.get(name)
    ]


@dataclass
class PostState:
    """One post, its cache entry and what the build must do with it.

    Only the build's main thread changes a PostState: workers that execute posts return what
    happened, and the main thread records it.
    """

    post: Post
    key: dict[str, Any]
    parameters: dict[str, Any]
    entry: Entry | None
    staleness: Staleness
    failure: dict[str, Any] | None
    mode: str = "real"  # the entry this build uses and writes: `real`, or `smoke` (quick)
    unusable: Unusable | None = None  # a stored entry that is not used, and why

    @property
    def name(self) -> str:
        return self.post.path.stem

    @property
    def kernel(self) -> str:
        return self.key["kernel"]

    def describe(self) -> str:
        """The `--status` line: fresh, never run, failed last time, or stale with every cause."""
        if self.failure is not None and self.failure.get("key") == self.key:
            return f"failed last time ({self.failure['summary']})"
        if self.unusable is not None:
            return self.unusable.status()
        if self.entry is None:
            return "never run"
        if self.staleness.reasons:
            return "stale: " + "; ".join(self.staleness.reasons)
        notes = "; ".join(self.staleness.notes + self.reproduction_notes())
        return f"fresh ({notes})" if notes else "fresh"

    def reproduction_notes(self) -> list[str]:
        """`reproduced on 2026-12-09: 24 of 24 values equal`, once `--reproduce` ran it."""
        found = self.entry.reproduction if self.entry is not None else None
        if not found:
            return []
        return [f"reproduced on {str(found.get('date', ''))[:10]}: {found.get('summary', '')}"]
