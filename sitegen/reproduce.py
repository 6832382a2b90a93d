"""`build.py --reproduce POST`: run a post again, away from its entry, and compare every value.

A committed result is only as good as a stranger's chance of getting it again. The post runs in
a fresh kernel in a scratch folder (its committed entry is never touched), and every value the
new run recorded is compared with the committed one, by these rules (README, "Reproducing a
post"):

- `equal`: the same JSON value (floats to the last bit);
- `machine`: a timing (`train_seconds`, `seconds_per_epoch`, `batch_ms`…) or the `device`:
  facts of the machine that ran it, shown but never a difference;
- `within`: an accuracy that has its committed 95 % interval beside it (`test_accuracy` with
  `test_interval`, or an evaluation `{accuracy, interval, …}`) and lands inside it; the same
  evaluation's loss, correct count, per-class scores and interval go with it;
- `different`: anything else, and a value only one of the runs recorded.

A mapping or list is as good as its worst part (timings inside it left out). Only `different`
fails the reproduction. What was found is written beside the entry (`reproduced.json`, which no
digest covers) for the page, `results.json` and `--status`.
"""

from __future__ import annotations

import json
import math
import re
import signal
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from catdog import results as catdog_results
from sitegen.cache import REPRODUCTION_FILE, Cache, Entry, now_iso, portable_environment
from sitegen.checks import is_number
from sitegen.config import SiteConfig
from sitegen.exceptions import BuildError, Interrupted, Stopped, UsageError, WriteError
from sitegen.files import write_atomically
from sitegen.freshness import PostState
from sitegen.interrupt import stop_on_signals
from sitegen.machine import hardware
from sitegen.state import BuildOptions, post_names

EQUAL, MACHINE, WITHIN, DIFFERENT = "equal", "machine", "within", "different"  # best to worst
ORDER = (EQUAL, MACHINE, WITHIN, DIFFERENT)
LABELS = {EQUAL: "equal", MACHINE: "machine (not compared)",
          WITHIN: "within 95 % interval", DIFFERENT: "DIFFERENT"}
# Names of machine facts: any holding "seconds" (`train_seconds`, `seconds_per_run`), or ending so.
MACHINE_NAME = re.compile(r"seconds|(_ms|duration_s|device)$")
EVALUATION_PARTS = ("accuracy", "interval", "loss", "correct", "per_class")
MISSING = object()


@dataclass
class Row:
    """One recorded value: what the committed run and the new one recorded, and the verdict."""

    name: str
    committed: Any
    reproduced: Any
    verdict: str


@dataclass
class Reproduction:
    """What `--reproduce` found: one row per value, and the record written beside the entry."""

    post: Path
    rows: list[Row]
    record: dict[str, Any]
    record_file: Path

    @property
    def exit_code(self) -> int:
        return 1 if self.record["counts"][DIFFERENT] else 0

    def table(self) -> str:
        """The comparison, one value a line, as `build.py` prints it (and CI uploads it)."""
        cells = [("value", "committed", "reproduced", "verdict")] + [
            (row.name, shown(row.committed), shown(row.reproduced), LABELS[row.verdict])
            for row in self.rows]
        widths = [max(len(line[i]) for line in cells) for i in range(3)]
        lines = ["  ".join(text.ljust(width) for text, width in zip(line, widths)) + "  " + line[3]
                 for line in cells]
        return "\n".join([lines[0], "  ".join("-" * w for w in widths) + "  -------", *lines[1:]])


# --- the command ------------------------------------------------------------------------------


def reproduce(options: BuildOptions, name: str) -> Reproduction:
    """Runs post `name` again in a scratch folder and compares it with its committed run.

    Raises BuildError (one line) for an unknown post, one never run, one whose entry is stale
    or unusable, or one whose data is not on this machine; nothing committed changes then.
    """
    from sitegen import build as builder

    errors: list[BuildError] = []
    config, states = builder.gather(options, errors)
    state = find_post(states, name, options)
    entry = reproducible_entry(state, options)
    notebook, duration_s = run_again(state, options, config, reproduce_timeout(entry, options))
    new = catdog_results.from_notebook(notebook)
    rows = compare(entry.results.get("values", {}), new.get("values", {}))
    new["environment"] = portable_environment(new["environment"], options.root)
    record = make_record(entry, rows, new, duration_s, state.mode)
    return Reproduction(state.post.path, rows, record, write_record(entry, record, options))


