package io.jenkins.plugins.qemu.engine.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** passt's command line and the resolvers it is given; the process itself is tested in NetworkIsolationTest. */
class PasstProcessTest {
    @TempDir
    Path dir;

    @Test
    void neverMapsTheGatewayNorForwardsPortsAndRunsInTheForeground() {
        List<String> argv = PasstProcess.argv(Path.of("/usr/bin/passt"), dir.resolve("net.sock"), "0:0", List.of());
        for (String must : List.of("--no-map-gw", "--foreground", "--one-off", "--ipv4-only")) {
            assertTrue(argv.contains(must), must + " in " + argv);
        }
        assertEquals("none", argv.get(argv.indexOf("--tcp-ports") + 1));
        assertEquals("none", argv.get(argv.indexOf("--udp-ports") + 1));
        assertEquals(dir.resolve("net.sock").toString(), argv.get(argv.indexOf("--socket") + 1));
        assertEquals("0:0", argv.get(argv.indexOf("--runas") + 1));
    }

    @Test
    void aLoopbackOnlyResolverIsReplacedByItsUpstreams() throws Exception {
        Path etc = Files.writeString(dir.resolve("etc"), "# stub\nnameserver 127.0.0.53\noptions edns0\n");
        Path upstream = Files.writeString(dir.resolve("up"), "nameserver 192.0.2.53\nnameserver 2001:db8::53\nnameserver 198.51.100.53\n");
        assertEquals(List.of("192.0.2.53", "198.51.100.53"), PasstProcess.resolvers(etc, upstream));
        Path plain = Files.writeString(dir.resolve("plain"), "nameserver 192.0.2.1\n");
        assertEquals(List.of(), PasstProcess.resolvers(plain, upstream), "a host resolver passt can use is left to passt");
        assertEquals(List.of(), PasstProcess.resolvers(dir.resolve("missing"), upstream));
        List<String> argv = PasstProcess.argv(Path.of("passt"), dir.resolve("s"), null, List.of("192.0.2.53"));
        assertEquals("192.0.2.53", argv.get(argv.indexOf("--dns") + 1));
        assertTrue(!argv.contains("--runas"), "not root: passt keeps our user by itself");
    }
}
