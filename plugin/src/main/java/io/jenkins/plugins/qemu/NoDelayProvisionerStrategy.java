package io.jenkins.plugins.qemu;

import edu.umd.cs.findbugs.annotations.NonNull;
import hudson.Extension;
import hudson.model.Computer;
import hudson.model.Label;
import hudson.model.LoadStatistics;
import hudson.model.Queue;
import hudson.model.queue.QueueListener;
import hudson.slaves.Cloud;
import hudson.slaves.CloudProvisioningListener;
import hudson.slaves.NodeProvisioner;
import java.util.Collection;
import java.util.logging.Level;
import java.util.logging.Logger;
import jenkins.model.Jenkins;
import jenkins.util.SystemProperties;

/**
 * Asks the QEMU clouds for VMs as soon as builds wait, instead of after Jenkins' default
 * provisioning delay, which is tuned for slow, expensive machines. It only plans as many
 * executors as are missing (waiting builds minus idle, connecting and already planned
 * executors), and the cloud's ledger still enforces the cap. Turn it off with
 * {@code -Dio.jenkins.plugins.qemu.NoDelayProvisionerStrategy.disabled=true}.
 */
@Extension(ordinal = 100)
public final class NoDelayProvisionerStrategy extends NodeProvisioner.Strategy {
    private static final Logger LOGGER = Logger.getLogger(NoDelayProvisionerStrategy.class.getName());
    static final String DISABLED = NoDelayProvisionerStrategy.class.getName() + ".disabled";

    static boolean disabled() {
        return SystemProperties.getBoolean(DISABLED);
    }

    @NonNull
    @Override
    public NodeProvisioner.StrategyDecision apply(@NonNull NodeProvisioner.StrategyState state) {
        if (disabled()) {
            return NodeProvisioner.StrategyDecision.CONSULT_REMAINING_STRATEGIES;
        }
        Label label = state.getLabel();
        Cloud.CloudState cloudState = new Cloud.CloudState(label, state.getAdditionalPlannedCapacity());
        if (!anyQemuCloudServes(cloudState)) {
            // Not our label: leave it to the other strategies entirely.
            return NodeProvisioner.StrategyDecision.CONSULT_REMAINING_STRATEGIES;
        }
        LoadStatistics.LoadStatisticsSnapshot snapshot = state.getSnapshot();
        int capacity = snapshot.getAvailableExecutors() + snapshot.getConnectingExecutors()
                + state.getPlannedCapacitySnapshot() + state.getAdditionalPlannedCapacity();
        int demand = snapshot.getQueueLength();
        if (capacity >= demand) {
            return NodeProvisioner.StrategyDecision.PROVISIONING_COMPLETED;
        }
        for (Cloud cloud : Jenkins.get().clouds) {
            if (!(cloud instanceof QemuCloud) || !cloud.canProvision(cloudState)) {
                continue;
            }
            int missing = demand - capacity;
            if (vetoed(cloud, cloudState, missing)) {
                continue;
            }
            Collection<NodeProvisioner.PlannedNode> planned = cloud.provision(cloudState, missing);
            fireOnStarted(cloud, label, planned);
            state.recordPendingLaunches(planned);
            for (NodeProvisioner.PlannedNode p : planned) {
                capacity += p.numExecutors;
            }
            LOGGER.fine(() -> cloud.name + " planned " + planned.size() + " VMs for " + label);
            if (capacity >= demand) {
                break;
            }
        }
        return capacity >= demand
                ? NodeProvisioner.StrategyDecision.PROVISIONING_COMPLETED
                : NodeProvisioner.StrategyDecision.CONSULT_REMAINING_STRATEGIES;
    }

    private static boolean anyQemuCloudServes(Cloud.CloudState state) {
        for (Cloud cloud : Jenkins.get().clouds) {
            if (cloud instanceof QemuCloud && cloud.canProvision(state)) {
                return true;
            }
        }
        return false;
    }

    private static boolean vetoed(Cloud cloud, Cloud.CloudState state, int workload) {
        for (CloudProvisioningListener l : CloudProvisioningListener.all()) {
            if (l.canProvision(cloud, state, workload) != null) {
                return true;
            }
        }
        return false;
    }

    /** Lets other plugins see these launches as they would see the default strategy's. */
    private static void fireOnStarted(Cloud cloud, Label label, Collection<NodeProvisioner.PlannedNode> planned) {
        for (CloudProvisioningListener l : CloudProvisioningListener.all()) {
            try {
                l.onStarted(cloud, label, planned);
            } catch (RuntimeException e) {
                LOGGER.log(Level.WARNING, "Provisioning listener " + l + " failed", e);
            }
        }
    }

    /**
     * Wakes the provisioner of a build's label when the build becomes buildable, instead of at the
     * next tick. The listener is called inside the queue's maintenance, before the queue publishes
     * the snapshot the provisioner counts from; a review started right away could see a queue
     * length of 0 and plan nothing. So the review waits, on another thread, until that maintenance
     * has released the queue lock (and so has published the snapshot).
     */
    @Extension
    public static final class OnBuildable extends QueueListener {
        @Override
        public void onEnterBuildable(Queue.BuildableItem item) {
            if (disabled()) {
                return;
            }
            Jenkins jenkins = Jenkins.get();
            Label label = item.getAssignedLabel();
            if (anyQemuCloudServes(new Cloud.CloudState(label, 0))) {
                NodeProvisioner provisioner = label == null ? jenkins.unlabeledNodeProvisioner : label.nodeProvisioner;
                Computer.threadPoolForRemoting.submit(() -> {
                    Queue.withLock(() -> { });
                    provisioner.suggestReviewNow();
                });
            }
        }
    }
}
