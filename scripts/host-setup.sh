#!/usr/bin/env bash
# Prepares a Debian 12 host for QEMU Agents: installs what is missing (QEMU, image and ISO tools,
# JDK and Maven if absent) and builds the default guest image into the image cache if it is not
# there yet. Safe to run again: it does nothing that is already done.
#
#   scripts/host-setup.sh            images go to $QEMU_AGENTS_IMAGES or ~/.cache/qemu-agents/images
set -euo pipefail

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
    echo "host-setup: installing ${missing[*]}" >&2
    as_root apt-get update -q
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# An image built by another revision of the build script lacks what this revision's engine and
# tests expect (e.g. the warm-snapshot service); it is set aside and rebuilt.
want=$(sha256sum "$here/images/build-debian-12.sh" | cut -d' ' -f1)
if [[ -f $images/debian-12/manifest.json ]] && ! grep -q "\"buildScriptSha256\": \"$want\"" "$images/debian-12/manifest.json"; then
    old="$images/.debian-12.old.$$"
    echo "host-setup: $images/debian-12 was built by another revision of images/build-debian-12.sh; rebuilding" >&2
    mv -T "$images/debian-12" "$old"
    trap 'rm -rf "$old"' EXIT
fi
if [[ ! -f $images/debian-12/manifest.json ]]; then
    echo "host-setup: building the default image debian-12 into $images (about 2 minutes, once)" >&2
    mkdir -p "$images"
    as_root bash "$here/images/build-debian-12.sh" "$images"
    if [[ $(id -u) -ne 0 ]]; then
        as_root chown -R "$(id -u):$(id -g)" "$images/debian-12"
    fi
fi
echo "$images"
