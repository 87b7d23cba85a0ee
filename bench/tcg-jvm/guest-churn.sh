# runs in the guest: $1 = base64 WhiteBox jar, $2 = base64 churn jar, $3 = runs, $4 = seconds per run, $5 = java opts
echo "$1" | base64 -d > /tmp/wb.jar; echo "$2" | base64 -d > /tmp/churn.jar
n=$3; secs=$4; jopts=$5
echo "GUEST nproc=$(nproc) $(grep -m1 'model name' /proc/cpuinfo) java=$(java -version 2>&1 | head -1)"
for i in $(seq 1 $n); do
  d=/tmp/c$i; mkdir -p $d; cd $d
  s=$(date +%s.%N)
  timeout -s KILL 150 java $jopts -Xbootclasspath/a:/tmp/wb.jar -XX:+UnlockDiagnosticVMOptions -XX:+WhiteBoxAPI \
    -XX:CompileCommand=quiet -XX:CompileCommand=dontinline,churn.Churn::m* \
    -XX:ErrorFile=$d/hs_err_%p.log -cp /tmp/churn.jar churn.Churn $secs 2 > out 2>&1; rc=$?
  e=$(date +%s.%N)
  res=$(grep -o 'CHURN.*' out)
  ok=OK; [ $rc -ne 0 ] && ok=BAD; case "$res" in *wrong=0) ;; *) ok=BAD;; esac; [ $rc -eq 137 ] && ok=HANG
  ls $d/hs_err_* >/dev/null 2>&1 && ok=CRASH
  echo "RUN $i rc=$rc $ok secs=$(awk "BEGIN{print $e-$s}") $res"
  if [ $ok != OK ]; then grep -v "^Warning: 'NoSuchMethodError'" out | head -c 2000
    for f in $d/hs_err_*; do [ -f $f ] && { grep -m1 -A3 '^# Problematic frame' $f; grep -m1 -A2 'siginfo' $f; grep -m1 -A12 '^Instructions:' $f; grep -E 'not entrant|DEOPT' $f | tail -4; }; done; fi
  cd /; rm -rf $d
done
echo GUEST-DONE
