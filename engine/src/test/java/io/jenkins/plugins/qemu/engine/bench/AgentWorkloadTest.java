package io.jenkins.plugins.qemu.engine.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jenkins.plugins.qemu.engine.vm.Accel;
import io.jenkins.plugins.qemu.engine.vm.AgentJar;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The echo agent's jar: the same bytes every run (the warm snapshot is keyed by its hash), and a real JVM runs it. */
class AgentWorkloadTest {
    @TempDir
    Path dir;

    @Test
    void theJarIsByteForByteTheSameEveryTimeSoItsSnapshotStaysCurrent() throws Exception {
        AgentJar a = AgentWorkload.writeJar(dir.resolve("a.jar"));
        Thread.sleep(1100); // a jar entry stamped with the current time would differ now
        AgentJar b = AgentWorkload.writeJar(dir.resolve("b.jar"));
        assertEquals(a.sha256(), b.sha256());
        assertEquals(a.guestPath(), b.guestPath());
        assertTrue(a.guestPath().matches("\\.cache/qemu-agents/agent-[0-9a-f]{16}\\.jar"), a.guestPath());
    }

    @Test
    void underTcgTheAgentJvmCompilesWithC1OnlyAndTemplateOptionsComeAfter() throws Exception {
        AgentJar jar = AgentWorkload.writeJar(dir.resolve("c1.jar"));
        assertFalse(jar.jvmOptions(io.jenkins.plugins.qemu.engine.vm.Accel.KVM).contains("-XX:TieredStopAtLevel=1"));
        assertTrue(jar.jvmOptions(io.jenkins.plugins.qemu.engine.vm.Accel.KVM).containsAll(jar.jvmOptions()));
        List<String> tcg = jar.jvmOptions(io.jenkins.plugins.qemu.engine.vm.Accel.TCG);
        assertEquals("-XX:TieredStopAtLevel=1", tcg.get(tcg.size() - 1));
        assertTrue(jar.remotingCommand(List.of(String.join(" ", tcg), "-XX:TieredStopAtLevel=4"), "/w")
                .matches(".*TieredStopAtLevel=1 -XX:TieredStopAtLevel=4 -jar .*"), "a template's option comes last and wins");
    }

    @Test
    void javaDashJarOfItAnswersEveryLineOnStdoutUntilEndOfFile() throws Exception {
        AgentJar jar = AgentWorkload.writeJar(dir.resolve("echo.jar"));
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        // The options a warm clone's agent gets; the archive is missing here, which -Xshare:auto must tolerate quietly.
        List<String> argv = new java.util.ArrayList<>(List.of(java.toString()));
        argv.addAll(jar.jvmOptions());
        argv.addAll(List.of("-jar", jar.file().toString()));
        Process p = new ProcessBuilder(argv).directory(dir.toFile()).start();
        p.getOutputStream().write("ping\nsecond line\n".getBytes(StandardCharsets.UTF_8));
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor());
        assertEquals("ping\nsecond line\n", out, "stdout is the agent's channel: nothing else may be on it; stderr: " + err);
        assertTrue(Files.size(jar.file()) < 4096);
    }

    /**
     * The real failure this guards: a JVM that cannot use its class-data-sharing archive says so
     * in a warning on stdout, the agent's channel. Here the jar at the archive's jar path is
     * replaced after the archive was written, as a stale guest file would be.
     */
    @Test
    void theJvmsOwnWarningsStayOffStdoutWhichIsTheChannel() throws Exception {
        Path javaBin = Path.of(System.getProperty("java.home"), "bin", "java");
        AgentJar jar = AgentWorkload.writeJar(dir.resolve("echo.jar"));
        Path inGuestPath = dir.resolve(jar.guestPath());
        Files.createDirectories(inGuestPath.getParent());
        Files.copy(jar.file(), inGuestPath);
        Process dump = new ProcessBuilder(javaBin.toString(), "-XX:ArchiveClassesAtExit=" + jar.archivePath(), "-jar", jar.guestPath())
                .directory(dir.toFile()).redirectErrorStream(true).start();
        dump.getOutputStream().close();
        dump.getInputStream().readAllBytes();
        assertEquals(0, dump.waitFor());
        assertTrue(Files.exists(dir.resolve(jar.archivePath())), "archive written");
        // Same path, other bytes (an extra entry): the archive no longer matches the jar.
        try (ZipOutputStream out = new ZipOutputStream(Files.newOutputStream(inGuestPath));
                ZipFile in = new ZipFile(jar.file().toFile())) {
            for (ZipEntry e : Collections.list(in.entries())) {
                out.putNextEntry(new ZipEntry(e.getName()));
                in.getInputStream(e).transferTo(out);
            }
            out.putNextEntry(new ZipEntry("stale.txt"));
            out.write(1);
        }
        assertTrue(stdout(javaBin, jar.jvmOptions(), jar).contains("warning"), "without the flags the JVM warns on stdout");
        for (Accel accel : List.of(Accel.TCG, Accel.KVM)) {
            assertEquals("ping\n", stdout(javaBin, jar.jvmOptions(accel), jar), accel + ": stdout carries only the agent's bytes");
        }
    }

    private String stdout(Path javaBin, List<String> options, AgentJar jar) throws Exception {
        List<String> argv = new ArrayList<>(List.of(javaBin.toString()));
        argv.addAll(options);
        argv.addAll(List.of("-jar", jar.guestPath()));
        Process p = new ProcessBuilder(argv).directory(dir.toFile()).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        p.getOutputStream().write("ping\n".getBytes(StandardCharsets.UTF_8));
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor());
        return out;
    }
}
