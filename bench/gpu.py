"""Trains post 1's four models and the fine-tuning step on the real photos, timed (issue #6).

One run, under `KERAS_BACKEND=jax` (set here if unset), with catdog's own builders and
`catdog.train.fit`, as `posts/2026-11-28-cats-and-dogs-four-models.md` does:

- model1: `make_small_cnn()` (no augmentation, as in the post);
- model2: `make_small_cnn(augmentation=...)`;
- model3: `make_small_cnn(augmentation=..., preprocessing="mobilenet", dense_units=256)`;
- model4: `make_transfer_model(weights=..., augmentation=...)` (frozen MobileNetV2);
- finetune: `unfreeze_top(model4, from_layer=100, learning_rate=1e-5)`, trained on.

The augmentation is the post's (horizontal flip, rotation 0.1; `--factors` for seed 002's
zoom, shift and shear too), built either by `catdog.models.make_augmentation` (`--augment
keras`, the seeds' chained Keras layers) or as one batched affine warp (`--augment fast`,
`bench/gpu_augment.py`). Data: the compact copy made by `bench/make_compact_data.py`
(160x160 JPEGs in the original layout, loaded by `catdog.data.cats_and_dogs`, so the splits
are the post's). Runs without TensorFlow (`--block-tensorflow` proves it on a machine that
has it).

Writes `--out` (default bench/results/gpu.json) in issue #6's format,
`{"device", "backend", "keras", "models": {name: {"compile_s", "epoch_s", "val_accuracy",
"test_accuracy"}}}` (compile_s: the first epoch, which compiles; epoch_s: the median of the
later epochs; accuracies from `catdog.train.evaluate` on the final weights), rewritten after
every model so a run cut short keeps what it finished; beside it `<stem>.log` (everything
printed) and `<stem>.details.json` (settings, data, per-epoch seconds, histories, versions).

    KERAS_BACKEND=jax python bench/gpu.py                              # the GPU run
    nice -n 19 python bench/gpu.py --block-tensorflow --limit 64 --epochs 2 --image-size 96 \\
        --out bench/results/gpu-cpu-dryrun.json                        # a CPU dry run
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
MODEL_NAMES = ("model1", "model2", "model3", "model4", "finetune")
DEFAULT_DATA = os.path.join(HERE, "data", "cats_and_dogs_160.zip")
DEFAULT_WEIGHTS = os.path.join(HERE, "data", "mobilenet_v2_imagenet_no_top.h5")
TARGETS = {"epoch_s": 0.5, "finetune_epoch_s": 1.0, "compile_s": 30.0}  # issue #6, on H100/H200


class Tee:
    """Writes to a stream and a log file at once."""

    def __init__(self, stream, log):
        self.stream, self.log = stream, log

    def write(self, text):
        self.stream.write(text)
        self.log.write(text)
        self.log.flush()
        return len(text)

    def flush(self):
        self.stream.flush()
        self.log.flush()

    def close(self):  # absl's logging handler closes its stream at exit: not ours to close
        pass

    def isatty(self):
        return False

    def fileno(self):
        return self.stream.fileno()


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=DEFAULT_DATA, help="the compact zip (or any source "
                        "catdog.data.cats_and_dogs takes)")
    parser.add_argument("--weights", default=DEFAULT_WEIGHTS,
                        help="MobileNetV2 no-top .h5; 'none' for random weights")
    parser.add_argument("--epochs", type=int, default=20, help="epochs of model1-model4 (post: 20)")
    parser.add_argument("--fine-tune-epochs", type=int, default=None,
                        help="epochs of the fine-tuning step (default: epochs / 2, post: 10)")
    parser.add_argument("--limit", type=int, default=None,
                        help="train on this many images (validation and test: half as many)")
    parser.add_argument("--image-size", type=int, default=160)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--augment", choices=("fast", "keras", "none"), default="fast")
    parser.add_argument("--factors", default="flip=horizontal,rotation=0.1",
                        help="augmentation factors, e.g. seed 002's "
                             "flip=horizontal,rotation=0.111,zoom=0.2,shift=0.2,shear=0.2")
    parser.add_argument("--dtype", default="auto",
                        help="'auto' (catdog.models.recommended_dtype_policy per model), "
                             "'float32', 'mixed_bfloat16', ...")
    parser.add_argument("--models", default=",".join(MODEL_NAMES),
                        help="comma-separated subset of " + ",".join(MODEL_NAMES))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--time-limit", type=float, default=None,
                        help="seconds: stop training (after the running epoch) past this, and "
                             "start no model with less than a tenth of it left")
    parser.add_argument("--cache-dir", default=None, help="catdog.data's cache (default: "
                        "$KERAS_HOME/catdog_cache)")
    parser.add_argument("--out", default=os.path.join(HERE, "results", "gpu.json"))
    parser.add_argument("--block-tensorflow", action="store_true",
                        help="make `import tensorflow` fail, as on the GPU machine")
    args = parser.parse_args(argv)
    args.models = [m.strip() for m in args.models.split(",") if m.strip()]
    unknown = set(args.models) - set(MODEL_NAMES)
    if unknown:
        parser.error(f"unknown models {sorted(unknown)}; choose from {MODEL_NAMES}")
    if args.fine_tune_epochs is None:
        args.fine_tune_epochs = max(1, args.epochs // 2)
    args.factors = parse_factors(args.factors)
    return args


def parse_factors(text: str) -> dict:
    factors = {}
    for item in filter(None, text.split(",")):
        key, value = item.split("=")
        factors[key] = (None if value == "none" else value) if key == "flip" else float(value)
    return factors


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.block_tensorflow:
        block_tensorflow()
    os.environ.setdefault("KERAS_BACKEND", "jax")
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    stem = os.path.splitext(args.out)[0]
    log = open(stem + ".log", "w")
    sys.stdout, sys.stderr = Tee(sys.__stdout__, log), Tee(sys.__stderr__, log)
    try:
        return run(args, stem)
    finally:
        sys.stdout, sys.stderr = sys.__stdout__, sys.__stderr__
        log.close()


def run(args: argparse.Namespace, stem: str) -> int:
    started = time.monotonic()
    deadline = started + args.time_limit if args.time_limit else None
    sys.path[:0] = [ROOT, HERE]
    import keras
    import numpy as np

    from catdog import data, models, train
    from gpu_augment import make_fast_augmentation

    backend = keras.backend.backend()
    device = device_name(train)
    print(f"bench/gpu.py: backend {backend}, keras {keras.__version__}, device {device}, "
          f"tensorflow importable: {tensorflow_importable()}", flush=True)
    settings = {k: relative(v) for k, v in vars(args).items()}
    print(f"settings: {json.dumps(settings)}", flush=True)

    size = (args.image_size, args.image_size)
    t = time.monotonic()
    splits = data.cats_and_dogs(args.data, image_size=size, batch_size=args.batch_size,
                                seed=args.seed, cache_dir=args.cache_dir)
    load_s = time.monotonic() - t
    train_xy = (splits.train.images, splits.train.labels)
    val_xy = (splits.validation.images, splits.validation.labels)
    test_xy = (splits.test.images, splits.test.labels)
    if args.limit:
        half = max(args.batch_size, args.limit // 2)
        train_xy = tuple(a[: args.limit] for a in train_xy)
        val_xy = tuple(a[:half] for a in val_xy)
        test_xy = tuple(a[:half] for a in test_xy)
    print(f"data: {splits.source} at {size[0]}x{size[1]}: train {len(train_xy[1])}, "
          f"validation {len(val_xy[1])}, test {len(test_xy[1])} (loaded in {load_s:.1f} s)",
          flush=True)

    weights = None if args.weights in (None, "none") else args.weights
    if weights and not os.path.isfile(weights):
        print(f"weights file {weights} not found: using random weights", flush=True)
        weights = None

    def augmentation():
        if args.augment == "none":
            return None
        if args.augment == "fast":
            return make_fast_augmentation(**args.factors)
        return models.make_augmentation(**args.factors)

    def policy(kind):
        return models.recommended_dtype_policy(kind) if args.dtype == "auto" else args.dtype

    builders = {
        "model1": lambda: models.make_small_cnn(size, dtype_policy=policy("small_cnn"),
                                                name="model1"),
        "model2": lambda: models.make_small_cnn(size, augmentation=augmentation(),
                                                dtype_policy=policy("small_cnn"), name="model2"),
        "model3": lambda: models.make_small_cnn(size, augmentation=augmentation(),
                                                preprocessing="mobilenet", dense_units=256,
                                                dtype_policy=policy("small_cnn"), name="model3"),
        "model4": lambda: models.make_transfer_model(size, weights=weights,
                                                     augmentation=augmentation(),
                                                     dtype_policy=policy("transfer"),
                                                     name="model4"),
    }
    wanted = list(args.models)
    if "finetune" in wanted and "model4" not in wanted:
        wanted.insert(wanted.index("finetune"), "model4")  # fine-tuning starts from model4

    result = {"device": device, "backend": backend, "keras": keras.__version__, "models": {}}
    details = {"settings": settings, "environment": environment(keras, np),
               "weights": relative(models.describe_weights(weights)),
               "data": data_report(args, splits, train_xy, val_xy, test_xy, load_s),
               "targets": TARGETS, "models": {}}
    model4 = None
    for name in wanted:
        if deadline and deadline - time.monotonic() < 0.1 * args.time_limit:
            print(f"{name}: skipped, time limit ({args.time_limit:.0f} s) nearly reached", flush=True)
            details["models"][name] = {"skipped": "time limit"}
            continue
        keras.utils.set_random_seed(args.seed)
        if name == "finetune":
            if model4 is None:
                continue
            model = models.unfreeze_top(model4, from_layer=100, learning_rate=1e-5)
            epochs = args.fine_tune_epochs
        else:
            model = models.compile_model(builders[name]())
            epochs = args.epochs
        print(f"--- {name}: {epochs} epochs, augment {args.augment if name != 'model1' else 'none'}"
              f", dtype {model.dtype_policy.name if hasattr(model, 'dtype_policy') else '?'}",
              flush=True)
        stopper = Deadline(deadline, keras)
        run_ = train.fit(model, train_xy, val_xy, epochs=epochs, batch_size=args.batch_size,
                         seed=args.seed, verbose=2, callbacks=[stopper])
        t = time.monotonic()
        val = train.evaluate(model, val_xy, batch_size=args.batch_size)
        test = train.evaluate(model, test_xy, batch_size=args.batch_size)
        eval_s = time.monotonic() - t
        seconds = run_.seconds_per_epoch
        steady = seconds[1:] or seconds
        result["models"][name] = {"compile_s": round(seconds[0], 3),
                                  "epoch_s": round(float(np.median(steady)), 3),
                                  "val_accuracy": round(val["accuracy"], 4),
                                  "test_accuracy": round(test["accuracy"], 4)}
        details["models"][name] = {
            "epochs_asked": epochs, "epochs_run": run_.epochs_run, "cut_by_time_limit": stopper.fired,
            "seconds_per_epoch": [round(s, 3) for s in seconds],
            "train_seconds": round(run_.train_seconds, 2), "evaluate_seconds": round(eval_s, 2),
            "val_loss": round(val["loss"], 4), "test_loss": round(test["loss"], 4),
            "history": {k: [round(v, 4) for v in vs] for k, vs in run_.history.items()},
            "dtype_policy": policy("transfer" if name in ("model4", "finetune") else "small_cnn"),
            "augmentation": "none" if name == "model1" else args.augment,
            "parameters": models.count_params(model)}
        print(f"{name}: {json.dumps(result['models'][name])}", flush=True)
        if name == "model4":
            model4 = model
        write_json(args.out, result)
        write_json(stem + ".details.json", details)
    details["total_seconds"] = round(time.monotonic() - started, 1)
    details["verdict"] = verdict(result)
    write_json(args.out, result)
    write_json(stem + ".details.json", details)
    print("verdict against issue #6's targets (meaningful on a GPU only):")
    for line in details["verdict"]:
        print("  " + line)
    print(f"wrote {args.out} in {details['total_seconds']} s", flush=True)
    return 0


def Deadline(deadline, keras):  # noqa: N802  a callback class made once keras is imported
    class _Deadline(keras.callbacks.Callback):
        fired = False

        def on_epoch_end(self, epoch, logs=None):
            if deadline and time.monotonic() > deadline:
                self.fired = True
                self.model.stop_training = True
                print(f"time limit reached after epoch {epoch + 1}: stopping", flush=True)

    return _Deadline()


class _NoTensorFlow:
    """A meta path finder: `import tensorflow` (and tensorflow.*) raises ModuleNotFoundError.

    Not `sys.modules["tensorflow"] = None`: Keras takes "tensorflow" in sys.modules to mean
    that TensorFlow was imported, and its preprocessing layers then import it (and fail).
    """

    def find_spec(self, name, path=None, target=None):
        if name == "tensorflow" or name.startswith("tensorflow."):
            raise ModuleNotFoundError(f"No module named {name!r} (blocked by --block-tensorflow)",
                                      name=name)
        return None


def block_tensorflow() -> None:
    if any(m == "tensorflow" or m.startswith("tensorflow.") for m in sys.modules):
        raise RuntimeError("tensorflow was already imported; --block-tensorflow must come first")
    sys.meta_path.insert(0, _NoTensorFlow())


def device_name(train) -> str:
    import keras

    if keras.backend.backend() == "jax":
        import jax

        gpus = [d.device_kind for d in jax.devices() if d.platform == "gpu"]
        if gpus:
            return gpus[0] if len(gpus) == 1 else f"{len(gpus)}x {gpus[0]}"
    return train.device_summary()


def tensorflow_importable() -> bool:
    try:
        import tensorflow  # noqa: F401
    except ImportError:
        return False
    return True


def environment(keras, np) -> dict:
    import platform

    env = {"python": platform.python_version(), "keras": keras.__version__,
           "numpy": np.__version__, "KERAS_BACKEND": os.environ.get("KERAS_BACKEND")}
    try:
        import jax
        import jaxlib

        env.update(jax=jax.__version__, jaxlib=jaxlib.__version__,
                   jax_devices=[f"{d.platform}:{d.device_kind}" for d in jax.devices()])
    except ImportError:
        pass
    return env


def data_report(args, splits, train_xy, val_xy, test_xy, load_s) -> dict:
    report = {"source": os.path.basename(str(args.data)), "image_size": args.image_size,
              "train": len(train_xy[1]), "validation": len(val_xy[1]), "test": len(test_xy[1]),
              "limited": bool(args.limit), "load_seconds": round(load_s, 1),
              "test_files_first": splits.test.files[:3]}
    compact = os.path.join(os.path.dirname(os.path.abspath(str(args.data))), "compact.json")
    if os.path.isfile(compact):
        with open(compact) as f:
            info = json.load(f)
        report["differences_from_original"] = info.get("differences")
        report["original"] = info.get("original")
        report["compact"] = {k: info["compact"][k] for k in ("bytes", "fingerprint", "format")}
    return report


def verdict(result: dict) -> list[str]:
    lines = []
    for name, m in result["models"].items():
        limit = TARGETS["finetune_epoch_s"] if name == "finetune" else TARGETS["epoch_s"]
        ok = m["epoch_s"] <= limit and m["compile_s"] <= TARGETS["compile_s"]
        lines.append(f"{name}: epoch {m['epoch_s']} s (target <= {limit}), first epoch "
                     f"{m['compile_s']} s (target <= {TARGETS['compile_s']}): "
                     f"{'meets' if ok else 'misses'}")
    return lines


def relative(value):
    """A string with this checkout's absolute path dropped (logs are committed)."""
    return value.replace(ROOT + os.sep, "") if isinstance(value, str) else value


def write_json(path: str, value: dict) -> None:
    partial = path + ".partial"
    with open(partial, "w") as f:
        json.dump(value, f, indent=2)
        f.write("\n")
    os.replace(partial, path)


if __name__ == "__main__":
    sys.exit(main())
