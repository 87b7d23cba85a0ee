package io.jenkins.plugins.qemu;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import hudson.model.FreeStyleBuild;
import hudson.model.FreeStyleProject;
import hudson.model.Label;
import hudson.model.Node;
import hudson.slaves.DumbSlave;
import hudson.tasks.Shell;
import hudson.util.FormValidation;
import io.jenkins.plugins.qemu.engine.host.HostReport;
import io.jenkins.plugins.qemu.engine.cloud.CapacityLedger;
import io.jenkins.plugins.qemu.engine.cloud.HostPlacement;
import io.jenkins.plugins.qemu.engine.host.ProbeHost;
import io.jenkins.plugins.qemu.engine.host.SnapshotState;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;
import org.junit.rules.TestRule;
import org.jvnet.hudson.test.JenkinsRule;
import org.jvnet.hudson.test.LoggerRule;

/**
 * QEMU hosts (issue 18) against a real Jenkins: the cloud's and the host property's settings
 * through the UI, the engine reached on a real agent over its remoting channel, and a build on a
 * VM booted by a host agent, which is removed with its host. The last test boots a real VM and is
 * skipped without QEMU and the test image ({@link RealVms}).
 */
public class QemuHostsTest {
    @Rule(order = -100)
    public final TestRule noQemuLeft = RealVms.noQemuLeft();

    @Rule
    public JenkinsRule j = new JenkinsRule();

    @Rule
    public TemporaryFolder tmp = new TemporaryFolder();

    @Rule
    public LoggerRule logging = new LoggerRule().record(HostProvisioningTask.class, Level.INFO).record(HostWarmUp.class, Level.INFO).capture(200);

    /** The host label; a label is only made once Jenkins runs (Label.get needs it), so not in a static field. */
    private static final String HOSTS = "qemu-host";

    private DumbSlave host(String stateDir) throws Exception {
        DumbSlave host = j.createOnlineSlave(Label.get(HOSTS));
        QemuHostProperty p = new QemuHostProperty();
        p.setInstanceCap(2);
        p.setImagesDir(RealVms.imagesDir().toString());
        p.setStateDir(stateDir);
        host.getNodeProperties().add(p);
        return host;
    }

    /** The test cloud on the hosts labelled {@code qemu-host}, added to Jenkins. */
    private QemuCloud cloudOnHosts() throws Exception {
        QemuCloud cloud = RealVms.cloud(tmp.newFolder("unused").toPath(), 2);
        cloud.setHostLabel("qemu-host");
        j.jenkins.clouds.add(cloud);
        return cloud;
    }

    @Test
    public void withoutAHostLabelNothingChanges() {
        QemuCloud cloud = RealVms.cloud(Path.of("/tmp/unused-state"), 2);
        assertFalse(cloud.usesHosts());
        assertTrue("the controller's own host is used without hosts", cloud.isUseBuiltInHost());
        cloud.setHostLabel("qemu-host");
        assertTrue(cloud.usesHosts());
        assertFalse("the built-in host is off by default once hosts are configured", cloud.isUseBuiltInHost());
        cloud.setUseBuiltInHost(true);
        assertTrue(cloud.isUseBuiltInHost());
    }

    @Test
    public void hostSettingsSurviveTheUiRoundTrip() throws Exception {
        QemuCloud before = RealVms.cloud(tmp.newFolder("state").toPath(), 2);
        before.setHostLabel("qemu-host");
        j.jenkins.clouds.add(before);
        j.submit(j.createWebClient().goTo("cloud/qemu/configure").getFormByName("config"));
        QemuCloud after = (QemuCloud) j.jenkins.getCloud("qemu");
        assertEquals("qemu-host", after.getHostLabel());
        assertFalse(after.isUseBuiltInHost());

        DumbSlave host = host("/var/lib/qemu-agents/state");
        j.submit(j.createWebClient().getPage(host, "configure").getFormByName("config"));
        QemuHostProperty p = j.jenkins.getNode(host.getNodeName()).getNodeProperty(QemuHostProperty.class);
        assertNotNull(p);
        assertEquals(2, p.getInstanceCap());
        assertEquals("/var/lib/qemu-agents/state", p.getStateDir());
    }

    @Test
    public void hostLabelAndHostFieldsAreChecked() throws Exception {
        QemuCloudDescriptor d = j.jenkins.getDescriptorByType(QemuCloudDescriptor.class);
        assertEquals(FormValidation.Kind.OK, d.doCheckHostLabel("").kind);
        assertEquals(FormValidation.Kind.ERROR, d.doCheckHostLabel("a &&").kind);
        FormValidation none = d.doCheckHostLabel("qemu-host");
        assertEquals(FormValidation.Kind.WARNING, none.kind);
        assertThat(none.getMessage(), containsString("no agent has the label"));
        host("/tmp/s");
        assertEquals(FormValidation.Kind.OK, d.doCheckHostLabel("qemu-host").kind);
        QemuHostProperty.DescriptorImpl hd = j.jenkins.getDescriptorByType(QemuHostProperty.DescriptorImpl.class);
        assertThat(hd.doCheckStateDir("relative/dir").renderHtml(), containsString("stateDir"));
        assertThat(hd.doCheckMemory("lots").renderHtml(), containsString("memory"));
    }

