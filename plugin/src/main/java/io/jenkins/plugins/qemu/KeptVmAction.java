package io.jenkins.plugins.qemu;

import edu.umd.cs.findbugs.annotations.CheckForNull;
import hudson.model.Action;
import hudson.model.Computer;
import io.jenkins.plugins.qemu.engine.vm.Vm;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.kohsuke.stapler.StaplerRequest2;
import org.kohsuke.stapler.StaplerResponse2;
import org.kohsuke.stapler.verb.POST;

/**
 * "Kept VM" on the page of an agent kept after its build failed (see {@link KeptVms}): where the VM
 * runs, how to log in, and until when. The VM's SSH key is given only to users who may configure
 * the agent (Agent/Configure); discarding the VM before its time needs Agent/Disconnect and a POST.
 * The link shows only while the agent is kept; {@link GuestConsoleAction.Factory} adds it to every QEMU agent.
 */
public final class KeptVmAction implements Action {
    static final String URL = "kept-vm";
    private final QemuComputer computer;

    KeptVmAction(QemuComputer computer) {
        this.computer = computer;
    }

    public QemuComputer getComputer() {
        return computer;
    }

    /** Whether the agent is kept now (the page's values below are null when it is not). */
    public boolean isKept() {
        return computer.kept() != null && getVm() != null;
    }

    /** The build whose failure the VM is kept for. (Strings for the page: Jelly reads only public types.) */
    @CheckForNull
    public String getKeptBuild() {
        KeptVms.Kept k = computer.kept();
        return k == null ? null : k.build();
    }

    /** Until when, as the build log says it. */
    @CheckForNull
    public String getKeptUntil() {
        KeptVms.Kept k = computer.kept();
        return k == null ? null : KeptVms.time(k.until());
    }

    /** The VM's SSH port on the controller's 127.0.0.1, as digits (no grouping). */
    @CheckForNull
    public String getSshPort() {
        Vm vm = getVm();
        return vm == null ? null : String.valueOf(vm.sshPort());
    }

    /** The running VM; null when it is gone. */
    @CheckForNull
    public Vm getVm() {
        QemuAgent agent = computer.getNode();
        return agent == null ? null : agent.liveVm();
    }

    public boolean isKeyAllowed() {
        return computer.hasPermission(Computer.CONFIGURE);
    }

    public boolean isDiscardAllowed() {
        return computer.hasPermission(Computer.DISCONNECT);
    }

    @Override
    public String getIconFileName() {
        return computer.kept() != null && computer.hasAnyPermission(Computer.CONNECT, Computer.EXTENDED_READ) ? "symbol-key" : null;
    }

    @Override
    public String getDisplayName() {
        return "Kept VM";
    }

    @Override
    public String getUrlName() {
        return URL;
    }

    /** The VM's SSH private key (OpenSSH), as a download, for whoever may configure the agent. */
    public void doKey(StaplerRequest2 req, StaplerResponse2 rsp) throws IOException {
        computer.checkPermission(Computer.CONFIGURE);
        QemuAgent agent = computer.getNode();
        String key = agent != null && computer.kept() != null && agent.getLauncher() instanceof QemuAgentLauncher l ? l.privateKeyText() : null;
        if (key == null) {
            rsp.sendError(404, "this agent keeps no VM");
            return;
        }
        rsp.setContentType("application/octet-stream");
        rsp.setHeader("Content-Disposition", "attachment; filename=\"" + agent.getVmId() + ".key\"");
        rsp.setHeader("Cache-Control", "no-store");
        rsp.getOutputStream().write(key.getBytes(StandardCharsets.UTF_8));
    }

    /** Ends the kept VM now. */
    @POST
    public void doDiscard(StaplerRequest2 req, StaplerResponse2 rsp) throws IOException {
        computer.checkPermission(Computer.DISCONNECT);
        if (computer.kept() != null) {
            computer.retention().terminate(computer, "a user discarded the VM kept for debugging");
        }
        // The agent's own page goes with the VM; the list of agents stays.
        rsp.sendRedirect2(req.getContextPath() + "/computer/");
    }
}
