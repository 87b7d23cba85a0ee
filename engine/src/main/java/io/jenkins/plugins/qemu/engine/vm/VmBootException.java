package io.jenkins.plugins.qemu.engine.vm;

import java.io.IOException;
import java.time.Duration;

/**
 * A VM that did not come up. The message is meant for a person at 3 a.m.: which VM, which phase,
 * after how long, why, and the last lines QEMU printed on stderr and the guest on its console.
 */
public class VmBootException extends IOException {
    private static final long serialVersionUID = 1L;

    private final String vmId;
    private final Phase phase;
    private final Duration elapsed;

    public VmBootException(String vmId, Phase phase, Duration elapsed, String reason, String stderrTail,
            String consoleTail, Throwable cause) {
        super(message(vmId, phase, elapsed, reason, stderrTail, consoleTail), cause);
        this.vmId = vmId;
        this.phase = phase;
        this.elapsed = elapsed;
    }

    private static String message(String vmId, Phase phase, Duration elapsed, String reason, String stderrTail, String consoleTail) {
        StringBuilder b = new StringBuilder();
        b.append("VM ").append(vmId).append(" failed while ").append(phase.description())
                .append(" after ").append(PhaseTimings.millis(elapsed)).append(": ").append(reason);
        appendTail(b, "QEMU stderr", stderrTail);
        appendTail(b, "guest console", consoleTail);
        return b.toString();
    }

    private static void appendTail(StringBuilder b, String what, String tail) {
        if (tail == null) {
            return;
        }
        b.append("\n--- last lines of ").append(what).append(tail.isBlank() ? " (empty) ---" : " ---\n").append(tail.stripTrailing());
    }

    public String vmId() {
        return vmId;
    }

    public Phase phase() {
        return phase;
    }

    public Duration elapsed() {
        return elapsed;
    }
}
