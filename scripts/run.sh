#!/usr/bin/env bash
# The run command: boots a throw-away VM from the default image, runs the given command in it,
# prints its output and the phase timings, and destroys the VM.
#
#   scripts/run.sh uname -a
#   scripts/run.sh --image debian-12 --cpus 2 --memory 2G -- make test
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
images=$(bash "$here/scripts/host-setup.sh")
[[ -d $images ]] || { echo "run.sh: scripts/host-setup.sh named '$images' as the images directory, which is not one" >&2; exit 1; }
jar=$here/engine/target/qemu-agents-engine.jar
if [[ ! -f $jar || -n $(find "$here/engine/src/main" "$here/engine/pom.xml" -newer "$jar" -print -quit) ]]; then
    # Maven prints terminal resets even when quiet; its log is shown only if the build fails.
    log=$(mktemp)
    if ! (cd "$here" && mvn -B -q -ntp -Dengine-only -DskipTests package) >"$log" 2>&1; then
        cat "$log" >&2
        rm -f "$log"
        exit 1
    fi
    rm -f "$log"
fi
args=()
# "scripts/run.sh -- cmd" is "scripts/run.sh cmd": no options given.
[[ $# -gt 0 && $1 == -- ]] && shift
if [[ $# -gt 0 && $1 == --* ]]; then
    # Options given: pass everything through as is (they end with '--').
    args=("$@")
else
    args=(--image debian-12 -- "$@")
fi
[[ " ${args[*]} " == *" --images-dir "* ]] || args=(--images-dir "$images" "${args[@]}")
exec java -jar "$jar" run "${args[@]}"
