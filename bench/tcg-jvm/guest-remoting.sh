# runs in the guest: remoting's own checksum code (InitializeJarCacheMain) over jars; $1 = b64 slim jar, $2 = b64 verify.py, $3 = starts, $4 = java opts
echo "$1" | base64 -d > /tmp/slim.jar; echo "$2" | base64 -d > /tmp/verify.py; n=$3; jopts=$4
nproc; mkdir -p /tmp/rsrc; m=$(ls /usr/lib/jvm/*/lib/modules | head -1)
for k in 0 1 2 3 4 5; do dd if=$m of=/tmp/rsrc/slice$k.jar bs=1M skip=$((k*5)) count=4 status=none; done
cp /usr/lib/jvm/*/lib/jrt-fs.jar /tmp/rsrc/ 2>/dev/null; ls -la /tmp/rsrc | tail -n +2 | awk '{s+=$5} END {print "source bytes", s}'
java $jopts -Xlog:gc+init -version 2>&1 | grep -E 'Heap Address|Compressed Oops'
for i in $(seq 1 $n); do
  d=/tmp/rc$i; rm -rf $d; mkdir -p $d/cache; cd $d
  s=$(date +%s.%N)
  java $jopts -XX:ErrorFile=$d/hs_err_%p.log -cp /tmp/slim.jar hudson.remoting.InitializeJarCacheMain /tmp/rsrc $d/cache > out 2>&1; rc=$?
  e=$(date +%s.%N)
  v=$(python3 /tmp/verify.py /tmp/rsrc $d/cache 2>&1 | tail -1)
  ok=OK; case "$v" in *"bad 0") ;; *) ok=BAD;; esac; [ $rc -ne 0 ] && ok=BAD; ls $d/hs_err_* >/dev/null 2>&1 && ok=CRASH
  echo "START $i rc=$rc $ok secs=$(awk "BEGIN{print $e-$s}") $v"
  if [ $ok != OK ]; then head -c 3000 out; python3 /tmp/verify.py /tmp/rsrc $d/cache | head; for f in $d/hs_err_*; do [ -f $f ] && { echo "--- $f"; head -80 $f; grep -A25 -m1 '^Registers' $f; grep -m1 -A3 'siginfo' $f; }; done; fi
  cd /; rm -rf $d
done
