#!/usr/bin/env bash
# Builds static ffmpeg + ffprobe from pinned, checksummed Debian source tarballs, configured with
# only what the transcoder uses (docs/media.md, "The ffmpeg build"). No npm package ships a current
# ffmpeg with a minimal configuration, hence this script.
#
#   scripts/build-ffmpeg.sh <arm64|x64> <dest-dir>     builds (or reuses) and copies ffmpeg, ffprobe,
#                                                      and compiles rlimit-exec next to them
#   scripts/build-ffmpeg.sh --key <arm64|x64>          prints the cache key of that build
#
# Builds are cached in $CHIRP_BUILD_CACHE (default ~/.cache/chirp-ffmpeg), keyed by the sources'
# checksums, the configure lines and the compiler version: a second run only copies two files.
set -euo pipefail

# Sources: the orig tarballs of Debian trixie's source packages (upstream releases). The sha256
# values are those of trixie's signed Sources index (apt-cache showsrc ffmpeg x264 zlib).
DEBIAN_POOL="${CHIRP_DEBIAN_POOL:-http://deb.debian.org/debian/pool/main}"
FFMPEG_VERSION=7.1.5
FFMPEG_TARBALL="ffmpeg_${FFMPEG_VERSION}.orig.tar.xz"
FFMPEG_URL="$DEBIAN_POOL/f/ffmpeg/$FFMPEG_TARBALL"
FFMPEG_SHA256=de668509caf9e35e3cd162473441fdb29538c6d96ed080292b3cf9e6fc5d558f
X264_VERSION=0.164.3108+git31e19f9
X264_TARBALL="x264_${X264_VERSION}.orig.tar.gz"
X264_URL="$DEBIAN_POOL/x/x264/$X264_TARBALL"
X264_SHA256=41606cb8e788a7f8c4514290646d4ba5c7bc68d9e1ccd1a73f446a90546913eb
ZLIB_VERSION=1.3.dfsg+really1.3.1
ZLIB_TARBALL="zlib_${ZLIB_VERSION}.orig.tar.gz"
ZLIB_URL="$DEBIAN_POOL/z/zlib/$ZLIB_TARBALL"
ZLIB_SHA256=60dd315c07f616887caa029408308a018ace66e3d142726a97db164b3b8f69fb

# What the pipeline runs (lambdas/media/ffmpeg.ts, video.ts): the mov and gif demuxers; the
# decoders of the codecs video.ts accepts; libx264 + aac for the MP4 and png for the poster frame;
# the mp4 and image2 muxers; the filters of the transcode graph and of ffmpeg's autorotation and
# audio conversion; filter_units to strip SEI on the copy path (h264_metadata brings the H.264
# bitstream reader it needs); the file protocol and nothing else.
FFMPEG_COMPONENTS=(
  --disable-everything
  --enable-protocol=file
  --enable-demuxer=mov,gif
  --enable-decoder=h264,hevc,mpeg4,h263,vp8,vp9,prores,mjpeg,gif
  --enable-decoder=aac,mp3,mp3float,alac,ac3,eac3,opus
  --enable-decoder=pcm_s16le,pcm_s16be,pcm_s24le,pcm_s24be,pcm_f32le
  --enable-parser=h264,hevc,mpeg4video,h263,vp8,vp9,mjpeg,gif,aac,mpegaudio,ac3,opus
  --enable-bsf=filter_units,h264_metadata,aac_adtstoasc
  --enable-encoder=libx264,aac,png
  --enable-muxer=mp4,image2
  --enable-filter=scale,format,split,trim,transpose,hflip,vflip,null
  --enable-filter=aresample,aformat,anull,atrim
)
FFMPEG_OPTIONS=(
  --enable-gpl --enable-libx264 --enable-zlib
  --disable-autodetect --disable-network --disable-iconv
  --disable-ffplay --disable-avdevice --disable-doc --disable-debug
  --disable-shared --enable-static --pkg-config-flags=--static
  --extra-cflags="-fstack-protector-strong -D_FORTIFY_SOURCE=2"
  --extra-ldexeflags=-static
)
X264_OPTIONS=(--enable-static --disable-cli --disable-opencl --bit-depth=8 --chroma-format=420)

usage() {
  echo "usage: $0 <arm64|x64> <dest-dir> | --key <arm64|x64>" >&2
  exit 2
}

toolchain() {
  case "$1" in
    arm64) echo aarch64-linux-gnu- ;;
    x64) echo "" ;;
    *) usage ;;
  esac
}

cache_key() {
  local arch="$1" prefix
  prefix="$(toolchain "$arch")"
  {
    echo "$arch $FFMPEG_SHA256 $X264_SHA256 $ZLIB_SHA256"
    printf '%s\n' "${FFMPEG_COMPONENTS[@]}" "${FFMPEG_OPTIONS[@]}" "${X264_OPTIONS[@]}"
    "${prefix}gcc" --version | head -1
  } | sha256sum | cut -c1-16
}

# Debian packages the build needs, installed when missing (CI starts from a clean machine).
ensure_packages() {
  local missing=()
  command -v make >/dev/null || missing+=(make)
  command -v gcc >/dev/null || missing+=(gcc)
  command -v nasm >/dev/null || missing+=(nasm)
  command -v pkg-config >/dev/null || missing+=(pkg-config)
  command -v curl >/dev/null || missing+=(curl)
  command -v xz >/dev/null || missing+=(xz-utils)
  command -v aarch64-linux-gnu-gcc >/dev/null || missing+=(gcc-aarch64-linux-gnu)
  [ -e /usr/lib/x86_64-linux-gnu/libc.a ] || missing+=(libc6-dev)
  if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" != 0 ]; then
      echo "build-ffmpeg: install ${missing[*]} (Debian packages) first" >&2
      exit 1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null ||
      { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null; }
  fi
}

