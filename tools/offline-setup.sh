#!/usr/bin/env bash
# Offline stand-ins for what Keras and catdog download on a machine with internet:
# the ImageNet MobileNetV2 weights go into the Keras cache under the name Keras looks for at
# every size it has weights for (96, 128, 160, 192, 224; other sizes use the 224 file), so
# weights="imagenet" downloads nothing. The local copy is one no-top file that fits any input
# size (convolution weights do not depend on it).
# Usage: bash tools/offline-setup.sh [path/to/mobilenet_v2_imagenet_no_top.h5]
# (default: ../shared/weights/mobilenet_v2_imagenet_no_top.h5 beside the repository).
set -euo pipefail
cd "$(dirname "$0")/.."
shared=../shared
weights="${1:-$shared/weights/mobilenet_v2_imagenet_no_top.h5}"
models="${KERAS_HOME:-$HOME/.keras}/models"
if [ ! -f "$weights" ]; then
  echo "offline-setup: no local MobileNetV2 weights at $weights: nothing copied."
  echo "  With internet, Keras downloads them on first use; offline, pass the file's path:"
  echo "  bash tools/offline-setup.sh path/to/mobilenet_v2_imagenet_no_top.h5"
  exit 0
fi
mkdir -p "$models"
for size in 96 128 160 192 224; do
  cp "$weights" "$models/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_${size}_no_top.h5"
done
echo "offline-setup: ImageNet MobileNetV2 weights (no top) copied into $models for 96, 128, 160, 192 and 224 px (other sizes use the 224 file)"
if [ -f "$shared/data/cats_and_dogs_filtered.zip" ]; then
  echo "Data: export CATDOG_DATA=$shared/data/cats_and_dogs_filtered.zip to run posts for real offline"
fi
