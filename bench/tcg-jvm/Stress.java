import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.*;
import java.security.MessageDigest;
import java.util.*;
import java.util.concurrent.*;
import java.util.concurrent.atomic.*;
import java.util.stream.Stream;

/** Guest JVM stress: SHA-256 over byte arrays (Unsafe.getIntUnaligned via SHA2.implCompress0),
 * CAS-heavy code and unaligned ByteBuffer reads, with a deterministic result the host checks. */
public final class Stress {
    static byte[] data(int seed, int len) {
        byte[] b = new byte[len];
        long x = seed;
        for (int i = 0; i < len; i++) { x = x * 6364136223846793005L + 1442695040888963407L; b[i] = (byte) (x >>> 56); }
        return b;
    }
    static String hex(byte[] d) { StringBuilder s = new StringBuilder(); for (byte v : d) s.append(String.format("%02x", v)); return s.toString(); }

    static final AtomicLong mismatches = new AtomicLong();

    /** Hashes fresh copies of fixed inputs; each digest must equal the first one computed (in the interpreter). */
    static long sha(int seed, int rounds) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        byte[][] inputs = new byte[8][];
        byte[][] expect = new byte[8][];
        for (int k = 0; k < 8; k++) { inputs[k] = data(seed * 31 + k, 1000 + 777 * k); expect[k] = md.digest(inputs[k]); }
        long acc = 0;
        List<byte[]> keep = new ArrayList<>();
        for (int r = 0; r < rounds; r++) {
            int k = r & 7;
            byte[] copy = Arrays.copyOf(inputs[k], inputs[k].length); // new array: new heap address each time
            if ((r & 3) == 0) { keep.add(copy); if (keep.size() > 2000) keep.subList(0, 1000).clear(); }
            md.update(copy, 0, 13); md.update(copy, 13, copy.length - 13);
            byte[] d = md.digest();
            if (!Arrays.equals(d, expect[k])) { mismatches.incrementAndGet(); System.out.println("MISMATCH sha seed=" + seed + " r=" + r + " " + hex(d) + " != " + hex(expect[k])); }
            ByteBuffer bb = ByteBuffer.wrap(copy).order(ByteOrder.BIG_ENDIAN);
            for (int i = 1; i + 8 <= copy.length; i += 61) acc += bb.getInt(i) ^ (acc << 1) ^ bb.getLong(i + 2);
            acc ^= ByteBuffer.wrap(d).getLong(r % 24);
        }
        return acc;
    }

    static final class Box { final int v; Box(int v) { this.v = v; } }

    /** CAS on ints, longs and (compressed) references, ConcurrentHashMap merges; final counts are fixed. */
    static long cas(int seed, int rounds, AtomicInteger ai, AtomicLong al, AtomicReference<Box> ref, ConcurrentHashMap<Integer, Integer> map) {
        long acc = 0;
        for (int r = 0; r < rounds; r++) {
            ai.incrementAndGet();
            al.addAndGet(r);
            Box b;
            do { b = ref.get(); } while (!ref.compareAndSet(b, new Box(b.v + 1)));
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
                    if (loaded >= max || !n.endsWith(".class") || n.contains("module-info")) continue;
                    try { Class.forName(n.substring(root.length(), n.length() - 6).replace('/', '.'), false, null).getDeclaredMethods(); loaded++; }
                    catch (Throwable e) { }
                }
            }
        }
        return loaded;
    }

    public static void main(String[] args) throws Exception {
        int shaRounds = Integer.parseInt(args[0]);
        int casRounds = Integer.parseInt(args[1]);
        int classes = Integer.parseInt(args[2]);
        int nsha = 2, ncas = 2;
        AtomicInteger ai = new AtomicInteger(); AtomicLong al = new AtomicLong();
        AtomicReference<Box> ref = new AtomicReference<>(new Box(0));
        ConcurrentHashMap<Integer, Integer> map = new ConcurrentHashMap<>();
        long[] results = new long[nsha + ncas];
        Throwable[] errors = new Throwable[nsha + ncas];
        Thread[] ts = new Thread[nsha + ncas];
        for (int t = 0; t < ts.length; t++) {
            final int id = t;
            ts[t] = new Thread(() -> {
                try { results[id] = id < nsha ? sha(id + 1, shaRounds) : cas(id, casRounds, ai, al, ref, map); }
                catch (Throwable e) { errors[id] = e; }
            });
            ts[t].start();
        }
        int loaded = loadClasses(classes);
        for (Thread t : ts) t.join();
        for (Throwable e : errors) if (e != null) { System.out.println("ERROR " + e); mismatches.incrementAndGet(); }
        long sum = 0; for (int v : map.values()) sum += v;
        boolean casOk = ai.get() == ncas * casRounds && al.get() == (long) ncas * casRounds * (casRounds - 1L) / 2 && ref.get().v == ncas * casRounds && sum == (long) ncas * casRounds;
        if (!casOk) { mismatches.incrementAndGet(); System.out.println("MISMATCH cas ai=" + ai + " al=" + al + " ref=" + ref.get().v + " map=" + sum); }
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        for (long r : results) md.update(ByteBuffer.allocate(8).putLong(r).array());
        System.out.println("RESULT " + hex(md.digest()).substring(0, 16) + " mismatches=" + mismatches.get() + " classes=" + (loaded >= classes / 2));
    }
}
