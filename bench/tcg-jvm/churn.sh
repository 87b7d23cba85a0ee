#!/bin/bash
# Boots one VM with the engine CLI and runs the entry-patching reproducer (churn/) in it RUNS times.
# usage: churn.sh LABEL RUNS SECONDS "JAVA OPTIONS" [ACCEL]
#   ACCEL rewrites QEMU's -accel through qemu-wrapper.sh, e.g. tcg,tb-size=64,thread=multi
# env: W = work dir (default /tmp/tcg-churn; logs in $W/logs/LABEL.log), JAR = the engine jar
label=$1; runs=$2; secs=$3; jopts=$4; export QW_ACCEL=${5:-}
D=$(cd "$(dirname "$0")" && pwd); export W=${W:-/tmp/tcg-churn}; JAR=${JAR:-$D/../../engine/target/qemu-agents-engine.jar}
mkdir -p "$W/qwrap" "$W/logs" "$W/classes"
cp "$D/qemu-wrapper.sh" "$W/qwrap/qemu-system-x86_64"
# The WhiteBox declarations must be on the guest JVM's boot class path, so they are a jar of their own.
javac --release 17 -d "$W/classes/wb" "$D/churn/sun/hotspot/WhiteBox.java"
javac --release 17 -cp "$W/classes/wb" -d "$W/classes/churn" "$D/churn/churn/Churn.java"
(cd "$W/classes/wb" && jar cf "$W/wb.jar" .) && (cd "$W/classes/churn" && jar cf "$W/churn.jar" .)
log=$W/logs/$label.log
echo "=== $(date -u +%T) $label runs=$runs secs=$secs jopts='$jopts' accel=${QW_ACCEL:-engine default} load $(cut -d' ' -f1-3 /proc/loadavg)" >> "$log"
PATH=$W/qwrap:$PATH timeout 1200 java -jar "$JAR" run --image debian-12 --cpus 2 --memory 1G --timeout 15m \
  -- bash -c "$(cat "$D/guest-churn.sh")" x "$(base64 -w0 "$W/wb.jar")" "$(base64 -w0 "$W/churn.jar")" "$runs" "$secs" "$jopts" >> "$log" 2>&1
echo "=== $(date -u +%T) $label exit $? load $(cut -d' ' -f1-3 /proc/loadavg)" >> "$log"
