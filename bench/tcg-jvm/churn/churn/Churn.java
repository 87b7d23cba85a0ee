package churn;

import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import sun.hotspot.WhiteBox;

/**
 * Makes HotSpot patch the verified entry of compiled methods while other threads call them, as
 * often as it can: worker threads call 64 small methods (never inlined) in a loop; the main thread
 * makes each one's compiled code not entrant as soon as it exists. Usage: Churn SECONDS WORKERS.
 */
public final class Churn {
    private static final int BATCH = 2_000;

    static int m0(int x) { return x * 3 + 0; }
    static int m1(int x) { return x * 5 + 1; }
    static int m2(int x) { return x * 7 + 2; }
    static int m3(int x) { return x * 9 + 3; }
    static int m4(int x) { return x * 11 + 4; }
    static int m5(int x) { return x * 13 + 5; }
    static int m6(int x) { return x * 15 + 6; }
    static int m7(int x) { return x * 17 + 7; }
    static int m8(int x) { return x * 19 + 8; }
    static int m9(int x) { return x * 21 + 9; }
    static int m10(int x) { return x * 23 + 10; }
    static int m11(int x) { return x * 25 + 11; }
    static int m12(int x) { return x * 27 + 12; }
    static int m13(int x) { return x * 29 + 13; }
    static int m14(int x) { return x * 31 + 14; }
    static int m15(int x) { return x * 33 + 15; }
    static int m16(int x) { return x * 35 + 16; }
    static int m17(int x) { return x * 37 + 17; }
    static int m18(int x) { return x * 39 + 18; }
    static int m19(int x) { return x * 41 + 19; }
    static int m20(int x) { return x * 43 + 20; }
    static int m21(int x) { return x * 45 + 21; }
    static int m22(int x) { return x * 47 + 22; }
    static int m23(int x) { return x * 49 + 23; }
    static int m24(int x) { return x * 51 + 24; }
    static int m25(int x) { return x * 53 + 25; }
    static int m26(int x) { return x * 55 + 26; }
    static int m27(int x) { return x * 57 + 27; }
    static int m28(int x) { return x * 59 + 28; }
    static int m29(int x) { return x * 61 + 29; }
    static int m30(int x) { return x * 63 + 30; }
    static int m31(int x) { return x * 65 + 31; }
    static int m32(int x) { return x * 67 + 32; }
    static int m33(int x) { return x * 69 + 33; }
    static int m34(int x) { return x * 71 + 34; }
    static int m35(int x) { return x * 73 + 35; }
    static int m36(int x) { return x * 75 + 36; }
    static int m37(int x) { return x * 77 + 37; }
    static int m38(int x) { return x * 79 + 38; }
    static int m39(int x) { return x * 81 + 39; }
    static int m40(int x) { return x * 83 + 40; }
    static int m41(int x) { return x * 85 + 41; }
    static int m42(int x) { return x * 87 + 42; }
    static int m43(int x) { return x * 89 + 43; }
    static int m44(int x) { return x * 91 + 44; }
    static int m45(int x) { return x * 93 + 45; }
    static int m46(int x) { return x * 95 + 46; }
    static int m47(int x) { return x * 97 + 47; }
    static int m48(int x) { return x * 99 + 48; }
    static int m49(int x) { return x * 101 + 49; }
    static int m50(int x) { return x * 103 + 50; }
    static int m51(int x) { return x * 105 + 51; }
    static int m52(int x) { return x * 107 + 52; }
    static int m53(int x) { return x * 109 + 53; }
    static int m54(int x) { return x * 111 + 54; }
    static int m55(int x) { return x * 113 + 55; }
    static int m56(int x) { return x * 115 + 56; }
    static int m57(int x) { return x * 117 + 57; }
    static int m58(int x) { return x * 119 + 58; }
    static int m59(int x) { return x * 121 + 59; }
    static int m60(int x) { return x * 123 + 60; }
    static int m61(int x) { return x * 125 + 61; }
    static int m62(int x) { return x * 127 + 62; }
    static int m63(int x) { return x * 129 + 63; }

    private static long batch() {
        long s = 0;
        for (int i = 0; i < BATCH; i++) {
            s += m0(i) + m1(i) + m2(i) + m3(i) + m4(i) + m5(i) + m6(i) + m7(i) + m8(i) + m9(i) + m10(i) + m11(i) + m12(i) + m13(i) + m14(i) + m15(i) + m16(i) + m17(i) + m18(i) + m19(i) + m20(i) + m21(i) + m22(i) + m23(i) + m24(i) + m25(i) + m26(i) + m27(i) + m28(i) + m29(i) + m30(i) + m31(i) + m32(i) + m33(i) + m34(i) + m35(i) + m36(i) + m37(i) + m38(i) + m39(i) + m40(i) + m41(i) + m42(i) + m43(i) + m44(i) + m45(i) + m46(i) + m47(i) + m48(i) + m49(i) + m50(i) + m51(i) + m52(i) + m53(i) + m54(i) + m55(i) + m56(i) + m57(i) + m58(i) + m59(i) + m60(i) + m61(i) + m62(i) + m63(i);
        }
        return s;
    }

    public static void main(String[] args) throws Exception {
        long seconds = Long.parseLong(args[0]);
        int workers = Integer.parseInt(args[1]);
        WhiteBox wb = new WhiteBox();
        List<Method> targets = new ArrayList<>();
        for (int i = 0; i < 64; i++) {
            targets.add(Churn.class.getDeclaredMethod("m" + i, int.class));
        }
        AtomicLong calls = new AtomicLong();
        AtomicLong wrong = new AtomicLong();
        long expected = batch();
        long end = System.nanoTime() + seconds * 1_000_000_000L;
        Thread[] ts = new Thread[workers];
        for (int w = 0; w < workers; w++) {
            ts[w] = new Thread(() -> {
                long n = 0;
                while (System.nanoTime() < end) {
                    if (batch() != expected) {
                        wrong.incrementAndGet();
                    }
                    n += BATCH;
                }
                calls.addAndGet(n * 64);
            });
            ts[w].start();
        }
        long deopts = 0;
        while (System.nanoTime() < end) {
            for (Method m : targets) {
                if (wb.isMethodCompiled0(m, false)) {
                    deopts += wb.deoptimizeMethod0(m, false);
                }
            }
        }
        for (Thread t : ts) {
            t.join();
        }
        System.out.println("CHURN deopts=" + deopts + " calls=" + calls.get() + " wrong=" + wrong.get());
    }
}
