package io.jenkins.plugins.qemu;

import java.time.LocalTime;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;

/**
 * The engine's progress lines of one boot, time-stamped. The agent's computer does not exist
 * yet while its VM boots, so the lines are kept here and written into the agent's log when the
 * launcher starts; that is where an administrator looks first when an agent is slow or fails.
 */
final class ProvisioningLog {
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss.SSS");
    /** A boot reports a few dozen lines; the bound only protects against a runaway source. */
    private static final int MAX_LINES = 500;

    private final List<String> lines = new ArrayList<>();

    synchronized void add(String line) {
        if (lines.size() < MAX_LINES) {
            lines.add("[" + LocalTime.now().truncatedTo(ChronoUnit.MILLIS).format(TIME) + "] " + line);
        }
    }

    synchronized List<String> lines() {
        return new ArrayList<>(lines);
    }
}
