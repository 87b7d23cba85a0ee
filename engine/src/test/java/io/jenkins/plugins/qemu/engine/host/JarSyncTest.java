package io.jenkins.plugins.qemu.engine.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jenkins.plugins.qemu.engine.config.FileTree;
import io.jenkins.plugins.qemu.engine.image.Sha256;
import io.jenkins.plugins.qemu.engine.testing.TestImages;
import io.jenkins.plugins.qemu.engine.vm.AgentJar;
import io.jenkins.plugins.qemu.engine.vm.CachedJar;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Jars reach a host once: the controller's agent jar and its jar-cache seeds are sent only where
 * the host lacks them, checked against their SHA-256 there, and an {@link AgentJarRef} becomes an
 * agent jar of the host's own files with the same hashes, options and remoting cache names.
 */
class JarSyncTest {
    private Path controller;
    private Path state;
    private HostSide side;

    @BeforeEach
    void setUp() throws IOException {
        controller = Files.createTempDirectory("qa-jars-");
        state = TestImages.shortTempDir();
        side = HostSide.open(new HostSetup("host-j", TestImages.imagesDir().toString(), state.toString(), "test-jars"));
    }

    @AfterEach
    void tearDown() throws IOException {
        side.close();
        FileTree.delete(controller);
        FileTree.delete(state);
    }

    private Path jar(String name, int size) throws IOException {
        byte[] bytes = new byte[size];
        for (int i = 0; i < size; i++) {
            bytes[i] = (byte) (i * 31 + name.hashCode());
        }
        return Files.write(controller.resolve(name), bytes);
    }

    @Test
    void eachJarIsSentOnceAndTheHostsCopyIsTheSame() throws Exception {
        AgentJar jar = AgentJar.of(jar("remoting.jar", 300_000)).withOptions(List.of("-Xmx256m"))
                .withCachedJars(List.of(CachedJar.of(jar("core.jar", 500_000)), CachedJar.of(jar("ant.jar", 20_000))));
        AgentJarRef ref = AgentJarRef.of(jar);
        HostChannel host = new InProcessHost(side);
        assertEquals(3, JarSync.send(host, jar, ref));
        assertEquals(0, JarSync.send(host, jar, ref), "nothing is sent twice");
        Path jars = state.resolve("jars");
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(jars)));
        assertEquals(Set.copyOf(ref.all()), side.jars().kept());

        AgentJar onHost = InProcessHost.roundTrip(ref).resolve(side.jars(), "host-j");
        assertEquals(jar.sha256(), onHost.sha256());
        assertEquals(jar.options(), onHost.options());
        assertTrue(onHost.file().startsWith(jars), onHost.file().toString());
        assertEquals(Sha256.of(jar.file()), Sha256.of(onHost.file()));
        assertEquals(jar.cached().stream().map(CachedJar::cachePath).toList(), onHost.cached().stream().map(CachedJar::cachePath).toList());
        // A new Jenkins version: only the changed jar goes.
        AgentJar upgraded = AgentJar.of(jar("remoting-2.jar", 310_000)).withCachedJars(jar.cached());
        assertEquals(1, JarSync.send(host, upgraded, AgentJarRef.of(upgraded)));
    }

    @Test
    void bytesThatDoNotMatchTheirHashAreRefusedAndABootWithoutTheJarsSaysWhichIsMissing() throws Exception {
        Path real = jar("remoting.jar", 1000);
        HostChannel host = new InProcessHost(side);
        String sha = Sha256.of(real);
        IOException wrong = assertThrows(IOException.class, () -> host.call(new StoreJar(sha, new byte[] {1, 2, 3})));
        assertTrue(wrong.getMessage().startsWith("the jar sent as " + sha + " hashes to "), wrong.getMessage());
        assertEquals(Set.of(), side.jars().kept());
        assertFalse(Files.exists(state.resolve("jars")), "nothing was written for it");

        AgentJarRef ref = AgentJarRef.of(AgentJar.of(real));
        IOException missing = assertThrows(IOException.class,
                () -> host.call(new BootVm(TestImages.guestSpec().build(), ref)));
        assertEquals("host host-j lacks the jar " + sha + " (and 0 more); the controller sends them before a boot", missing.getMessage());
        assertFalse(side.engine().vms().iterator().hasNext(), "no VM was started");
    }
}
