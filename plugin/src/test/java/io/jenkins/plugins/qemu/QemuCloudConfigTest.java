package io.jenkins.plugins.qemu;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertSame;
import static org.junit.Assert.assertTrue;

import hudson.model.Label;
import hudson.slaves.Cloud;
import hudson.util.FormValidation;
import java.util.List;
import jenkins.model.Jenkins;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;
import org.jvnet.hudson.test.JenkinsRule;
import org.jvnet.hudson.test.MockAuthorizationStrategy;

/** Configuration through the UI, template matching and the form validation messages. */
public class QemuCloudConfigTest {
    @Rule
    public JenkinsRule j = new JenkinsRule();

    @Rule
    public TemporaryFolder tmp = new TemporaryFolder(new java.io.File("/tmp"));

    static QemuCloud sampleCloud() {
        QemuTemplate debian = new QemuTemplate("debian-12 linux", "debian-12");
        debian.setCpus(2);
        debian.setMemory("2G");
        debian.setDiskSize("20G");
        debian.setUser("jenkins");
        debian.setRemoteFs("/home/jenkins/agent");
        debian.setJvmOptions("-Xmx512m");
        debian.setExtraCloudConfig("packages: [git]\n");
        debian.setExecutors(1);
        debian.setIdleMinutes(0);
        debian.setBootTimeout("4m");
        QemuTemplate reusable = new QemuTemplate("", "debian-12");
        reusable.setIdleMinutes(15);
        QemuCloud cloud = new QemuCloud("qemu");
        cloud.setTemplates(List.of(debian, reusable));
        cloud.setInstanceCap(3);
        cloud.setHostCpus(8);
        cloud.setHostMemory("12G");
        cloud.setImagesDir("/var/lib/qemu-agents/images");
        cloud.setStateDir("/var/lib/qemu-agents/state");
        return cloud;
    }

    /** A {@code qemu} step's one-off template counts under the template it came from, not under a metric name per build. */
    @Test
    public void aOneOffTemplateCountsUnderItsSourceTemplate() {
        QemuTemplate source = new QemuTemplate("debian-12 linux", "debian-12");
        source.setMaxMemory("2G");
        QemuTemplate oneOff = source.derive(new io.jenkins.plugins.qemu.engine.cloud.BuildOverride(null, null, "1536M", null, null), "qemu-74919fd5d5");
        assertEquals("qemu-74919fd5d5", oneOff.getLabels());
        assertEquals(1536, oneOff.toSpec().memoryMiB());
        assertEquals(source.toSpec().family(), oneOff.toSpec().family());
        assertEquals("debian-12+linux", oneOff.toSpec().family());
    }

    @Test
    public void configurationSurvivesTheUiRoundTrip() throws Exception {
        QemuCloud before = sampleCloud();
        j.jenkins.clouds.add(before);
        j.submit(j.createWebClient().goTo("cloud/qemu/configure").getFormByName("config"));
        Cloud after = j.jenkins.getCloud("qemu");
        assertNotNull(after);
        j.assertEqualDataBoundBeans(before, after);
        QemuCloud qemu = (QemuCloud) after;
        assertEquals(12 * 1024, qemu.limits().hostMemoryMiB());
        assertEquals("packages: [git]\n", qemu.getTemplates().get(0).getExtraCloudConfig());
    }

    @Test
    public void templatesMatchLabels() {
        QemuCloud cloud = sampleCloud();
        QemuTemplate debian = cloud.getTemplates().get(0);
        QemuTemplate unlabelled = cloud.getTemplates().get(1);
        assertSame(debian, cloud.templateFor(Label.get("debian-12")));
        assertSame(debian, cloud.templateFor(j.jenkins.getLabel("linux && debian-12")));
        assertSame(unlabelled, cloud.templateFor(null));
        assertNull(cloud.templateFor(Label.get("windows")));
    }

    @Test
    public void onlyATemplateThatCanBootIsProvisioned() {
        QemuCloud cloud = sampleCloud();
        j.jenkins.clouds.add(cloud);
        assertFalse("no such label", cloud.canProvision(new Cloud.CloudState(Label.get("windows"), 0)));
        assertFalse("the sample's catalog does not exist here", cloud.canProvision(new Cloud.CloudState(Label.get("linux"), 0)));
        String why = cloud.blockage(cloud.getTemplates().get(0));
        assertTrue(why, why != null && why.contains("is not in the image catalog"));
    }

    @Test
    public void aTemplateWhoseImageIsThereIsProvisioned() throws Exception {
        RealVms.assumeAvailable();
        QemuCloud cloud = RealVms.cloud(tmp.newFolder("qa").toPath(), 1);
        j.jenkins.clouds.add(cloud);
        assertTrue(cloud.canProvision(new Cloud.CloudState(Label.get(RealVms.IMAGE), 0)));
    }

    @Test
    public void everyTemplateOfTheSampleIsValid() {
        for (QemuTemplate t : sampleCloud().getTemplates()) {
            assertNotNull(t.toSpec());
        }
    }

