package io.jenkins.plugins.qemu.engine.image;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.airlift.compress.zstd.ZstdOutputStream;
import io.jenkins.plugins.qemu.engine.state.EngineConfig;
import io.jenkins.plugins.qemu.engine.testing.TestImages;
import java.io.IOException;
import java.io.OutputStream;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.apache.commons.compress.compressors.bzip2.BZip2CompressorOutputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorOutputStream;
import org.apache.commons.compress.compressors.xz.XZCompressorOutputStream;

/** Small real disk images made with qemu-img, and their compressed forms, for catalog tests. */
public final class TestDisks {
    private TestDisks() {}

    public static Path qemuImgBinary() {
        return EngineConfig.findOnPath("qemu-img").orElse(Path.of("/usr/bin/qemu-img"));
    }

    public static QemuImg qemuImg() {
        return new QemuImg(qemuImgBinary());
    }

    /** A 64 MiB qcow2 holding a few MiB of pseudo-random data, so it is more than headers. */
    public static Path qcow2(Path dir, String file) throws Exception {
        Path raw = raw(dir, file + ".raw", 64);
        Path out = dir.resolve(file);
        qemuImg("convert", "-f", "raw", "-O", "qcow2", raw.toString(), out.toString());
        Files.delete(raw);
        return out;
    }

    /** A sparse raw disk of {@code mib} MiB with data in its first sector and a few blocks. */
    public static Path raw(Path dir, String file, int mib) throws IOException {
        Path raw = dir.resolve(file);
        Random random = new Random(42);
        try (RandomAccessFile f = new RandomAccessFile(raw.toFile(), "rw")) {
            f.setLength((long) mib << 20);
            // Mostly repetitive, a little random: real-looking clusters that still compress fast.
            byte[] block = new byte[256 * 1024];
            for (int i = 0; i < block.length; i++) {
                block[i] = (byte) ("qemu-agents test disk ".charAt(i % 22));
            }
            byte[] noise = new byte[4096];
            for (int i = 0; i < mib; i += 8) {
                random.nextBytes(noise);
                System.arraycopy(noise, 0, block, 0, noise.length);
                f.seek((long) i << 20);
                f.write(block);
            }
            byte[] mbr = new byte[512]; // zeros with a boot signature, like a real first sector
            mbr[510] = 0x55;
            mbr[511] = (byte) 0xaa;
            f.seek(0);
            f.write(mbr);
        }
        return raw;
    }

    public static void qemuImg(String... args) throws Exception {
        List<String> argv = new ArrayList<>(List.of(qemuImgBinary().toString()));
        argv.addAll(List.of(args));
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes());
        p.waitFor(60, TimeUnit.SECONDS);
        assertEquals(0, p.exitValue(), String.join(" ", argv) + ": " + output);
    }

    public static Path compress(Path source, Compression codec) throws IOException {
        Path out = source.resolveSibling(source.getFileName() + suffix(codec));
        try (OutputStream file = Files.newOutputStream(out); OutputStream c = open(codec, file)) {
            Files.copy(source, c);
        }
        return out;
    }

    public static String suffix(Compression codec) {
        switch (codec) {
            case GZIP: return ".gz";
            case BZIP2: return ".bz2";
            case XZ: return ".xz";
            case ZSTD: return ".zst";
            default: return "";
        }
    }

    private static OutputStream open(Compression codec, OutputStream out) throws IOException {
        switch (codec) {
            case GZIP: return new GzipCompressorOutputStream(out);
            case BZIP2: return new BZip2CompressorOutputStream(out, 1);
            case XZ: return new XZCompressorOutputStream(out, 0);
            case ZSTD: return new ZstdOutputStream(out);
            default: return out;
        }
    }

    /** Everything below the catalog except the lock files, which are meant to stay. */
    public static List<String> leftovers(Path catalog) throws IOException {
        List<String> left = new ArrayList<>();
        for (Path p : TestImages.filesBelow(catalog)) {
            String rel = catalog.relativize(p).toString();
            if (!rel.equals(CatalogLock.LOCKS) && !(rel.startsWith(CatalogLock.LOCKS + "/") && rel.endsWith(".lock"))) {
                left.add(rel);
            }
        }
        return left;
    }
}
