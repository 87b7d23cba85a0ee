package io.jenkins.plugins.qemu;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assume.assumeTrue;

import hudson.model.Computer;
import hudson.model.Node;

import io.jenkins.plugins.qemu.engine.state.EngineConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.rules.TestRule;
import org.junit.runner.Description;
import org.junit.runners.model.Statement;
import org.jvnet.hudson.test.JenkinsRule;

/**
 * What the tests that boot real VMs need: QEMU on the PATH and the {@code debian-12} test image
 * (with a Java runtime in the guest) in the catalog named by the {@code qemu.images.dir} system
 * property. Without them those tests are skipped, not failed.
 */
final class RealVms {
    static final String IMAGE = "debian-12";

    private RealVms() {}

    static Path imagesDir() {
        String dir = System.getProperty("qemu.images.dir");
        return dir == null || dir.isBlank()
                ? Path.of(System.getProperty("user.home"), ".cache", "qemu-agents", "images")
                : Path.of(dir);
    }

    static boolean available() {
        return EngineConfig.findOnPath("qemu-system-x86_64").isPresent()
                && Files.isRegularFile(imagesDir().resolve(IMAGE).resolve("manifest.json"));
    }

    static void assumeAvailable() {
        assumeTrue("qemu-system-x86_64 is not on the PATH", EngineConfig.findOnPath("qemu-system-x86_64").isPresent());
        assumeTrue("no " + IMAGE + " image in " + imagesDir(), Files.isRegularFile(imagesDir().resolve(IMAGE).resolve("manifest.json")));
    }

    /** A cloud with one one-shot template for {@code debian-12}, its state below the test's temp folder. */
    static QemuCloud cloud(Path stateDir, int cap) {
        QemuTemplate template = new QemuTemplate(IMAGE, IMAGE);
        template.setCpus(1);
        template.setMemory("1G");
        QemuCloud cloud = new QemuCloud("qemu");
        cloud.setTemplates(List.of(template));
        cloud.setInstanceCap(cap);
        cloud.setImagesDir(imagesDir().toString());
        cloud.setStateDir(stateDir.toString());
        return cloud;
    }

    /**
     * Waits up to six minutes for every QEMU agent, VM and capacity booking to be gone, then
     * asserts none is left (agents, VMs, computers, bookings). A template's first cold boot also
     * builds its warm snapshot in the background, booked like a VM; under TCG that boot can
     * outlast a short build, so the booking is waited for too.
     */
    static void assertNoVmLeft(JenkinsRule j) throws InterruptedException {
        long deadline = System.currentTimeMillis() + TimeUnit.MINUTES.toMillis(6);
        while (System.currentTimeMillis() < deadline
                && (!qemuAgents(j).isEmpty() || !QemuEngines.get().allVms().isEmpty() || booked() > 0)) {
            Thread.sleep(200);
        }
        assertEquals("agents left", List.of(), qemuAgents(j));
        assertEquals("VMs left", 0, QemuEngines.get().allVms().size());
        for (Computer c : j.jenkins.getComputers()) {
            assertTrue("computer left: " + c.getName(), !(c instanceof QemuComputer));
        }
        assertEquals("capacity left booked", 0, booked());
    }

    private static int booked() {
        return QemuEngines.get().ledgers().values().stream().mapToInt(l -> l.usage().instances()).sum();
    }

    /**
     * A rule, to be the outermost, that kills every QEMU process this test JVM (or an agent JVM it
     * started, such as a QEMU host) still has after the test and its Jenkins are gone. A test that
     * timed out leaves leased VMs whose state folder the temporary folder rule then deletes, so no
     * record is left that the reaper could find. A test that passed but left one fails.
     */
    static TestRule noQemuLeft() {
        return (base, description) -> new Statement() {
            @Override
            public void evaluate() throws Throwable {
                Throwable failure = null;
                try {
                    base.evaluate();
                } catch (Throwable t) {
                    failure = t;
                }
                List<String> left = killQemuLeft();
                if (failure != null) {
                    if (!left.isEmpty()) {
                        System.err.println(description + " failed and left QEMU processes, now killed: " + left);
                    }
                    throw failure;
                }
                assertEquals("QEMU processes left after " + description + " (killed)", List.of(), left);
            }
        };
    }

    private static List<String> killQemuLeft() {
        List<String> left = new ArrayList<>();
        List<ProcessHandle> killed = new ArrayList<>();
        for (ProcessHandle p : ProcessHandle.current().descendants().toList()) {
            String command = p.info().command().orElse("");
            if (command.contains("qemu-system")) {
                left.add(p.pid() + " " + p.info().commandLine().orElse(command));
                p.destroyForcibly();
                killed.add(p);
            }
        }
        for (ProcessHandle p : killed) {
            p.onExit().completeOnTimeout(p, 10, TimeUnit.SECONDS).join();
        }
        return left;
    }

    static List<QemuAgent> qemuAgents(JenkinsRule j) {
        List<QemuAgent> agents = new ArrayList<>();
        for (Node n : j.jenkins.getNodes()) {
            if (n instanceof QemuAgent a) {
                agents.add(a);
            }
        }
        return agents;
    }
}