# Downloads a tarball once into the cache and refuses it unless its sha256 matches the pin.
fetch() {
  local url="$1" file="$2" sha="$3"
  if [ ! -f "$sources/$file" ]; then
    curl -fsSL --retry 3 -o "$sources/$file.part" "$url"
    mv "$sources/$file.part" "$sources/$file"
  fi
  if ! echo "$sha  $sources/$file" | sha256sum -c --quiet -; then
    rm -f "$sources/$file"
    echo "build-ffmpeg: $file does not match its pinned sha256 $sha" >&2
    exit 1
  fi
}

build() {
  local arch="$1" out="$2" prefix work jobs
  prefix="$(toolchain "$arch")"
  jobs="${CHIRP_BUILD_JOBS:-2}"
  work="$(mktemp -d "$cache/work-$arch.XXXXXX")"
  trap 'rm -rf "$work"' RETURN
  local sysroot="$work/sysroot"
  local host cross_ffmpeg=()
  if [ "$arch" = arm64 ]; then
    host=aarch64-linux-gnu
    # pkg-config itself is the build machine's; PKG_CONFIG_LIBDIR points it at the target's x264.
    cross_ffmpeg=(--enable-cross-compile --arch=aarch64 --target-os=linux --cross-prefix="$prefix"
      --pkg-config=pkg-config)
  else
    host=x86_64-linux-gnu
  fi

  tar -xzf "$sources/$ZLIB_TARBALL" -C "$work"
  (cd "$work"/zlib-*/ && CC="${prefix}gcc" CFLAGS="-O2 -fPIC" ./configure --static --prefix="$sysroot" >/dev/null &&
    nice -n 10 make -j"$jobs" libz.a >/dev/null && make install >/dev/null)

  tar -xzf "$sources/$X264_TARBALL" -C "$work"
  (cd "$work"/x264-*/ && ./configure --host="$host" --cross-prefix="$prefix" --prefix="$sysroot" \
    "${X264_OPTIONS[@]}" >/dev/null && nice -n 10 make -j"$jobs" >/dev/null 2>"$work/x264.log" &&
    make install-lib-static >/dev/null)

  tar -xJf "$sources/$FFMPEG_TARBALL" -C "$work"
  (cd "$work/ffmpeg-$FFMPEG_VERSION" &&
    PKG_CONFIG_LIBDIR="$sysroot/lib/pkgconfig" ./configure --prefix="$sysroot" "${cross_ffmpeg[@]}" \
      --extra-cflags="-I$sysroot/include" --extra-ldflags="-L$sysroot/lib" \
      "${FFMPEG_OPTIONS[@]}" "${FFMPEG_COMPONENTS[@]}" >"$work/configure.log" &&
    nice -n 10 make -j"$jobs" ffmpeg ffprobe >/dev/null 2>"$work/make.log" ||
    { tail -n 40 "$work/configure.log" "$work/make.log" ffbuild/config.log >&2 2>/dev/null; exit 1; })

  mkdir -p "$out.tmp/bin"
  "${prefix}strip" -o "$out.tmp/bin/ffmpeg" "$work/ffmpeg-$FFMPEG_VERSION/ffmpeg"
  "${prefix}strip" -o "$out.tmp/bin/ffprobe" "$work/ffmpeg-$FFMPEG_VERSION/ffprobe"
  rm -rf "$out" && mv "$out.tmp" "$out"
}

[ $# -eq 2 ] || usage
if [ "$1" = --key ]; then
  cache_key "$2"
  exit 0
fi
arch="$1"
dest="$2"
toolchain "$arch" >/dev/null

cache="${CHIRP_BUILD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/chirp-ffmpeg}"
sources="$cache/sources"
mkdir -p "$sources"
out="$cache/$arch-$(cache_key "$arch" 2>/dev/null || echo none)"

if [ ! -x "$out/bin/ffmpeg" ] || [ ! -x "$out/bin/ffprobe" ]; then
  ensure_packages
  out="$cache/$arch-$(cache_key "$arch")"
  fetch "$ZLIB_URL" "$ZLIB_TARBALL" "$ZLIB_SHA256"
  fetch "$X264_URL" "$X264_TARBALL" "$X264_SHA256"
  fetch "$FFMPEG_URL" "$FFMPEG_TARBALL" "$FFMPEG_SHA256"
  started=$SECONDS
  echo "build-ffmpeg: building ffmpeg $FFMPEG_VERSION for linux-$arch (no cached build in $out)" >&2
  build "$arch" "$out"
  echo "build-ffmpeg: linux-$arch built in $((SECONDS - started)) s" >&2
fi

mkdir -p "$dest"
install -m 755 "$out/bin/ffmpeg" "$out/bin/ffprobe" "$dest/"
# Small enough to compile every time (scripts/media/rlimit-exec.c says why it exists).
"$(toolchain "$arch")gcc" -O2 -static -s -Wall -Werror -o "$dest/rlimit-exec" \
  "$(dirname "$0")/media/rlimit-exec.c"
chmod 755 "$dest/rlimit-exec"
