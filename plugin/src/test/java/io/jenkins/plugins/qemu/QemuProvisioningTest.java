package io.jenkins.plugins.qemu;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import hudson.model.FreeStyleBuild;
import hudson.model.FreeStyleProject;
import hudson.model.Label;
import hudson.model.queue.QueueTaskFuture;
import hudson.tasks.Shell;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.jenkinsci.plugins.workflow.cps.CpsFlowDefinition;
import org.jenkinsci.plugins.workflow.job.WorkflowJob;
import org.jenkinsci.plugins.workflow.job.WorkflowRun;
import org.junit.Before;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;
import org.junit.rules.TestRule;
import org.jvnet.hudson.test.JenkinsRule;

/**
 * Boots real VMs: labelled freestyle and pipeline builds each get a one-shot VM, run
 * {@code uname -a} on it and leave no VM behind; five queued builds never make more VMs than a
 * cap of two. Skipped without QEMU and the test image (see {@link RealVms}).
 */
public class QemuProvisioningTest {
    @Rule(order = -100)
    public final TestRule noQemuLeft = RealVms.noQemuLeft();

    @Rule
    public JenkinsRule j = new JenkinsRule();

    /** Short, so the QMP socket paths below it stay within the Unix limit. */
    @Rule
    public TemporaryFolder tmp = new TemporaryFolder(new java.io.File("/tmp"));

    private Path stateDir;

    @Before
    public void requireQemu() throws Exception {
        RealVms.assumeAvailable();
        stateDir = tmp.newFolder("qa").toPath();
    }

    @Test
    public void freestyleBuildRunsOnItsOwnVmAndLeavesNothingBehind() throws Exception {
        j.jenkins.clouds.add(RealVms.cloud(stateDir, 2));
        FreeStyleProject p = j.createFreeStyleProject("uname");
        p.setAssignedLabel(Label.get(RealVms.IMAGE));
        p.getBuildersList().add(new Shell("uname -a"));
        FreeStyleBuild b = j.buildAndAssertSuccess(p);
        j.assertLogContains("Linux", b);
        assertTrue(b.getBuiltOnStr().startsWith("qemu-qa-"));
        // The phase line, at the top of the build's log: the VM was booted for this build.
        j.assertLogContains("uname on VM qa-", b);
        j.assertLogContains("from queue to start", b);
        assertNoVmLeft();
    }

    @Test
    public void pipelineNodeBlockRunsOnItsOwnVmAndLeavesNothingBehind() throws Exception {
        j.jenkins.clouds.add(RealVms.cloud(stateDir, 2));
        WorkflowJob p = j.createProject(WorkflowJob.class, "pipeline");
        p.setDefinition(new CpsFlowDefinition("node('" + RealVms.IMAGE + "') { sh 'uname -a' }", true));
        WorkflowRun b = j.buildAndAssertSuccess(p);
        j.assertLogContains("Linux", b);
        j.assertLogContains("Running on qemu-qa-", b);
        assertNoVmLeft();
    }

    @Test
    public void fiveQueuedBuildsNeverExceedACapOfTwo() throws Exception {
        j.jenkins.clouds.add(RealVms.cloud(stateDir, 2));
        // Five jobs rather than five builds of one: the queue would merge identical items.
        List<FreeStyleProject> jobs = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            FreeStyleProject p = j.createFreeStyleProject("capped-" + i);
            p.setAssignedLabel(Label.get(RealVms.IMAGE));
            p.getBuildersList().add(new Shell("uname -a; sleep 5"));
            jobs.add(p);
        }
        AtomicInteger maxVms = new AtomicInteger();
        AtomicInteger maxAgents = new AtomicInteger();
        AtomicBoolean watching = new AtomicBoolean(true);
        Thread watcher = new Thread(() -> {
            while (watching.get()) {
                // Every VM the engines hold (booting included) and every agent, sampled often.
                maxVms.accumulateAndGet(QemuEngines.get().allVms().size(), Math::max);
                maxAgents.accumulateAndGet(RealVms.qemuAgents(j).size(), Math::max);
                try {
                    Thread.sleep(50);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "cap watcher");
        watcher.start();
        List<QueueTaskFuture<FreeStyleBuild>> builds = new ArrayList<>();
        try {
            for (FreeStyleProject p : jobs) {
                builds.add(p.scheduleBuild2(0));
            }
            for (QueueTaskFuture<FreeStyleBuild> f : builds) {
                FreeStyleBuild b = j.assertBuildStatusSuccess(f);
                j.assertLogContains("Linux", b);
            }
        } finally {
            watching.set(false);
            watcher.join(TimeUnit.SECONDS.toMillis(10));
        }
        assertTrue("VMs at once: " + maxVms.get(), maxVms.get() <= 2);
        assertTrue("agents at once: " + maxAgents.get(), maxAgents.get() <= 2);
        assertTrue("some VM ran", maxAgents.get() >= 1);
        assertNoVmLeft();
    }

    /** One-shot agents terminate in the background after the build; wait for that, then check. */
    private void assertNoVmLeft() throws Exception {
        RealVms.assertNoVmLeft(j);
    }

    /** Issue 17: a pool member waits connected; a build takes it at once, and the pool boots its replacement. */
    @Test
    public void aWarmPoolMemberTakesTheBuildAndIsReplaced() throws Exception {
        QemuCloud cloud = RealVms.cloud(stateDir, 2);
        QemuTemplate template = cloud.getTemplates().get(0);
        template.setWarmPool(1);
        j.jenkins.clouds.add(cloud);
        QemuWarmPool.get().refillSoon();
        QemuAgent member = awaitOnlinePoolMember(null);
        FreeStyleProject p = j.createFreeStyleProject("pooled");
        p.setAssignedLabel(Label.get(RealVms.IMAGE));
        p.getBuildersList().add(new Shell("hostname"));
        FreeStyleBuild b = j.buildAndAssertSuccess(p);
        assertEquals("the build ran on the ready member", member.getNodeName(), b.getBuiltOnStr());
        j.assertLogContains("the VM was already up", b);
        QemuAgent replacement = awaitOnlinePoolMember(member.getVmId());
        assertTrue(replacement.isPooled());
        template.setWarmPool(0);
        QemuWarmPool.get().refillSoon();
        assertNoVmLeft();
    }

    /** The one online pool member other than {@code not}, waiting up to five minutes. */
    private QemuAgent awaitOnlinePoolMember(String not) throws InterruptedException {
        long deadline = System.currentTimeMillis() + java.util.concurrent.TimeUnit.MINUTES.toMillis(5);
        while (System.currentTimeMillis() < deadline) {
            for (QemuAgent a : RealVms.qemuAgents(j)) {
                if (a.isPooled() && !a.getVmId().equals(not) && a.toComputer() != null && a.toComputer().isOnline()) {
                    return a;
                }
            }
            Thread.sleep(500);
        }
        throw new AssertionError("no pool member came online; agents: " + RealVms.qemuAgents(j));
    }
}