    /** The engine's classes reach a real agent over its channel, and the host answers even without QEMU. */
    @Test
    public void aHostAgentAnswersAProbeOverItsChannel() throws Exception {
        DumbSlave host = host(tmp.newFolder("host-state").getAbsolutePath());
        RemoteHost remote = QemuHosts.get().remote(host.getNodeName());
        assertNotNull(remote);
        HostReport report = remote.call(new ProbeHost());
        assertEquals(host.getNodeName(), report.host());
        assertTrue(report.machineCpus() >= 1);
        // A QEMU VM agent is never a host, and an offline agent has no line.
        host.toComputer().disconnect(null).get(30, TimeUnit.SECONDS);
        assertNull(QemuHosts.get().remote(host.getNodeName()));
    }

    /**
     * A build on a VM booted on a host agent: the agent remembers its host, the build succeeds, the
     * VM goes after it; a second VM's agent goes at once when its host disconnects.
     */
    @Test
    public void aBuildRunsOnAVmOfAHostAndTheVmGoesWithItsHost() throws Exception {
        RealVms.assumeAvailable();
        DumbSlave host = host(tmp.newFolder("host-state").getAbsolutePath());
        cloudOnHosts().getTemplates().get(0).setWarmStart(false); // placement and host loss only
        FreeStyleProject p = j.createFreeStyleProject("on-host");
        p.setAssignedLabel(Label.get(RealVms.IMAGE));
        p.getBuildersList().add(new Shell("hostname"));
        FreeStyleBuild b = j.buildAndAssertSuccess(p);
        j.assertLogContains("on host " + host.getNodeName(), b);
        RealVms.assertNoVmLeft(j);

        FreeStyleProject slow = j.createFreeStyleProject("slow");
        slow.setAssignedLabel(Label.get(RealVms.IMAGE));
        slow.getBuildersList().add(new Shell("sleep 600"));
        FreeStyleBuild running = slow.scheduleBuild2(0).waitForStart();
        j.waitForMessage("+ sleep 600", running);
        List<QemuAgent> agents = RealVms.qemuAgents(j);
        assertEquals(1, agents.size());
        assertEquals(host.getNodeName(), agents.get(0).getHost());
        host.toComputer().disconnect(null).get(30, TimeUnit.SECONDS);
        j.waitForCompletion(running);
        RealVms.assertNoVmLeft(j);
        assertTrue(j.jenkins.getNodes().stream().noneMatch(n -> n instanceof QemuAgent));
        assertNotNull((Node) j.jenkins.getNode(host.getNodeName()));
    }
    /**
     * Warm start on a host: the host builds its own snapshot only under a booking the controller
     * holds on that host (seen in the placement while the build runs), and the next VM placed there
     * is restored from it.
     */
    @Test
    public void aHostBuildsItsOwnWarmSnapshotUnderABookingAndItsNextVmIsRestored() throws Exception {
        RealVms.assumeAvailable();
        DumbSlave host = host(tmp.newFolder("host-state").getAbsolutePath());
        QemuCloud cloud = cloudOnHosts();
        QemuTemplate template = cloud.getTemplates().get(0);
        template.setWarmStart(true);
        RemoteHost remote = QemuHosts.get().remote(host.getNodeName());
        assertNotNull(remote);
        SnapshotState before = HostWarmUp.check(template.toSpec(), remote);
        assertFalse(before.toString(), before.current());

        HostPlacement placement = QemuHosts.get().placement(cloud);
        CapacityLedger.Claim probe = CapacityLedger.Claim.agent(1, 1024);
        boolean sawBooking = false;
        long deadline = System.currentTimeMillis() + TimeUnit.MINUTES.toMillis(20);
        SnapshotState now = before;
        while (!now.current() && System.currentTimeMillis() < deadline) {
            QemuHosts.get().warmUp().warmUp(cloud); // what each cleanup pass does; one build at a time
            for (int i = 0; i < 10; i++) {
                sawBooking |= placement.hosts(probe, RealVms.IMAGE).stream().anyMatch(v -> v.vms() == 1);
                Thread.sleep(500);
            }
            now = HostWarmUp.check(template.toSpec(), remote);
        }
        assertTrue("the host's snapshot was built: " + now, now.current());
        assertTrue("the snapshot's boot was booked on the host while it ran", sawBooking);
        // The booking goes once the host has answered, a moment after the snapshot is saved.
        long released = System.currentTimeMillis() + TimeUnit.SECONDS.toMillis(60);
        while (placement.hosts(probe, RealVms.IMAGE).stream().anyMatch(v -> v.vms() > 0) && System.currentTimeMillis() < released) {
            Thread.sleep(200);
        }
        assertTrue(placement.hosts(probe, RealVms.IMAGE).stream().allMatch(v -> v.vms() == 0));

        FreeStyleProject p = j.createFreeStyleProject("warm-on-host");
        p.setAssignedLabel(Label.get(RealVms.IMAGE));
        p.getBuildersList().add(new Shell("hostname"));
        FreeStyleBuild b = j.buildAndAssertSuccess(p);
        j.assertLogContains("on host " + host.getNodeName(), b);
        assertTrue(logging.getMessages().toString(), logging.getMessages().stream()
                .anyMatch(m -> m.contains("online on host " + host.getNodeName()) && m.contains("(warm restore)")));
        RealVms.assertNoVmLeft(j);
    }
}
