package io.jenkins.plugins.qemu.engine.vm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

class ForwardedPortTest {
    // As QEMU 7.2 prints it (captured from a real run).
    private static final String INFO = "Hub -1 (net0):\r\n  Protocol[State]    FD  Source Address  Port   Dest. Address  Port RecvQ SendQ\r\n"
            + "  TCP[HOST_FORWARD]   3       127.0.0.1 35303       10.0.2.15    22     0     0\r\n";

    @Test
    void readsTheHostPortOfTheSshForward() {
        assertEquals(OptionalInt.of(35303), ForwardedPort.parse(INFO, 22));
    }

    @Test
    void ignoresOtherForwardsAndConnections() {
        String info = "Hub -1 (net0):\r\n  Protocol[State]    FD  Source Address  Port   Dest. Address  Port RecvQ SendQ\r\n"
                + "  TCP[ESTABLISHED]   14       127.0.0.1 35303       10.0.2.15    22     0     0\r\n"
                + "  TCP[HOST_FORWARD]   4       127.0.0.1 40001       10.0.2.15    80     0     0\r\n"
                + "  TCP[HOST_FORWARD]   3       127.0.0.1 40002       10.0.2.15    22     0     0\r\n";
        assertEquals(OptionalInt.of(40002), ForwardedPort.parse(info, 22));
    }

    @Test
    void noForwardMeansEmpty() {
        assertTrue(ForwardedPort.parse("Hub -1 (net0):\r\n", 22).isEmpty());
    }
}
