"""A prototype of the seeds' augmentation as ONE batched affine warp per batch (issue #6).

`catdog.models.make_augmentation` chains Keras' `RandomFlip`, `RandomRotation`, `RandomZoom`,
`RandomTranslation` and `RandomShear`: each one resamples the whole batch, and on a GPU under
JAX the rotation layer alone costs 3.5 s an epoch (issue #6's table). `BatchedAffine` draws
the same five random factors per image, composes them into one 2x3 matrix per image, and
resamples the batch once: one bilinear interpolation, one gather of the four neighbours of
every output pixel, all in `keras.ops`, so it runs inside the compiled training step on any
backend. It is a `keras.layers.Layer` active only in training; at inference it returns its
input (cast to float32, like Keras' own augmentation layers).

The factors mean what they mean in `make_augmentation` (and Keras): `rotation` is a
fraction of a full turn (angle uniform in +-rotation*2*pi), `zoom` gives a scale uniform in
[1 - zoom, 1 + zoom] (above 1 zooms out, same for height and width, like `RandomZoom` with
no width factor), `shift` a translation uniform in +-shift of the height and width, `shear`
a shear uniform in +-shear along x and along y (as `RandomShear`, but about the image centre
rather than the top-left corner), `flip` "horizontal", "vertical", "horizontal_and_vertical"
or None (each flip with probability 1/2). Pixels that fall outside are filled by reflection
("reflect", Keras' default: d c b a | a b c d | d c b a).

Differences from the chained layers, on purpose: one resampling instead of up to four (so a
sharper image: the chain blurs at every step), and the order of the transforms is fixed
(flip, then shear, zoom, rotation, shift, applied about the centre); the chain's
distribution of transforms is the same up to that order.

    python bench/gpu_augment.py --grid bench/results/augment-grid.png   # both side by side
    python bench/gpu_augment.py --bench --image-size 160 --batches 20   # timing, this backend
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time

import keras
import numpy as np
from keras import ops

FLIPS = (None, "horizontal", "vertical", "horizontal_and_vertical")


@keras.saving.register_keras_serializable(package="catdog_bench")
class BatchedAffine(keras.layers.Layer):
    """Random flip, rotation, zoom, shift and shear as one affine warp per image.

    Args:
        flip: "horizontal", "vertical", "horizontal_and_vertical" or None.
        rotation: fraction of a full turn, in [0, 1).
        zoom: zoom factor, in [0, 1).
        shift: translation as a fraction of height and width, in [0, 1).
        shear: shear factor along x and y, in [0, 1).
        seed: the seed of the layer's `SeedGenerator`; None draws one from Keras' global
            seed (`keras.utils.set_random_seed`), like Keras' random layers.

    Example:
        >>> layer = BatchedAffine("horizontal", rotation=0.1)
        >>> layer(np.zeros((2, 32, 32, 3), "uint8"), training=True).shape
        (2, 32, 32, 3)
    """

    def __init__(self, flip: str | None = "horizontal", rotation: float = 0.1,
                 zoom: float = 0.0, shift: float = 0.0, shear: float = 0.0,
                 seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        if flip not in FLIPS:
            raise ValueError(f"`flip` must be one of {FLIPS}. Received: flip={flip!r}")
        for arg, value in (("rotation", rotation), ("zoom", zoom), ("shift", shift),
                           ("shear", shear)):
            if not isinstance(value, (int, float)) or not 0 <= value < 1:
                raise ValueError(f"`{arg}` must be a number in [0, 1). Received: {arg}={value!r}")
        self.flip, self.rotation, self.zoom = flip, float(rotation), float(zoom)
        self.shift, self.shear, self.seed = float(shift), float(shear), seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.supports_masking = True

    def get_config(self) -> dict:
        return {**super().get_config(), "flip": self.flip, "rotation": self.rotation,
                "zoom": self.zoom, "shift": self.shift, "shear": self.shear, "seed": self.seed}

    def compute_output_shape(self, input_shape):
        return input_shape

    def call(self, inputs, training=None):
        images = ops.cast(inputs, "float32")
        if not training:
            return images
        matrices = self.random_matrices(ops.shape(images)[0], ops.shape(images)[1],
                                        ops.shape(images)[2])
        return affine_warp(images, matrices)

    def random_matrices(self, batch, height, width):
        """One (batch, 2, 3) matrix per image mapping output (y, x) to input (y, x) pixels."""
        def uniform(low, high):
            return keras.random.uniform((batch,), low, high, seed=self.seed_generator)

        one, zero = ops.ones((batch,)), ops.zeros((batch,))
        # Linear part in (y, x) order, about the image centre; start from the identity.
        a, b, c, d = one, zero, zero, one  # [[a, b], [c, d]]
        if self.flip in ("horizontal", "horizontal_and_vertical"):
            d = ops.where(uniform(0.0, 1.0) < 0.5, -one, one)
        if self.flip in ("vertical", "horizontal_and_vertical"):
            a = ops.where(uniform(0.0, 1.0) < 0.5, -one, one)

        def then(m, n):  # the matrix product n @ m of [[a, b], [c, d]] pairs
            (a1, b1, c1, d1), (a2, b2, c2, d2) = m, n
            return (a2 * a1 + b2 * c1, a2 * b1 + b2 * d1, c2 * a1 + d2 * c1, c2 * b1 + d2 * d1)

        m = (a, b, c, d)
        if self.shear:
            sx, sy = uniform(-self.shear, self.shear), uniform(-self.shear, self.shear)
            m = then(m, (one, sy, sx, one))  # y += sy * x, x += sx * y (as RandomShear)
        if self.zoom:
            s = uniform(1.0 - self.zoom, 1.0 + self.zoom)
            m = then(m, (s, zero, zero, s))
        if self.rotation:
            angle = uniform(-self.rotation, self.rotation) * (2 * math.pi)
            cos, sin = ops.cos(angle), ops.sin(angle)
            m = then(m, (cos, -sin, sin, cos))
        ty = tx = zero
        if self.shift:
            ty = uniform(-self.shift, self.shift) * ops.cast(height, "float32")
            tx = uniform(-self.shift, self.shift) * ops.cast(width, "float32")
        a, b, c, d = m
        cy = (ops.cast(height, "float32") - 1) / 2
        cx = (ops.cast(width, "float32") - 1) / 2
        # input = M (output - centre) + centre + t  =>  offset = centre + t - M centre
        oy = cy + ty - (a * cy + b * cx)
        ox = cx + tx - (c * cy + d * cx)
        return ops.reshape(ops.stack([a, b, oy, c, d, ox], axis=1), (batch, 2, 3))


def affine_warp(images, matrices):
    """Resamples `images` (B, H, W, C, float) at `matrices` (B, 2, 3): bilinear, reflect fill.

    Output pixel (y, x) of image i reads input pixel `matrices[i] @ (y, x, 1)`. The four
    neighbours of every output pixel of the whole batch come from one gather.
    """
    shape = ops.shape(images)
    batch, height, width, channels = shape[0], shape[1], shape[2], shape[3]
    ys = ops.cast(ops.arange(height), "float32")
    xs = ops.cast(ops.arange(width), "float32")
    grid_y = ops.reshape(ops.repeat(ys, width), (1, height * width))      # (1, HW)
    grid_x = ops.reshape(ops.tile(xs, [height]), (1, height * width))     # (1, HW)
    m = matrices
    src_y = m[:, 0, 0:1] * grid_y + m[:, 0, 1:2] * grid_x + m[:, 0, 2:3]  # (B, HW)
    src_x = m[:, 1, 0:1] * grid_y + m[:, 1, 1:2] * grid_x + m[:, 1, 2:3]
    y0, x0 = ops.floor(src_y), ops.floor(src_x)
    wy, wx = src_y - y0, src_x - x0
    y0, x0 = ops.cast(y0, "int32"), ops.cast(x0, "int32")
    rows = [_reflect(y0, height), _reflect(y0 + 1, height)]
    cols = [_reflect(x0, width), _reflect(x0 + 1, width)]
    base = ops.reshape(ops.arange(batch, dtype="int32") * (height * width), (batch, 1))
    index = ops.concatenate([base + r * width + c for r in rows for c in cols], axis=1)
    flat = ops.reshape(images, (batch * height * width, channels))
    corners = ops.take(flat, ops.reshape(index, (-1,)), axis=0)          # the one gather
    corners = ops.reshape(corners, (batch, 4, height * width, channels))
    wy, wx = wy[:, :, None], wx[:, :, None]
    out = ((1 - wy) * ((1 - wx) * corners[:, 0] + wx * corners[:, 1])
           + wy * ((1 - wx) * corners[:, 2] + wx * corners[:, 3]))
    return ops.reshape(out, (batch, height, width, channels))


def _reflect(index, size):
    """Keras' "reflect" fill for integer pixel indices: d c b a | a b c d | d c b a."""
    period = 2 * size
    index = ops.mod(index, period)  # floor mod: non-negative
    return ops.where(index >= size, period - 1 - index, index)


