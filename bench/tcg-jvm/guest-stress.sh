# runs in the guest: $1 = base64 jar, $2 = starts, $3 = java opts, $4 = expected result, $5.. = Stress args
b64=$1; n=$2; jopts=$3; want=$4; zx=$5; shift 5
echo "$b64" | base64 -d > /tmp/s.jar
echo "$zx" | base64 -d | gunzip > /tmp/zx; chmod +x /tmp/zx; /tmp/zx | sed "s/^/ZX /"
grep -m1 flags /proc/cpuinfo
nproc; grep -m1 'model name' /proc/cpuinfo; java $jopts -Xlog:gc+init -XX:+PrintFlagsFinal -version 2>&1 | grep -E 'Heap Address|Compressed Oops|UseCompressedOops |UseSerialGC |UseG1GC |MaxHeapSize|TieredStopAtLevel' 
for i in $(seq 1 $n); do
  d=/tmp/r$i; mkdir -p $d; cd $d
  s=$(date +%s.%N)
  java $jopts -XX:ErrorFile=$d/hs_err_%p.log -cp /tmp/s.jar Stress "$@" > out 2>&1; rc=$?
  e=$(date +%s.%N)
  res=$(grep -o 'RESULT.*' out)
  ok=BAD; case "$res" in "RESULT $want mismatches=0 classes=true") ok=OK;; esac
  [ $rc -ne 0 ] && ok=BAD
  ls $d/hs_err_* >/dev/null 2>&1 && ok=CRASH
  echo "START $i rc=$rc $ok secs=$(awk "BEGIN{print $e-$s}") $res"
  if [ $ok != OK ]; then echo "--- out"; head -c 3000 out; for f in $d/hs_err_*; do [ -f $f ] && { echo "--- $f"; head -80 $f; grep -A25 -m1 '^Registers' $f; grep -m1 -A3 'siginfo' $f; echo '--- code around pc'; grep -m1 -A32 '^Instructions:' $f; echo '--- not entrant / deopt events (last 8)'; grep -E 'not entrant|Uncommon trap|DEOPT' $f | tail -8; }; done; fi
  cd /; rm -rf $d
done
