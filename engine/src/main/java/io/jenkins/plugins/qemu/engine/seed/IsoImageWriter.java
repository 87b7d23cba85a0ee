package io.jenkins.plugins.qemu.engine.seed;

import static io.jenkins.plugins.qemu.engine.seed.IsoFields.*;

import io.jenkins.plugins.qemu.engine.config.InvalidInputException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Writes a small single-directory ISO9660 image (ECMA-119) with Rock Ridge (RRIP 1.10, SUSP) and
 * Joliet (UCS-2 level 3) extensions, in pure Java, for the cloud-init NoCloud seed: volume label
 * {@code cidata} and a handful of files in the root directory. The primary tree carries mangled
 * 8.3 upper-case names because ECMA-119 demands them; readers get the real names from the Rock
 * Ridge {@code NM} entries (Linux, xorriso) or the Joliet tree (Windows, blkid). The output is a
 * pure function of the volume id, the timestamp and the files added, so identical input gives
 * identical bytes.
 */
public final class IsoImageWriter {
    /** Sectors 0-15 are the system area; volume descriptors start right after it. */
    private static final int PVD_LBA = 16;
    private static final int SVD_LBA = 17;
    private static final int TERMINATOR_LBA = 18;
    private static final int PRIMARY_L_TABLE_LBA = 19;
    private static final int PRIMARY_M_TABLE_LBA = 20;
    private static final int JOLIET_L_TABLE_LBA = 21;
    private static final int JOLIET_M_TABLE_LBA = 22;
    private static final int FIRST_DIRECTORY_LBA = 23;

    /** Joliet's 32-byte volume id field holds 16 UCS-2 characters, so longer ids would be cut there. */
    private static final Pattern VOLUME_ID = Pattern.compile("[A-Za-z0-9_.-]{1,16}");
    /** Joliet forbids these besides control characters; rejecting them keeps both trees in agreement. */
    private static final String FORBIDDEN_NAME_CHARS = "/\\*:;?";
    /** Joliet's limit; it also keeps every directory record under the 255-byte maximum. */
    private static final int MAX_NAME_LENGTH = 64;

    private static final int FLAG_DIRECTORY = 0x02;
    private static final int MODE_FILE = 0100444;
    private static final int MODE_DIRECTORY = 040555;


    private final String volumeId;
    private final ZonedDateTime timestamp;
    private final Map<String, byte[]> files = new LinkedHashMap<>();

    /**
     * Uses the Unix epoch as the timestamp of every record, so that a seed depends only on its
     * content (the guest does not care when its seed was made).
     */
    public IsoImageWriter(String volumeId) {
        this(volumeId, Instant.EPOCH);
    }

    public IsoImageWriter(String volumeId, Instant timestamp) {
        if (volumeId == null || !VOLUME_ID.matcher(volumeId).matches()) {
            throw new InvalidInputException("ISO volume id", volumeId,
                    "is not 1-16 characters of A-Z, a-z, 0-9, '_', '.', '-'; a NoCloud seed uses 'cidata'");
        }
        if (timestamp == null) {
            throw new InvalidInputException("ISO timestamp", null, "is required");
        }
        ZonedDateTime utc = timestamp.atZone(ZoneOffset.UTC);
        // Directory records store the year as an offset from 1900 in one byte.
        if (utc.getYear() < 1900 || utc.getYear() > 2155) {
            throw new InvalidInputException("ISO timestamp", timestamp, "is outside the years 1900-2155 that ISO9660 can store");
        }
        this.volumeId = volumeId;
        this.timestamp = utc;
    }

    /** Adds a file to the root directory; the content is copied, so later changes to the array do not leak in. */
    public IsoImageWriter addFile(String name, byte[] content) {
        validateName(name);
        if (content == null) {
            throw new InvalidInputException("ISO file content", null, "is required for '" + name + "'");
        }
        if (files.containsKey(name)) {
            throw new InvalidInputException("ISO file name", name, "was already added to this image");
        }
        files.put(name, content.clone());
        return this;
    }

