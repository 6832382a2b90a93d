#!/usr/bin/env bash
# Offline stand-ins for what Keras and catdog download on a machine with internet:
# the ImageNet MobileNetV2 weights go into the Keras cache (Keras then downloads nothing),
# and CATDOG_DATA can point at the local copy of cats_and_dogs_filtered.zip.
# Needs ../shared beside the repository; does nothing where it is absent.
set -euo pipefail
cd "$(dirname "$0")/.."
shared=../shared
weights="$shared/weights/mobilenet_v2_imagenet_no_top.h5"
models="${KERAS_HOME:-$HOME/.keras}/models"
if [ -f "$weights" ]; then
  mkdir -p "$models"
  cp "$weights" "$models/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_160_no_top.h5"
  echo "ImageNet MobileNetV2 weights (160x160, no top) copied into $models"
fi
if [ -f "$shared/data/cats_and_dogs_filtered.zip" ]; then
  echo "Data: export CATDOG_DATA=$shared/data/cats_and_dogs_filtered.zip to run posts for real offline"
fi
