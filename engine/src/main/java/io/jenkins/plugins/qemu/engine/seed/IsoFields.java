package io.jenkins.plugins.qemu.engine.seed;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.ZonedDateTime;
import java.util.Arrays;
import java.util.Locale;

/**
 * The byte-level fields of ECMA-119, Joliet and Rock Ridge that {@link IsoImageWriter} assembles:
 * both-endian numbers, padded text, dates, path tables and System Use entries. Pure functions,
 * kept apart from the writer so the writer reads as the layout of the image.
 */
final class IsoFields {
    static final int SECTOR = 2048;
    /** A root-only path table holds one 10-byte record. */
    static final int PATH_TABLE_SIZE = 10;
    static final byte[] ER_ID = ascii("RRIP_1991A");
    static final byte[] ER_DESCRIPTOR =
            ascii("THE ROCK RIDGE INTERCHANGE PROTOCOL PROVIDES SUPPORT FOR POSIX FILE SYSTEM SEMANTICS");
    static final byte[] ER_SOURCE = ascii("PLEASE CONTACT DISC PUBLISHER FOR SPECIFICATION SOURCE.  "
            + "SEE PUBLISHER IDENTIFIER IN PRIMARY VOLUME DESCRIPTOR FOR CONTACT INFORMATION.");

    private IsoFields() {}

    static byte[] terminator() {
        byte[] d = new byte[SECTOR];
        d[0] = (byte) 255;
        System.arraycopy(ascii("CD001"), 0, d, 1, 5);
        d[6] = 1;
        return d;
    }

    static byte[] pathTable(int rootLba, boolean bigEndian) {
        byte[] t = new byte[SECTOR];
        t[0] = 1; // identifier length: the root is named by a single 0x00 byte
        if (bigEndian) {
            be32(t, 2, rootLba);
            t[7] = 1;
        } else {
            le32(t, 2, rootLba);
            t[6] = 1;
        }
        return t;
    }

    static byte[] susp(String signature, byte[] data) {
        byte[] e = new byte[4 + data.length];
        e[0] = (byte) signature.charAt(0);
        e[1] = (byte) signature.charAt(1);
        e[2] = (byte) e.length;
        e[3] = 1; // entry version
        System.arraycopy(data, 0, e, 4, data.length);
        return e;
    }

    /** RRIP 1.10 PX without the serial number, matching the RRIP_1991A identifier announced in ER. */
    static byte[] posixAttributes(int mode, int links) {
        byte[] data = new byte[32];
        both32(data, 0, mode);
        both32(data, 8, links);
        // uid and gid stay 0: the files belong to root in the guest.
        return susp("PX", data);
    }

    /** The ER entry is too long for the root's "." record (255 bytes max), so a CE points at it. */
    static byte[] continuation(int lba, int length) {
        byte[] data = new byte[24];
        both32(data, 0, lba);
        both32(data, 8, 0);
        both32(data, 16, length);
        return susp("CE", data);
    }

    static byte[] extensionsReference() {
        byte[] head = {(byte) ER_ID.length, (byte) ER_DESCRIPTOR.length, (byte) ER_SOURCE.length, 1};
        return susp("ER", concat(head, ER_ID, ER_DESCRIPTOR, ER_SOURCE));
    }

    /** The 17-byte volume descriptor date; all '0' digits with offset 0 means "not specified". */
    static void volumeTime(byte[] b, int off, ZonedDateTime t) {
        String digits = t == null ? "0000000000000000" : String.format(Locale.ROOT, "%04d%02d%02d%02d%02d%02d%02d",
                t.getYear(), t.getMonthValue(), t.getDayOfMonth(), t.getHour(), t.getMinute(), t.getSecond(),
                t.getNano() / 10_000_000);
        System.arraycopy(ascii(digits), 0, b, off, 16);
        b[off + 16] = 0;
    }

    /** Space-padded text; Joliet fields hold UCS-2 big-endian, padded with U+0020. */
    static void text(byte[] b, int off, int length, String value, boolean joliet) {
        if (joliet) {
            for (int i = 0; i + 1 < length; i += 2) {
                char c = i / 2 < value.length() ? value.charAt(i / 2) : ' ';
                b[off + i] = (byte) (c >> 8);
                b[off + i + 1] = (byte) c;
            }
        } else {
            for (int i = 0; i < length; i++) {
                b[off + i] = (byte) (i < value.length() ? value.charAt(i) : ' ');
            }
        }
    }

    static void both16(byte[] b, int off, int v) {
        b[off] = (byte) v;
        b[off + 1] = (byte) (v >> 8);
        b[off + 2] = (byte) (v >> 8);
        b[off + 3] = (byte) v;
    }

    static void both32(byte[] b, int off, int v) {
        le32(b, off, v);
        be32(b, off + 4, v);
    }

    static void le32(byte[] b, int off, int v) {
        for (int i = 0; i < 4; i++) {
            b[off + i] = (byte) (v >> (8 * i));
        }
    }

    static void be32(byte[] b, int off, int v) {
        for (int i = 0; i < 4; i++) {
            b[off + 3 - i] = (byte) (v >> (8 * i));
        }
    }

    static int sectorsFor(int bytes) {
        return (int) ((bytes + (long) SECTOR - 1) / SECTOR);
    }

    static byte[] padToSector(byte[] data) {
        return Arrays.copyOf(data, Math.max(1, sectorsFor(data.length)) * SECTOR);
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }
}
