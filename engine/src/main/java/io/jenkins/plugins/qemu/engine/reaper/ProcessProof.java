package io.jenkins.plugins.qemu.engine.reaper;

import io.jenkins.plugins.qemu.engine.reaper.ReapReport.ProcessOutcome;
import io.jenkins.plugins.qemu.engine.state.ProcFs;
import io.jenkins.plugins.qemu.engine.state.ProcessStat;
import io.jenkins.plugins.qemu.engine.state.VmDir;
import io.jenkins.plugins.qemu.engine.state.VmRecord;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * Establishes what runs under a VM record and whether it provably is that VM: the recorded pid
 * still has the recorded start time, its command line names the VM id, and, where the QMP socket
 * in the VM's own folder answers, {@code query-name} returns the VM id. The reaper kills only what
 * this proves ({@code KILLED}); an engine adopting a VM after a restart needs the same proof.
 */
final class ProcessProof {
    private final ProcFs proc;

    ProcessProof(ProcFs proc) {
        this.proc = proc;
    }

    static final class Finding {
        final ProcessOutcome outcome;
        final long pid;
        final long startTime;
        final String detail;
        final boolean usesOurFiles;

        Finding(ProcessOutcome outcome, long pid, long startTime, String detail, boolean usesOurFiles) {
            this.outcome = outcome;
            this.pid = pid;
            this.startTime = startTime;
            this.detail = detail;
            this.usesOurFiles = usesOurFiles;
        }
    }

    /** Establishes what runs under the record, and whether it is provably this VM (KILLED = kill it). */
    Finding find(Path dir, VmRecord r, String bootId, QmpNameProbe qmp) throws IOException, InterruptedException {
        String vmId = r.vmId();
        if (!r.bootId().equals(bootId)) {
            return new Finding(ProcessOutcome.GONE, 0, 0, "recorded in an earlier host boot, so its QEMU cannot run", false);
        }
        // Only the socket inside the VM's folder counts; a record cannot point us at another socket.
        Path socket = dir.resolve(VmDir.QMP_SOCKET);
        long pid = r.qemuPid();
        if (pid <= 0 || r.qemuStartTime() <= 0) {
            Optional<ProcessStat> st = proc.stat(pid);
            if (pid > 0 && st.isPresent() && !st.get().zombie() && !namesVm(proc.cmdline(pid), vmId)) {
                return new Finding(ProcessOutcome.NOT_OURS, pid, 0, "skipped: pid " + pid + " is not ours (its command line does not name "
                        + vmId + ")", mentions(proc.cmdline(pid), dir));
            }
            return findUnrecorded(dir, vmId, socket, qmp);
        }
        Optional<ProcessStat> st = proc.stat(pid);
        if (st.isEmpty() || st.get().zombie()) {
            return new Finding(ProcessOutcome.GONE, pid, 0, "QEMU pid " + pid + " is gone", false);
        }
        if (st.get().startTime() != r.qemuStartTime()) {
            return new Finding(ProcessOutcome.PID_REUSED, pid, 0, "skipped: pid " + pid + " reused (start time " + st.get().startTime()
                    + ", recorded " + r.qemuStartTime() + "); that process is not touched", false);
        }
        List<String> argv = proc.cmdline(pid);
        if (!namesVm(argv, vmId)) {
            return new Finding(ProcessOutcome.NOT_OURS, pid, 0, "skipped: pid " + pid + " is not ours (its command line does not name "
                    + vmId + "); that process is not touched", mentions(argv, dir));
        }
        Optional<String> name = qmp.queryName(socket);
        if (name.isPresent() && !name.get().equals(vmId)) {
            return new Finding(ProcessOutcome.NOT_OURS, pid, 0, "skipped: pid " + pid + " is not ours (QMP query-name says '" + name.get()
                    + "'); that process is not touched", true);
        }
        return new Finding(ProcessOutcome.KILLED, pid, st.get().startTime(), "killed QEMU pid " + pid + " (start time, command line"
                + (name.isPresent() ? " and QMP query-name" : "; QMP did not answer") + " match)", true);
    }

    /**
     * The engine may have died between starting QEMU and recording its pid. Without a start time
     * to compare, only a QMP answer naming the VM from the socket in its own folder proves it.
     */
    private Finding findUnrecorded(Path dir, String vmId, Path socket, QmpNameProbe qmp) throws IOException, InterruptedException {
        List<Long> pids = proc.pidsMatching(argv -> namesVm(argv, vmId) && mentions(argv, dir));
        if (pids.isEmpty()) {
            return new Finding(ProcessOutcome.NONE, 0, 0, "no QEMU was started", false);
        }
        long pid = pids.get(0);
        Optional<ProcessStat> st = proc.stat(pid);
        Optional<String> name = qmp.queryName(socket);
        if (pids.size() == 1 && st.isPresent() && name.isPresent() && name.get().equals(vmId)) {
            return new Finding(ProcessOutcome.KILLED, pid, st.get().startTime(), "killed unrecorded QEMU pid " + pid
                    + " (command line and QMP query-name match)", true);
        }
        return new Finding(ProcessOutcome.UNPROVEN, pid, 0, "skipped: pid " + pid + " names " + vmId
                + " but its pid was never recorded and QMP did not confirm it; not touched", true);
    }

    /** QEMU is started with {@code -name <vmId>,process=qemu-<vmId>}. */
    static boolean namesVm(List<String> argv, String vmId) {
        for (int i = 0; i + 1 < argv.size(); i++) {
            if (argv.get(i).equals("-name")) {
                String v = argv.get(i + 1);
                if (v.equals(vmId) || v.startsWith(vmId + ",")) {
                    return true;
                }
            }
        }
        return false;
    }

    static boolean mentions(List<String> argv, Path dir) {
        String prefix = dir.toString() + "/";
        return argv.stream().anyMatch(a -> a.contains(prefix));
    }

}
