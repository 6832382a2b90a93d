"""Benchmark: the seed posts' input pipeline against catdog's, training seed 001's model1.

Both arms train the same model (seed 001's `model1`: three Conv2D(32, 3x3) + MaxPooling
blocks, Dense(128), Dropout(0.2), one logit; binary cross-entropy from logits, Adam) on the
same photos at 160x160, batch 32, for 3 epochs, with validation every epoch:

(a) seed pipeline: `keras.utils.image_dataset_from_directory` over the extracted folders,
    test split by `take`/`skip` as the seeds do, `.prefetch(tf.data.AUTOTUNE)`, float32,
    `Rescaling(1/255)` in the model. JPEGs are decoded again every epoch.
(b) catdog pipeline: `catdog.data.cats_and_dogs()` arrays (decoded once, cached on disk),
    the same model under the `mixed_bfloat16` dtype policy with a float32 last layer.

The seconds of each epoch are printed; epoch 1 (tracing, warm-up) is printed but left out
of the steady figure, the median of the later epochs. The ratio is (a) / (b); the goal is
>= 1.5. Both arms measure accuracy with `BinaryAccuracy(threshold=0.0)` (the model outputs a
logit; the seeds' `"accuracy"` thresholds a logit at 0.5). The machines are shared, so
figures move by 10-20 % run to run: quote medians of several runs.

Run from the repository root (TensorFlow backend; a few minutes on 2 CPU cores):

    python bench/pipeline.py --data ../shared/data/cats_and_dogs_filtered.zip \
        > bench/results/pipeline.txt 2>&1
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import zipfile
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402  (the seed pipeline is tf.data; allowed in bench only)

from catdog import data  # noqa: E402

IMAGE_SIZE = (160, 160)
BATCH_SIZE = 32


class EpochTimer(keras.callbacks.Callback):
    """Keeps the wall-clock seconds of each epoch (training and validation)."""

    def on_train_begin(self, logs=None):
        self.seconds = []

    def on_epoch_begin(self, epoch, logs=None):
        self.started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self.started)


def make_model1(mixed: bool) -> keras.Model:
    """Seed 001's model1 with Rescaling(1/255) in front; float32 logit when `mixed`."""
    keras.mixed_precision.set_global_policy("mixed_bfloat16" if mixed else "float32")
    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input((*IMAGE_SIZE, 3)),
        keras.layers.Rescaling(1 / 255),
        keras.layers.Conv2D(32, (3, 3), activation="relu"),
        keras.layers.MaxPooling2D((2, 2)),
        keras.layers.Conv2D(32, (3, 3), activation="relu"),
        keras.layers.MaxPooling2D((2, 2)),
        keras.layers.Conv2D(32, (3, 3), activation="relu"),
        keras.layers.MaxPooling2D((2, 2)),
        keras.layers.Flatten(),
        keras.layers.Dense(128, activation="relu"),
        keras.layers.Dropout(0.2),
        keras.layers.Dense(1, dtype="float32"),
    ])
    keras.mixed_precision.set_global_policy("float32")
    model.compile(optimizer="adam", loss=keras.losses.BinaryCrossentropy(from_logits=True),
                  metrics=[keras.metrics.BinaryAccuracy(threshold=0.0, name="accuracy")])
    return model


def seed_pipeline(zip_path: Path, work: Path, epochs: int) -> tuple[list[float], float]:
    """Arm (a): the seed posts' code, written out."""
    root = work / "cats_and_dogs_filtered"
    if not root.exists():
        with zipfile.ZipFile(zip_path) as zipped:
            zipped.extractall(work)
    train_dataset = keras.utils.image_dataset_from_directory(
        root / "train", shuffle=True, batch_size=BATCH_SIZE, image_size=IMAGE_SIZE)
    validation_dataset = keras.utils.image_dataset_from_directory(
        root / "validation", shuffle=True, batch_size=BATCH_SIZE, image_size=IMAGE_SIZE)
    val_batches = tf.data.experimental.cardinality(validation_dataset)
    test_dataset = validation_dataset.take(val_batches // 5)  # noqa: F841  (as the seeds do)
    validation_dataset = validation_dataset.skip(val_batches // 5)
    train_dataset = train_dataset.prefetch(buffer_size=tf.data.AUTOTUNE)
    validation_dataset = validation_dataset.prefetch(buffer_size=tf.data.AUTOTUNE)
    timer = EpochTimer()
    history = make_model1(mixed=False).fit(train_dataset, epochs=epochs, verbose=0,
                                           validation_data=validation_dataset,
                                           callbacks=[timer])
    return timer.seconds, history.history["val_accuracy"][-1]


def catdog_pipeline(zip_path: Path, cache: Path, epochs: int) -> tuple[list[float], float]:
    """Arm (b): catdog's decoded-once arrays and a mixed_bfloat16 model1."""
    started = time.perf_counter()
    splits = data.cats_and_dogs(zip_path, image_size=IMAGE_SIZE, batch_size=BATCH_SIZE,
                                cache_dir=cache)
    print(f"catdog: cats_and_dogs() decode once (extract + decode + cache): "
          f"{time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    splits = data.cats_and_dogs(zip_path, image_size=IMAGE_SIZE, batch_size=BATCH_SIZE,
                                cache_dir=cache)
    print(f"catdog: cats_and_dogs() again, from the cache: {time.perf_counter() - started:.1f} s")
    print(f"catdog: {splits.summary()}")
    timer = EpochTimer()
    history = make_model1(mixed=True).fit(
        splits.train.images, splits.train.labels, batch_size=BATCH_SIZE, epochs=epochs,
        verbose=0, validation_data=(splits.validation.images, splits.validation.labels),
        callbacks=[timer])
    return timer.seconds, history.history["val_accuracy"][-1]


def report(name: str, seconds: list[float], val_accuracy: float) -> float:
    """Prints one arm's epochs; returns its steady seconds per epoch (epoch 1 left out)."""
    steady = statistics.median(seconds[1:]) if len(seconds) > 1 else seconds[0]
    epochs = ", ".join(f"{s:.1f}" for s in seconds)
    print(f"{name}: seconds per epoch [{epochs}] (epoch 1 = warm-up {seconds[0]:.1f} s); "
          f"steady {steady:.2f} s/epoch; final val_accuracy {val_accuracy:.4f}")
    return steady


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="../shared/data/cats_and_dogs_filtered.zip",
                        help="the cats_and_dogs_filtered.zip (path relative to the repo root)")
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args(argv)
    if keras.backend.backend() != "tensorflow":
        sys.exit("bench/pipeline.py compares against tf.data: run it with KERAS_BACKEND=tensorflow")
    zip_path = Path(args.data)
    print(f"keras {keras.__version__}, tensorflow {tf.__version__}, {os.cpu_count()} CPUs; "
          f"data {zip_path}; {IMAGE_SIZE[0]}x{IMAGE_SIZE[1]}, batch {BATCH_SIZE}, "
          f"{args.epochs} epochs", flush=True)
    with tempfile.TemporaryDirectory(prefix="catdog-bench-") as work:
        seed = report("(a) seed pipeline, float32", *seed_pipeline(zip_path, Path(work),
                                                                   args.epochs))
        mine = report("(b) catdog pipeline, mixed_bfloat16",
                      *catdog_pipeline(zip_path, Path(work) / "catdog_cache", args.epochs))
    print(f"ratio (a)/(b), steady seconds per epoch: {seed / mine:.2f}x (goal >= 1.5)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
