"""Tests for catdog.models: builders, compile, fine-tuning, dtype policies (tiny 32x32 inputs)."""

from pathlib import Path

import numpy as np
import pytest

keras = pytest.importorskip("keras", reason="needs keras: `pip install -r requirements.lock -e \".[test]\"`")

from catdog import models  # noqa: E402

SIZE = (32, 32)


def tiny_images(n=8, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, *SIZE, 3)).astype("uint8")


@pytest.mark.parametrize("num_classes, units", [(2, 1), (6, 6)], ids=["binary", "six-classes"])
@pytest.mark.parametrize("downsample", ["pool", "strides"])
def test_small_cnn_outputs_one_logit_for_two_classes_else_one_per_class(num_classes, units, downsample):
    model = models.make_small_cnn(SIZE, num_classes, downsample=downsample)
    assert model.output_shape == (None, units)
    assert model.predict(tiny_images(), verbose=0).shape == (8, units)


def test_small_cnn_takes_raw_uint8_pixels_through_a_rescaling_layer():
    model = models.make_small_cnn(SIZE)
    assert model.input.dtype == "float32"
    assert isinstance(model.layers[1], keras.layers.Rescaling)
    assert model.layers[1].scale == pytest.approx(1 / 255)


def test_mobilenet_preprocessing_maps_pixels_to_minus_one_one():
    model = models.make_small_cnn(SIZE, preprocessing="mobilenet")
    layer = model.get_layer("mobilenet_preprocessing")
    out = keras.ops.convert_to_numpy(layer(np.array([[0.0, 255.0]])))
    np.testing.assert_allclose(out, [[-1.0, 1.0]], atol=1e-6)


def test_strides_and_pooling_give_different_parameter_counts():
    pool = models.count_params(models.make_small_cnn(SIZE, downsample="pool"))
    strides = models.count_params(models.make_small_cnn(SIZE, downsample="strides"))
    assert pool["total"] != strides["total"]
    assert pool == {"total": pool["trainable"], "trainable": pool["trainable"], "non_trainable": 0}


def test_seed_001_model1_has_the_seeds_parameter_count():
    # seed 001 prints 1,346,753 parameters for model1 at 160x160.
    assert models.count_params(models.make_small_cnn())["total"] == 1_346_753


def test_augmentation_layers_follow_the_factors_given():
    augmentation = models.make_augmentation("horizontal", rotation=0.1, zoom=0.2, shift=0.2, shear=0.2)
    names = [layer.__class__.__name__ for layer in augmentation.layers]
    assert names == ["RandomFlip", "RandomRotation", "RandomZoom", "RandomTranslation", "RandomShear"]
    assert models.make_augmentation(None, rotation=0).layers == []


def test_augmentation_changes_images_only_in_training():
    model = models.make_small_cnn(SIZE, augmentation=models.make_augmentation(rotation=0.2))
    augmentation = model.get_layer("augmentation")
    x = tiny_images(2).astype("float32")
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(augmentation(x, training=False)), x)
    assert not np.allclose(keras.ops.convert_to_numpy(augmentation(x, training=True)), x)


def test_fused_augmentation_resamples_once():
    augmentation = models.make_augmentation("horizontal", rotation=0.1, zoom=0.2, shift=0.2,
                                            shear=0.2, fused=True)
    assert [layer.__class__.__name__ for layer in augmentation.layers] == ["RandomFlip",
                                                                          "RandomAffine"]
    x = tiny_images(4).astype("float32")
    augmented = keras.ops.convert_to_numpy(augmentation(x, training=True))
    assert augmented.shape == x.shape and not np.allclose(augmented, x)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(augmentation(x, training=False)), x)


def test_random_affine_with_no_factors_is_the_identity():
    x = tiny_images(2).astype("float32")
    same = keras.ops.convert_to_numpy(models.RandomAffine()(x, training=True))
    np.testing.assert_allclose(same, x, atol=1e-3)


def test_compile_model_takes_a_learning_rate_schedule():
    schedule = keras.optimizers.schedules.CosineDecay(1e-4, decay_steps=10)
    model = models.compile_model(models.make_small_cnn(SIZE), schedule)
    assert model.compiled


def test_dtype_policy_applies_to_inner_layers_but_logits_stay_float32():
    model = models.make_small_cnn(SIZE, dtype_policy="mixed_bfloat16")
    policies = {layer.name: layer.dtype_policy.name for layer in model.layers}
    assert policies["rescaling"] == "mixed_bfloat16"
    assert policies["logits"] == "float32"
    assert keras.config.dtype_policy().name == "float32"  # the global policy is restored


