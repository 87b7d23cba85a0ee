package io.jenkins.plugins.qemu;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;

import hudson.model.Computer;
import hudson.model.FreeStyleBuild;
import hudson.model.FreeStyleProject;
import hudson.model.Label;
import hudson.model.Queue;
import hudson.model.queue.CauseOfBlockage;
import hudson.model.queue.QueueTaskFuture;
import hudson.slaves.OfflineCause;
import hudson.tasks.Shell;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
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
 * What real Jenkins does to agents (issue 14): an admin marks a busy agent offline, a one-shot
 * agent with two executors runs two builds, and a template that cannot boot says so in the queue
 * instead of being retried at every provisioning pass. The engine's decision tables are tested in
 * the engine; these check that the plugin wires Jenkins' states into them. Tests that boot VMs are
 * skipped without QEMU and the test image (see {@link RealVms}).
 */
public class QemuRobustnessTest {
    @Rule(order = -100)
    public final TestRule noQemuLeft = RealVms.noQemuLeft();

    @Rule
    public JenkinsRule j = new JenkinsRule();

    @Rule
    public TemporaryFolder tmp = new TemporaryFolder(new java.io.File("/tmp"));

    private Path stateDir;

    @Before
    public void stateDir() throws Exception {
        stateDir = tmp.newFolder("qa").toPath();
    }

    /** Point 1: "offline" from an admin or a node monitor means "no new builds", never "kill the running one". */
    @Test
    public void aBusyAgentMarkedOfflineKeepsItsBuild() throws Exception {
        RealVms.assumeAvailable();
        j.jenkins.clouds.add(RealVms.cloud(stateDir, 1));
        WorkflowJob p = j.createProject(WorkflowJob.class, "marked");
        p.setDefinition(new CpsFlowDefinition("node('" + RealVms.IMAGE + "') { sh 'echo the-sh-step-runs; sleep 30; echo the-sh-step-finished' }", true));
        QueueTaskFuture<WorkflowRun> f = p.scheduleBuild2(0);
        WorkflowRun b = f.waitForStart();
        j.waitForMessage("the-sh-step-runs", b); // "started" is also in the plugin's phase line, before the step
        QemuComputer c = onlyQemuComputer();
        c.setTemporarilyOffline(true, new OfflineCause.ByCLI("maintenance"));
        QemuRetentionStrategy strategy = (QemuRetentionStrategy) c.getRetentionStrategy();
        for (int i = 0; i < 5; i++) {
            strategy.check(c);
            Thread.sleep(1000);
        }
        assertNotNull("the agent was not terminated while its build ran", c.getNode());
        j.assertBuildStatusSuccess(f);
        j.assertLogContains("the-sh-step-finished", b);
        assertNoVmLeft();
    }

    /** Point 2: the first build to end uses the VM up, but the VM outlives the build on the other executor. */
    @Test
    public void aOneShotAgentWithTwoExecutorsFinishesBothBuilds() throws Exception {
        RealVms.assumeAvailable();
        QemuCloud cloud = RealVms.cloud(stateDir, 1);
        cloud.getTemplates().get(0).setExecutors(2);
        j.jenkins.clouds.add(cloud);
        FreeStyleProject quick = j.createFreeStyleProject("quick");
        quick.setAssignedLabel(Label.get(RealVms.IMAGE));
        quick.getBuildersList().add(new Shell("sleep 5"));
        FreeStyleProject slow = j.createFreeStyleProject("slow");
        slow.setAssignedLabel(Label.get(RealVms.IMAGE));
        slow.getBuildersList().add(new Shell("sleep 40; echo slow-done"));
        QueueTaskFuture<FreeStyleBuild> slowRun = slow.scheduleBuild2(0);
        QueueTaskFuture<FreeStyleBuild> quickRun = quick.scheduleBuild2(0);
        FreeStyleBuild q = j.assertBuildStatusSuccess(quickRun);
        FreeStyleBuild s = j.assertBuildStatusSuccess(slowRun);
        j.assertLogContains("slow-done", s);
        assertEquals("both ran on the one VM the cap allows", q.getBuiltOnStr(), s.getBuiltOnStr());
        assertNoVmLeft();
    }

    /** Points 3 and 8: a template that cannot boot is refused with its reason, shown on the queued build. */
    @Test
    public void aTemplateThatCannotBootSaysWhyInTheQueue() throws Exception {
        QemuCloud cloud = RealVms.cloud(stateDir, 2);
        QemuTemplate broken = new QemuTemplate("broken", "no-such-image");
        cloud.setTemplates(List.of(broken));
        j.jenkins.clouds.add(cloud);
        FreeStyleProject p = j.createFreeStyleProject("waits");
        p.setAssignedLabel(Label.get("broken"));
        p.scheduleBuild2(0);
        String why = awaitBlockage(p);
        assertTrue(why, why.contains("QEMU cloud 'qemu', template 'broken'"));
        assertTrue(why, why.contains("cannot boot VMs"));
        assertFalse("no VM was ever tried", cloud.canProvision(new hudson.slaves.Cloud.CloudState(Label.get("broken"), 0)));
        assertTrue(cloud.getTemplateStatuses().get(0).getStatus().contains("cannot boot VMs"));
        Queue.getInstance().clear();
    }

    /** Point 8, as seen in a real Jenkins: {@code user: root} saved anyway must be named, not logged every 10 s. */
    @Test
    public void aTemplateSavedWithAForbiddenUserIsRefusedWithTheField() throws Exception {
        QemuCloud cloud = RealVms.cloud(stateDir, 2);
        cloud.getTemplates().get(0).setUser("root");
        j.jenkins.clouds.add(cloud);
        FreeStyleProject p = j.createFreeStyleProject("root");
        p.setAssignedLabel(Label.get(RealVms.IMAGE));
        p.scheduleBuild2(0);
        String why = awaitBlockage(p);
        assertTrue(why, why.contains("the template's settings are invalid: user"));
        Queue.getInstance().clear();
    }

    private String awaitBlockage(FreeStyleProject p) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            Queue.Item item = Queue.getInstance().getItem(p);
            CauseOfBlockage cause = item == null ? null : item.getCauseOfBlockage();
            if (cause instanceof QemuQueueBlockage.Blocked) {
                return cause.getShortDescription();
            }
            Thread.sleep(200);
        }
        throw new AssertionError("the queued build never showed why it waits");
    }

    private QemuComputer onlyQemuComputer() {
        for (Computer c : j.jenkins.getComputers()) {
            if (c instanceof QemuComputer qemu) {
                return qemu;
            }
        }
        throw new AssertionError("no QEMU agent");
    }

    private void assertNoVmLeft() throws Exception {
        RealVms.assertNoVmLeft(j);
    }
}
