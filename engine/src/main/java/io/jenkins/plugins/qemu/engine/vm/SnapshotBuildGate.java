package io.jenkins.plugins.qemu.engine.vm;

import java.util.Optional;

/**
 * Lets the engine's owner book a warm-snapshot boot like any other VM before it starts: a
 * snapshot build is a whole VM, so a Jenkins cloud counts it against its instance cap and host
 * budget. The ticket is held while the build's VM lives and closed after it; an empty answer
 * skips the build for now (the next VM of the template asks again), without counting as a
 * failed attempt.
 */
@FunctionalInterface
public interface SnapshotBuildGate {
    /** Admits every build; for the CLI and tests, which have no cap. */
    SnapshotBuildGate ALWAYS = prep -> Optional.of(() -> { });

    /** A ticket for the boot of {@code prep} (the snapshot boot's own spec), or empty when there is no room now. */
    Optional<AutoCloseable> admit(VmSpec prep);
}