def test_compile_picks_binary_or_sparse_categorical_loss_from_output_size():
    binary = models.compile_model(models.make_small_cnn(SIZE, 2))
    multi = models.compile_model(models.make_small_cnn(SIZE, 6), learning_rate=1e-4)
    assert isinstance(binary.loss, keras.losses.BinaryCrossentropy)
    assert isinstance(multi.loss, keras.losses.SparseCategoricalCrossentropy)
    assert float(keras.ops.convert_to_numpy(multi.optimizer.learning_rate)) == pytest.approx(1e-4)


def test_compile_wraps_float16_models_in_a_loss_scale_optimizer():
    model = models.compile_model(models.make_small_cnn(SIZE, dtype_policy="mixed_float16"))
    assert isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)


@pytest.mark.slow
@pytest.mark.parametrize("num_classes, units", [(2, 1), (6, 6)], ids=["binary", "six-classes"])
def test_transfer_model_without_weights_builds_with_a_frozen_base(num_classes, units):
    model = models.make_transfer_model(SIZE, num_classes, weights=None)
    assert model.output_shape == (None, units)
    assert models.base_of(model).name == models.BASE_NAME
    assert models.base_of(model).trainable is False
    counts = models.count_params(model)
    assert counts["trainable"] == 1280 * units + units
    assert model.predict(tiny_images(2), verbose=0).shape == (2, units)


@pytest.mark.slow
def test_unfreeze_top_makes_only_the_top_layers_trainable_and_recompiles():
    model = models.make_transfer_model(SIZE, weights=None, augmentation=None)
    models.unfreeze_top(model, n_layers=10, learning_rate=1e-5)
    base = models.base_of(model)
    is_norm = [isinstance(layer, keras.layers.BatchNormalization) for layer in base.layers]
    flags = [layer.trainable for layer in base.layers]
    top = len(flags) - 10
    assert flags == [index >= top and not norm for index, norm in enumerate(is_norm)]
    assert float(keras.ops.convert_to_numpy(model.optimizer.learning_rate)) == pytest.approx(1e-5)
    models.unfreeze_top(model)  # the tutorial's default: from layer 100
    assert [layer.trainable for layer in base.layers].index(True) == 100


@pytest.mark.slow
def test_fine_tuning_leaves_batchnorm_statistics_alone():
    # Unfrozen BatchNorm layers would normalise by each batch's statistics and move the
    # ImageNet ones: post 3's training accuracy fell from 0.87 to 0.56 that way.
    model = models.make_transfer_model(SIZE, weights=None, augmentation=None)
    models.unfreeze_top(model, n_layers=30, learning_rate=1e-3)
    norms = [layer for layer in models.base_of(model).layers[-30:]
             if isinstance(layer, keras.layers.BatchNormalization)]
    before = [keras.ops.convert_to_numpy(layer.moving_mean).copy() for layer in norms]
    model.fit(tiny_images(8), np.array([0, 1] * 4), epochs=1, verbose=0)
    after = [keras.ops.convert_to_numpy(layer.moving_mean) for layer in norms]
    assert norms and all(np.array_equal(a, b) for a, b in zip(before, after))


def test_base_of_rejects_a_model_without_a_pretrained_base():
    with pytest.raises(ValueError, match="Received: model='small_cnn'"):
        models.base_of(models.make_small_cnn(SIZE))


@pytest.mark.parametrize(
    "kind, backend, gpu, bf16, expected",
    [("small_cnn", "tensorflow", None, True, "mixed_bfloat16"),
     ("small_cnn", "tensorflow", None, False, "float32"),
     ("small_cnn", "jax", None, True, "float32"),
     ("transfer", "tensorflow", None, True, "float32"),
     ("transfer", "jax", 9.0, False, "mixed_bfloat16"),
     ("small_cnn", "tensorflow", 7.5, False, "mixed_float16")],
    ids=["cpu-bf16", "cpu-no-bf16", "jax-cpu", "transfer-cpu", "hopper", "turing"])
def test_recommended_dtype_policy(monkeypatch, kind, backend, gpu, bf16, expected):
    monkeypatch.setattr(models, "gpu_compute_capability", lambda: gpu)
    monkeypatch.setattr(models, "cpu_has_bf16", lambda: bf16)
    assert models.recommended_dtype_policy(kind, backend=backend) == expected


