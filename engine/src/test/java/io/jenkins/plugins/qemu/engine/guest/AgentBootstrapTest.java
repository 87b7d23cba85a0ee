package io.jenkins.plugins.qemu.engine.guest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jenkins.plugins.qemu.engine.bench.AgentWorkload;
import io.jenkins.plugins.qemu.engine.vm.AgentJar;
import io.jenkins.plugins.qemu.engine.vm.ClassJar;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The bootstrap a warm snapshot's pre-started agent runs in, in a real JVM on this host: it
 * listens only once it is ready, greets with its key, hands the line of arguments and then the
 * connection's streams to the agent's main, takes no second connection and ends with the agent.
 */
class AgentBootstrapTest {
    @TempDir
    Path dir;

    @Test
    void theFirstConnectionBecomesTheAgentsStdioAndNoSecondOneIsTaken() throws Exception {
        AgentJar echo = AgentWorkload.writeJar(dir.resolve("echo.jar"));
        Path boot = Files.write(dir.resolve("boot.jar"), ClassJar.of(AgentBootstrap.class));
        int port = freePort();
        Path ready = dir.resolve("agent.ready");
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp", boot + ":" + echo.file(),
                AgentBootstrap.class.getName(), Integer.toString(port), "k3y", echo.file().toString(), ready.toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("log").toFile()).start();
        try {
            for (int i = 0; i < 600 && !Files.exists(ready); i++) {
                assertTrue(p.isAlive(), () -> "the bootstrap ended before it was ready: " + log());
                Thread.sleep(50);
            }
            assertEquals("k3y\n", Files.readString(ready), "ready file names the key");
            // A launcher for another key (other JVM options) and a program that says nothing
            // useful leave the agent waiting for its own.
            for (String wrong : java.util.List.of("other-key\tx\n", "")) {
                try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
                    BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
                    assertEquals(AgentBootstrap.GREETING + " k3y", in.readLine());
                    s.getOutputStream().write(wrong.getBytes(StandardCharsets.UTF_8));
                    s.shutdownOutput();
                    assertEquals(null, in.readLine(), "not claimed: the connection is closed");
                }
                assertTrue(Files.exists(ready), "still waiting");
            }
            try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
                BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
                assertEquals(AgentBootstrap.GREETING + " k3y", in.readLine());
                OutputStream out = s.getOutputStream();
                out.write("k3y\tignored-arg\tsecond\nping\n".getBytes(StandardCharsets.UTF_8));
                out.flush();
                assertEquals("ping", in.readLine(), "the agent's stdout is the connection: " + log());
                assertFalse(Files.exists(ready), "taken: no ready file for a second launcher");
                assertThrows(ConnectException.class, () -> new Socket(InetAddress.getLoopbackAddress(), port).close(),
                        "one agent, one connection: nothing listens any more");
                out.write("more\n".getBytes(StandardCharsets.UTF_8));
                out.flush();
                assertEquals("more", in.readLine());
                s.shutdownOutput();
                assertEquals(null, in.readLine(), "end-of-file ends the agent, which closes the connection");
            }
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the JVM ends with its agent");
            assertEquals(0, p.exitValue(), log());
        } finally {
            p.destroyForcibly().waitFor();
        }
    }

    private String log() {
        try {
            return Files.readString(dir.resolve("log"));
        } catch (IOException e) {
            return e.toString();
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
