package io.jenkins.plugins.qemu.engine.host;

import java.io.Serializable;

/** What a command run in a host's VM returned: its exit status and its output, each cut to its last {@link RunInVm#MAX_OUTPUT} bytes. */
public record CommandResult(int exitCode, String stdout, String stderr) implements Serializable {
    private static final long serialVersionUID = 1L;
}
