package io.jenkins.plugins.qemu;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import io.jenkins.plugins.qemu.engine.state.StateStore;
import io.jenkins.plugins.qemu.engine.state.VmRecord;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.jenkinsci.plugins.workflow.cps.CpsFlowDefinition;
import org.jenkinsci.plugins.workflow.job.WorkflowJob;
import org.jenkinsci.plugins.workflow.job.WorkflowRun;
import org.jenkinsci.plugins.workflow.support.steps.ExecutorStepExecution;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;
import org.junit.rules.TestRule;
import org.jvnet.hudson.test.JenkinsSessionRule;

/**
 * Issue 14 point 6: a pipeline's {@code sh} step on a QEMU agent survives a controller restart.
 * The first session starts the build and is shut down while the step sleeps (Jenkins runs its
 * terminators, as on a safe or a plain restart); between the sessions the VM keeps running; the
 * second session re-attaches it, the agent reconnects, the build finishes, and the one-shot agent
 * and its VM go. The VM's key is in the node's {@code config.xml} only as a {@code Secret}.
 * Skipped without QEMU and the test image (see {@link RealVms}). What the engine does (lease,
 * leave running, adoption with ownership proof) is tested in the engine against real QEMU.
 */
public class QemuRestartTest {
    @Rule(order = -100)
    public final TestRule noQemuLeft = RealVms.noQemuLeft();

    @Rule
    public JenkinsSessionRule sessions = new JenkinsSessionRule();

    @Rule
    public TemporaryFolder tmp = new TemporaryFolder(new java.io.File("/tmp"));

    @Test
    public void aRunningShStepOnAQemuAgentSurvivesARestart() throws Throwable {
        RealVms.assumeAvailable();
        Path stateDir = tmp.newFolder("qa").toPath();
        String[] vmId = new String[1];
        sessions.then(j -> {
            j.jenkins.clouds.add(RealVms.cloud(stateDir, 1));
            j.jenkins.save();
            WorkflowJob p = j.createProject(WorkflowJob.class, "p");
            p.setDefinition(new CpsFlowDefinition("node('" + RealVms.IMAGE + "') { sh 'echo the-sh-step-runs; sleep 60; echo the-sh-step-finished' }", true));
            WorkflowRun b = p.scheduleBuild2(0).waitForStart();
            // A marker of the step's own: "started" is also in the plugin's phase line ("build started"),
            // which comes before the sh step has launched.
            j.waitForMessage("the-sh-step-runs", b);
            List<QemuAgent> agents = RealVms.qemuAgents(j);
            assertEquals(1, agents.size());
            QemuAgent agent = agents.get(0);
            vmId[0] = agent.getVmId();
            String config = Files.readString(j.jenkins.getRootDir().toPath().resolve("nodes").resolve(agent.getNodeName())
                    .resolve("config.xml"));
            assertFalse("the VM's private key is never in config.xml in plain text", config.contains("PRIVATE KEY"));
            assertTrue("it is there as a Secret: " + config, config.contains("<privateKey>{"));
            assertTrue("with the pinned host key: " + config, config.contains("<hostKey>ssh-ed25519 "));
        });

        // Under test, workflow-durable-task-step waits only 15 s for a resumed node block's agent to
        // come back ("fail faster"); a real Jenkins waits 5 minutes. The agent JVM alone takes longer
        // than 15 s to start under TCG, so the test waits as a real Jenkins does.
        ExecutorStepExecution.TIMEOUT_WAITING_FOR_NODE_MILLIS = TimeUnit.MINUTES.toMillis(5);

        // Between the sessions no controller runs, but the leased VM does.
        VmRecord r = new StateStore(stateDir).read(stateDir.resolve(vmId[0])).orElseThrow();
        assertTrue("the VM is leased: " + r, r.leased());
        assertTrue("QEMU outlived the controller", ProcessHandle.of(r.qemuPid()).map(ProcessHandle::isAlive).orElse(false));

        sessions.then(j -> {
            WorkflowJob p = j.jenkins.getItemByFullName("p", WorkflowJob.class);
            WorkflowRun b = p.getBuildByNumber(1);
            j.waitForCompletion(b);
            j.assertBuildStatusSuccess(b);
            j.assertLogContains("Resuming build", b);
            j.assertLogContains("the-sh-step-finished", b);
            RealVms.assertNoVmLeft(j);
        });
        assertFalse("the VM's folder is gone", Files.exists(stateDir.resolve(vmId[0])));
        assertFalse("and its QEMU", ProcessHandle.of(r.qemuPid()).map(ProcessHandle::isAlive).orElse(false));
    }

    @Test
    public void aKeptVmStaysKeptAcrossARestartAndTakesNoBuild() throws Throwable {
        RealVms.assumeAvailable();
        Path stateDir = tmp.newFolder("qa").toPath();
        String[] agentName = new String[1];
        sessions.then(j -> {
            QemuCloud cloud = RealVms.cloud(stateDir, 2);
            cloud.getTemplates().get(0).setKeepFailedMinutes(5);
            j.jenkins.clouds.add(cloud);
            j.jenkins.save();
            hudson.model.FreeStyleProject p = j.createFreeStyleProject("fails");
            p.setAssignedLabel(hudson.model.Label.get(RealVms.IMAGE));
            p.getBuildersList().add(new hudson.tasks.Shell("exit 1"));
            j.buildAndAssertStatus(hudson.model.Result.FAILURE, p);
            List<QemuAgent> agents = RealVms.qemuAgents(j);
            assertEquals("the failed build's VM is kept", 1, agents.size());
            agentName[0] = agents.get(0).getNodeName();
        });
        sessions.then(j -> {
            QemuComputer c = (QemuComputer) j.jenkins.getComputer(agentName[0]);
            assertTrue("the agent is back after the restart", c != null);
            KeptVms.Kept kept = c.kept();
            assertTrue("and still kept, for the same build", kept != null && kept.build().contains("fails #1"));
            assertFalse("it takes no build", c.isAcceptingTasks());
            // A build of the label gets a VM of its own, not the kept one.
            hudson.model.FreeStyleProject p = j.jenkins.getItemByFullName("fails", hudson.model.FreeStyleProject.class);
            p.getBuildersList().clear();
            hudson.model.FreeStyleBuild b = j.buildAndAssertSuccess(p);
            assertFalse(agentName[0].equals(b.getBuiltOnStr()));
            c.retention().terminate(c, "the test is over");
            RealVms.assertNoVmLeft(j);
        });
    }
}
