#!/usr/bin/env bash
# Prepares a Debian 12 host for QEMU Agents: installs what is missing (QEMU, image and ISO tools,
# JDK and Maven if absent) and builds the default guest image into the image cache if it is not
# there yet. Safe to run again: it does nothing that is already done.
#
#   scripts/host-setup.sh            images go to $QEMU_AGENTS_IMAGES or ~/.cache/qemu-agents/images
#   scripts/host-setup.sh --with-test-images
#                                    also builds the stock image the tests need (images/stock-debian-13.sh)
#                                    into the folder "stock" beside the images directory
#
# Its standard output is a contract: exactly one line, the images directory, which scripts/run.sh
# and scripts/test.sh capture. Everything else (apt's and the image builder's progress included)
# goes to standard error, whatever a command prints: fd 3 keeps the real standard output for that
# one line, and fd 1 points at standard error for the rest of the script.
set -euo pipefail
exec 3>&1 1>&2

test_images=0
case ${1:-} in
    --with-test-images) test_images=1 ;;
    "") ;;
    *) echo "usage: $0 [--with-test-images]"; exit 2 ;;
esac

here=$(cd "$(dirname "$0")/.." && pwd)
images=${QEMU_AGENTS_IMAGES:-$HOME/.cache/qemu-agents/images}

as_root() {
    if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi
}

# command -> Debian package; only missing ones are installed, so a prepared host touches no apt.
declare -A need=(
    [qemu-system-x86_64]=qemu-system-x86
    [qemu-img]=qemu-utils
    [xorriso]=xorriso
    [isoinfo]=genisoimage
    [mmdebstrap]=mmdebstrap
    [mkfs.ext4]=e2fsprogs
    [blkid]=util-linux
    [setpriv]=util-linux
    [passt]=passt
    [java]=openjdk-17-jdk-headless
    [mvn]=maven
)
missing=()
for cmd in "${!need[@]}"; do
    command -v "$cmd" >/dev/null 2>&1 || missing+=("${need[$cmd]}")
done
if ((${#missing[@]})); then
    mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
    echo "host-setup: installing ${missing[*]}"
    as_root apt-get update -q
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# An image built by another revision of the build script (or of the guest files it installs) lacks what this revision's engine and
# tests expect (e.g. the warm-snapshot service); it is set aside and rebuilt.
want=$(cat "$here/images/build-debian-12.sh" "$here"/images/guest/* | sha256sum | cut -d' ' -f1)
if [[ -f $images/debian-12/manifest.json ]] && ! grep -q "\"buildScriptSha256\": \"$want\"" "$images/debian-12/manifest.json"; then
    old="$images/.debian-12.old.$$"
    echo "host-setup: $images/debian-12 was built by another revision of images/build-debian-12.sh; rebuilding"
    mv -T "$images/debian-12" "$old"
    trap 'rm -rf "$old"' EXIT
fi
if [[ ! -f $images/debian-12/manifest.json ]]; then
    echo "host-setup: building the default image debian-12 into $images (about 2 minutes, once)"
    mkdir -p "$images"
    as_root bash "$here/images/build-debian-12.sh" "$images"
    if [[ $(id -u) -ne 0 ]]; then
        as_root chown -R "$(id -u):$(id -g)" "$images/debian-12"
    fi
fi
if ((test_images)) && [[ ! -f ${images%/*}/stock/stock-debian-13/SHA256SUMS ]]; then
    echo "host-setup: building the stock test image stock-debian-13 into ${images%/*}/stock (about 2 minutes, once)"
    as_root bash "$here/images/stock-debian-13.sh" "${images%/*}/stock"
    if [[ $(id -u) -ne 0 ]]; then
        as_root chown -R "$(id -u):$(id -g)" "${images%/*}/stock"
    fi
fi
echo "$images" >&3
