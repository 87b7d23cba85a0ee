package io.jenkins.plugins.qemu;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;

import com.codahale.metrics.MetricRegistry;
import hudson.model.FreeStyleBuild;
import hudson.model.FreeStyleProject;
import hudson.model.Label;
import hudson.tasks.Shell;
import io.jenkins.plugins.qemu.engine.usage.MetricsFile;
import io.jenkins.plugins.qemu.engine.usage.ProvisioningMetrics;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Map;
import jenkins.metrics.api.Metrics;
import org.jenkinsci.plugins.workflow.cps.CpsFlowDefinition;
import org.jenkinsci.plugins.workflow.job.WorkflowJob;
import org.junit.Before;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;
import org.junit.rules.TestRule;
import org.jvnet.hudson.test.JenkinsRule;

/**
 * What a build's author and an administrator see of a real VM: the build's usage action and its
 * line in the console, and the provisioning counters and timers in the metrics plugin's registry
 * and in the state directory (what {@code qemu-agents metrics} reads). Skipped without QEMU and
 * the test image.
 */
public class QemuBuildUsageAndMetricsTest {
    @Rule(order = -100)
    public final TestRule noQemuLeft = RealVms.noQemuLeft();

    @Rule
    public JenkinsRule j = new JenkinsRule();

    @Rule
    public TemporaryFolder tmp = new TemporaryFolder(new java.io.File("/tmp"));

    private Path stateDir;

    @Before
    public void cloud() throws Exception {
        RealVms.assumeAvailable();
        stateDir = tmp.newFolder("qa").toPath();
        j.jenkins.clouds.add(RealVms.cloud(stateDir, 2));
    }

    @Test
    public void aFreestyleBuildShowsItsVmsUsageAndIsCounted() throws Exception {
        FreeStyleProject p = j.createFreeStyleProject("uses");
        p.setAssignedLabel(Label.get(RealVms.IMAGE));
        p.getBuildersList().add(new Shell("dd if=/dev/zero of=/var/tmp/x bs=1M count=20 oflag=direct"));
        FreeStyleBuild b = j.buildAndAssertSuccess(p);

        QemuVmUsageAction usage = b.getAction(QemuVmUsageAction.class);
        assertNotNull("the build carries its VM's usage", usage);
        assertTrue(usage.getUsage(), usage.getUsage().contains("vCPU") && usage.getUsage().contains("disk written"));
        assertNotNull(usage.getPhases());
        assertTrue(usage.getPhases(), usage.getPhases().contains("VM online +"));
        j.assertLogContains("VM " + usage.getVmId() + " (" + usage.getAgent() + ") used: vCPU", b);
        RealVms.assertNoVmLeft(j);

        MetricRegistry registry = Metrics.metricRegistry();
        assertEquals(1, registry.counter("qemu-agents.provisioned").getCount());
        assertEquals(1, registry.counter("qemu-agents.provisioned.template." + RealVms.IMAGE).getCount());
        assertEquals(0, registry.counter("qemu-agents.failed").getCount());
        long online = registry.timer("qemu-agents.time-to-online.cold").getCount() + registry.timer("qemu-agents.time-to-online.warm").getCount();
        assertEquals("one VM came online", 1, online);
        assertEquals(1, registry.timer("qemu-agents.queue-to-start").getCount());
        assertTrue("a running-VMs gauge per template",
                registry.getGauges().containsKey("qemu-agents.running.template." + RealVms.IMAGE));
        assertEquals("and the VM is gone", 0, registry.getGauges().get("qemu-agents.running").getValue());

        Map<String, ProvisioningMetrics.Snapshot> files = MetricsFile.readAll(stateDir, new ArrayList<>());
        assertEquals("one owner's file in the state directory", 1, files.size());
        ProvisioningMetrics.Snapshot s = files.values().iterator().next();
        assertEquals(Long.valueOf(1), s.counters().get("provisioned"));
        assertEquals(1, s.timings().get("queue-to-start").count());
    }

    @Test
    public void aPipelinesFirstStepIsTimedFromTheQueue() throws Exception {
        WorkflowJob p = j.createProject(WorkflowJob.class, "steps");
        p.setDefinition(new CpsFlowDefinition("node('" + RealVms.IMAGE + "') { sh 'true' }", true));
        j.buildAndAssertSuccess(p);
        assertEquals(1, Metrics.metricRegistry().timer("qemu-agents.queue-to-first-step").getCount());
        assertEquals(1, Metrics.metricRegistry().timer("qemu-agents.queue-to-first-step.template." + RealVms.IMAGE).getCount());
        RealVms.assertNoVmLeft(j);
    }
}
