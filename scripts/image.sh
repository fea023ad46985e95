#!/usr/bin/env bash
# Builds Warden's container image without Docker, reproducibly, from the
# commit at HEAD (uncommitted changes are not in it):
#
#   dist/warden             static linux binary (CGO_ENABLED=0, -trimpath, no build ID)
#   dist/image/             OCI image layout (one image)
#   dist/warden-image.tar   the same image as a docker-loadable tarball
#   dist/warden-image.digest  its manifest digest (sha256:...)
#   dist/warden.cdx.json    CycloneDX SBOM of the binary (cyclonedx-gomod)
#
# With WARDEN_SIGNING_KEY=PREFIX.key (from 'warden model keygen') it also
# signs the binary, the SBOM and the image digest:
#   dist/warden.sigstore.json, dist/warden.cdx.json.sigstore.json,
#   dist/warden-image.sigstore.json
#
#   scripts/image.sh           build
#   scripts/image.sh --check   build, build again from a second clone and
#                              require the same digest; sign with a throwaway
#                              key, verify, require tampered bytes to fail;
#                              run the image inspection test (CI runs this)
#
# GOARCH picks the image's architecture (default: the host's).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
start=$(date +%s)

check=0
case "${1:-}" in
  "") ;;
  --check) check=1 ;;
  *) echo "usage: scripts/image.sh [--check]" >&2; exit 2 ;;
esac

CYCLONEDX_VERSION=v1.10.0
cdx=$(go env GOPATH)/bin/cyclonedx-gomod
if ! "$cdx" version 2>/dev/null | grep -q "$CYCLONEDX_VERSION"; then
  echo "image: installing cyclonedx-gomod $CYCLONEDX_VERSION"
  go install "github.com/CycloneDX/cyclonedx-gomod/cmd/cyclonedx-gomod@$CYCLONEDX_VERSION"
fi

dist=$root/dist
arch=${GOARCH:-$(go env GOARCH)}
rev=$(git rev-parse HEAD)
epoch=$(git log -1 --format=%ct "$rev")   # SOURCE_DATE_EPOCH: the commit time
version=$(git describe --tags --always "$rev")
repo_dir=$(git rev-parse --path-format=absolute --git-common-dir)
if [ -n "$(git status --porcelain --untracked-files=no)" ]; then
  echo "image: the working tree has uncommitted changes; building commit $rev as committed" >&2
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/warden-image.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# build OUT: clones the commit into OUT/src (a fresh path and fresh file
# times each time) and builds the binary, the image and the SBOM into OUT.
build() {
  local out=$1 src=$1/src
  mkdir -p "$out"
  git clone -q --shared --no-checkout "$repo_dir" "$src"
  git -C "$src" checkout -q --detach "$rev"
  # GOFLAGS is cleared so that the environment's flags (-buildvcs=false,
  # say) do not change the binary; GOAMD64/GOARM64 are pinned to the
  # baseline so that a developer's setting does not either.
  (cd "$src" && env GOFLAGS= CGO_ENABLED=0 GOOS=linux GOARCH="$arch" GOAMD64=v1 GOARM64=v8.0 \
    go build -trimpath -buildvcs=true -ldflags "-s -w -buildid= -X main.version=$version" \
    -o "$out/warden" ./cmd/warden)
  (cd "$src" && env GOFLAGS= CGO_ENABLED=0 go build -trimpath -o "$out/mkimage" ./internal/cmd/mkimage)
  "$out/mkimage" build -binary "$out/warden" -arch "$arch" -epoch "$epoch" \
    -version "$version" -revision "$rev" -licenses "${WARDEN_IMAGE_LICENSES:-NOASSERTION}" \
    -layout "$out/image" -tarball "$out/warden-image.tar" >"$out/warden-image.digest"
  # The module cache already holds every module the build used; GOPROXY=off
  # keeps license detection offline (the main module is not on a proxy,
  # cyclonedx-gomod warns that it cannot read its license).
  env GOPROXY=off "$cdx" bin -json -std -licenses -noserial -notimestamp -version "$version" \
    -output "$out/warden.cdx.json" "$out/warden" 2>"$out/cyclonedx.log" ||
    { cat "$out/cyclonedx.log" >&2; exit 1; }
  rm -rf "$src"
}

echo "image: building $version ($rev, SOURCE_DATE_EPOCH=$epoch, linux/$arch)"
build "$tmp/a"
mkdir -p "$dist"
rm -rf "$dist/image"
for f in warden warden-image.tar warden-image.digest warden.cdx.json; do
  rm -f "$dist/$f"
  mv "$tmp/a/$f" "$dist/$f"
done
mv "$tmp/a/image" "$dist/image"
mkimage=$tmp/a/mkimage
digest=$(cat "$dist/warden-image.digest")
echo "image: $digest"

# warden runs the signing: the image's binary when it runs here.
if [ "$arch" = "$(go env GOHOSTARCH)" ] && [ "$(go env GOHOSTOS)" = linux ]; then
  warden=$dist/warden
