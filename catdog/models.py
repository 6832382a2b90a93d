"""Keras 3 image classifiers from the seed posts, and the helpers to compile and tune them.

Builders (`make_small_cnn`, `make_transfer_model`) only build: they return an uncompiled
`keras.Model` that takes raw 0-255 pixels (uint8 or float) and ends in logits, one for two
classes, `num_classes` otherwise. `compile_model` picks the matching loss and accuracy metric
from the output size, so a post reads `model = compile_model(make_small_cnn(), 1e-3)`.

The seeds' models map onto the builders like this (seed 001):

- model1: `make_small_cnn()`;
- model2: `make_small_cnn(augmentation=make_augmentation(...))`. The seed's own model2
  augmented raw 0-255 pixels without any rescaling and stayed at chance; here the
  augmentation feeds a `Rescaling` layer, so it learns;
- model3: `make_small_cnn(preprocessing="mobilenet", ...)`: one
  `Rescaling(1/127.5, offset=-1)` layer instead of the seed's nested model, which fails on
  Keras 3;
- model4: `make_transfer_model()`; fine-tune with `unfreeze_top(model)`.

Seed 004's strides-vs-pooling question is `make_small_cnn(downsample="strides")`.

Mixed precision is a per-model choice (see `recommended_dtype_policy`): the builders take
`dtype_policy`, and their last layer always computes in float32.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import shutil
import subprocess
from collections.abc import Iterator, Sequence
from typing import Any

import keras

from catdog.paths import keras_home

logger = logging.getLogger(__name__)

BASE_NAME = "mobilenetv2_base"
DOWNSAMPLE_CHOICES = ("pool", "strides")
PREPROCESSING_CHOICES = ("rescale", "mobilenet")
FLIP_CHOICES = (None, "horizontal", "vertical", "horizontal_and_vertical")
POOLING_CHOICES = ("avg", "max")
POLICY_KINDS = ("small_cnn", "transfer")
_DEFAULT = "default"  # sentinel: "the recipe's augmentation" for make_transfer_model



class RandomAffine(keras.layers.Layer):
    """Random rotation, zoom, shift and shear, drawn per image and applied as one transform.

    Keras' `RandomRotation`, `RandomZoom`, `RandomTranslation` and `RandomShear` each resample
    the whole batch; on a CPU the four cost about as much as the small CNN's training step
    (61 ms against 68 ms for a batch of 16 at 150x150 on this project's machines). Composed
    into one affine matrix they resample once. Factors mean what they mean for those layers:
    rotation a fraction of a full turn, zoom, shift and shear fractions of the image size.
    Active in training only; its randomness follows Keras' global seed at build time.

    Example:
        >>> layer = RandomAffine(rotation=40 / 360, zoom=0.2, shift=0.2, shear=0.2)
        >>> layer(np.zeros((2, 32, 32, 3), "float32"), training=True).shape  # doctest: +SKIP
        TensorShape([2, 32, 32, 3])
    """

    def __init__(self, rotation: float = 0.0, zoom: float = 0.0, shift: float = 0.0,
                 shear: float = 0.0, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        for arg, value in {"rotation": rotation, "zoom": zoom, "shift": shift,
                           "shear": shear}.items():
            _check_fraction(arg, value)
        self.rotation, self.zoom, self.shift, self.shear = rotation, zoom, shift, shear
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, images: Any, training: bool = True) -> Any:
        if not training:
            return images
        ops = keras.ops
        shape = ops.shape(images)
        height, width = ops.cast(shape[1], "float32"), ops.cast(shape[2], "float32")
        angle = self._uniform(shape[0], self.rotation) * 2 * math.pi
        scale = 1 + self._uniform(shape[0], self.zoom)
        shear_x, shear_y = (self._uniform(shape[0], self.shear) for _ in range(2))
        shift_x = self._uniform(shape[0], self.shift) * width
        shift_y = self._uniform(shape[0], self.shift) * height
        cos, sin = ops.cos(angle), ops.sin(angle)
        # Output offset -> input offset: rotation @ shear @ zoom, about the image centre.
        m00, m01 = scale * (cos - sin * shear_y), scale * (cos * shear_x - sin)
        m10, m11 = scale * (sin + cos * shear_y), scale * (sin * shear_x + cos)
        cx, cy = (width - 1) / 2, (height - 1) / 2
        zeros = ops.zeros_like(angle)
        transform = ops.stack([m00, m01, cx - m00 * cx - m01 * cy + shift_x,
                               m10, m11, cy - m10 * cx - m11 * cy + shift_y, zeros, zeros], axis=1)
        return ops.image.affine_transform(images, transform, interpolation="bilinear",
                                          fill_mode="reflect")

    def _uniform(self, n: Any, factor: float) -> Any:
        return keras.random.uniform((n,), -factor, factor, seed=self.seed_generator)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "rotation": self.rotation, "zoom": self.zoom,
                "shift": self.shift, "shear": self.shear, "seed": self.seed}


def make_augmentation(
    flip: str | None = "horizontal",
    rotation: float = 0.1,
    zoom: float = 0.0,
    shift: float = 0.0,
    shear: float = 0.0,
    *,
    fused: bool = False,
    name: str = "augmentation",
) -> keras.Sequential:
    """Builds the random image augmentation of the seeds as one `keras.Sequential`.

    Seed 001 flips and rotates; seed 002 (Keras' old `ImageDataGenerator`) also zooms,
    shifts and shears. Each factor is a fraction (rotation of a full turn, zoom, shift and
    shear of the image size); 0 leaves that layer out. The layers act only in training, and
    draw their randomness from Keras' global seed (`catdog.train.set_seed`) at build time.

    Args:
        flip: "horizontal", "vertical", "horizontal_and_vertical" or None.
        rotation: `RandomRotation` factor in [0, 1).
        zoom: `RandomZoom` factor in [0, 1).
        shift: `RandomTranslation` factor (height and width) in [0, 1).
        shear: `RandomShear` factor (x and y) in [0, 1).
        fused: if True, rotation, zoom, shift and shear are one `RandomAffine` layer (one
            resampling instead of up to four: cheaper on a CPU, same kind of photos).
        name: the name of the Sequential.

    Returns:
        A `keras.Sequential` of augmentation layers (it may be empty).

    Example:
        >>> augmentation = make_augmentation("horizontal", rotation=0.2, zoom=0.2)
        >>> [layer.__class__.__name__ for layer in augmentation.layers]
        ['RandomFlip', 'RandomRotation', 'RandomZoom']
    """
    if flip not in FLIP_CHOICES:
        raise ValueError(f"`flip` must be one of {FLIP_CHOICES}. Received: flip={flip!r}")
    factors = {"rotation": rotation, "zoom": zoom, "shift": shift, "shear": shear}
    for arg, value in factors.items():
        _check_fraction(arg, value)
    layers: list[keras.layers.Layer] = []
    if flip:
        layers.append(keras.layers.RandomFlip(flip))
    if fused:
        if any(factors.values()):
            layers.append(RandomAffine(rotation, zoom, shift, shear, name="random_affine"))
        return keras.Sequential(layers, name=name)
    if rotation:
        layers.append(keras.layers.RandomRotation(rotation))
    if zoom:
        layers.append(keras.layers.RandomZoom(zoom))
    if shift:
        layers.append(keras.layers.RandomTranslation(shift, shift))
    if shear:
        layers.append(keras.layers.RandomShear(x_factor=shear, y_factor=shear))
    return keras.Sequential(layers, name=name)


def make_small_cnn(
    image_size: tuple[int, int] = (160, 160),
    num_classes: int = 2,
    *,
    filters: Sequence[int] = (32, 32, 32),
    kernel_size: int = 3,
    dense_units: int = 128,
    dropout: float = 0.2,
    downsample: str = "pool",
    augmentation: keras.layers.Layer | None = None,
    preprocessing: str = "rescale",
    dtype_policy: str | None = None,
    name: str = "small_cnn",
) -> keras.Model:
    """Builds seed 001's small CNN: conv blocks, a dense layer, dropout, logits.

    Each block is `Conv2D(f, kernel_size, relu)` then `MaxPooling2D(2)` (downsample="pool",
    the seeds' choice) or one `Conv2D(f, kernel_size, strides=2, relu)` (downsample="strides",
    seed 004's question). The model starts with optional augmentation on raw pixels, then a
    `Rescaling` layer, so it takes 0-255 images of any numeric dtype.

    Args:
        image_size: (height, width) of the input images.
        num_classes: 2 gives one logit; more give `num_classes` logits.
        filters: filters of each conv block, one block per entry.
        kernel_size: the conv kernel size.
        dense_units: units of the hidden dense layer.
        dropout: dropout rate before the last layer, in [0, 1).
        downsample: "pool" or "strides".
        augmentation: a layer applied (in training only) before rescaling, e.g.
            `make_augmentation()`; None for none.
        preprocessing: "rescale" (to [0, 1]) or "mobilenet" (to [-1, 1]).
        dtype_policy: a Keras dtype policy name such as "mixed_bfloat16" for every layer but
            the augmentation and the last one; None keeps the global policy.
        name: the model's name.

    Returns:
        An uncompiled functional `keras.Model`; compile it with `compile_model`.

    Example:
        >>> model = make_small_cnn((160, 160), 2)
        >>> model.output_shape
        (None, 1)
    """
    _check_common(image_size, num_classes, dropout)
    _check_choice("downsample", downsample, DOWNSAMPLE_CHOICES)
    _check_choice("preprocessing", preprocessing, PREPROCESSING_CHOICES)
    if not filters or any(int(f) < 1 for f in filters):
        raise ValueError(f"`filters` must be a non-empty sequence of positive ints. "
                         f"Received: filters={filters!r}")
    inputs = keras.Input(shape=(*image_size, 3), name="image")
    x = augmentation(inputs) if augmentation is not None else inputs
    with _dtype_policy_scope(dtype_policy):
        x = _preprocessing_layer(preprocessing)(x)
        for f in filters:
            x = _downsample_block(x, int(f), kernel_size, downsample)
        x = keras.layers.Flatten()(x)
        x = keras.layers.Dense(dense_units, activation="relu")(x)
        x = keras.layers.Dropout(dropout)(x)
        outputs = _logits(x, num_classes)
    return keras.Model(inputs, outputs, name=name)


def make_transfer_model(
    image_size: tuple[int, int] = (160, 160),
    num_classes: int = 2,
    *,
    weights: str | None = "imagenet",
    augmentation: keras.layers.Layer | str | None = _DEFAULT,
    dropout: float = 0.2,
    pooling: str = "avg",
    dtype_policy: str | None = None,
    name: str = "transfer_mobilenetv2",
) -> keras.Model:
    """Builds seed 001's model4: a frozen MobileNetV2 with a new classification head.

    The recipe of the TensorFlow transfer-learning tutorial: augmentation, MobileNetV2
    preprocessing, the ImageNet base without its top (frozen), global pooling, dropout,
    logits. `unfreeze_top` keeps the base's BatchNorm layers frozen, so they stay in inference
    mode when the rest is fine-tuned (in Keras 3 a functional model passes its own `training`
    flag down to every layer, overriding the `training=False` the tutorial writes). The base is the layer named `BASE_NAME`; `base_of(model)` finds it.

    Args:
        image_size: (height, width); at least 32x32.
        num_classes: 2 gives one logit; more give `num_classes` logits.
        weights: "imagenet" (Keras downloads and caches them), a path to a `.h5` file of
            no-top weights, or None for random weights (tests, quick runs).
        augmentation: a layer applied in training before preprocessing; "default" is the
            tutorial's flip + rotation(0.2); None for none.
        dropout: dropout rate before the last layer, in [0, 1).
        pooling: "avg" (the tutorial) or "max" (seed 001).
        dtype_policy: a Keras dtype policy name for the base and head (not the last layer);
            on CPU keep float32 (see `recommended_dtype_policy`).
        name: the model's name.

    Returns:
        An uncompiled functional `keras.Model` whose base is frozen.

    Example:
        >>> model = make_transfer_model(weights=None)
        >>> base_of(model).trainable
        False
    """
    _check_common(image_size, num_classes, dropout)
    _check_choice("pooling", pooling, POOLING_CHOICES)
    if min(image_size) < 32:
        raise ValueError(f"`image_size` must be at least (32, 32) for MobileNetV2. "
                         f"Received: image_size={image_size!r}")
    if weights not in ("imagenet", None) and not os.path.isfile(str(weights)):
        raise ValueError(f"`weights` must be 'imagenet', None or the path of an existing "
                         f"weights file. Received: weights={weights!r}")
    if isinstance(augmentation, str):
        if augmentation != _DEFAULT:
            raise ValueError(f"`augmentation` must be a layer, None or 'default'. "
                             f"Received: augmentation={augmentation!r}")
        augmentation = make_augmentation("horizontal", rotation=0.2)
    inputs = keras.Input(shape=(*image_size, 3), name="image")
    x = augmentation(inputs) if augmentation is not None else inputs
    with _dtype_policy_scope(dtype_policy):
        x = _preprocessing_layer("mobilenet")(x)
        base = _mobilenet_base(image_size, weights)
        base.trainable = False
        x = base(x, training=False)
        pool = keras.layers.GlobalAveragePooling2D if pooling == "avg" else keras.layers.GlobalMaxPooling2D
        x = pool()(x)
        x = keras.layers.Dropout(dropout)(x)
        outputs = _logits(x, num_classes)
    return keras.Model(inputs, outputs, name=name)


IMAGENET_SIZES = (96, 128, 160, 192, 224)  # Keras has MobileNetV2 ImageNet weights for these


def imagenet_weights_file(image_size: tuple[int, int]) -> str:
    """The file Keras loads for `weights="imagenet"` at this size (the 224 one for other sizes).

    Example:
        >>> imagenet_weights_file((150, 150))
        'mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5'
    """
    rows = image_size[0] if image_size[0] in IMAGENET_SIZES else 224
    return f"mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_{rows}_no_top.h5"


def _mobilenet_base(image_size: tuple[int, int], weights: str | None) -> keras.Model:
    """MobileNetV2 without its top; a failed weights download is one clear error, not urllib's."""
    try:
        return keras.applications.MobileNetV2(input_shape=(*image_size, 3), include_top=False,
                                              weights=weights, name=BASE_NAME)
    except Exception as error:  # Keras raises a bare Exception("URL fetch failure ...")
        if weights != "imagenet" or "fetch" not in str(error).lower():
            raise
        cache = keras_home() / "models"
        raise RuntimeError(
            f"Could not download the ImageNet MobileNetV2 weights for {image_size[0]}x"
            f"{image_size[1]} ({imagenet_weights_file(image_size)}): {error}. Offline, put that "
            f"file in {cache} (`bash tools/offline-setup.sh` does it from a local copy), or pass "
            f"weights='path/to/weights.h5' or weights=None.") from None


def base_of(model: keras.Model) -> keras.Model:
    """Returns the pretrained base of a model built by `make_transfer_model`.

    Example:
        >>> base_of(make_transfer_model(weights=None)).name
        'mobilenetv2_base'
    """
    try:
        return model.get_layer(BASE_NAME)
    except ValueError:
        raise ValueError(f"`model` must come from make_transfer_model (a layer named "
                         f"{BASE_NAME!r}). Received: model={model.name!r}") from None


def unfreeze_top(
    model: keras.Model,
    n_layers: int | None = None,
    *,
    from_layer: int | None = None,
    learning_rate: float = 1e-5,
) -> keras.Model:
    """Unfreezes the top of the pretrained base for fine-tuning, then recompiles.

    Give either `n_layers` (the last n layers of the base) or `from_layer` (every layer
    from that index on); neither means `from_layer=100`, the tutorial's choice (of 154).
    The model is recompiled with `compile_model` at a low learning rate, so the pretrained
    features are only nudged. BatchNorm layers stay frozen: unfrozen, they would normalise
    each small batch by its own statistics instead of ImageNet's and wreck the features the
    head was trained on (training accuracy falls from 0.87 to 0.56 in the first epoch).

    Args:
        model: a model from `make_transfer_model`.
        n_layers: how many of the base's last layers to unfreeze, at least 1.
        from_layer: the index of the first base layer to unfreeze.
        learning_rate: the learning rate to recompile with.

    Returns:
        The same model, recompiled.

    Example:
        >>> model = unfreeze_top(make_transfer_model(weights=None), from_layer=100)
        >>> base_of(model).layers[99].trainable, base_of(model).layers[100].trainable
        (False, True)
    """
    if n_layers is not None and from_layer is not None:
        raise ValueError(f"Give `n_layers` or `from_layer`, not both. "
                         f"Received: n_layers={n_layers}, from_layer={from_layer}")
    base = base_of(model)
    total = len(base.layers)
    if n_layers is not None:
        if not 1 <= n_layers <= total:
            raise ValueError(f"`n_layers` must be in [1, {total}]. Received: n_layers={n_layers}")
        from_layer = total - n_layers
    from_layer = 100 if from_layer is None else from_layer
    if not 0 <= from_layer < total:
        raise ValueError(f"`from_layer` must be in [0, {total - 1}]. "
                         f"Received: from_layer={from_layer}")
    base.trainable = True
    for index, layer in enumerate(base.layers):  # each layer: a second call may unfreeze more
        frozen_norm = isinstance(layer, keras.layers.BatchNormalization)
        layer.trainable = index >= from_layer and not frozen_norm
    logger.info("Unfroze %d of %d base layers (from layer %d).", total - from_layer, total, from_layer)
    return compile_model(model, learning_rate)


def compile_model(
    model: keras.Model,
    learning_rate: float = 1e-3,
    *,
    optimizer: str = "adam",
) -> keras.Model:
    """Compiles a classifier with the loss and accuracy that fit its output size.

    One output unit means two classes: `BinaryCrossentropy(from_logits=True)` and a binary
    accuracy thresholded at logit 0. More units: `SparseCategoricalCrossentropy(from_logits=True)`.
    Labels are integer class indices either way; the metric is named "accuracy" in both
    cases, so histories have `accuracy` and `val_accuracy`. A model with float16 layers gets
    a `LossScaleOptimizer`.

    Args:
        model: a model ending in logits.
        learning_rate: the optimizer's learning rate, > 0, or a Keras learning-rate
            schedule (e.g. `keras.optimizers.schedules.CosineDecay`).
        optimizer: "adam", "rmsprop" or "sgd".

    Returns:
        The same model, compiled.

    Example:
        >>> model = compile_model(make_small_cnn((32, 32)), learning_rate=1e-3)
        >>> model.loss.__class__.__name__
        'BinaryCrossentropy'
    """
    optimizers = {"adam": keras.optimizers.Adam, "rmsprop": keras.optimizers.RMSprop,
                  "sgd": keras.optimizers.SGD}
    _check_choice("optimizer", optimizer, tuple(optimizers))
    is_schedule = isinstance(learning_rate, keras.optimizers.schedules.LearningRateSchedule)
    if not is_schedule and not learning_rate > 0:
        raise ValueError(f"`learning_rate` must be > 0. Received: learning_rate={learning_rate}")
    opt = optimizers[optimizer](learning_rate=learning_rate)
    if any(layer.dtype_policy.name == "mixed_float16" for layer in _all_layers(model)):
        opt = keras.optimizers.LossScaleOptimizer(opt)
    if model.output_shape[-1] == 1:
        loss = keras.losses.BinaryCrossentropy(from_logits=True)
        metric = keras.metrics.BinaryAccuracy(name="accuracy", threshold=0.0)
    else:
        loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        metric = keras.metrics.SparseCategoricalAccuracy(name="accuracy")
    model.compile(optimizer=opt, loss=loss, metrics=[metric])
    return model


def count_params(model: keras.Model) -> dict[str, int]:
    """Counts a model's weights: total, trainable and non-trainable.

    Example:
        >>> count_params(make_small_cnn((32, 32)))["total"] > 0
        True
    """
    total = _count(model.weights)
    trainable = _count(model.trainable_weights)
    return {"total": total, "trainable": trainable, "non_trainable": total - trainable}


def recommended_dtype_policy(kind: str, *, backend: str | None = None) -> str:
    """Picks the dtype policy measured fastest for a kind of model on this machine.

    On this project's CPU (avx512_bf16), "mixed_bfloat16" trains the small CNN ~2x faster
    under TensorFlow but makes the frozen MobileNetV2 slower (BatchNorm casts), and Keras on
    JAX on CPU is slower in it too. So on CPU: "mixed_bfloat16" for a small CNN under
    TensorFlow when the CPU has avx512_bf16 or amx_bf16, else "float32". On an NVIDIA GPU:
    "mixed_bfloat16" from compute capability 8.0 (Ampere, Hopper) on, else "mixed_float16".

    Args:
        kind: "small_cnn" or "transfer".
        backend: the Keras backend to decide for; None means the current one.

    Returns:
        A Keras dtype policy name.

    Example:
        >>> recommended_dtype_policy("transfer") in ("float32", "mixed_float16", "mixed_bfloat16")
        True
    """
    _check_choice("kind", kind, POLICY_KINDS)
    backend = backend or keras.backend.backend()
    capability = gpu_compute_capability()
    if capability is not None:
        return "mixed_bfloat16" if capability >= 8.0 else "mixed_float16"
    if kind == "small_cnn" and backend == "tensorflow" and cpu_has_bf16():
        return "mixed_bfloat16"
    return "float32"


def cpu_has_bf16(cpuinfo: str = "/proc/cpuinfo") -> bool:
    """Whether the CPU has native bfloat16 arithmetic (avx512_bf16 or amx_bf16 flags).

    Example:
        >>> cpu_has_bf16("/no/such/file")
        False
    """
    try:
        with open(cpuinfo) as f:
            flags = next((line for line in f if line.startswith("flags")), "").split()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def gpu_compute_capability() -> float | None:
    """The lowest compute capability of the visible NVIDIA GPUs, or None without any.

    Asks `nvidia-smi`, so it neither imports a backend's GPU runtime nor depends on one.

    Example:
        >>> gpu_compute_capability() is None or gpu_compute_capability() > 0
        True
    """
    if shutil.which("nvidia-smi") is None:
        return None
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=compute_cap", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=20, check=True).stdout
        values = [float(v) for v in out.split()]
    except (OSError, subprocess.SubprocessError, ValueError):
        return None
    return min(values) if values else None


# --- helpers -------------------------------------------------------------------------------


def _downsample_block(x: Any, filters: int, kernel_size: int, downsample: str) -> Any:
    if downsample == "strides":
        return keras.layers.Conv2D(filters, kernel_size, strides=2, activation="relu")(x)
    x = keras.layers.Conv2D(filters, kernel_size, activation="relu")(x)
    return keras.layers.MaxPooling2D(2)(x)


def _preprocessing_layer(preprocessing: str) -> keras.layers.Layer:
    if preprocessing == "mobilenet":
        return keras.layers.Rescaling(1 / 127.5, offset=-1, name="mobilenet_preprocessing")
    return keras.layers.Rescaling(1 / 255, name="rescaling")


def _logits(x: Any, num_classes: int) -> Any:
    units = 1 if num_classes == 2 else num_classes
    return keras.layers.Dense(units, dtype="float32", name="logits")(x)


@contextlib.contextmanager
def _dtype_policy_scope(policy: str | None) -> Iterator[None]:
    """Sets Keras' global dtype policy while layers are created, then restores it."""
    if policy is None:
        yield
        return
    previous = keras.config.dtype_policy()
    try:
        keras.config.set_dtype_policy(policy)
    except ValueError:
        raise ValueError(f"`dtype_policy` must be a Keras dtype policy name such as 'float32', "
                         f"'mixed_bfloat16' or 'mixed_float16'. Received: dtype_policy={policy!r}"
                         ) from None
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def _all_layers(model: keras.Model) -> Iterator[keras.layers.Layer]:
    for layer in model._flatten_layers(include_self=False, recursive=True):
        yield layer


def _size(weight: Any) -> int:
    size = 1
    for dim in weight.shape:
        size *= int(dim)
    return size


def _count(weights: Sequence[Any]) -> int:
    return sum(_size(w) for w in weights)


def _check_common(image_size: Any, num_classes: Any, dropout: Any) -> None:
    if (not isinstance(image_size, (tuple, list)) or len(image_size) != 2
            or any(not isinstance(s, int) or s < 1 for s in image_size)):
        raise ValueError(f"`image_size` must be a (height, width) pair of positive ints. "
                         f"Received: image_size={image_size!r}")
    if not isinstance(num_classes, int) or num_classes < 2:
        raise ValueError(f"`num_classes` must be an int >= 2. Received: num_classes={num_classes!r}")
    if not 0 <= dropout < 1:
        raise ValueError(f"`dropout` must be in [0, 1). Received: dropout={dropout!r}")


def _check_choice(arg: str, value: Any, choices: Sequence[Any]) -> None:
    if value not in choices:
        raise ValueError(f"`{arg}` must be one of {tuple(choices)}. Received: {arg}={value!r}")


def _check_fraction(arg: str, value: Any) -> None:
    if not isinstance(value, (int, float)) or not 0 <= value < 1:
        raise ValueError(f"`{arg}` must be a number in [0, 1). Received: {arg}={value!r}")


def describe_weights(weights: str | None, image_size: tuple[int, int] = (160, 160)) -> str:
    """Names the MobileNetV2 weights a transfer model starts from, by file and sha256.

    So a reader can tell exactly what ran: Keras's cached ImageNet file (or the offline
    stand-in copied there), a local file, or random initial weights.

    Example:
        >>> describe_weights(None)
        'random (weights=None)'
    """
    if weights is None:
        return "random (weights=None)"
    path = weights
    if weights == "imagenet":
        path = str(keras_home() / "models" / imagenet_weights_file(image_size))
    if not os.path.isfile(path):
        return f"{weights} (file not found yet: {os.path.basename(path)})"
    from catdog.results import fingerprint

    return f"{weights} ({os.path.basename(path)}, {fingerprint(path)})"
