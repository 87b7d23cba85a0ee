package io.jenkins.plugins.qemu.engine.qmp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The client against a real {@code qemu-system-x86_64 -machine none}: no guest, no image, starts in well under a
 * second, but speaks the genuine QMP dialect (CRLF framing, greeting shape, error classes, EOF on quit).
 */
@Timeout(60)
class QmpRealQemuTest {
    @TempDir
    Path tmp;

    private static Path findQemu() {
        String path = System.getenv("PATH");
        if (path == null) {
            return null;
        }
        return Stream.of(path.split(File.pathSeparator))
                .map(d -> Path.of(d, "qemu-system-x86_64"))
                .filter(Files::isExecutable)
                .findFirst().orElse(null);
    }

    @Test
    void talksToRealQemu() throws Exception {
        Path qemu = findQemu();
        assumeTrue(qemu != null, "qemu-system-x86_64 not installed");
        // JUnit's @TempDir is normally short, but AF_UNIX paths are capped at 107 bytes.
        Path dir = tmp.resolve("qmp.sock").toString().length() < 100 ? tmp : Files.createTempDirectory("qmp");
        Path socket = dir.resolve("qmp.sock");
        Path log = dir.resolve("qemu.log");
        List<String> argv = List.of(qemu.toString(), "-machine", "none", "-nodefaults", "-display", "none",
                "-name", "test-vm", "-qmp", "unix:" + socket + ",server=on,wait=off");
        Process process = new ProcessBuilder(argv)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
        try (QmpReactor reactor = new QmpReactor("qmp-reactor-real")) {
            QmpClient client = QmpClient.connect(socket, Duration.ofSeconds(20), reactor);
            try {
                JsonNode version = client.execute("query-version", null, Duration.ofSeconds(10)).path("qemu");
                assertTrue(version.path("major").asInt() >= 7, "version " + version);
                JsonNode status = client.execute("query-status", null, Duration.ofSeconds(10));
                assertTrue(status.has("status") && status.has("running"), status.toString());
                JsonNode name = client.execute("query-name", null, Duration.ofSeconds(10));
                assertEquals("test-vm", name.path("name").asText());
                JsonNode hmp = client.execute("human-monitor-command", Map.of("command-line", "info version"),
                        Duration.ofSeconds(10));
                String expected = version.path("major").asInt() + "." + version.path("minor").asInt();
                assertTrue(hmp.asText().contains(expected), "info version said: " + hmp.asText());
                QmpException notFound = org.junit.jupiter.api.Assertions.assertThrows(QmpException.class,
                        () -> client.execute("no-such-command", null, Duration.ofSeconds(10)));
                assertEquals("CommandNotFound", notFound.errorClass());
                JsonNode schema = client.execute("query-qmp-schema", null, Duration.ofSeconds(10));
                assertTrue(schema.isArray() && schema.size() > 100, "schema entries: " + schema.size());

                try {
                    client.execute("quit", null, Duration.ofSeconds(10));
                } catch (QmpException e) {
                    // QEMU may close the socket before its reply to quit is flushed; then the close must say so.
                    assertTrue(e.getMessage().contains("closed while waiting for 'quit'"), e.getMessage());
                }
                assertTrue(process.waitFor(10, TimeUnit.SECONDS), "qemu did not exit after quit");
                for (int i = 0; i < 100 && client.isOpen(); i++) {
                    Thread.sleep(100);
                }
                assertFalse(client.isOpen());
                QmpException closed = org.junit.jupiter.api.Assertions.assertThrows(QmpException.class,
                        () -> client.execute("query-status", null, Duration.ofSeconds(10)));
                // QEMU's end of the connection (EOF or a reset) is reported as the cause, not as a local close.
                assertFalse(closed.getMessage().contains("closed locally"), "EOF from QEMU is reported as a cause: " + closed.getMessage());
                assertEquals(0, process.exitValue(), () -> "qemu log: " + read(log));
            } finally {
                client.close();
            }
        } finally {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
            if (!dir.equals(tmp)) {
                Files.deleteIfExists(socket);
                Files.deleteIfExists(log);
                Files.deleteIfExists(dir);
            }
        }
    }

    private static String read(Path p) {
        try {
            return Files.readString(p);
        } catch (Exception e) {
            return "(unreadable: " + e + ")";
        }
    }
}
