package io.jenkins.plugins.qemu.engine.image;

import io.jenkins.plugins.qemu.engine.config.InvalidInputException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Decides whether a file may become a catalog disk and in which format. The format comes from the
 * file's own first bytes, never from qemu-img's probing: qcow2 has a magic number, everything else
 * would be "raw" to qemu-img, so raw is accepted only when it looks like a disk (a whole number of
 * 512-byte sectors, not a text file such as an HTML error page, not another image or archive
 * format). qemu-img then inspects it with that format fixed; a qcow2 must be consistent
 * ({@code qemu-img check}), unencrypted and self-contained (no backing or external data file).
 */
public final class DiskInspector {
    /** What users may ask for with {@code --format}. */
    public static final String AUTO = "auto";

    private static final byte[] QCOW2 = {'Q', 'F', 'I', (byte) 0xfb};
    private static final int SECTOR = 512;
    private static final Map<String, byte[]> FOREIGN = foreignFormats();

    private final QemuImg qemuImg;

    public DiskInspector(QemuImg qemuImg) {
        this.qemuImg = qemuImg;
    }

    public static String requireFormat(String field, String format) {
        if (!AUTO.equals(format) && !"qcow2".equals(format) && !"raw".equals(format)) {
            throw new InvalidInputException(field, format, "must be auto, qcow2 or raw");
        }
        return format;
    }

    /**
     * Inspects {@code disk} for image {@code name}; {@code expected} is qcow2, raw or auto.
     * Returns what qemu-img reported, or throws {@link ImageRejectedException} saying why not.
     */
    public DiskInfo inspect(String name, Path disk, String expected) throws IOException {
        String format = sniff(name, disk);
        if (!AUTO.equals(expected) && !expected.equals(format)) {
            throw new ImageRejectedException("image '" + name + "': the download is not a " + expected + " image (its content "
                    + ("raw".equals(format) ? "has no qcow2 header" : "is qcow2") + ")");
        }
        DiskInfo info = qemuImg.info(disk, format);
        String reference = info.externalReference();
        if (reference != null) {
            throw new ImageRejectedException("image '" + name + "': the disk " + reference);
        }
        if (info.encrypted()) {
            throw new ImageRejectedException("image '" + name + "': the disk is encrypted; VMs could not open it");
        }
        if (info.corrupt()) {
            throw new ImageRejectedException("image '" + name + "': the qcow2 is marked corrupt");
        }
        if (info.virtualSize() <= 0) {
            throw new ImageRejectedException("image '" + name + "': the disk has no virtual size");
        }
        if (format.equals("qcow2")) {
            String problems = qemuImg.checkProblems(disk);
            if (problems != null) {
                throw new ImageRejectedException("image '" + name + "': the qcow2 is damaged or truncated: " + problems);
            }
        }
        return info;
    }

    /** qcow2 or raw from the first bytes; anything recognisably not a disk is refused. */
    static String sniff(String name, Path disk) throws IOException {
        long size = Files.size(disk);
        byte[] head = new byte[(int) Math.min(size, 4096)];
        try (InputStream in = Files.newInputStream(disk)) {
            in.readNBytes(head, 0, head.length);
        }
        if (startsWith(head, QCOW2)) {
            return "qcow2";
        }
        for (Map.Entry<String, byte[]> e : FOREIGN.entrySet()) {
            if (startsWith(head, e.getValue())) {
                throw notADisk(name, "is " + e.getKey() + "; convert it to qcow2 with qemu-img convert first");
            }
        }
        if (head.length > 262 && new String(head, 257, 5, StandardCharsets.ISO_8859_1).equals("ustar")) {
            throw notADisk(name, "is a tar archive; unpack the disk from it first");
        }
        if (size == 0 || size % SECTOR != 0) {
            throw notADisk(name, "is " + size + " bytes, not a whole number of 512-byte sectors, and has no qcow2 header");
        }
        if (looksLikeText(head)) {
            throw notADisk(name, "is text (" + preview(head) + "), not a disk");
        }
        return "raw";
    }

    private static Map<String, byte[]> foreignFormats() {
        Map<String, byte[]> m = new LinkedHashMap<>();
        m.put("a VMDK image", "KDMV".getBytes(StandardCharsets.ISO_8859_1));
        m.put("a VHDX image", "vhdxfile".getBytes(StandardCharsets.ISO_8859_1));
        m.put("a VHD image", "conectix".getBytes(StandardCharsets.ISO_8859_1));
        m.put("a QED image", new byte[] {'Q', 'E', 'D', 0});
        m.put("a VDI image", "<<< ".getBytes(StandardCharsets.ISO_8859_1));
        m.put("a LUKS volume", new byte[] {'L', 'U', 'K', 'S', (byte) 0xba, (byte) 0xbe});
        m.put("a zip archive", new byte[] {'P', 'K', 3, 4});
        return Collections.unmodifiableMap(m);
    }

    private static ImageRejectedException notADisk(String name, String why) {
        return new ImageRejectedException("image '" + name + "': the download is not a disk image: it " + why);
    }

    /** Boot sectors, partition tables and file system headers all hold zero bytes; text never does. */
    private static boolean looksLikeText(byte[] head) {
        int n = Math.min(head.length, SECTOR);
        for (int i = 0; i < n; i++) {
            if (head[i] == 0) {
                return false;
            }
        }
        return true;
    }

    private static String preview(byte[] head) {
        String s = new String(head, 0, Math.min(head.length, 40), StandardCharsets.ISO_8859_1).replaceAll("[^\\x20-\\x7e]", ".");
        return "'" + s + "...'";
    }

    private static boolean startsWith(byte[] head, byte[] magic) {
        return head.length >= magic.length && Arrays.equals(head, 0, magic.length, magic, 0, magic.length);
    }
}
