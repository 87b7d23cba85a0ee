package io.jenkins.plugins.qemu.engine.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.jenkins.plugins.qemu.engine.testing.TestImages;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * What a real guest can reach under each egress policy. Everything runs in two network
 * namespaces this test makes, so no packet the guest sends can leave this machine: "host", where
 * the engine (a child JVM running the CLI), QEMU, passt and the host's services live, whose only
 * link is a veth to "world", which stands for every other machine (the default route points
 * there; 192.0.2.0/24 is a documentation range). In "host", servers listen on 127.0.0.1 only;
 * the guest probes them through every address that could lead there (QEMU's 10.0.2.2, passt's
 * gateway 10.0.3.2, the host's own 192.0.2.1), and probes a server in "world".
 */
class NetworkIsolationTest {
    private static final String HOST_ADDRESS = "192.0.2.1";
    private static final String WORLD_ADDRESS = "192.0.2.254";
    private static final int LOOPBACK_PORT = 18080;
    private static final int WORLD_PORT = 8080;
    /** A second loopback-only service, the one a policy allows. */
    private static final int ALLOWED_PORT = 18081;
    private static final List<String> HOST_TARGETS = List.of("10.0.2.2:" + LOOPBACK_PORT, "10.0.3.2:" + LOOPBACK_PORT,
            HOST_ADDRESS + ":" + LOOPBACK_PORT);
    private static final String WORLD_TARGET = WORLD_ADDRESS + ":" + WORLD_PORT;
    /** Where an allowed host port appears in the guest; through the gateways it stays closed. */
    private static final String ALLOWED_TARGET = "127.0.0.1:" + ALLOWED_PORT;
    private static final List<String> ALLOWED_ELSEWHERE = List.of("10.0.2.2:" + ALLOWED_PORT, "10.0.3.2:" + ALLOWED_PORT);

    private static String hostNs;
    private static String worldNs;
    private static final List<Process> servers = new ArrayList<>();
    private static Path stateDir;

    @BeforeAll
    static void namespaces() throws Exception {
        assumeTrue("root".equals(System.getProperty("user.name")), "network namespaces need root");
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/passt")), "passt is not installed (scripts/host-setup.sh installs it)");
        String tag = HexFormat.of().formatHex(new byte[] {(byte) ThreadLocalRandom.current().nextInt()}) + ProcessHandle.current().pid() % 10000;
        hostNs = "qa-nh-" + tag;
        worldNs = "qa-nw-" + tag;
        sh("ip", "netns", "add", hostNs);
        sh("ip", "netns", "add", worldNs);
        String a = "qnh" + tag;
        String b = "qnw" + tag;
        sh("ip", "link", "add", a, "type", "veth", "peer", "name", b);
        sh("ip", "link", "set", a, "netns", hostNs);
        sh("ip", "link", "set", b, "netns", worldNs);
        sh("ip", "-n", hostNs, "link", "set", "lo", "up");
        sh("ip", "-n", worldNs, "link", "set", "lo", "up");
        sh("ip", "-n", hostNs, "addr", "add", HOST_ADDRESS + "/24", "dev", a);
        sh("ip", "-n", worldNs, "addr", "add", WORLD_ADDRESS + "/24", "dev", b);
        sh("ip", "-n", hostNs, "link", "set", a, "up");
        sh("ip", "-n", worldNs, "link", "set", b, "up");
        sh("ip", "-n", hostNs, "route", "add", "default", "via", WORLD_ADDRESS);
        servers.add(server(hostNs, "127.0.0.1", LOOPBACK_PORT));
        servers.add(server(hostNs, "127.0.0.1", ALLOWED_PORT));
        servers.add(server(worldNs, WORLD_ADDRESS, WORLD_PORT));
        stateDir = TestImages.shortTempDir();
    }

    @AfterAll
    static void cleanUp() throws Exception {
        for (Process p : servers) {
            p.destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
        }
        // Deleting a namespace deletes the veth end in it, and with it the pair.
        for (String ns : new String[] {hostNs, worldNs}) {
            if (ns != null) {
                new ProcessBuilder("ip", "netns", "del", ns).inheritIO().start().waitFor(30, TimeUnit.SECONDS);
            }
        }
        if (stateDir != null) {
            assertEquals(List.of(), TestImages.filesBelow(stateDir), "the engine left files in its state directory");
            io.jenkins.plugins.qemu.engine.config.FileTree.delete(stateDir);
        }
    }

    @Test
    void defaultReachesOtherMachinesButNothingOnTheHost() throws Exception {
        Map<String, String> seen = probe("default");
        for (String t : HOST_TARGETS) {
            assertEquals("CLOSED", seen.get(t), t + " leads to a service bound to the host's 127.0.0.1: " + seen);
        }
        assertEquals("CLOSED", seen.get(ALLOWED_TARGET), "no host port is relayed unless allowed: " + seen);
        assertEquals("OPEN", seen.get(WORLD_TARGET), "egress to another machine: " + seen);
    }

    @Test
    void noneReachesNothingButTheAllowedHostPort() throws Exception {
        Map<String, String> seen = probe("none+allow:" + ALLOWED_PORT);
        for (String t : HOST_TARGETS) {
            assertEquals("CLOSED", seen.get(t), t + ": " + seen);
        }
        for (String t : ALLOWED_ELSEWHERE) {
            assertEquals("CLOSED", seen.get(t), "an allowed port is relayed, not routed: " + t + ": " + seen);
        }
        assertEquals("OPEN", seen.get(ALLOWED_TARGET), "the allowed host port at the guest's 127.0.0.1: " + seen);
        assertEquals("CLOSED", seen.get(WORLD_TARGET), "no egress at all under 'none': " + seen);
    }

    @Test
    void aRestoredCloneKeepsItsEgress() throws Exception {
        // --warm boots and saves the template's snapshot first, then restores the VM that probes.
        Path warmState = TestImages.shortTempDir();
        try {
            Map<String, String> seen = probe("default", warmState, "--warm");
            for (String t : HOST_TARGETS) {
                assertEquals("CLOSED", seen.get(t), t + ": " + seen);
            }
            assertEquals("OPEN", seen.get(WORLD_TARGET), "a restored clone's egress works with its own passt: " + seen);
        } finally {
            io.jenkins.plugins.qemu.engine.config.FileTree.delete(warmState);
        }
    }

    private static Map<String, String> probe(String egress) throws Exception {
        return probe(egress, stateDir);
    }

    /** Boots a VM in the "host" namespace under {@code egress} and has the guest try every target. */
    private static Map<String, String> probe(String egress, Path state, String... options) throws Exception {
        List<String> targets = new ArrayList<>(HOST_TARGETS);
        targets.add(WORLD_TARGET);
        targets.add(ALLOWED_TARGET);
        targets.addAll(ALLOWED_ELSEWHERE);
        // bash's /dev/tcp: the image need not have curl. A refused or timed-out connect both count as closed.
        String script = "for t in " + String.join(" ", targets) + "; do h=${t%:*}; p=${t#*:};"
                + " if timeout 5 bash -c \"exec 3<>/dev/tcp/$h/$p\" 2>/dev/null; then echo \"probe $t OPEN\";"
                + " else echo \"probe $t CLOSED\"; fi; done";
        List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", hostNs,
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp", System.getProperty("java.class.path"),
                "io.jenkins.plugins.qemu.engine.cli.Main", "run", "--image", TestImages.IMAGE,
                "--images-dir", TestImages.imagesDir().toString(), "--state-dir", state.toString(),
                "--egress", egress, "--timeout", "4m"));
        cmd.addAll(List.of(options));
        cmd.addAll(List.of("--", script));
        Path out = Files.createTempFile("qa-net-", ".out");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile()).start();
        try {
            assertTrue(p.waitFor(10, TimeUnit.MINUTES), "the CLI run did not end");
            String text = Files.readString(out, StandardCharsets.UTF_8);
            assertEquals(0, p.exitValue(), text);
            if (List.of(options).contains("--warm")) {
                assertTrue(text.contains("restored from warm snapshot"), "the probing VM was a restored clone: " + text);
            }
            Map<String, String> seen = new LinkedHashMap<>();
            for (String line : text.split("\n")) {
                String[] f = line.strip().split(" ");
                if (f.length == 3 && f[0].equals("probe")) {
                    seen.put(f[1], f[2]);
                }
            }
            assertEquals(targets.size(), seen.size(), "every target probed: " + text);
            return seen;
        } finally {
            // On a failed assertion the CLI may still run; its shutdown hook destroys the VM.
            p.destroy();
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
            }
            Files.deleteIfExists(out);
        }
    }

    private static Process server(String ns, String address, int port) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("ip", "netns", "exec", ns, "python3", "-m", "http.server", Integer.toString(port),
                "--bind", address).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        for (int i = 0; i < 100; i++) {
            Process check = new ProcessBuilder("ip", "netns", "exec", ns, "bash", "-c", "exec 3<>/dev/tcp/" + address + "/" + port)
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            if (check.waitFor(5, TimeUnit.SECONDS) && check.exitValue() == 0) {
                return p;
            }
            Thread.sleep(100);
        }
        p.destroyForcibly();
        throw new IOException("test server on " + address + ":" + port + " in " + ns + " did not start");
    }

    private static void sh(String... argv) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException(String.join(" ", argv) + " failed: " + out);
        }
    }
}
