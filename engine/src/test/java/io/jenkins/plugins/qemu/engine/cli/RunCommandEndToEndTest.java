package io.jenkins.plugins.qemu.engine.cli;

import static io.jenkins.plugins.qemu.engine.testing.TestImages.IMAGE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jenkins.plugins.qemu.engine.testing.TestImages;
import io.jenkins.plugins.qemu.engine.config.FileTree;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The CLI's {@code run} as a user runs it, in a JVM of its own against real QEMU: the guest
 * command's output alone on stdout, its exit code passed through, and every line on stderr said
 * once (the engine's log and a progress listener used to print each boot line twice).
 */
class RunCommandEndToEndTest {
    @Test
    void runPrintsTheCommandsOutputAndEachStatusLineOnce() throws Exception {
        Path stateDir = TestImages.shortTempDir();
        Path out = Files.createTempFile(stateDir, "stdout", ".txt");
        Path err = Files.createTempFile(stateDir, "stderr", ".txt");
        try {
            Process jvm = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-cp", System.getProperty("java.class.path"), Main.class.getName(), "run", "--image", IMAGE,
                    "--images-dir", TestImages.imagesDir().toString(), "--state-dir", stateDir.resolve("state").toString(),
                    "--timeout", "5m", "--", "echo hello from $(hostname); exit 7")
                    .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            if (!jvm.waitFor(6, TimeUnit.MINUTES)) {
                jvm.destroyForcibly().waitFor();
                throw new AssertionError("run did not end within 6 minutes:\n" + Files.readString(err));
            }
            String stderr = Files.readString(err);
            assertEquals(7, jvm.exitValue(), stderr);
            assertTrue(Files.readString(out).matches("hello from qa-[0-9a-f]{10}\n"), Files.readString(out));
            Map<String, Integer> seen = new HashMap<>();
            for (String line : stderr.split("\n")) {
                // Log lines start with a time stamp; the same message twice differs only in it or its absence.
                String message = line.replaceFirst("^\\d\\d:\\d\\d:\\d\\d\\.\\d{3} [A-Z]+ ", "");
                if (!message.isBlank()) {
                    seen.merge(message, 1, Integer::sum);
                }
            }
            List<String> twice = seen.entrySet().stream().filter(e -> e.getValue() > 1).map(Map.Entry::getKey).toList();
            assertEquals(List.of(), twice, "lines printed more than once:\n" + stderr);
            assertTrue(stderr.lines().filter(l -> l.contains("] online on 127.0.0.1:")).count() == 1, stderr);
            // The summary's last line: every figure read (none "n/a"), as the destroy began.
            assertTrue(stderr.lines().anyMatch(l -> l.matches("usage of qa-[0-9a-f]{10}: vCPU \\d+\\.\\d s \\(waited \\d+\\.\\d s for a host CPU\\), QEMU CPU \\d+\\.\\d s, "
                    + "host RSS [1-9]\\d+ MiB \\(peak [1-9]\\d+ MiB\\), disk written \\d+ MiB, overlay \\+\\d+ MiB \\(now [1-9]\\d* MiB\\), "
                    + "guest memory [1-9]\\d* MiB \\(peak [1-9]\\d* MiB\\), network in \\d+ MiB / out \\d+ MiB")),
                    stderr);
            assertEquals(List.of(), TestImages.filesBelow(stateDir.resolve("state")), "run leaves nothing in its state directory");
        } finally {
            FileTree.delete(stateDir);
        }
    }
}
