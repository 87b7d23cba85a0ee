package io.jenkins.plugins.qemu.engine.seed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jenkins.plugins.qemu.engine.ssh.SshKeyPair;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FwCfgIdentityTest {
    private static final String GROW = "name=" + FwCfgIdentity.PREFIX + "grow_fs,file=";

    @TempDir
    Path tmp;

    @Test
    void aGrownDiskAddsTheGrowItemTheGuestUnitLooksFor() throws Exception {
        Path dir = tmp.resolve("identity");
        try (FwCfgIdentity id = FwCfgIdentity.write(dir, "h1", "jenkins", "ssh-ed25519 AAAA k", SshKeyPair.generate("h"), true, true)) {
            assertTrue(id.qemuArgs().contains(GROW + dir.resolve("grow_fs")), id.qemuArgs().toString());
            assertEquals("yes", Files.readString(dir.resolve("grow_fs")));
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("grow_fs"))));
        }
        assertFalse(Files.exists(dir), "closing removes the items, the grow item too");
    }

    @Test
    void anImageSizedDiskHasNoGrowItem() throws Exception {
        Path dir = tmp.resolve("identity");
        try (FwCfgIdentity id = FwCfgIdentity.write(dir, "h1", "jenkins", "ssh-ed25519 AAAA k", SshKeyPair.generate("h"), true, false)) {
            assertTrue(id.qemuArgs().stream().anyMatch(a -> a.startsWith("name=" + FwCfgIdentity.PREFIX + "hostname,")));
            assertFalse(id.qemuArgs().stream().anyMatch(a -> a.startsWith(GROW)), id.qemuArgs().toString());
            assertFalse(Files.exists(dir.resolve("grow_fs")));
        }
    }
}
