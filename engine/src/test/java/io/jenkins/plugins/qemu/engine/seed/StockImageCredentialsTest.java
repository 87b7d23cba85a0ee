package io.jenkins.plugins.qemu.engine.seed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jenkins.plugins.qemu.engine.QemuEngine;
import io.jenkins.plugins.qemu.engine.config.FileTree;
import io.jenkins.plugins.qemu.engine.image.ImageCatalog;
import io.jenkins.plugins.qemu.engine.image.ImageProbe;
import io.jenkins.plugins.qemu.engine.state.EngineConfig;
import io.jenkins.plugins.qemu.engine.testing.TestImages;
import io.jenkins.plugins.qemu.engine.vm.Vm;
import io.jenkins.plugins.qemu.engine.vm.VmSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The stock image's cold boot without cloud-init, end to end on the real guest: in a catalog of
 * its own (so no other test's probe decides), the image's first boot goes through cloud-init,
 * and the engine asks that guest whether its systemd takes credentials; recorded, the next boot takes
 * its identity as systemd credentials, with cloud-init disabled, and is the VM we asked for: our
 * host name, our user with our key (the login pins the host key we generated), passwordless
 * sudo, the host name resolvable, no host key but ours.
 */
class StockImageCredentialsTest {
    @Test
    void aProbedStockImageBootsColdOnSystemdCredentials() throws Exception {
        String name = TestImages.stockImage();
        Path source = TestImages.imagesDir().resolve(name);
        Path catalogDir = TestImages.shortTempDir();
        Path stateDir = TestImages.shortTempDir();
        try {
            Path copy = Files.createDirectory(catalogDir.resolve(name));
            try (var files = Files.list(source)) {
                for (Path f : (Iterable<Path>) files.filter(f -> !f.getFileName().toString().equals(ImageProbe.FILE))::iterator) {
                    Files.copy(f, copy.resolve(f.getFileName()));
                }
            }
            ImageCatalog catalog = new ImageCatalog(catalogDir);
            assertFalse(catalog.resolve(name).systemdCredentials(), "never booted: nothing found out yet");
            EngineConfig config = EngineConfig.defaults(catalogDir, "test-cred-" + ProcessHandle.current().pid()).withStateDir(stateDir);
            QemuEngine engine = new QemuEngine(config);
            try {
                VmSpec.Builder spec = VmSpec.builder().image(name).cpus(1).memoryMiB(1024).warmStart(false)
                        .bootTimeout(Duration.ofMinutes(10));
                Vm first = engine.boot(spec.hostname("qa-cred-first").build(), line -> { });
                try {
                    assertTrue(first.usedCloudInit(), "an unprobed stock image boots through cloud-init");
                } finally {
                    first.destroy();
                }
                // The engine asked the guest itself, once it was online, and kept the answer.
                ImageProbe probe = ImageProbe.read(catalog.imageDir(name));
                assertTrue(probe != null && probe.takesSystemdCredentials(), "Debian 13 takes credentials: " + probe);
                assertEquals(null, probe.warmStart(), "no warm-start verdict is made up by a cold boot");
                assertTrue(catalog.resolve(name).systemdCredentials());

                Vm vm = engine.boot(spec.hostname("qa-cred").build(), line -> { });
                try {
                    assertFalse(vm.usedCloudInit(), "identity as systemd credentials");
                    assertNull(vm.coldBootReason());
                    String[] out = TestImages.run(vm, "cat /proc/cmdline; hostname; id -un; sudo -n true && echo sudo-ok;"
                            + " getent hosts qa-cred >/dev/null && echo resolves; ls /etc/ssh/ | grep -c '^ssh_host_.*_key$';"
                            + " cloud-init status 2>&1 | head -n1; systemctl is-system-running --wait; ip -4 route show default | tr '\\n' ';'; echo;"
                            + " grep '^nameserver' /run/systemd/resolve/resolv.conf | tr '\\n' ';'; echo; date +%s;"
                            + " java -version 2>&1 | head -n1; grep -c '^floppy ' /proc/modules; findmnt -no OPTIONS / | cut -d, -f1").split("\n");
                    assertTrue(out[0].contains("cloud-init=disabled") && out[0].contains("systemd.hostname=qa-cred"), out[0]);
                    assertEquals("qa-cred", out[1].strip());
                    assertEquals(spec.build().user(), out[2].strip());
                    assertEquals("sudo-ok", out[3].strip());
                    assertEquals("resolves", out[4].strip(), "sudo and Java resolve the host name without DNS");
                    assertEquals("1", out[5].strip(), "only the host key we pinned");
                    assertTrue(out[6].contains("disabled"), "cloud-init did not run: " + out[6]);
                    // What the command line spares (SystemdCredentials#SPARED) leaves no unit failed
                    // (a unit needing a masked one would), and the agent what it needs: the egress
                    // network networkd set from its credential at boot (the only default route, the
                    // resolver forwarding to passt's DNS), the clock, Java, a writable root.
                    assertEquals("running", out[7].strip(), "no failed unit");
                    assertTrue(out[8].matches("default via 10\\.0\\.3\\.2 dev \\S+ proto static *;"), "only the egress route: " + out[8]);
                    assertEquals("nameserver 10.0.3.3;", out[9].strip());
                    long skew = Math.abs(Long.parseLong(out[10].strip()) - System.currentTimeMillis() / 1000);
                    assertTrue(skew < 300, "the guest clock is " + skew + " s off");
                    assertTrue(out[11].contains("version \"21"), out[11]);
                    assertEquals("0", out[12].strip(), "the floppy driver is spared");
                    assertEquals("rw", out[13].strip());
                    assertTrue(out[0].contains(" quiet"), out[0]);
                    // The stock kernel binds the balloon every VM has, and counts its NIC's bytes.
                    assertTrue(TestImages.awaitGuestMemory(vm).netRxBytes() > 0);
                } finally {
                    vm.destroy();
                }
            } finally {
                TestImages.closeAndAssertNothingLeft(engine, stateDir);
            }
        } finally {
            FileTree.delete(catalogDir);
            FileTree.delete(stateDir);
        }
    }

}