def find_post(states: list[PostState], name: str, options: BuildOptions) -> PostState:
    for state in states:
        if name in post_names(state.post):
            return state
    raise UsageError(None, f"--reproduce: no post named {name} in {options.root / 'posts'}; "
                           f"posts are: {', '.join(sorted(s.name for s in states))}")


def reproducible_entry(state: PostState, options: BuildOptions) -> Entry:
    """The committed entry to compare with, or a one-line BuildError saying what is missing."""
    again = f"python build.py --force {state.name}{' --smoke' if state.mode == 'smoke' else ''}"
    if state.unusable is not None:
        raise BuildError(state.post.path, f"cannot reproduce: its cache entry is "
                                          f"{state.unusable.why}; run it with `{again}`")
    if state.entry is None:
        folder = Cache(options.freeze_dir).entry_directory(state.post.path, state.mode)
        raise BuildError(state.post.path, f"cannot reproduce: never run (no entry in {folder}); "
                                          f"run it first with `{again}`")
    if state.staleness.reasons:
        raise BuildError(state.post.path, "cannot reproduce: its committed run is stale ("
                         + "; ".join(state.staleness.reasons) + f"), so there is no result "
                         f"of this code to compare with; run it with `{again}`")
    missing = [source for source in state.staleness.missing if not source.url]
    if missing:
        raise BuildError(state.post.path, "cannot reproduce: the data it read is not on this "
                         "machine: " + "; ".join(f"{source.describe()}: {source.how_to_supply()}"
                                                 for source in missing))
    return state.entry


def reproduce_timeout(entry: Entry, options: BuildOptions) -> int:
    """Seconds a cell may take: at least three times the committed run's whole duration, so a
    slower or busier machine is not cut off halfway (post 2's training cell, 25 minutes here,
    passed the default 30-minute limit on a loaded machine); a larger --timeout wins."""
    committed = entry.run.get("duration_s")
    floor = math.ceil(3 * committed) if is_number(committed) else 0
    return max(options.cell_timeout, floor)


def run_again(state: PostState, options: BuildOptions, config: SiteConfig,
              cell_timeout: int) -> tuple[Any, float]:
    """The post executed in a fresh kernel in a scratch folder, removed afterwards.

    Ctrl-C or SIGTERM stops the kernel and raises Interrupted; nothing is written then.
    """
    from sitegen.execute import kernel_environment, run_notebook

    with stop_on_signals() as stop, tempfile.TemporaryDirectory(
            prefix=f"reproduce-{state.name}-") as scratch:
        execution = run_notebook(  # the one way a post runs, as the build runs it
            state.post.notebook, state.parameters, path=state.post.path,
            workdir=Path(scratch), kernel_name=state.kernel, cell_timeout=cell_timeout,
            env=kernel_environment(state.post, config, state.staleness.data_variables),
            stop=stop)
    if isinstance(execution.error, Stopped):
        raise Interrupted(stop.signum or signal.SIGINT,
                          f"{execution.error.where()}; nothing written")
    if execution.error is not None:
        raise execution.error
    return execution.notebook, execution.duration_s


# --- comparing --------------------------------------------------------------------------------


def compare(committed: Mapping[str, Any], reproduced: Mapping[str, Any]) -> list[Row]:
    """One row per value either run recorded, by name, with its verdict."""
    return [Row(name, committed.get(name, MISSING), reproduced.get(name, MISSING),
                judge(name, committed, reproduced))
            for name in sorted(set(committed) | set(reproduced))]


