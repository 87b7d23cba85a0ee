package io.jenkins.plugins.qemu.engine.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jenkins.plugins.qemu.engine.usage.MetricsFile;
import io.jenkins.plugins.qemu.engine.usage.ProvisioningMetrics;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code qemu-agents metrics} shows what an owner left in the state directory, under the metrics plugin's names. */
class MetricsCommandTest {
    @TempDir
    Path stateDir;

    @Test
    void showsEachCounterTimingAndRunningTemplateOfEachOwner() throws IOException {
        ProvisioningMetrics m = new ProvisioningMetrics("cloud qemu", Clock.systemUTC(), () -> Map.of("debian-12", 3),
                ProvisioningMetrics.Sink.NONE);
        m.vmOnline("debian-12", false, Duration.ofMillis(31_400));
        m.vmOnline("debian-12", true, Duration.ofMillis(2_900));
        m.failed("debian-12", ProvisioningMetrics.Failure.AGENT);
        m.firstStep("debian-12", Duration.ofMillis(44_000));
        MetricsFile.write(MetricsFile.of(stateDir, "jenkins-a.cloud-1"), m.snapshot());

        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int rc = Main.run(new String[] {"metrics", "--state-dir", stateDir.toString()}, print(out), print(err));
        String text = out.toString(StandardCharsets.UTF_8);
        assertEquals(0, rc, err.toString(StandardCharsets.UTF_8));
        assertTrue(text.startsWith("cloud qemu (jenkins-a.cloud-1): counted since "), text);
        assertTrue(text.matches("(?s).*\\n  provisioned\\.cold +1\\n.*"), text);
        assertTrue(text.matches("(?s).*\\n  failed\\.agent +1\\n.*"), text);
        assertTrue(text.matches("(?s).*\\n  time-to-online\\.cold +1  median 31\\.4 s, p95 31\\.4 s, max 31\\.4 s \\(last 1\\)\\n.*"), text);
        assertTrue(text.matches("(?s).*\\n  queue-to-first-step +1  median 44\\.0 s.*"), text);
        assertTrue(text.matches("(?s).*\\n  running\\.template\\.debian-12 +3\\n.*"), text);
    }

    @Test
    void anEmptyStateDirectorySaysSo() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int rc = Main.run(new String[] {"metrics", "--state-dir", stateDir.toString()}, print(out), print(new ByteArrayOutputStream()));
        assertEquals(0, rc);
        assertEquals("no metrics (nothing was provisioned through this state directory yet)\n", out.toString(StandardCharsets.UTF_8));
    }

    @Test
    void anUnknownArgumentIsAUsageErrorNamingIt() {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        assertEquals(Main.USAGE, Main.run(new String[] {"metrics", "--all"}, print(new ByteArrayOutputStream()), print(err)));
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("argument: '--all' is not understood by 'metrics'"));
    }

    private static PrintStream print(ByteArrayOutputStream b) {
        return new PrintStream(b, true, StandardCharsets.UTF_8);
    }
}
