package io.jenkins.plugins.qemu.engine.image;

import io.airlift.compress.zstd.ZstdInputStream;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import org.apache.commons.compress.compressors.bzip2.BZip2CompressorInputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream;
import org.apache.commons.compress.compressors.xz.XZCompressorInputStream;

/**
 * How a downloaded image is packed, told by its first bytes rather than by the URL, which may
 * lie or have no suffix at all (mirrors, redirects, query strings). All codecs are pure Java:
 * gzip, bzip2 and xz through commons-compress, zstd through aircompressor. Concatenated streams
 * (pigz, pbzip2, multi-frame zstd) are read to the end.
 */
public enum Compression {
    NONE(new byte[0]),
    GZIP(new byte[] {0x1f, (byte) 0x8b}),
    BZIP2(new byte[] {'B', 'Z', 'h'}),
    XZ(new byte[] {(byte) 0xfd, '7', 'z', 'X', 'Z', 0x00}),
    ZSTD(new byte[] {0x28, (byte) 0xb5, 0x2f, (byte) 0xfd});

    /** Zero runs of this size are skipped rather than written, so unpacked raw disks stay sparse. */
    private static final int BLOCK = 64 * 1024;

    private final byte[] magic;

    Compression(byte[] magic) {
        this.magic = magic;
    }

    public static Compression detect(Path file) throws IOException {
        byte[] head = new byte[8];
        int n;
        try (InputStream in = Files.newInputStream(file)) {
            n = in.readNBytes(head, 0, head.length);
        }
        for (Compression c : values()) {
            if (c != NONE && n >= c.magic.length && Arrays.equals(head, 0, c.magic.length, c.magic, 0, c.magic.length)) {
                return c;
            }
        }
        return NONE;
    }

    public InputStream open(InputStream raw) throws IOException {
        InputStream in = new BufferedInputStream(raw, 1 << 16);
        switch (this) {
            case GZIP: return new GzipCompressorInputStream(in, true);
            case BZIP2: return new BZip2CompressorInputStream(in, true);
            case XZ: return new XZCompressorInputStream(in, true);
            case ZSTD: return new ZstdInputStream(in);
            default: return in;
        }
    }

    /**
     * Unpacks {@code source} into the new file {@code target}, failing once more than
     * {@code maxBytes} come out (a decompression bomb must not fill the disk).
     */
    public long unpack(Path source, Path target, long maxBytes) throws IOException {
        long size = 0;
        try (InputStream in = open(Files.newInputStream(source));
                FileChannel out = FileChannel.open(target, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            byte[] block = new byte[BLOCK];
            for (int n; (n = in.readNBytes(block, 0, BLOCK)) > 0; ) {
                size += n;
                if (size > maxBytes) {
                    throw new IOException(source.getFileName() + " unpacks to more than the limit of " + maxBytes + " bytes");
                }
                if (!allZero(block, n)) {
                    out.write(ByteBuffer.wrap(block, 0, n), size - n);
                }
            }
            // Trailing zeros were skipped: one written byte at the end gives the file its length.
            if (size > 0 && out.size() < size) {
                out.write(ByteBuffer.wrap(new byte[1]), size - 1);
            }
            out.force(true);
        } catch (IOException e) {
            throw new IOException("cannot unpack " + source.getFileName() + " as " + this + ": " + e.getMessage(), e);
        }
        return size;
    }

    private static boolean allZero(byte[] b, int n) {
        for (int i = 0; i < n; i++) {
            if (b[i] != 0) {
                return false;
            }
        }
        return true;
    }
}
