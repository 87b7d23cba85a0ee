package io.jenkins.plugins.qemu.engine.net;

import java.io.IOException;
import java.util.List;

/**
 * How the network starts its helper process: the engine's spawner, the same one that starts QEMU,
 * so the helper gets the same parent-death signal and dies with a killed JVM.
 */
@FunctionalInterface
public interface Launcher {
    /** Starts {@code argv} with {@code builder}'s redirections; the process is the helper itself (same pid after exec). */
    Process start(ProcessBuilder builder, List<String> argv) throws IOException, InterruptedException;

    /** Told each helper pid as soon as it exists, before anything can fail, so it is recorded for the reaper. */
    @FunctionalInterface
    interface Started {
        void started(long pid) throws IOException, InterruptedException;
    }
}
