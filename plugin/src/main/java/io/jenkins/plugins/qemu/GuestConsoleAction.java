package io.jenkins.plugins.qemu;

import edu.umd.cs.findbugs.annotations.NonNull;
import hudson.Extension;
import hudson.model.Action;
import hudson.model.Computer;
import hudson.model.TransientComputerActionFactory;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.List;
import org.kohsuke.stapler.StaplerRequest2;
import org.kohsuke.stapler.StaplerResponse2;

/**
 * "Guest console" on a QEMU agent's page: the tail of the VM's serial console, where a guest
 * that boots slowly or not at all tells why. Guarded like the agent log itself (Agent/Connect
 * or Agent/ExtendedRead), as the console can show as much about the machine as that log.
 */
public final class GuestConsoleAction implements Action {
    private final QemuComputer computer;

    GuestConsoleAction(QemuComputer computer) {
        this.computer = computer;
    }

    public QemuComputer getComputer() {
        return computer;
    }

    private boolean allowed() {
        return computer.hasAnyPermission(Computer.CONNECT, Computer.EXTENDED_READ);
    }

    @Override
    public String getIconFileName() {
        return allowed() ? "symbol-terminal" : null;
    }

    @Override
    public String getDisplayName() {
        return "Guest console";
    }

    @Override
    public String getUrlName() {
        return "guest-console";
    }

    /** For the page; checks the permission itself so the text is never rendered without it. */
    public String getTail() throws IOException {
        computer.checkAnyPermission(Computer.CONNECT, Computer.EXTENDED_READ);
        return computer.guestConsoleTail();
    }

    /** The same tail as plain text, for scripts and downloads. */
    public void doText(StaplerRequest2 req, StaplerResponse2 rsp) throws IOException {
        computer.checkAnyPermission(Computer.CONNECT, Computer.EXTENDED_READ);
        rsp.setContentType("text/plain;charset=UTF-8");
        rsp.getOutputStream().write(computer.guestConsoleTail().getBytes(StandardCharsets.UTF_8));
    }

    /** Adds the agent page's actions of ours to every QEMU agent's computer: this one and {@link KeptVmAction}. */
    @Extension
    public static final class Factory extends TransientComputerActionFactory {
        @NonNull
        @Override
        public Collection<? extends Action> createFor(@NonNull Computer target) {
            return target instanceof QemuComputer qemu ? List.of(new GuestConsoleAction(qemu), new KeptVmAction(qemu)) : List.of();
        }
    }
}