def test_cpu_has_bf16_reads_cpu_flags(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor : 0\nflags : fpu avx512f avx512_bf16\n")
    assert models.cpu_has_bf16(str(cpuinfo)) is True
    cpuinfo.write_text("flags : fpu avx2\n")
    assert models.cpu_has_bf16(str(cpuinfo)) is False


@pytest.mark.parametrize(
    "call, message",
    [(lambda: models.make_small_cnn(SIZE, 1), "Received: num_classes=1"),
     (lambda: models.make_small_cnn((32,)), "Received: image_size=(32,)"),
     (lambda: models.make_small_cnn(SIZE, dropout=1.0), "Received: dropout=1.0"),
     (lambda: models.make_small_cnn(SIZE, downsample="avg"), "Received: downsample='avg'"),
     (lambda: models.make_small_cnn(SIZE, preprocessing="vgg"), "Received: preprocessing='vgg'"),
     (lambda: models.make_small_cnn(SIZE, filters=()), "Received: filters=()"),
     (lambda: models.make_small_cnn(SIZE, dtype_policy="float8"), "Received: dtype_policy='float8'"),
     (lambda: models.make_augmentation("diagonal"), "Received: flip='diagonal'"),
     (lambda: models.make_augmentation(rotation=1.5), "Received: rotation=1.5"),
     (lambda: models.make_transfer_model((16, 16), weights=None), "Received: image_size=(16, 16)"),
     (lambda: models.make_transfer_model(SIZE, weights="nope.h5"), "Received: weights='nope.h5'"),
     (lambda: models.make_transfer_model(SIZE, weights=None, pooling="min"), "Received: pooling='min'"),
     (lambda: models.make_transfer_model(SIZE, weights=None, augmentation="x"),
      "Received: augmentation='x'"),
     (lambda: models.compile_model(models.make_small_cnn(SIZE), 0), "Received: learning_rate=0"),
     (lambda: models.compile_model(models.make_small_cnn(SIZE), optimizer="lbfgs"),
      "Received: optimizer='lbfgs'"),
     (lambda: models.recommended_dtype_policy("vit"), "Received: kind='vit'")],
    ids=["num_classes", "image_size", "dropout", "downsample", "preprocessing", "filters",
         "dtype_policy", "flip", "rotation", "transfer-size", "weights", "pooling",
         "augmentation", "learning_rate", "optimizer", "kind"])
def test_bad_arguments_raise_value_error_naming_them(call, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        call()


@pytest.mark.slow
def test_unfreeze_top_rejects_bad_layer_choices():
    model = models.make_transfer_model(SIZE, weights=None, augmentation=None)
    with pytest.raises(ValueError, match="not both"):
        models.unfreeze_top(model, 5, from_layer=100)
    with pytest.raises(ValueError, match="Received: n_layers=0"):
        models.unfreeze_top(model, 0)
    with pytest.raises(ValueError, match="Received: from_layer=999"):
        models.unfreeze_top(model, from_layer=999)


WEIGHTS = Path(__file__).parents[1] / ".." / "shared" / "weights" / "mobilenet_v2_imagenet_no_top.h5"
WEIGHTS_URL = ("https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v2/"
               "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5")


@pytest.mark.slow
@pytest.mark.skipif(not WEIGHTS.is_file(), reason=(
    "needs the ImageNet MobileNetV2 weights in ../shared/weights (absent on this machine): "
    f"`curl --create-dirs -Lo ../shared/weights/{WEIGHTS.name} {WEIGHTS_URL}`"))
def test_transfer_model_loads_a_local_weights_file():
    model = models.make_transfer_model((96, 96), weights=str(WEIGHTS), augmentation=None)
    h5py = pytest.importorskip("h5py", reason="needs h5py: `pip install -r requirements.lock -e \".[test]\"`")
    with h5py.File(WEIGHTS) as f:
        expected = f["Conv1"]["Conv1"]["kernel"][()]
    kernel = keras.ops.convert_to_numpy(models.base_of(model).get_layer("Conv1").kernel)
    np.testing.assert_allclose(kernel, expected)


def test_describe_weights_names_the_file_by_sha256(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    assert models.describe_weights(None) == "random (weights=None)"
    assert "file not found yet" in models.describe_weights("imagenet")
    cached = tmp_path / "models/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_160_no_top.h5"
    cached.parent.mkdir()
    cached.write_bytes(b"weights")
    assert models.describe_weights("imagenet").endswith(
        "sha256:9a129038d9a00aed0cf6a7ea059ca50a813449061ab87848cf1a13eafdf33b2c)")
