package io.jenkins.plugins.qemu;

import static org.junit.Assert.assertEquals;

import hudson.model.Result;
import java.nio.file.Path;
import java.util.List;
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
 * The {@code qemu} pipeline step: a build asking more than its template allows, or for a label no
 * template has, fails at once, naming what; a build within the limits gets its one-off template's
 * VM (the size it asked for) in {@code node(QEMU_LABEL)}, and the one-off template is gone after
 * the block. The last test boots a real VM and is skipped without QEMU and the test image.
 */
public class QemuStepTest {
    @Rule(order = -100)
    public final TestRule noQemuLeft = RealVms.noQemuLeft();

    @Rule
    public JenkinsRule j = new JenkinsRule();

    @Rule
    public TemporaryFolder tmp = new TemporaryFolder(new java.io.File("/tmp"));

    private Path stateDir;

    @Before
    public void cloud() throws Exception {
        stateDir = tmp.newFolder("qa").toPath();
        QemuCloud cloud = RealVms.cloud(stateDir, 2);
        cloud.getTemplates().get(0).setMaxCpus(2);
        j.jenkins.clouds.add(cloud);
    }

    private WorkflowRun run(String script, Result expected) throws Exception {
        WorkflowJob p = j.createProject(WorkflowJob.class);
        p.setDefinition(new CpsFlowDefinition(script, true));
        return j.buildAndAssertStatus(expected, p);
    }

    @Test
    public void askingMoreThanTheTemplateAllowsFailsAtOnceNamingTheField() throws Exception {
        WorkflowRun b = run("qemu(label: '" + RealVms.IMAGE + "', cpus: 3) { echo 'inside the block' }", Result.FAILURE);
        j.assertLogContains("cpus: '3' is more than this template lets a build ask for (at most 2", b);
        j.assertLogNotContains("inside the block", b);
        assertEquals(List.of(), OneOffTemplates.get().of("qemu"));
        assertEquals(List.of(), RealVms.qemuAgents(j));
    }

    @Test
    public void aLabelNoTemplateServesFailsAtOnce() throws Exception {
        WorkflowRun b = run("qemu(label: 'no-such-label') { echo 'inside the block' }", Result.FAILURE);
        j.assertLogContains("no QEMU cloud has a template for the label 'no-such-label'", b);
        j.assertLogNotContains("inside the block", b);
    }

    @Test
    public void theBlocksNodeGetsTheSizeItAskedForAndTheOneOffTemplateGoesWithTheBlock() throws Exception {
        RealVms.assumeAvailable();
        WorkflowRun b = run("qemu(label: '" + RealVms.IMAGE + "', cpus: 2) {\n"
                + "  echo 'one-off label ' + env.QEMU_LABEL\n"
                + "  node(env.QEMU_LABEL) { sh 'echo cpus=$(nproc)' }\n"
                + "}\n"
                + "echo 'after the block ' + env.QEMU_LABEL", Result.SUCCESS);
        j.assertLogContains("one-off label qemu-", b);
        j.assertLogContains("cpus=2", b);
        j.assertLogContains("after the block null", b);
        assertEquals(List.of(), OneOffTemplates.get().of("qemu"));
        RealVms.assertNoVmLeft(j);
    }
}
