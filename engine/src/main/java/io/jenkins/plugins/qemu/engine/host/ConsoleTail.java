package io.jenkins.plugins.qemu.engine.host;

import io.jenkins.plugins.qemu.engine.config.FileTree;
import io.jenkins.plugins.qemu.engine.vm.Vm;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The last {@code maxBytes} of a host VM's serial console, for the console page on the controller
 * (a host's console files are on the host). Answers an empty text when the VM is gone or has
 * written nothing yet.
 */
public record ConsoleTail(String vmId, int maxBytes) implements HostRequest<String> {
    private static final long serialVersionUID = 1L;
    /** More than a page can usefully show; bounds what one request carries. */
    public static final int LIMIT = 1 << 20;

    public ConsoleTail {
        if (maxBytes < 1 || maxBytes > LIMIT) {
            throw new IllegalArgumentException("maxBytes must be 1.." + LIMIT + ": " + maxBytes);
        }
    }

    @Override
    public String runOn(HostSide host) throws IOException {
        Path console = host.vm(vmId).map(Vm::consoleFile).orElse(null);
        if (console == null || !Files.isRegularFile(console)) {
            return "";
        }
        return FileTree.lastBytes(console, maxBytes).text();
    }
}
