#!/usr/bin/env bash
# Builds the media-tools Lambda layer for Lambda's architecture (linux-arm64), whatever the build
# machine is:
# - sharp with its libvips binaries, installed from the layer's own lockfile into
#   layers/media-tools/nodejs/node_modules (Lambda mounts it at /opt/nodejs/node_modules);
# - static ffmpeg, ffprobe and rlimit-exec built from pinned source (scripts/build-ffmpeg.sh) into
#   layers/media-tools/bin (/opt/bin on Lambda);
# - the same ffmpeg configuration for this machine (x86-64) into .media-tools/linux-x64/bin, which
#   the tests and `npm start` use (local/media-tools.ts).
# `cdk synth` refuses to bundle without the layer.
#
#   scripts/build-media-layer.sh           builds what is missing or stale (seconds when cached)
#   scripts/build-media-layer.sh --check   exits 0 if the build is there and matches its inputs
#
# The stamp layers/media-tools/.build-stamp holds a hash of every input of this build; --check
# compares it with the current inputs.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
layer="$root/layers/media-tools"
local_bin="$root/.media-tools/linux-x64/bin"
stamp="$layer/.build-stamp"

inputs_hash() {
  {
    cat "$root/scripts/build-media-layer.sh" "$root/scripts/build-ffmpeg.sh" \
      "$root/scripts/media/rlimit-exec.c" "$layer/nodejs/package.json" "$layer/nodejs/package-lock.json"
    bash "$root/scripts/build-ffmpeg.sh" --key arm64
    bash "$root/scripts/build-ffmpeg.sh" --key x64
  } | sha256sum | cut -d' ' -f1
}

built() {
  [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$(inputs_hash)" ] &&
    for file in "$layer/nodejs/node_modules/sharp/package.json" "$layer"/bin/{ffmpeg,ffprobe,rlimit-exec} \
      "$local_bin"/{ffmpeg,ffprobe,rlimit-exec}; do [ -e "$file" ] || return 1; done
}

if [ "${1:-}" = --check ]; then
  if built; then exit 0; fi
  echo "the media-tools layer is missing or stale: run npm run build:media-layer" >&2
  exit 1
fi

# The transcoder is tested against the root sharp; the layer must ship the same version.
want="$(node -p "require('$root/node_modules/sharp/package.json').version")"
pinned="$(node -p "require('$layer/nodejs/package.json').dependencies.sharp")"
if [ "$want" != "$pinned" ]; then
  echo "layers/media-tools/nodejs/package.json pins sharp $pinned but the project uses $want; update the pin and its lockfile" >&2
  exit 1
fi

rm -f "$stamp"
(
  cd "$layer/nodejs"
  # --force: the platform packages declare os/cpu that differ from this machine's, on purpose.
  # --ignore-scripts: nothing needs to run; the binaries ship prebuilt.
  npm ci --os=linux --cpu=arm64 --force --ignore-scripts --no-audit --no-fund --loglevel=error
  rm -rf node_modules/.bin
)

# Lambda runs code as a user that does not own the files: build-ffmpeg installs them mode 755.
bash "$root/scripts/build-ffmpeg.sh" arm64 "$layer/bin"
bash "$root/scripts/build-ffmpeg.sh" x64 "$local_bin"

inputs_hash >"$stamp"
echo "media-tools layer built: $(du -sh "$layer/nodejs/node_modules" | cut -f1) of node_modules," \
  "$(du -sh "$layer/bin" | cut -f1) of binaries in layers/media-tools; local tools in .media-tools/linux-x64/bin"
