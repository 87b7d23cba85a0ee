package io.jenkins.plugins.qemu;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;

import io.jenkins.plugins.casc.misc.RoundTripAbstractTest;
import java.util.List;
import org.jvnet.hudson.test.RestartableJenkinsRule;

/**
 * The README's YAML, applied, checked and applied again through the configuration-as-code UI,
 * then loaded from {@code jenkins.yaml} after a restart.
 */
public class ConfigurationAsCodeTest extends RoundTripAbstractTest {

    @Override
    protected String configResource() {
        return "configuration-as-code.yaml";
    }

    @Override
    protected void assertConfiguredAsExpected(RestartableJenkinsRule r, String configContent) {
        QemuCloud cloud = (QemuCloud) r.j.jenkins.getCloud("qemu");
        assertNotNull(cloud);
        assertEquals(4, cloud.getInstanceCap());
        assertEquals(8, cloud.getHostCpus());
        assertEquals("16G", cloud.getHostMemory());
        assertEquals(30, cloud.getRestartLeaseMinutes());
        assertEquals("/var/lib/qemu-agents/images", cloud.getImagesDir());
        assertEquals("/var/lib/qemu-agents/state", cloud.getStateDir());
        List<QemuTemplate> templates = cloud.getTemplates();
        assertEquals(2, templates.size());
        QemuTemplate debian = templates.get(0);
        assertEquals("debian-12 linux", debian.getLabels());
        assertEquals("debian-12", debian.getImage());
        assertEquals(2, debian.getCpus());
        assertEquals("2G", debian.getMemory());
        assertEquals("20G", debian.getDiskSize());
        assertEquals("jenkins", debian.getUser());
        assertEquals("/home/jenkins/agent", debian.getRemoteFs());
        assertEquals("-Xmx512m", debian.getJvmOptions());
        assertEquals("packages: [git]\n", debian.getExtraCloudConfig());
        assertEquals(1, debian.getExecutors());
        assertEquals(0, debian.getIdleMinutes());
        assertEquals("5m", debian.getBootTimeout());
        assertEquals("3m", debian.getLaunchTimeout());
        assertEquals(2, debian.getInstanceCap());
        assertEquals("the id defaults to the name, so a reload keeps the cloud's bookings", "qemu", cloud.getId());
        assertTrue("on unless configured off", debian.isWarmStart());
        QemuTemplate shared = templates.get(1);
        assertEquals("debian-12-shared", shared.getLabels());
        assertEquals(30, shared.getIdleMinutes());
        assertEquals(2, shared.getExecutors());
        assertFalse(shared.isWarmStart());
        assertEquals("", shared.getLaunchTimeout());
        assertEquals(0, shared.getInstanceCap());
        // What was configured is what the engine accepts.
        debian.toSpec();
        shared.toSpec();
        cloud.limits();
    }

    @Override
    protected String stringInLogExpected() {
        return "io.jenkins.plugins.qemu.QemuCloud.name = qemu";
    }
}
