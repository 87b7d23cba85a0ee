package io.jenkins.plugins.qemu.engine.seed;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;

/**
 * Writes a guest's identity values as owner-only files that QEMU hands over as named items (fw_cfg
 * entries or systemd credentials): one file per value, never overwriting, each recorded in the
 * caller's item map as it is written, so that on a failure the caller's close removes exactly
 * what exists.
 */
final class OwnerOnlyItems {
    private OwnerOnlyItems() {}

    /** Makes {@code dir} (owner-only, it must not exist yet). */
    static void makeDir(Path dir) throws IOException {
        Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    }

    /** Writes each value to {@code dir/NAME} and records it in {@code items} as {@code prefix + NAME}. */
    static void write(Path dir, Map<String, String> values, String prefix, Map<String, Path> items) throws IOException {
        for (Map.Entry<String, String> e : values.entrySet()) {
            Path file = dir.resolve(e.getKey());
            Files.write(file, e.getValue().getBytes(StandardCharsets.UTF_8), StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
            items.put(prefix + e.getKey(), file);
        }
    }
}
