"""Tests for bench/gpu_augment.py's BatchedAffine (issue #6): tiny batches, any Keras backend."""

import os
import sys

import numpy as np
import pytest

keras = pytest.importorskip("keras", reason="needs keras: `pip install -r requirements.lock -e \".[test]\"`")

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "bench"))

from gpu_augment import BatchedAffine, affine_warp, make_fast_augmentation  # noqa: E402

SEED_002 = {"flip": "horizontal", "rotation": 40 / 360, "zoom": 0.2, "shift": 0.2, "shear": 0.2}


def tiny_batch(n=4, size=(12, 10), seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, *size, 3)).astype("uint8")


def run(layer, images, training=True):
    return keras.ops.convert_to_numpy(layer(images, training=training))


def test_output_keeps_the_shape_and_is_float32():
    out = run(make_fast_augmentation(**SEED_002, seed=1), tiny_batch())
    assert out.shape == (4, 12, 10, 3)
    assert out.dtype == np.float32
    assert 0 <= out.min() and out.max() <= 255  # bilinear mixes, reflection fills: no new range


def test_zero_strength_is_the_identity_in_training():
    images = tiny_batch()
    out = run(BatchedAffine(flip=None, rotation=0, zoom=0, shift=0, shear=0, seed=1), images)
    np.testing.assert_array_equal(out, images.astype("float32"))


def test_inactive_at_inference():
    images = tiny_batch()
    layer = make_fast_augmentation(**SEED_002, seed=1)
    np.testing.assert_array_equal(run(layer, images, training=False), images.astype("float32"))
    assert not np.array_equal(run(layer, images, training=True), images.astype("float32"))


def test_same_seed_same_output_other_seed_other_output():
    images = tiny_batch()
    a = run(make_fast_augmentation(**SEED_002, seed=7), images)
    b = run(make_fast_augmentation(**SEED_002, seed=7), images)
    c = run(make_fast_augmentation(**SEED_002, seed=8), images)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_a_forced_flip_mirrors_exactly():
    images = tiny_batch()
    flipped = keras.ops.convert_to_numpy(affine_warp(
        images.astype("float32"),
        np.tile(np.array([[[1.0, 0, 0], [0, -1.0, 9.0]]], "float32"), (4, 1, 1))))
    np.testing.assert_array_equal(flipped, images[:, :, ::-1].astype("float32"))


def test_outside_pixels_are_filled_by_reflection():
    images = tiny_batch(n=1, size=(4, 4))
    shifted = keras.ops.convert_to_numpy(affine_warp(
        images.astype("float32"), np.array([[[1.0, 0, 0], [0, 1.0, -2.0]]], "float32")))
    # Output column x reads input column x - 2: columns -2, -1 reflect to 1, 0.
    np.testing.assert_array_equal(shifted[0, :, :2], images[0, :, [1, 0]].transpose(1, 0, 2))
    np.testing.assert_array_equal(shifted[0, :, 2:], images[0, :, :2])


@pytest.mark.slow  # ~3 s on TensorFlow, ~8 s under KERAS_BACKEND=jax on 2 cores
def test_works_inside_a_catdog_model_and_fits():
    from catdog import models, train

    model = models.make_small_cnn((16, 16), filters=(4,), dense_units=4,
                                  augmentation=make_fast_augmentation(**SEED_002, seed=1))
    x, y = tiny_batch(8, (16, 16)), np.array([0, 1] * 4)
    run_ = train.fit(model, (x, y), epochs=1, batch_size=4, verbose=0)
    assert run_.epochs_run == 1
    np.testing.assert_array_equal(model.predict(x, verbose=0), model.predict(x, verbose=0))