else
  warden=$tmp/warden-host
  (cd "$root" && go build -o "$warden" ./cmd/warden)
fi

sign_all() { # KEY OUTDIR
  "$warden" artifact sign --key "$1" --out "$2/warden.sigstore.json" "$dist/warden"
  "$warden" artifact sign --key "$1" --out "$2/warden.cdx.json.sigstore.json" "$dist/warden.cdx.json"
  "$warden" artifact sign --key "$1" --name "warden:$version" --digest "$digest" \
    --out "$2/warden-image.sigstore.json"
}
rm -f "$dist"/*.sigstore.json
if [ -n "${WARDEN_SIGNING_KEY:-}" ]; then
  sign_all "$WARDEN_SIGNING_KEY" "$dist"
fi

if [ "$check" = 1 ]; then
  echo "image: reproducibility: second build from another clone"
  build "$tmp/b"
  for f in warden warden-image.tar warden.cdx.json; do
    a=$(sha256sum <"$dist/$f" | cut -d' ' -f1)
    b=$(sha256sum <"$tmp/b/$f" | cut -d' ' -f1)
    if [ "$a" != "$b" ]; then
      echo "image: NOT reproducible: $f differs between two builds of $rev ($a, $b)" >&2
      exit 1
    fi
  done
  if [ "$(cat "$tmp/b/warden-image.digest")" != "$digest" ]; then
    echo "image: NOT reproducible: digests $digest and $(cat "$tmp/b/warden-image.digest")" >&2
    exit 1
  fi
  echo "image: two builds, one digest: $digest"

  echo "image: sign and verify with a throwaway key"
  sig=$tmp/sig
  mkdir -p "$sig"
  "$warden" model keygen --out "$tmp/release" >/dev/null
  sign_all "$tmp/release.key" "$sig" >/dev/null
  layout_digest=$("$mkimage" digest "$dist/image")
  "$warden" artifact verify --key "$tmp/release.pub" --bundle "$sig/warden.sigstore.json" "$dist/warden"
  "$warden" artifact verify --key "$tmp/release.pub" --bundle "$sig/warden.cdx.json.sigstore.json" "$dist/warden.cdx.json"
  "$warden" artifact verify --key "$tmp/release.pub" --bundle "$sig/warden-image.sigstore.json" --digest "$layout_digest"

  # flip FILE OFFSET: xor one byte of FILE with 1.
  flip() {
    local b
    b=$(od -An -tu1 -j"$2" -N1 "$1" | tr -d ' ')
    printf "\\$(printf %03o $((b ^ 1)))" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
  }
  must_fail() { # WHAT CMD...
    local what=$1 code=0
    shift
    "$@" >"$tmp/out" 2>&1 || code=$?
    if [ "$code" != 1 ]; then
      echo "image: $what: exit $code, want 1 (not verified):" >&2
      cat "$tmp/out" >&2
      exit 1
    fi
    echo "image: $what: $(head -1 "$tmp/out")"
  }
  cp "$dist/warden" "$tmp/warden.bad"
  flip "$tmp/warden.bad" $(($(stat -c %s "$tmp/warden.bad") / 2))
  must_fail "tampered binary" "$warden" artifact verify --key "$tmp/release.pub" \
    --bundle "$sig/warden.sigstore.json" "$tmp/warden.bad"
  cp "$dist/warden.cdx.json" "$tmp/sbom.bad"
  flip "$tmp/sbom.bad" $(($(stat -c %s "$tmp/sbom.bad") / 2))
  must_fail "tampered SBOM" "$warden" artifact verify --key "$tmp/release.pub" \
    --bundle "$sig/warden.cdx.json.sigstore.json" "$tmp/sbom.bad"
  must_fail "another image digest" "$warden" artifact verify --key "$tmp/release.pub" \
    --bundle "$sig/warden-image.sigstore.json" --digest "sha256:$(printf x | sha256sum | cut -d' ' -f1)"
  cp -r "$dist/image" "$tmp/image.bad"
  layer=$(find "$tmp/image.bad/blobs/sha256" -type f -size +1M | head -1)
  flip "$layer" 4096
  must_fail "tampered image layer" "$mkimage" digest "$tmp/image.bad"

  echo "image: inspection test"
  WARDEN_TEST_IMAGE=$dist/image WARDEN_TEST_IMAGE_DIGEST=$digest WARDEN_TEST_IMAGE_TAR=$dist/warden-image.tar \
    go test -count=1 -run 'TestBuiltImage' -v ./internal/cmd/mkimage | grep -E '^(---|ok|FAIL|PASS)|image_test'
fi

size=$(stat -c %s "$dist/warden-image.tar")
components=$(grep -c '"bom-ref"' "$dist/warden.cdx.json" || true)
echo "image: $digest  warden:$version  tarball $((size / 1024 / 1024)) MiB ($size bytes)," \
  "binary $(($(stat -c %s "$dist/warden") / 1024 / 1024)) MiB, SBOM $((components - 1)) components," \
  "$(($(date +%s) - start)) s"