    @Test
    public void cloudValidationMessages() {
        QemuCloudDescriptor d = j.jenkins.getDescriptorByType(QemuCloudDescriptor.class);
        assertEquals(FormValidation.Kind.OK, d.doCheckName("qemu").kind);
        assertError(d.doCheckName("a/b"), "name: 'a/b' contains '/'");
        assertError(d.doCheckInstanceCap("0"), "instanceCap: '0' is out of range");
        assertError(d.doCheckInstanceCap("many"), "instanceCap: 'many' is not a whole number");
        assertError(d.doCheckHostCpus("-1"), "hostCpus: '-1' is out of range");
        assertError(d.doCheckHostMemory("lots"), "hostMemory: 'lots' is not a size");
        assertEquals(FormValidation.Kind.OK, d.doCheckHostMemory("").kind);
        assertError(d.doCheckImagesDir("relative/images"), "imagesDir: 'relative/images' is not an absolute path");
        assertError(d.doCheckStateDir("/" + "x".repeat(120)), "stateDir:");
        assertEquals(FormValidation.Kind.WARNING, d.doCheckImagesDir("/nonexistent/qemu-agents-images").kind);
    }

    @Test
    public void templateValidationMessages() {
        QemuTemplateDescriptor d = j.jenkins.getDescriptorByType(QemuTemplateDescriptor.class);
        assertEquals(FormValidation.Kind.OK, d.doCheckLabels("debian-12 linux").kind);
        assertEquals(FormValidation.Kind.WARNING, d.doCheckLabels("").kind);
        assertError(d.doCheckLabels("a||b"), "labels: 'a||b' contains '|'");
        assertError(d.doCheckImage("../etc", null), "image: '../etc' is not a valid image name");
        assertEquals(FormValidation.Kind.WARNING, d.doCheckImage("no-such-image", "/nonexistent/qemu-agents-images").kind);
        assertError(d.doCheckCpus("0"), "cpus: '0' is out of range");
        assertError(d.doCheckMemory("64M"), "memory: '64M' is out of range");
        assertError(d.doCheckDiskSize("10M"), "diskSize: '10M' is out of range");
        assertError(d.doCheckUser("root"), "user: 'root' is not allowed");
        assertError(d.doCheckRemoteFs("agent"), "remoteFs: 'agent' is not an absolute directory");
        assertError(d.doCheckJvmOptions("-Xmx1g\n-Dx"), "jvmOptions:");
        assertError(d.doCheckExtraCloudConfig("- a\n- list"), "extraCloudConfig:");
        assertEquals(FormValidation.Kind.OK, d.doCheckExtraCloudConfig("packages: [git]").kind);
        assertError(d.doCheckExecutors("0"), "executors: '0' is out of range");
        assertError(d.doCheckIdleMinutes("-5"), "idleMinutes: '-5' is out of range");
        assertError(d.doCheckBootTimeout("soon"), "bootTimeout: 'soon' is not a duration");
    }

    @Test
    public void validationSaysNothingToNonAdministrators() throws Exception {
        j.jenkins.setSecurityRealm(j.createDummySecurityRealm());
        j.jenkins.setAuthorizationStrategy(new MockAuthorizationStrategy().grant(Jenkins.READ).everywhere().to("reader"));
        QemuTemplateDescriptor d = j.jenkins.getDescriptorByType(QemuTemplateDescriptor.class);
        try (var ignored = hudson.security.ACL.as2(hudson.model.User.getById("reader", true).impersonate2())) {
            assertEquals(FormValidation.Kind.OK, d.doCheckRemoteFs("not absolute").kind);
            assertTrue(d.doFillImageItems("/").isEmpty());
        }
        // The state-changing Test button refuses outright.
        JenkinsRule.WebClient wc = j.createWebClient().withThrowExceptionOnFailingStatusCode(false).login("reader");
        var page = wc.getPage(wc.addCrumb(new org.htmlunit.WebRequest(
                new java.net.URL(j.getURL(), "descriptorByName/" + QemuTemplate.class.getName() + "/testTemplate"),
                org.htmlunit.HttpMethod.POST)));
        assertEquals(403, page.getWebResponse().getStatusCode());
    }

    /** Issue 14, point 7: a template from an older or hand-edited config.xml gets defaults instead of an NPE in every provisioning pass. */
    @Test
    public void aTemplateSavedWithoutNewerFieldsGetsTheirDefaults() {
        QemuTemplate t = (QemuTemplate) Jenkins.XSTREAM2.fromXML("<io.jenkins.plugins.qemu.QemuTemplate>"
                + "<labels>debian-12</labels><image>debian-12</image></io.jenkins.plugins.qemu.QemuTemplate>");
        assertEquals(io.jenkins.plugins.qemu.engine.config.Defaults.TEMPLATE_CPUS, t.getCpus());
        assertEquals(io.jenkins.plugins.qemu.engine.config.Defaults.TEMPLATE_MEMORY, t.getMemory());
        assertEquals(io.jenkins.plugins.qemu.engine.config.Defaults.TEMPLATE_EXECUTORS, t.getExecutors());
        assertEquals("", t.getEgress());
        assertEquals("", t.getLaunchTimeout());
        assertTrue(t.isWarmStart());
        assertEquals(java.time.Duration.ofMinutes(5), t.toSpec().launchTimeout());
        assertTrue(t.matches(Label.get("debian-12")));
    }

    /** Issue 14, point 5: a renamed cloud keeps its id (the form carries it), so its running VMs stay booked under it. */
    @Test
    public void aCloudsIdDefaultsToItsNameAndSurvivesARename() {
        QemuCloud c = new QemuCloud("qemu");
        assertEquals("qemu", c.getId());
        QemuCloud renamed = new QemuCloud("qemu-big");
        renamed.setId(c.getId());
        assertEquals("qemu", renamed.getId());
    }

    private static void assertError(FormValidation v, String start) {
        assertEquals(v.renderHtml(), FormValidation.Kind.ERROR, v.kind);
        assertThat(v.getMessage(), containsString(hudson.Util.escape(start)));
    }
}
