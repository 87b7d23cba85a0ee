package io.jenkins.plugins.qemu.engine.state;

import io.jenkins.plugins.qemu.engine.config.InvalidInputException;
import io.jenkins.plugins.qemu.engine.config.Validation;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/**
 * Where an engine keeps things and which programs it runs: the image catalog, the owner-only
 * state directory under which each VM gets its own folder, and the QEMU binaries. The owner id
 * names this engine instance (a Jenkins controller, a CLI run) so leftovers can be traced to it.
 */
public record EngineConfig(Path imagesDir, Path stateDir, Path qemuBinary, Path qemuImgBinary, String ownerId,
        Duration sshRetryPause, Path passtBinary) {

    public EngineConfig {
        imagesDir = Validation.required("imagesDir", imagesDir).toAbsolutePath().normalize();
        stateDir = Validation.required("stateDir", stateDir).toAbsolutePath().normalize();
        Validation.required("qemuBinary", qemuBinary);
        Validation.required("qemuImgBinary", qemuImgBinary);
        Validation.required("passtBinary", passtBinary);
        Validation.positive("sshRetryPause", sshRetryPause);
        if (ownerId == null || !ownerId.matches("[A-Za-z0-9._-]{1,64}")) {
            throw new InvalidInputException("ownerId", ownerId, "must be 1-64 letters, digits, '.', '_' or '-'");
        }
        VmDir.checkStateDir(stateDir);
    }

    /** With passt (the network helper of VMs that may reach the internet) found on the PATH. */
    public EngineConfig(Path imagesDir, Path stateDir, Path qemuBinary, Path qemuImgBinary, String ownerId, Duration sshRetryPause) {
        this(imagesDir, stateDir, qemuBinary, qemuImgBinary, ownerId, sshRetryPause, findOnPath("passt").orElse(Path.of("/usr/bin/passt")));
    }

    /** Defaults for a user: images and state below {@code ~/.cache/qemu-agents}, QEMU from PATH. */
    public static EngineConfig defaults(Path imagesDir, String ownerId) {
        Path base = Path.of(System.getProperty("user.home"), ".cache", "qemu-agents");
        return new EngineConfig(
                imagesDir == null ? base.resolve("images") : imagesDir,
                base.resolve("state"),
                findOnPath("qemu-system-x86_64").orElse(Path.of("qemu-system-x86_64")),
                findOnPath("qemu-img").orElse(Path.of("qemu-img")),
                ownerId,
                Duration.ofMillis(200));
    }

    public EngineConfig withStateDir(Path dir) {
        return new EngineConfig(imagesDir, dir, qemuBinary, qemuImgBinary, ownerId, sshRetryPause, passtBinary);
    }

    public EngineConfig withImagesDir(Path dir) {
        return new EngineConfig(dir, stateDir, qemuBinary, qemuImgBinary, ownerId, sshRetryPause, passtBinary);
    }

    public EngineConfig withQemuBinary(Path binary) {
        return new EngineConfig(imagesDir, stateDir, binary, qemuImgBinary, ownerId, sshRetryPause, passtBinary);
    }

    public EngineConfig withPasstBinary(Path binary) {
        return new EngineConfig(imagesDir, stateDir, qemuBinary, qemuImgBinary, ownerId, sshRetryPause, binary);
    }

    public static Optional<Path> findOnPath(String program) {
        String path = System.getenv("PATH");
        if (path == null) {
            return Optional.empty();
        }
        for (String dir : path.split(File.pathSeparator)) {
            Path candidate = Path.of(dir, program);
            if (Files.isExecutable(candidate)) {
                return Optional.of(candidate);
            }
        }
        return Optional.empty();
    }
}
