#!/bin/bash
# interleaves B and one changed arm VM by VM, so the uncontrolled load of other helpers hits both alike.
# changed arms in order; an arm ends at its first crash (factor ruled out as sufficient) or at 30 starts.
H=/work/wt-jvm11/bench/tcg-jvm/harness.sh
export W=/tmp/h3-w STATE=/tmp/h3-state WARM=1 LOAD=1 ARGS="20000 200000 300" WANT=4fab8d4471b8f8ed
tl=$W/logs/timelog.txt
late() { [ "$(date -u +%H)" = 00 ] && [ "$(date -u +%H%M)" -ge 0003 ]; }
vm() { local label=$1; shift
  late && { echo "$(date -u +%T) $label: past 00:03 UTC, no new VM" >> $tl; return 2; }
  [ -e $W/STOP ] && { echo "$(date -u +%T) $label: STOP" >> $tl; return 2; }
  echo "$(date -u +%T) $label VM start; load $(cut -d' ' -f1-3 /proc/loadavg); qemu-system procs $(pgrep -fc ^/usr/bin/qemu-system)" >> $tl
  env "$@" $H $label 1 6
  n=$(grep -c '^START' $W/logs/$label.log); c=$(grep -c '^START.* CRASH\|^START.* BAD' $W/logs/$label.log)
  echo "$(date -u +%T) $label VM end: starts=$n failed=$c; load $(cut -d' ' -f1-3 /proc/loadavg)" >> $tl
  [ "$c" -gt 0 ] && return 1; [ "$n" -ge 30 ] && return 1; return 0; }
while pgrep -f "harness.sh B 1 6" >/dev/null; do sleep 5; done
echo "$(date -u +%T) driver3 start (interleaved; driver2 ran B twice by a bug: vm() overwrote $label)" >> $tl
for a in "B-single QW_ACCEL=tcg,tb-size=1024,thread=single" "B-c1 JOPTS=-XX:TieredStopAtLevel=1" "B-tb64 QW_ACCEL=tcg,tb-size=64"; do
  set -- $a; label=$1; shift
  if [ $label = B-single ]; then  # B is 12 starts ahead after driver2's bug: two single VMs first
    vm $label TB=1024 JOPTS= "$@"; r=$?; [ $r = 2 ] && break; [ $r = 1 ] && continue
  fi
  while true; do
    vm $label TB=1024 JOPTS= "$@"; r=$?; [ $r = 2 ] && break 2
    vm B TB=1024 JOPTS=; [ $? = 2 ] && break 2
    [ $r = 1 ] && break
  done
done
echo "$(date -u +%T) driver3 end" >> $tl
