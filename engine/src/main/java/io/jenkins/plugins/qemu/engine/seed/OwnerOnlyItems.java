package io.jenkins.plugins.qemu.engine.seed;

import io.jenkins.plugins.qemu.engine.config.QemuArgs;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A guest's identity values as owner-only files that QEMU hands over as named fw_cfg items (our
 * images' fast path, or systemd credentials): one file per value in a directory of its own, never
 * overwriting. It owns the files: closing deletes exactly those that were written, also when
 * writing failed half-way.
 */
final class OwnerOnlyItems implements AutoCloseable {
    private final Path dir;
    private final Map<String, Path> items = new LinkedHashMap<>();

    private OwnerOnlyItems(Path dir) {
        this.dir = dir;
    }

    /**
     * Makes {@code dir} (owner-only; it must not exist yet) and writes each value to {@code dir/NAME}
     * as the item {@code prefix + NAME}. On a failure nothing is left behind.
     */
    static OwnerOnlyItems write(Path dir, Map<String, String> values, String prefix) throws IOException {
        Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        OwnerOnlyItems written = new OwnerOnlyItems(dir);
        try {
            for (Map.Entry<String, String> e : values.entrySet()) {
                Path file = dir.resolve(e.getKey());
                // Recorded before the write, so a half-written file is deleted too.
                written.items.put(prefix + e.getKey(), file);
                Files.write(file, e.getValue().getBytes(StandardCharsets.UTF_8), StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
                Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
            }
        } catch (IOException | RuntimeException e) {
            written.close();
            throw e;
        }
        return written;
    }

    /** QEMU's {@code -fw_cfg name=ITEM,file=FILE} arguments, one pair per item. */
    List<String> qemuArgs() {
        List<String> args = new ArrayList<>();
        items.forEach((name, file) -> {
            args.add("-fw_cfg");
            args.add("name=" + name + ",file=" + QemuArgs.escape(file));
        });
        return args;
    }

    Path dir() {
        return dir;
    }

    @Override
    public void close() throws IOException {
        for (Path file : items.values()) {
            Files.deleteIfExists(file);
        }
        Files.deleteIfExists(dir);
    }
}
