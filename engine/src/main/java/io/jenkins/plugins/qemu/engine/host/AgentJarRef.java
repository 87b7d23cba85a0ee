package io.jenkins.plugins.qemu.engine.host;

import io.jenkins.plugins.qemu.engine.image.Sha256;
import io.jenkins.plugins.qemu.engine.vm.AgentJar;
import io.jenkins.plugins.qemu.engine.vm.CachedJar;
import java.io.IOException;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;

/**
 * An {@link AgentJar} as it is sent to a host: the jars named by SHA-256 (the host has them in its
 * {@link JarStore}, see {@link JarSync}) and the agent's JVM options. On the host it becomes an
 * {@code AgentJar} of the host's own files again, so the host's warm snapshots carry the agent,
 * its class-data archive and its seeded jar cache exactly as the controller's do.
 */
public record AgentJarRef(String sha256, List<String> options, List<String> cachedSha256s) implements Serializable {
    private static final long serialVersionUID = 1L;

    public AgentJarRef {
        Sha256.requireHex("sha256", sha256);
        options = List.copyOf(options);
        cachedSha256s = List.copyOf(cachedSha256s);
        cachedSha256s.forEach(s -> Sha256.requireHex("cachedSha256s", s));
    }

    /** The reference to a jar of the controller; hashes the cached jars, so a caller keeps it rather than making it per VM. */
    public static AgentJarRef of(AgentJar jar) throws IOException {
        List<String> cached = new ArrayList<>();
        for (CachedJar c : jar.cached()) {
            cached.add(Sha256.of(c.file()));
        }
        return new AgentJarRef(jar.sha256(), jar.options(), cached);
    }

    /** Every jar the host needs, the agent's first. */
    public List<String> all() {
        List<String> all = new ArrayList<>();
        all.add(sha256);
        all.addAll(cachedSha256s);
        return all;
    }

    /** The agent jar of the host's own copies; fails naming the first one the host lacks. */
    AgentJar resolve(JarStore store, String host) throws IOException {
        List<String> missing = store.missing(all());
        if (!missing.isEmpty()) {
            throw new IOException("host " + host + " lacks the jar " + missing.get(0) + " (and " + (missing.size() - 1)
                    + " more); the controller sends them before a boot");
        }
        List<CachedJar> cached = new ArrayList<>();
        for (String sha : cachedSha256s) {
            cached.add(CachedJar.of(store.file(sha)));
        }
        return new AgentJar(store.file(sha256), sha256).withOptions(options).withCachedJars(cached);
    }
}