def judge(name: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> str:
    """The verdict on value `name` of two records (or of two mappings inside them)."""
    before, after = old.get(name, MISSING), new.get(name, MISSING)
    if before is MISSING or after is MISSING:
        return DIFFERENT
    if before == after:
        return EQUAL
    if MACHINE_NAME.search(name) or _is_timing(before) or _is_timing(after):
        return MACHINE
    if (verdict := _evaluation_verdict(name, old, new)) is not None:
        return verdict
    parts_before, parts_after = _parts(before), _parts(after)
    if parts_before is None or parts_after is None:
        return DIFFERENT
    verdicts = [judge(part, parts_before, parts_after)
                for part in set(parts_before) | set(parts_after)]
    return worst(EQUAL if verdict == MACHINE else verdict for verdict in verdicts)


def _evaluation_verdict(name: str, old: Mapping, new: Mapping) -> str | None:
    """`within` or `different` for an evaluation's statistic (`test_loss` goes with
    `test_accuracy` and `test_interval`); None when `name` is not one."""
    for part in EVALUATION_PARTS:
        prefix = name.removesuffix(part)
        if prefix == name or not _has_interval(old, prefix):
            continue
        low, high = old[f"{prefix}interval"]
        accuracy = new.get(f"{prefix}accuracy")
        inside = is_number(accuracy) and low <= accuracy <= high
        return WITHIN if inside else DIFFERENT
    return None


def _is_timing(value: Any) -> bool:
    """A timing comparison (catdog.stats.timing_comparison), or a finding stated from one:
    seconds measured on this machine at that moment, and the verdict drawn from them."""
    if not isinstance(value, Mapping):
        return False
    comparison = value.get("comparison", value)
    return isinstance(comparison, Mapping) and comparison.get("method") == "timing"


def _has_interval(values: Mapping, prefix: str) -> bool:
    interval = values.get(f"{prefix}interval")
    return (is_number(values.get(f"{prefix}accuracy")) and isinstance(interval, list)
            and len(interval) == 2 and all(map(is_number, interval)))


def _parts(value: Any) -> Mapping[str, Any] | None:
    """A mapping's items, or a list's by position; None for a single value."""
    if isinstance(value, Mapping):
        return {str(name): part for name, part in value.items()}
    if isinstance(value, list):
        return {str(index): part for index, part in enumerate(value)}
    return None


def worst(verdicts: Iterable[str]) -> str:
    return max(verdicts, key=ORDER.index, default=EQUAL)


# --- the record -------------------------------------------------------------------------------


def make_record(entry: Entry, rows: list[Row], new: Mapping[str, Any], duration_s: float,
                mode: str) -> dict[str, Any]:
    """What the page, results.json and --status say of the reproduction."""
    counts = {"values": len(rows), **{verdict: sum(row.verdict == verdict for row in rows)
                                      for verdict in ORDER}}
    different = [row.name for row in rows if row.verdict == DIFFERENT]
    record = {"format": 1, "of_run": entry.run.get("ran_at"), "date": now_iso(), "mode": mode,
              "hardware": hardware(new.get("values", {})),
              "environment": new.get("environment", {}), "duration_s": round(duration_s, 1),
              "counts": counts, "different": different,
              "verdicts": {row.name: row.verdict for row in rows},
              # what came back, so a verdict can be read (and a rule fixed) without a re-run
              "values": {row.name: row.reproduced for row in rows if row.verdict != EQUAL
                         and row.reproduced is not MISSING}}
    return {**record, "summary": summary(record)}


def summary(record: Mapping[str, Any]) -> str:
    """`24 of 24 values equal`, then what was not: within, machine facts, different (named)."""
    counts = record["counts"]
    parts = [f"{counts[EQUAL]} of {counts['values']} values equal"]
    if counts[WITHIN]:
        parts.append(f"{counts[WITHIN]} within the committed 95 % interval")
    if counts[MACHINE]:
        parts.append(machine_part([name for name, verdict in record["verdicts"].items()
                                   if verdict == MACHINE]))
    if counts[DIFFERENT]:
        parts.append(f"{counts[DIFFERENT]} different ({', '.join(record['different'])})")
    return ", ".join(parts)


def machine_part(names: list[str]) -> str:
    """`3 timings not compared (facts of the machine, not results)`: says which kinds of
    machine facts came back other than equal (a device that came back equal is counted equal)."""
    devices = sum(name.endswith("device") for name in names)
    timings = len(names) - devices
    kinds = [f"{timings} timing{'s' if timings > 1 else ''}" if timings else "",
             "the device" if devices == 1 else f"{devices} device names" if devices else ""]
    return (f"{' and '.join(filter(None, kinds))} not compared (facts of the machine, not "
            "results)")


def write_record(entry: Entry, record: Mapping[str, Any], options: BuildOptions) -> Path:
    """Writes `reproduced.json` in the entry's folder: outside its digested parts, so the
    entry stays as its run stored it; a later run's new folder leaves it behind."""
    target = entry.directory / REPRODUCTION_FILE
    try:
        with Cache(options.freeze_dir).lock():
            write_atomically(target, json.dumps(record, indent=1, sort_keys=True) + "\n")
    except OSError as error:
        raise WriteError.of(error, target, "the committed entry is as it was") from None
    return target


def shown(value: Any, width: int = 28) -> str:
    """A value as the table shows it: compact JSON, cut to `width` characters."""
    if value is MISSING:
        return "(not recorded)"
    text = json.dumps(value, sort_keys=True, default=str) if not is_number(value) else (
        f"{value:.6g}" if isinstance(value, float) else str(value))
    return text if len(text) <= width else text[:width - 1] + "…"
