package io.jenkins.plugins.qemu.engine.snapshot;

import java.nio.file.Path;
import java.time.Instant;

/**
 * A published warm snapshot: the frozen disk layer (a qcow2 backed by the base image, read-only
 * from now on), the saved RAM and device state, and the key it was made for. Restores open
 * overlays on {@code disk} and feed {@code state} to QEMU's {@code -incoming}.
 */
public record Snapshot(Path dir, Path disk, Path state, SnapshotKey key, Instant created, long stateBytes) {}