    /**
     * Creates {@code file} (failing if it exists) readable and writable by the owner only, since
     * a seed carries SSH keys and user data, and writes the image into it. A partly written file
     * is removed.
     */
    public void write(Path file) throws IOException {
        boolean posix = file.getFileSystem().supportedFileAttributeViews().contains("posix");
        Set<PosixFilePermission> ownerOnly = PosixFilePermissions.fromString("rw-------");
        if (posix) {
            Files.createFile(file, PosixFilePermissions.asFileAttribute(ownerOnly));
            // The umask may have narrowed the mode at creation; make it exactly 0600.
            Files.setPosixFilePermissions(file, ownerOnly);
        } else {
            Files.createFile(file);
        }
        try (OutputStream out = Files.newOutputStream(file, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
            writeTo(out);
        } catch (IOException | RuntimeException e) {
            try {
                Files.deleteIfExists(file);
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    /** Writes the whole image to {@code out}; the stream is not closed. */
    public void writeTo(OutputStream out) throws IOException {
        List<Entry> entries = mangle();
        List<Entry> primaryOrder = new ArrayList<>(entries);
        primaryOrder.sort(Comparator.comparing((Entry e) -> e.isoName, IsoImageWriter::compareIdentifiers));
        List<Entry> jolietOrder = new ArrayList<>(entries);
        jolietOrder.sort(Comparator.comparing((Entry e) -> e.name, IsoImageWriter::compareIdentifiers));

        // Record lengths do not depend on addresses, so a dry run with zeros sizes the directories.
        int primarySectors = primaryDirectory(primaryOrder, 0, 0, 0).length / SECTOR;
        int jolietSectors = jolietDirectory(jolietOrder, 0, 0).length / SECTOR;
        int primaryLba = FIRST_DIRECTORY_LBA;
        int jolietLba = primaryLba + primarySectors;
        int continuationLba = jolietLba + jolietSectors;
        int next = continuationLba + 1;
        for (Entry e : entries) {
            // Empty files own no sector; pointing them at 0 is what mastering tools do too.
            e.lba = e.content.length == 0 ? 0 : next;
            next = Math.addExact(next, sectorsFor(e.content.length));
        }
        int totalSectors = next;

        byte[] primaryDir = primaryDirectory(primaryOrder, primaryLba, primarySectors * SECTOR, continuationLba);
        byte[] jolietDir = jolietDirectory(jolietOrder, jolietLba, jolietSectors * SECTOR);

        ByteArrayOutputStream meta = new ByteArrayOutputStream(continuationLba * SECTOR + SECTOR);
        meta.write(new byte[PVD_LBA * SECTOR]);
        meta.write(volumeDescriptor(false, totalSectors,
                directoryRecord(primaryLba, primarySectors * SECTOR, FLAG_DIRECTORY, new byte[] {0}, new byte[0])));
        meta.write(volumeDescriptor(true, totalSectors,
                directoryRecord(jolietLba, jolietSectors * SECTOR, FLAG_DIRECTORY, new byte[] {0}, new byte[0])));
        meta.write(terminator());
        meta.write(pathTable(primaryLba, false));
        meta.write(pathTable(primaryLba, true));
        meta.write(pathTable(jolietLba, false));
        meta.write(pathTable(jolietLba, true));
        meta.write(primaryDir);
        meta.write(jolietDir);
        meta.write(padToSector(extensionsReference()));
        meta.writeTo(out);

        for (Entry e : entries) {
            out.write(e.content);
            int tail = e.content.length % SECTOR;
            if (tail != 0) {
                out.write(new byte[SECTOR - tail]);
            }
        }
        out.flush();
    }

    private static void validateName(String name) {
        if (name == null || name.isEmpty()) {
            throw new InvalidInputException("ISO file name", name, "is empty");
        }
        if (name.equals(".") || name.equals("..")) {
            throw new InvalidInputException("ISO file name", name, "is reserved for directory links");
        }
        if (name.length() > MAX_NAME_LENGTH) {
            throw new InvalidInputException("ISO file name", name, "is longer than " + MAX_NAME_LENGTH + " characters");
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c < 0x20 || c > 0x7e || FORBIDDEN_NAME_CHARS.indexOf(c) >= 0) {
                throw new InvalidInputException("ISO file name", name,
                        "must be printable ASCII without any of " + FORBIDDEN_NAME_CHARS
                                + " (only root-directory files are supported)");
            }
        }
    }

    /** Derives unique level-1 names ({@code NAME8.EXT;1}) in insertion order, so the result is stable. */
    private List<Entry> mangle() {
        List<Entry> entries = new ArrayList<>();
        Set<String> taken = new HashSet<>();
        for (Map.Entry<String, byte[]> f : files.entrySet()) {
            String upper = f.getKey().toUpperCase(Locale.ROOT);
            int dot = upper.lastIndexOf('.');
            String base = dCharacters(dot > 0 ? upper.substring(0, dot) : upper);
            String ext = dot > 0 ? dCharacters(upper.substring(dot + 1)) : "";
            base = base.substring(0, Math.min(8, base.length()));
            ext = ext.substring(0, Math.min(3, ext.length()));
            String candidate = base + "." + ext;
            for (int n = 1; !taken.add(candidate); n++) {
                String suffix = Integer.toString(n);
                candidate = base.substring(0, Math.min(base.length(), 8 - suffix.length())) + suffix + "." + ext;
            }
            entries.add(new Entry(f.getKey(), candidate + ";1", f.getValue()));
        }
        return entries;
    }

    private static String dCharacters(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (char c : s.toCharArray()) {
            b.append((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ? c : '_');
        }
        return b.toString();
    }

    /**
     * ECMA-119 9.3 orders records by name then extension, each padded with spaces; as no name
     * holds characters below space, that equals comparing the two parts as plain strings.
     */
    private static int compareIdentifiers(String a, String b) {
        int dotA = a.indexOf('.');
        int dotB = b.indexOf('.');
        String nameA = dotA < 0 ? a : a.substring(0, dotA);
        String nameB = dotB < 0 ? b : b.substring(0, dotB);
        int c = nameA.compareTo(nameB);
        return c != 0 ? c : (dotA < 0 ? "" : a.substring(dotA + 1)).compareTo(dotB < 0 ? "" : b.substring(dotB + 1));
    }

    private byte[] primaryDirectory(List<Entry> entries, int selfLba, int selfSize, int continuationLba) {
        List<byte[]> records = new ArrayList<>();
        // SUSP requires SP first in the root's "." record; it is how readers detect Rock Ridge.
        byte[] dotUse = concat(susp("SP", new byte[] {(byte) 0xBE, (byte) 0xEF, 0}), posixAttributes(MODE_DIRECTORY, 2),
                timestamps(), continuation(continuationLba, extensionsReference().length));
        records.add(directoryRecord(selfLba, selfSize, FLAG_DIRECTORY, new byte[] {0}, dotUse));
        records.add(directoryRecord(selfLba, selfSize, FLAG_DIRECTORY, new byte[] {1},
                concat(posixAttributes(MODE_DIRECTORY, 2), timestamps())));
        for (Entry e : entries) {
            byte[] nm = concat(new byte[] {0}, ascii(e.name));
            records.add(directoryRecord(e.lba, e.content.length, 0, ascii(e.isoName),
                    concat(posixAttributes(MODE_FILE, 1), timestamps(), susp("NM", nm))));
        }
        return packDirectory(records);
    }

    private byte[] jolietDirectory(List<Entry> entries, int selfLba, int selfSize) {
        List<byte[]> records = new ArrayList<>();
        records.add(directoryRecord(selfLba, selfSize, FLAG_DIRECTORY, new byte[] {0}, new byte[0]));
        records.add(directoryRecord(selfLba, selfSize, FLAG_DIRECTORY, new byte[] {1}, new byte[0]));
        for (Entry e : entries) {
            records.add(directoryRecord(e.lba, e.content.length, 0, e.name.getBytes(StandardCharsets.UTF_16BE), new byte[0]));
        }
        return packDirectory(records);
    }

    /** A record may not straddle a sector boundary (ECMA-119 6.8.1.1), so a full sector is zero-padded. */
    private static byte[] packDirectory(List<byte[]> records) {
        ByteArrayOutputStream dir = new ByteArrayOutputStream();
        int used = 0;
        for (byte[] r : records) {
            if (used + r.length > SECTOR) {
                dir.writeBytes(new byte[SECTOR - used]);
                used = 0;
            }
            dir.writeBytes(r);
            used += r.length;
        }
        return padToSector(dir.toByteArray());
    }

    private byte[] directoryRecord(int lba, int size, int flags, byte[] identifier, byte[] systemUse) {
        int idPad = identifier.length % 2 == 0 ? 1 : 0;
        int suPad = systemUse.length % 2;
        int length = 33 + identifier.length + idPad + systemUse.length + suPad;
        if (length > 255) {
            throw new IllegalStateException("directory record of " + length + " bytes exceeds 255");
        }
        byte[] r = new byte[length];
        r[0] = (byte) length;
        both32(r, 2, lba);
        both32(r, 10, size);
        recordingTime(r, 18);
        r[25] = (byte) flags;
        both16(r, 28, 1); // volume sequence number
        r[32] = (byte) identifier.length;
        System.arraycopy(identifier, 0, r, 33, identifier.length);
        System.arraycopy(systemUse, 0, r, 33 + identifier.length + idPad, systemUse.length);
        return r;
    }

    private byte[] volumeDescriptor(boolean joliet, int totalSectors, byte[] rootRecord) {
        byte[] d = new byte[SECTOR];
        d[0] = (byte) (joliet ? 2 : 1);
        System.arraycopy(ascii("CD001"), 0, d, 1, 5);
        d[6] = 1;
        text(d, 8, 32, "", joliet); // system id
        text(d, 40, 32, volumeId, joliet);
        both32(d, 80, totalSectors);
        if (joliet) {
            // "%/E" announces UCS-2 level 3, the level every Joliet reader understands.
            System.arraycopy(ascii("%/E"), 0, d, 88, 3);
        }
        both16(d, 120, 1); // volume set size
        both16(d, 124, 1); // volume sequence number
        both16(d, 128, SECTOR);
        both32(d, 132, PATH_TABLE_SIZE);
        le32(d, 140, joliet ? JOLIET_L_TABLE_LBA : PRIMARY_L_TABLE_LBA);
        be32(d, 148, joliet ? JOLIET_M_TABLE_LBA : PRIMARY_M_TABLE_LBA);
        System.arraycopy(rootRecord, 0, d, 156, rootRecord.length);
        text(d, 190, 128, "", joliet); // volume set id
        text(d, 318, 128, "", joliet); // publisher
        text(d, 446, 128, "", joliet); // data preparer
        text(d, 574, 128, "", joliet); // application
        text(d, 702, 37, "", joliet); // copyright file
        text(d, 739, 37, "", joliet); // abstract file
        text(d, 776, 37, "", joliet); // bibliographic file
        volumeTime(d, 813, timestamp); // creation
        volumeTime(d, 830, timestamp); // modification
        volumeTime(d, 847, null); // expiration
        volumeTime(d, 864, null); // effective
        d[881] = 1; // file structure version
        return d;
    }

    /** TF with modification, access and attribute-change times, all the image timestamp. */
    private byte[] timestamps() {
        byte[] data = new byte[1 + 3 * 7];
        data[0] = 0x0E;
        for (int i = 0; i < 3; i++) {
            recordingTime(data, 1 + i * 7);
        }
        return susp("TF", data);
    }

    /** The 7-byte directory record date: years since 1900, then month to second, then GMT offset 0. */
    private void recordingTime(byte[] b, int off) {
        b[off] = (byte) (timestamp.getYear() - 1900);
        b[off + 1] = (byte) timestamp.getMonthValue();
        b[off + 2] = (byte) timestamp.getDayOfMonth();
        b[off + 3] = (byte) timestamp.getHour();
        b[off + 4] = (byte) timestamp.getMinute();
        b[off + 5] = (byte) timestamp.getSecond();
        b[off + 6] = 0;
    }

    private static final class Entry {
        final String name;
        final String isoName;
        final byte[] content;
        int lba;

        Entry(String name, String isoName, byte[] content) {
            this.name = name;
            this.isoName = isoName;
            this.content = content;
        }
    }
}
