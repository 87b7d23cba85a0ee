package io.jenkins.plugins.qemu.engine.vm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Jars for the agent's jar cache are named exactly as Jenkins' remoting names them. */
class CachedJarTest {
    @Test
    void theNameIsRemotingsFoldOfTheSha256() {
        // Measured in a real Jenkins 2.479.3: its jenkins-core.jar (this SHA-256) was fetched by
        // an agent into jarCache/C0/B42030E0EB562822FCCE7288B30F12.jar.
        byte[] sha = HexFormat.of().parseHex("14aa625c142ab0c9f99dee6482307ef4d41e426cf4c1e6e1db6120160a8371e6");
        assertEquals("C0/B42030E0EB562822FCCE7288B30F12.jar", CachedJar.cachePath(sha));
        // Leading zeros are kept: the name is always 2 + 30 digits.
        byte[] zeros = new byte[32];
        assertEquals("00/000000000000000000000000000000.jar", CachedJar.cachePath(zeros));
    }

    @Test
    void aFileIsHashedAndANameThatIsNotRemotingsIsRefused(@TempDir Path dir) throws Exception {
        Path f = Files.write(dir.resolve("x.jar"), new byte[] {1, 2, 3});
        CachedJar jar = CachedJar.of(f);
        byte[] sha = java.security.MessageDigest.getInstance("SHA-256").digest(new byte[] {1, 2, 3});
        assertEquals(CachedJar.cachePath(sha), jar.cachePath());
        assertThrows(IllegalArgumentException.class, () -> new CachedJar(f, "../../etc/passwd"));
    }
}
