import sys, math
def binom_cdf(k,n,p): return sum(math.comb(n,i)*p**i*(1-p)**(n-i) for i in range(k+1))
def cp(k,n,a=0.05):
    # Clopper-Pearson two-sided 95% interval by bisection
    def solve(f):
        lo,hi=0.0,1.0
        for _ in range(100):
            m=(lo+hi)/2
            if f(m): lo=m
            else: hi=m
        return lo
    lower = 0.0 if k==0 else solve(lambda p: 1-binom_cdf(k-1,n,p) < a/2)
    upper = 1.0 if k==n else solve(lambda p: binom_cdf(k,n,p) > a/2)
    return lower, upper
def fisher(a,n1,b,n2):
    # one-sided P(X>=a) for crashes in arm 1 given total crashes, hypergeometric
    K=a+b; N=n1+n2
    return sum(math.comb(n1,i)*math.comb(n2,K-i)/math.comb(N,K) for i in range(a, min(K,n1)+1))
args=sys.argv[1:]
for s in args:
    k,n=map(int,s.split('/')); l,u=cp(k,n); print(f"{k}/{n}: rate {k/n:.3f}, 95% CP [{l:.3f}, {u:.3f}]")
