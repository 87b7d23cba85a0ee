import re, sys, glob, os, statistics
D=sys.argv[1] if len(sys.argv)>1 else os.path.dirname(os.path.abspath(__file__))
rows=[]
for f in sorted(glob.glob(os.path.join(D,'B*.log'))):
    arm=os.path.basename(f)[:-4]; vm=0; vmt=''; cur=None; n=0
    for line in open(f, errors='replace'):
        m=re.match(r'=== (\S+) VM 1 label=', line)
        if m: vm+=1; vmt=m.group(1); continue
        m=re.match(r'START (\d+) rc=(\d+) (\w+) secs=(\S+)', line)
        if m:
            n+=1; cur=dict(arm=arm, vm=vm, vm_start=vmt, start=int(m.group(1)), n=n, rc=int(m.group(2)), res=m.group(3), secs=float(m.group(4)), frame='', sig='')
            if cur['rc']==133: cur['sig']='SIGTRAP (rc 133; JVM killed by the trap, no hs_err)'
            rows.append(cur); continue
        if cur and cur['res']!='OK':
            m=re.match(r'# (J \d+ c[12] \S+)', line)
            if m and not cur['frame']: cur['frame']=m.group(1)[:110]
            m=re.match(r'#\s+(SIG\w+ \(0x\w+\))', line)
            if m and not cur['sig']: cur['sig']=m.group(1)
out=open(os.path.join(D,'starts.tsv'),'w')
print('arm\tvm\tvm_start_utc\tstart_in_vm\tstart_in_arm\trc\tresult\tsecs\tsignal\tframe', file=out)
for r in rows: print(f"{r['arm']}\t{r['vm']}\t{r['vm_start']}\t{r['start']}\t{r['n']}\t{r['rc']}\t{r['res']}\t{r['secs']:.1f}\t{r['sig']}\t{r['frame']}", file=out)
out.close()
by={}
for r in rows: by.setdefault((r['arm'],r['vm']),[]).append(r)
for (a,v),rs in sorted(by.items(), key=lambda x:x[1][0]['vm_start']):
    print(f"{rs[0]['vm_start']} {a:9} vm{v} starts={len(rs)} failed={sum(r['res']!='OK' for r in rs)} median_secs={statistics.median(r['secs'] for r in rs if r['res']=='OK') if any(r['res']=='OK' for r in rs) else 0:.1f}")
