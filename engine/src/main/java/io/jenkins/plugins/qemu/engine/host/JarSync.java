package io.jenkins.plugins.qemu.engine.host;

import io.jenkins.plugins.qemu.engine.vm.AgentJar;
import io.jenkins.plugins.qemu.engine.vm.CachedJar;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The controller's side of sending jars: asks the host which of an agent jar's files it lacks
 * and sends only those, one request per jar. Returns how many were sent, so the caller can log it
 * (once per host and Jenkins version, the core jar being 11 MB).
 */
public final class JarSync {
    private JarSync() {}

    /** Makes sure {@code host} has every file of {@code jar} (named as in {@code ref}); returns how many it was sent. */
    public static int send(HostChannel host, AgentJar jar, AgentJarRef ref) throws IOException, InterruptedException {
        Map<String, Path> files = new HashMap<>();
        files.put(ref.sha256(), jar.file());
        List<CachedJar> cached = jar.cached();
        for (int i = 0; i < cached.size(); i++) {
            files.put(ref.cachedSha256s().get(i), cached.get(i).file());
        }
        List<String> missing = host.call(new MissingJars(ref.all())).sha256s();
        for (String sha : missing) {
            host.call(new StoreJar(sha, Files.readAllBytes(files.get(sha))));
        }
        return missing.size();
    }
}
