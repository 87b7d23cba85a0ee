#!/bin/bash
# Boots VMS guests one after another with the engine CLI and starts a JVM STARTS_PER_VM times in
# each (see README.md here). usage: harness.sh LABEL VMS STARTS_PER_VM
# env: MODE=stress|rem CPUS MEM WARM=1 JOPTS TB (MiB) LOAD=1 (two busy host threads)
#      QW_ACCEL / QW_CPU (rewrite -accel / add -cpu through qemu-wrapper.sh) ARGS WANT
#      STATE = the engine's state directory (--state-dir; blank: the engine's default, where the warm
#      snapshot then lands too)
#      W = work dir holding s.jar, c/zx, rem/slim.jar, rem/verify.py and logs/ (default /tmp/tcg-jvm)
label=$1; vms=$2; per=$3
D=$(cd "$(dirname "$0")" && pwd); W=${W:-/tmp/tcg-jvm}; JAR=${JAR:-$D/../../engine/target/qemu-agents-engine.jar}
mkdir -p "$W/qwrap"; cp "$D/qemu-wrapper.sh" "$W/qwrap/qemu-system-x86_64"; cd "$W"
B64=$(base64 -w0 s.jar); ZXB=$(gzip -9 -c c/zx | base64 -w0)
SLIM=$(base64 -w0 rem/slim.jar); VPY=$(base64 -w0 rem/verify.py)
ARGS=${ARGS:-"6000 60000 300"}; WANT=${WANT:-9f11d3b1acbaf2d4}
log=logs/$label.log; mkdir -p logs
for v in $(seq 1 $vms); do
  while [ -e /work/QUIET ]; do echo "$(date +%T) QUIET, waiting" >> $log; sleep 30; done
  [ -e $W/STOP ] && { echo "$(date +%T) STOP file, ending" >> $log; break; }
  echo "=== $(date +%T) VM $v label=$label mode=${MODE:-stress} cpus=${CPUS:-2} mem=${MEM:-1G} warm=${WARM:-} jopts='${JOPTS}' accel=${QW_ACCEL:-default} cpu=${QW_CPU:-default} tb=${TB:-64} load=${LOAD:-0} state=${STATE:-default} args=$ARGS" >> $log
  if [ "${MODE:-stress}" = rem ]; then
    set -- bash -c "$(cat "$D/guest-remoting.sh")" x "$SLIM" "$VPY" $per "$JOPTS"
  else
    set -- bash -c "$(cat "$D/guest-stress.sh")" x "$B64" $per "$JOPTS" $WANT "$ZXB" $ARGS
  fi
  hogs=""; if [ -n "${LOAD:-}" ]; then for h in 1 2; do (exec nice -n 5 $D/hog.sh) & hogs="$hogs $!"; done; echo "host load: 2 busy loops (nice 5) pids$hogs" >> $log; fi
  PATH=$W/qwrap:$PATH timeout 1500 java -Dqemu-agents.tcg.tb-size=${TB:-64} -jar "$JAR" run --image debian-12 --cpus ${CPUS:-2} --memory ${MEM:-1G} --timeout 10m ${WARM:+--warm} ${STATE:+--state-dir "$STATE"} -- "$@" >> $log 2>&1
  rc=$?; for p in $hogs; do kill $p; done
  echo "=== $(date +%T) VM $v exit $rc" >> $log
done
