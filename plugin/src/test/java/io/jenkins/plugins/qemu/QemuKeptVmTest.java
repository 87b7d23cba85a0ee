package io.jenkins.plugins.qemu;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;

import hudson.model.Computer;
import hudson.model.FreeStyleBuild;
import hudson.model.FreeStyleProject;
import hudson.model.Label;
import hudson.model.Result;
import hudson.tasks.Shell;
import java.nio.file.Path;
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
 * Keep-on-failure against real VMs: a failed build's VM stays, takes no build and says where it
 * is, its page gives the key, and it goes when its keep time (one minute here) is over; a pipeline
 * whose result is a success leaves nothing kept. Skipped without QEMU and the test image.
 */
public class QemuKeptVmTest {
    @Rule(order = -100)
    public final TestRule noQemuLeft = RealVms.noQemuLeft();

    @Rule
    public JenkinsRule j = new JenkinsRule();

    @Rule
    public TemporaryFolder tmp = new TemporaryFolder(new java.io.File("/tmp"));

    @Before
    public void cloud() throws Exception {
        RealVms.assumeAvailable();
        Path stateDir = tmp.newFolder("qa").toPath();
        QemuCloud cloud = RealVms.cloud(stateDir, 2);
        cloud.getTemplates().get(0).setKeepFailedMinutes(1);
        j.jenkins.clouds.add(cloud);
    }

    @Test
    public void aFailedBuildsVmIsKeptTakesNoBuildAndGoesWhenItsTimeIsOver() throws Exception {
        FreeStyleProject p = j.createFreeStyleProject("fails");
        p.setAssignedLabel(Label.get(RealVms.IMAGE));
        p.getBuildersList().add(new Shell("exit 1"));
        FreeStyleBuild b = j.buildAndAssertStatus(Result.FAILURE, p);
        j.assertLogContains("of this failed build is kept for debugging until", b);

        QemuComputer kept = keptComputer();
        assertNotNull("the failed build's agent is kept", kept);
        assertFalse("a kept VM takes no build", kept.isAcceptingTasks());
        assertEquals("and is saved without labels", "", kept.getNode().getLabelString());
        JenkinsRule.WebClient web = j.createWebClient();
        String page = web.goTo(kept.getUrl() + KeptVmAction.URL + "/").asNormalizedText();
        assertTrue(page, page.contains("is kept for debugging after fails #1 failed, until"));
        String key = web.goTo(kept.getUrl() + KeptVmAction.URL + "/key", "application/octet-stream").getWebResponse().getContentAsString();
        assertTrue("the VM's key, for an administrator", key.contains("OPENSSH PRIVATE KEY"));

        // One minute of keep time, and the retention check runs once a minute.
        long deadline = System.currentTimeMillis() + TimeUnit.MINUTES.toMillis(4);
        while (System.currentTimeMillis() < deadline && !RealVms.qemuAgents(j).isEmpty()) {
            Thread.sleep(1000);
        }
        RealVms.assertNoVmLeft(j);
    }

    @Test
    public void aPipelineThatSucceedsAfterItsNodeBlockLeavesNothingKept() throws Exception {
        WorkflowJob p = j.createProject(WorkflowJob.class, "succeeds");
        p.setDefinition(new CpsFlowDefinition("node('" + RealVms.IMAGE + "') { sh 'true' }\necho 'after the node block'", true));
        WorkflowRun b = j.buildAndAssertSuccess(p);
        j.assertLogNotContains("kept for debugging", b);
        RealVms.assertNoVmLeft(j);
    }

    /**
     * The node block is the pipeline's last step, so the pipeline may end before the block's
     * executor says it waits for the result (seen in a real Jenkins): the VM must still go at
     * once, not when a keep time runs out. With 30 minutes of keep time, a VM held for it would
     * outlast the wait below.
     */
    @Test
    public void aPipelineWhoseLastStepIsItsNodeBlockAndSucceedsLeavesNothingKept() throws Exception {
        ((QemuCloud) j.jenkins.clouds.get(0)).getTemplates().get(0).setKeepFailedMinutes(30);
        WorkflowJob p = j.createProject(WorkflowJob.class, "ends-with-node");
        p.setDefinition(new CpsFlowDefinition("node('" + RealVms.IMAGE + "') { sh 'true' }", true));
        WorkflowRun b = j.buildAndAssertSuccess(p);
        j.assertLogNotContains("kept for debugging", b);
        RealVms.assertNoVmLeft(j);
    }

    @Test
    public void aPipelineThatFailsKeepsTheVmOfItsNodeBlock() throws Exception {
        WorkflowJob p = j.createProject(WorkflowJob.class, "pipeline-fails");
        p.setDefinition(new CpsFlowDefinition("node('" + RealVms.IMAGE + "') { sh 'exit 1' }", true));
        WorkflowRun b = j.buildAndAssertStatus(Result.FAILURE, p);
        j.assertLogContains("of this failed build is kept for debugging until", b);
        // The block's own end, which keeps its agent, may come a moment after the run's.
        QemuComputer kept = keptComputer();
        for (int i = 0; i < 300 && kept == null; i++) {
            Thread.sleep(100);
            kept = keptComputer();
        }
        assertNotNull("the node block's agent is kept once the pipeline failed", kept);
        // Discarded as the page's button does, so the test leaves nothing running.
        kept.retention().terminate(kept, "the test is over");
        RealVms.assertNoVmLeft(j);
    }

    private QemuComputer keptComputer() {
        for (Computer c : j.jenkins.getComputers()) {
            if (c instanceof QemuComputer q && q.kept() != null) {
                return q;
            }
        }
        return null;
    }
}