def make_fast_augmentation(flip: str | None = "horizontal", rotation: float = 0.1,
                           zoom: float = 0.0, shift: float = 0.0, shear: float = 0.0,
                           *, name: str = "augmentation", seed: int | None = None) -> BatchedAffine:
    """`catdog.models.make_augmentation`'s signature, one `BatchedAffine` layer instead."""
    return BatchedAffine(flip, rotation, zoom, shift, shear, seed=seed, name=name)


# --- the command line: a picture of both, and a timing --------------------------------------


def _sample_images(n: int, image_size: int) -> np.ndarray:
    """Real photos from bench/data (make_compact_data.py) if there, else a synthetic test card."""
    here = os.path.dirname(os.path.abspath(__file__))
    compact = os.path.join(here, "data", "cats_and_dogs_160.zip")
    if os.path.isfile(compact):
        import io
        import zipfile

        from PIL import Image

        with zipfile.ZipFile(compact) as z:
            names = sorted(f for f in z.namelist() if f.endswith(".jpg"))[:: 997][:n]
            return np.stack([np.asarray(Image.open(io.BytesIO(z.read(f))).convert("RGB")
                                        .resize((image_size, image_size), Image.BILINEAR))
                             for f in names])
    y, x = np.mgrid[0:image_size, 0:image_size]
    card = np.stack([x * 255 // image_size, y * 255 // image_size,
                     ((x // 16 + y // 16) % 2) * 255], -1)
    card[image_size // 4: image_size // 2, image_size // 8: image_size // 3] = (255, 255, 0)
    return np.repeat(card[None].astype("uint8"), n, axis=0)


def save_grid(path: str, factors: dict, image_size: int = 160, rows: int = 3, seed: int = 1):
    """A PNG: per row one photo, then 4 chained-Keras augmentations and 4 BatchedAffine ones."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from catdog.models import make_augmentation

    keras.utils.set_random_seed(seed)
    images = _sample_images(rows, image_size)
    chain = make_augmentation(**factors)
    fast = make_fast_augmentation(**factors)
    batch = np.repeat(images, 4, axis=0).astype("float32")
    a = keras.ops.convert_to_numpy(chain(batch, training=True))
    b = keras.ops.convert_to_numpy(fast(batch, training=True))
    fig, axes = plt.subplots(rows, 9, figsize=(9 * 1.6, rows * 1.75))
    for r in range(rows):
        tiles = [images[r]] + list(a[4 * r: 4 * r + 4]) + list(b[4 * r: 4 * r + 4])
        titles = ["original"] + ["keras chain"] * 4 + ["one warp"] * 4
        for ax, tile, title in zip(axes[r], tiles, titles):
            ax.imshow(np.clip(tile, 0, 255).astype("uint8"))
            ax.set_title(title, fontsize=8)
            ax.axis("off")
    fig.suptitle(f"{keras.backend.backend()}: {factors}", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path


def benchmark(factors: dict, image_size: int = 160, batch: int = 32, batches: int = 20,
              repeats: int = 3) -> dict:
    """Seconds per batch of each augmentation alone, in one compiled function per layer.

    Under JAX each layer runs inside `jax.jit` with its seed state threaded through (as in
    a training step); under other backends it runs eagerly. Returns the median of `repeats`
    timings of `batches` batches, for the chained Keras layers and for `BatchedAffine`.
    """
    from catdog.models import make_augmentation

    x = np.random.default_rng(0).integers(0, 256, (batch, image_size, image_size, 3)).astype(
        "float32")
    out = {"backend": keras.backend.backend(), "image_size": image_size, "batch": batch,
           "factors": factors}
    for name, layer in (("keras_chain", make_augmentation(**factors)),
                        ("batched_affine", make_fast_augmentation(**factors))):
        layer.build((None, image_size, image_size, 3))
        step = _compiled_step(layer)
        times, compile_s = [], None
        for r in range(repeats + 1):
            start = time.perf_counter()
            for _ in range(1 if r == 0 else batches):
                y = step(x)
            _block(y)
            if r == 0:
                compile_s = time.perf_counter() - start
            else:
                times.append((time.perf_counter() - start) / batches)
        out[name] = {"first_call_s": round(compile_s, 3),
                     "s_per_batch": round(float(np.median(times)), 5),
                     "s_per_epoch_2000": round(float(np.median(times)) * math.ceil(2000 / batch), 3)}
    return out


def _compiled_step(layer):
    if keras.backend.backend() != "jax":
        return lambda x: layer(x, training=True)
    import jax

    state = [v.value for v in layer.non_trainable_variables]

    @jax.jit
    def step(state, x):
        y, new_state = layer.stateless_call([], state, x, training=True)
        return y, new_state

    def run(x):
        nonlocal state
        y, state = step(state, x)
        return y

    return run


def _block(y):
    if hasattr(y, "block_until_ready"):
        y.block_until_ready()
    else:
        keras.ops.convert_to_numpy(y)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--grid", help="write a PNG comparing both augmentations here")
    parser.add_argument("--bench", action="store_true", help="time both augmentations alone")
    parser.add_argument("--image-size", type=int, default=160)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--factors", default="flip=horizontal,rotation=0.1",
                        help="e.g. flip=horizontal,rotation=0.111,zoom=0.2,shift=0.2,shear=0.2")
    args = parser.parse_args(argv)
    factors = {}
    for item in args.factors.split(","):
        key, value = item.split("=")
        factors[key] = (None if value == "none" else value) if key == "flip" else float(value)
    if args.grid:
        print(save_grid(args.grid, factors, args.image_size))
    if args.bench:
        import json

        print(json.dumps(benchmark(factors, args.image_size, args.batch, args.batches)))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    sys.exit(main())
