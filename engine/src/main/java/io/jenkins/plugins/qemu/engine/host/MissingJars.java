package io.jenkins.plugins.qemu.engine.host;

import java.io.IOException;
import java.io.Serializable;
import java.util.List;

/** Asks the host which of these jars (by SHA-256) its {@link JarStore} lacks. */
public record MissingJars(List<String> sha256s) implements HostRequest<MissingJars.Answer> {
    private static final long serialVersionUID = 1L;

    public MissingJars {
        sha256s = List.copyOf(sha256s);
    }

    /** The jars the host lacks. */
    public record Answer(List<String> sha256s) implements Serializable {
        private static final long serialVersionUID = 1L;

        public Answer {
            sha256s = List.copyOf(sha256s);
        }
    }

    @Override
    public Answer runOn(HostSide host) throws IOException {
        return new Answer(host.jars().missing(sha256s));
    }
}
