package io.jenkins.plugins.qemu.engine.state;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * The systemd service this process runs in, and whether stopping that service would take the
 * controller's leased VMs with it. A leased VM is meant to outlive a controller restart, but
 * systemd's default {@code KillMode=control-group} (and {@code mixed}) kills every process left in
 * the service's control group when its main process ends, QEMU included, whatever session it
 * runs in; only {@code process} (or the deprecated {@code none}) lets the VMs live on. Found out
 * from {@code /proc/self/cgroup} and {@code systemctl show}, run without a shell; nothing is
 * known (empty) outside a service or without systemctl.
 */
public record ServiceUnit(String name, String killMode) {

    /** The service named by a {@code /proc/<pid>/cgroup} text (cgroup v2 {@code 0::/...}, or v1's {@code name=systemd} line); empty outside one. */
    public static Optional<String> unitOf(String cgroup) {
        String path = null;
        for (String line : cgroup.split("\n")) {
            if (line.startsWith("0::")) {
                path = line.substring(3);
            } else if (path == null && line.contains(":name=systemd:")) {
                path = line.substring(line.indexOf(":name=systemd:") + ":name=systemd:".length());
            }
        }
        if (path == null) {
            return Optional.empty();
        }
        String[] parts = path.split("/");
        for (int i = parts.length - 1; i >= 0; i--) {
            if (parts[i].endsWith(".service") && !parts[i].startsWith("user@")) {
                return Optional.of(parts[i]);
            }
        }
        return Optional.empty();
    }

    /** Whether a restart of the service leaves the leased VMs running. */
    public boolean keepsLeasedVms() {
        return killMode.equals("process") || killMode.equals("none");
    }

    /** The line for the controller's log when a restart would kill the leased VMs; empty when it would not. */
    public Optional<String> leaseWarning() {
        if (keepsLeasedVms()) {
            return Optional.empty();
        }
        return Optional.of("Jenkins runs in the systemd service " + name + " with KillMode=" + killMode
                + ": when the controller restarts, systemd kills every process of the service, so the leased VMs of running"
                + " builds die with it and those builds fail. To let them survive a restart, set KillMode=process for it"
                + " (systemctl edit " + name + ", then [Service] KillMode=process).");
    }

    /** This process's service and its kill mode; empty outside a service, without systemctl, or when it does not answer in 5 s. */
    public static Optional<ServiceUnit> ofThisProcess() {
        try {
            Optional<String> unit = unitOf(Files.readString(Path.of("/proc/self/cgroup"), StandardCharsets.UTF_8));
            Optional<Path> systemctl = EngineConfig.findOnPath("systemctl");
            if (unit.isEmpty() || systemctl.isEmpty()) {
                return Optional.empty();
            }
            Process p = new ProcessBuilder(systemctl.get().toString(), "show", "--property=KillMode", "--value", unit.get())
                    .redirectErrorStream(true).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
            if (!p.waitFor(5, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return Optional.empty();
            }
            String mode = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            return p.exitValue() == 0 && mode.matches("[a-z-]+") ? Optional.of(new ServiceUnit(unit.get(), mode)) : Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        }
    }
}
