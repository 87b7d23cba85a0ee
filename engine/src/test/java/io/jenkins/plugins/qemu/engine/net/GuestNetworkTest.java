package io.jenkins.plugins.qemu.engine.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The egress check's logic, run by the host's real /bin/sh against files laid out as the guest's
 * /sys, /proc and resolver files would be (the paths swapped for ones under a temp folder, the
 * sudo setup for an echo); that a real guest passes it is StockImageCredentialsTest's job.
 */
class GuestNetworkTest {
    private static final String ROUTE_HEADER = "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n";
    private static final String EGRESS_DEFAULT = "ens4\t00000000\t0203000A\t0003\t0\t0\t0\t00000000\t0\t0\t0\n";
    private static final String STUB = "# resolved's stub\nnameserver 127.0.0.53\noptions edns0 trust-ad\nsearch .\n";
    private static final String UPLINK = "nameserver 10.0.3.3\nsearch .\n";

    @TempDir
    Path tmp;

    @Test
    void gatewayAsProcNetRouteShowsItOnX86() {
        assertEquals("0203000A", GuestNetwork.procRouteHex(GuestNetwork.EGRESS_GATEWAY));
        assertEquals("0100007F", GuestNetwork.procRouteHex("127.0.0.1"));
    }

    @Test
    void whatNetworkdSetAtBootIsNotSetAgain() throws Exception {
        assertEquals("", run(ROUTE_HEADER + EGRESS_DEFAULT, UPLINK, STUB));
        assertEquals("", run(ROUTE_HEADER + EGRESS_DEFAULT, UPLINK, UPLINK), "resolv.conf naming the egress DNS itself");
    }

    @Test
    void anythingElseGetsTheSetup() throws Exception {
        assertEquals("setup ens4\n", run(ROUTE_HEADER, UPLINK, STUB), "no default route yet");
        assertEquals("setup ens4\n", run(ROUTE_HEADER + EGRESS_DEFAULT + "ens3\t00000000\t0202000A\t0003\t0\t0\t0\t00000000\t0\t0\t0\n",
                UPLINK, STUB), "a second default route");
        assertEquals("setup ens4\n", run(ROUTE_HEADER + EGRESS_DEFAULT, null, STUB), "no systemd-resolved");
        assertEquals("setup ens4\n", run(ROUTE_HEADER + EGRESS_DEFAULT, "nameserver 10.0.3.3\nnameserver 10.0.2.3\n", STUB),
                "resolved with another upstream too");
        assertEquals("setup ens4\n", run(ROUTE_HEADER + EGRESS_DEFAULT, UPLINK, "nameserver 10.0.2.3\n"), "a resolv.conf of its own");
    }

    @Test
    void withoutAnEgressNicThereIsNothingToCheck() {
        assertNull(GuestNetwork.guestSetupUnlessDone(EgressPolicy.NONE));
        assertNull(GuestNetwork.networkdEgress(EgressPolicy.NONE));
    }

    /** Runs the check with the guest's files under tmp; {@code uplink} null: no resolved. Prints what the setup would be given. */
    private String run(String route, String uplink, String resolvConf) throws Exception {
        Path net = Files.createDirectories(tmp.resolve("net"));
        for (String[] nic : new String[][] {{"lo", "00:00:00:00:00:00"}, {"ens3", "52:54:00:12:34:56"}, {"ens4", GuestNetwork.EGRESS_MAC}}) {
            Files.writeString(Files.createDirectories(net.resolve(nic[0])).resolve("address"), nic[1] + "\n");
        }
        Files.writeString(tmp.resolve("route"), route);
        Files.deleteIfExists(tmp.resolve("uplink"));
        if (uplink != null) {
            Files.writeString(tmp.resolve("uplink"), uplink);
        }
        Files.writeString(tmp.resolve("resolv"), resolvConf);
        String cmd = GuestNetwork.guestSetupUnlessDone(EgressPolicy.DEFAULT);
        int sudo = cmd.indexOf(" sudo -n sh -c ");
        assertTrue(sudo > 0, cmd);
        String local = cmd.substring(0, sudo).replace("/sys/class/net", net.toString()).replace("/proc/net/route", tmp.resolve("route").toString())
                .replace("/run/systemd/resolve/resolv.conf", tmp.resolve("uplink").toString())
                .replace("/etc/resolv.conf", tmp.resolve("resolv").toString()) + " echo setup $i";
        Process p = new ProcessBuilder("/bin/sh", "-c", local).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), out);
        return out;
    }
}
