package io.jenkins.plugins.qemu;

import edu.umd.cs.findbugs.annotations.CheckForNull;
import edu.umd.cs.findbugs.annotations.NonNull;
import hudson.Extension;
import hudson.model.Computer;
import hudson.model.Label;
import hudson.model.Node;
import hudson.model.Queue;
import hudson.model.queue.CauseOfBlockage;
import hudson.model.queue.QueueTaskDispatcher;
import hudson.slaves.Cloud;
import java.util.ArrayList;
import java.util.List;
import jenkins.model.Jenkins;

/**
 * Says in the queue why a build waits when only QEMU templates could serve it and none of them can
 * boot a VM now ("QEMU cloud 'qemu', template 'debian-12': cannot boot VMs: image 'debian-12' is
 * not in the image catalog ..."), instead of Jenkins' "waiting for next available executor". The
 * build is held as blocked while that lasts, which also keeps the provisioner from asking the
 * failing template again; when the back-off ends the queue's next pass releases it and a VM is
 * tried. A build that any other node or cloud could run is never held.
 */
@Extension
public final class QemuQueueBlockage extends QueueTaskDispatcher {

    @CheckForNull
    @Override
    public CauseOfBlockage canRun(Queue.Item item) {
        if (item.task instanceof Queue.FlyweightTask) {
            return null; // runs on the controller, never on one of our agents
        }
        Jenkins jenkins = Jenkins.get();
        Label label = item.getAssignedLabel();
        List<String> reasons = new ArrayList<>();
        for (Cloud cloud : jenkins.clouds) {
            if (cloud instanceof QemuCloud qemu) {
                for (QemuTemplate t : qemu.candidates()) {
                    if (!t.matches(label)) {
                        continue;
                    }
                    String why = qemu.blockage(t);
                    if (why == null) {
                        return null; // a template that can boot now: let the provisioner work
                    }
                    reasons.add("QEMU cloud '" + qemu.name + "', template '" + t.getLabels() + "': " + why);
                }
            } else if (cloud.canProvision(new Cloud.CloudState(label, 0))) {
                return null;
            }
        }
        if (reasons.isEmpty() || anotherNodeCouldRun(jenkins, label)) {
            return null;
        }
        return new Blocked(String.join("; ", reasons));
    }

    /** A node that is not one of our agents, or one of ours that still takes builds, matching the label. */
    private static boolean anotherNodeCouldRun(Jenkins jenkins, @CheckForNull Label label) {
        List<Node> nodes = new ArrayList<>(jenkins.getNodes());
        nodes.add(jenkins);
        for (Node n : nodes) {
            boolean matches = label == null ? n.getMode() == Node.Mode.NORMAL : label.contains(n);
            if (!matches || n.getNumExecutors() == 0) {
                continue;
            }
            Computer c = n.toComputer();
            if (!(n instanceof QemuAgent) || c != null && c.isAcceptingTasks() && !c.isOffline()) {
                return true;
            }
        }
        return false;
    }

    /** The reason as Jenkins shows it on the queue item. */
    static final class Blocked extends CauseOfBlockage {
        private final String text;

        Blocked(String text) {
            this.text = text;
        }

        @NonNull
        @Override
        public String getShortDescription() {
            return text;
        }
    }
}
