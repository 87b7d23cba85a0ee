package io.jenkins.plugins.qemu.engine.testing;

import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;

/**
 * A JVM workload run in a guest, not on the host, shaped after the two agent-JVM crashes of issue
 * 14 point 11 (SIGSEGV in C1 code of {@code Unsafe.getIntUnaligned} and {@code SHA2.implCompress0},
 * which is what remoting runs when it checksums jars). Two threads hash fresh copies of fixed byte
 * arrays with SHA-256 and read them back through unaligned {@link ByteBuffer} views; two threads
 * hammer int, long and reference compare-and-set and a {@link ConcurrentHashMap}; the main thread
 * loads and reflects on JDK classes, which makes C1 patch its call sites. Every digest is compared
 * with the one computed first (in the interpreter), every counter with its exact expected value,
 * and the printed result depends only on the arguments, so a host JVM can compute what the guest
 * must print: a JIT or an emulator that computes wrongly is caught as well as one that crashes.
 * Arguments: SHA rounds per thread, CAS rounds per thread, classes to load.
 */
public final class JvmStressWorkload {
    private static final AtomicLong MISMATCHES = new AtomicLong();

    private JvmStressWorkload() {}

    static byte[] data(int seed, int length) {
        byte[] b = new byte[length];
        long x = seed;
        for (int i = 0; i < length; i++) {
            x = x * 6364136223846793005L + 1442695040888963407L;
            b[i] = (byte) (x >>> 56);
        }
        return b;
    }

    static long sha(int seed, int rounds) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        byte[][] inputs = new byte[8][];
        byte[][] expected = new byte[8][];
        for (int k = 0; k < inputs.length; k++) {
            inputs[k] = data(seed * 31 + k, 1000 + 777 * k);
            expected[k] = md.digest(inputs[k]);
        }
        long acc = 0;
        List<byte[]> kept = new ArrayList<>();
        for (int r = 0; r < rounds; r++) {
            int k = r & 7;
            // A new array each round, some kept alive, so the arrays hashed sit all over the heap.
            byte[] copy = Arrays.copyOf(inputs[k], inputs[k].length);
            if ((r & 3) == 0) {
                kept.add(copy);
                if (kept.size() > 2000) {
                    kept.subList(0, 1000).clear();
                }
            }
            md.update(copy, 0, 13);
            md.update(copy, 13, copy.length - 13);
            byte[] d = md.digest();
            if (!Arrays.equals(d, expected[k])) {
                MISMATCHES.incrementAndGet();
                System.out.println("MISMATCH sha seed=" + seed + " round=" + r);
            }
            ByteBuffer view = ByteBuffer.wrap(copy).order(ByteOrder.BIG_ENDIAN);
            for (int i = 1; i + 10 <= copy.length; i += 61) {
                acc += view.getInt(i) ^ (acc << 1) ^ view.getLong(i + 2);
            }
            acc ^= ByteBuffer.wrap(d).getLong(r % 24);
        }
        return acc;
    }

    private record Box(int value) {}

    static long cas(int rounds, AtomicInteger ints, AtomicLong longs, AtomicReference<Box> ref, ConcurrentHashMap<Integer, Integer> map) {
        long acc = 0;
        for (int r = 0; r < rounds; r++) {
            ints.incrementAndGet();
            longs.addAndGet(r);
            Box b;
            do {
                b = ref.get();
            } while (!ref.compareAndSet(b, new Box(b.value() + 1)));
            map.merge(r % 1024, 1, Integer::sum);
            acc += Integer.toString(r).hashCode();
        }
        return acc;
    }

    static int loadClasses(int max) throws Exception {
        int loaded = 0;
        FileSystem jrt = FileSystems.getFileSystem(URI.create("jrt:/"));
        for (String module : new String[] {"java.base", "java.xml", "java.logging", "java.sql"}) {
            String root = "/modules/" + module + "/";
            try (Stream<Path> files = Files.walk(jrt.getPath(root))) {
                for (Path p : (Iterable<Path>) files::iterator) {
                    String n = p.toString();
                    if (loaded >= max || !n.endsWith(".class") || n.contains("module-info")) {
                        continue;
                    }
                    try {
                        Class.forName(n.substring(root.length(), n.length() - 6).replace('/', '.'), false, null).getDeclaredMethods();
                        loaded++;
                    } catch (LinkageError | ClassNotFoundException | SecurityException e) {
                        // Some classes cannot be reflected on from here; loading them was the point.
                    }
                }
            }
        }
        return loaded;
    }

    /** The line the workload prints; the same on every correct JVM for the same arguments. */
    public static String run(int shaRounds, int casRounds, int classes) throws Exception {
        int shaThreads = 2;
        int casThreads = 2;
        AtomicInteger ints = new AtomicInteger();
        AtomicLong longs = new AtomicLong();
        AtomicReference<Box> ref = new AtomicReference<>(new Box(0));
        ConcurrentHashMap<Integer, Integer> map = new ConcurrentHashMap<>();
        long[] results = new long[shaThreads + casThreads];
        Throwable[] errors = new Throwable[results.length];
        Thread[] threads = new Thread[results.length];
        for (int t = 0; t < threads.length; t++) {
            int id = t;
            threads[t] = new Thread(() -> {
                try {
                    results[id] = id < shaThreads ? sha(id + 1, shaRounds) : cas(casRounds, ints, longs, ref, map);
                } catch (Throwable e) {
                    errors[id] = e;
                }
            });
            threads[t].start();
        }
        boolean loaded = loadClasses(classes) >= classes / 2;
        for (Thread t : threads) {
            t.join();
        }
        long errorCount = Arrays.stream(errors).filter(e -> e != null).count();
        long mapSum = map.values().stream().mapToLong(Integer::longValue).sum();
        long n = (long) casThreads * casRounds;
        boolean casExact = ints.get() == n && longs.get() == casThreads * ((long) casRounds * (casRounds - 1) / 2)
                && ref.get().value() == n && mapSum == n;
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        for (long r : results) {
            md.update(ByteBuffer.allocate(8).putLong(r).array());
        }
        return "RESULT " + HexFormat.of().formatHex(md.digest()).substring(0, 16) + " mismatches=" + MISMATCHES.get()
                + " errors=" + errorCount + " cas=" + casExact + " classes=" + loaded;
    }

    public static void main(String[] args) throws Exception {
        System.out.println(run(Integer.parseInt(args[0]), Integer.parseInt(args[1]), Integer.parseInt(args[2])));
    }
}
