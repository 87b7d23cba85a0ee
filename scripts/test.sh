#!/usr/bin/env bash
# The test command: prepares the host (scripts/host-setup.sh), then builds the engine and runs
# every test against real QEMU and the real guest image. The Jenkins plugin module needs the
# Jenkins artifact repository; pass WITH_PLUGIN=1 where it is reachable to build it too.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
images=$(bash "$here/scripts/host-setup.sh" --with-test-images)
[[ -d $images ]] || { echo "test.sh: scripts/host-setup.sh named '$images' as the images directory, which is not one" >&2; exit 1; }
modules=(-Dengine-only)
[[ ${WITH_PLUGIN:-0} == 1 ]] && modules=()
cd "$here"
exec mvn -B -ntp "${modules[@]}" -Dqemu.images.dir="$images" verify "$@"
