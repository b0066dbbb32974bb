#!/usr/bin/env bash
# Real photographs for the camera's tests, taken from a package on PyPI rather than
# committed: scikit-image's astronaut (a NASA portrait, public domain). The wheel is
# pinned and the image checked by its SHA-256; kept in target/test-images (or
# $DOORSTEP_TEST_IMAGES) so that it is fetched once.
set -euo pipefail
cd "$(dirname "$0")/.."
dir="${DOORSTEP_TEST_IMAGES:-target/test-images}"
want=88431cd9653ccd539741b555fb0a46b61558b301d4110412b5bc28b5e3ea6cb5
image="$dir/astronaut.png"
if [ -f "$image" ] && echo "$want  $image" | sha256sum --check --status; then
  exit 0
fi
mkdir -p "$dir"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 -m pip download --quiet --no-deps --only-binary=:all: \
  --dest "$work" scikit-image==0.26.0
wheel=$(ls "$work"/scikit_image-0.26.0-*.whl)
python3 - "$wheel" "$work/astronaut.png" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z, open(sys.argv[2], "wb") as out:
    out.write(z.read("skimage/data/astronaut.png"))
PY
echo "$want  $work/astronaut.png" | sha256sum --check --status || {
  echo "astronaut.png from scikit-image 0.26.0 is not the image expected" >&2
  exit 1
}
mv "$work/astronaut.png" "$image"
