package io.jenkins.plugins.qemu.engine.host;

import io.jenkins.plugins.qemu.engine.config.InvalidInputException;
import io.jenkins.plugins.qemu.engine.state.EngineConfig;
import java.io.Serializable;
import java.nio.file.Path;

/**
 * What a host's engine is opened with, as the controller names it: the host's name for logs and
 * reports, its image catalog and state directory on the host's own file system (null for the
 * defaults below the home of the user the host's agent runs as), and the owner id of the cloud,
 * so a host's VMs are traced to the controller that asked for them. Plain strings only: it is
 * sent to the host, where {@link #config()} turns it into the engine's configuration.
 */
public record HostSetup(String host, String imagesDir, String stateDir, String ownerId) implements Serializable {
    private static final long serialVersionUID = 1L;

    public HostSetup {
        if (host == null || host.isBlank()) {
            throw new InvalidInputException("host", host, "must name the host");
        }
        absoluteOrNull("imagesDir", imagesDir);
        absoluteOrNull("stateDir", stateDir);
    }

    private static void absoluteOrNull(String field, String dir) {
        if (dir != null && !dir.startsWith("/")) {
            throw new InvalidInputException(field, dir, "must be an absolute path on the host, or empty for the default");
        }
    }

    /** The engine configuration on the host this runs on; validates the owner id and the state directory's length. */
    public EngineConfig config() {
        EngineConfig c = EngineConfig.defaults(imagesDir == null ? null : Path.of(imagesDir), ownerId);
        return stateDir == null ? c : c.withStateDir(Path.of(stateDir));
    }
}
