#!/usr/bin/env bash
# Builds the media-tools Lambda layer for Lambda's architecture (linux-arm64), whatever the build
# machine is: sharp with its libvips binaries, and static ffmpeg/ffprobe, installed from the
# layer's own lockfile into layers/media-tools/nodejs/node_modules (Lambda mounts it at
# /opt/nodejs/node_modules). `cdk synth` refuses to bundle without it.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
layer="$root/layers/media-tools/nodejs"

# The transcoder is tested against the root sharp; the layer must ship the same version.
want="$(node -p "require('$root/node_modules/sharp/package.json').version")"
pinned="$(node -p "require('$layer/package.json').dependencies.sharp")"
if [ "$want" != "$pinned" ]; then
  echo "layers/media-tools/nodejs/package.json pins sharp $pinned but the project uses $want; update the pin and its lockfile" >&2
  exit 1
fi

cd "$layer"
# --force: the platform packages declare os/cpu that differ from this machine's, on purpose.
# --ignore-scripts: nothing needs to run; the binaries ship prebuilt.
npm ci --os=linux --cpu=arm64 --force --ignore-scripts --no-audit --no-fund --loglevel=error
# Lambda runs code as a user that does not own the files: the binaries must be world-executable.
chmod 755 node_modules/@ffmpeg-installer/linux-arm64/ffmpeg node_modules/@ffprobe-installer/linux-arm64/ffprobe
rm -rf node_modules/.bin
echo "media-tools layer built: $(du -sh node_modules | cut -f1) in layers/media-tools/nodejs/node_modules"
