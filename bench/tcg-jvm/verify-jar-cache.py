import hashlib, sys, os
src, cache = sys.argv[1], sys.argv[2]
bad = 0
for f in sorted(os.listdir(src)):
    if not f.endswith('.jar'): continue
    d = hashlib.sha256(open(os.path.join(src, f), 'rb').read()).digest()
    L = [int.from_bytes(d[i*8:(i+1)*8], 'big') for i in range(4)]
    s1, s2 = L[0] ^ L[2], L[1] ^ L[3]
    p = os.path.join(cache, '%02X/%014X%016X.jar' % (s1 >> 56, s1 & 0xffffffffffffff, s2))
    if not os.path.exists(p): bad += 1; print('REMOTING-MISMATCH', f, p)
print('REMOTING verified', len([f for f in os.listdir(src) if f.endswith('.jar')]), 'jars, bad', bad)
