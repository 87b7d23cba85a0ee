package io.jenkins.plugins.qemu.engine.host;

import io.jenkins.plugins.qemu.engine.image.Sha256;
import java.io.IOException;

/** Sends one jar to the host's {@link JarStore}; it is kept only if its bytes hash to {@code sha256}. Answers whether it was new. */
public record StoreJar(String sha256, byte[] bytes) implements HostRequest<Boolean> {
    private static final long serialVersionUID = 1L;

    public StoreJar {
        Sha256.requireHex("sha256", sha256);
    }

    @Override
    public Boolean runOn(HostSide host) throws IOException {
        return host.jars().store(sha256, bytes);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof StoreJar j && j.sha256.equals(sha256) && java.util.Arrays.equals(j.bytes, bytes);
    }

    @Override
    public int hashCode() {
        return sha256.hashCode();
    }

    @Override
    public String toString() {
        return "StoreJar[" + sha256 + ", " + bytes.length + " bytes]";
    }
}
