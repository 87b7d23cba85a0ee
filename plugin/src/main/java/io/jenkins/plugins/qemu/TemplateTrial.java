package io.jenkins.plugins.qemu;

import hudson.Util;
import hudson.util.FormValidation;
import io.jenkins.plugins.qemu.engine.cloud.TemplateSpec;
import io.jenkins.plugins.qemu.engine.state.EngineConfig;
import io.jenkins.plugins.qemu.engine.vm.PhaseTimings;
import io.jenkins.plugins.qemu.engine.vm.Vm;
import io.jenkins.plugins.qemu.engine.vm.VmBootException;
import io.jenkins.plugins.qemu.engine.vm.VmSpec;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * The "Test" button of a template: boots one VM exactly as provisioning would, runs
 * {@code java -version} in it (the SSH launcher needs a Java runtime in the guest) and destroys
 * it again. The result is what an administrator needs to judge the template: time to online
 * with the phase timings, or the engine's full failure report.
 */
final class TemplateTrial {
    private static final Duration JAVA_CHECK_TIMEOUT = Duration.ofSeconds(30);

    private TemplateTrial() {}

    static FormValidation run(EngineConfig config, TemplateSpec template) throws InterruptedException {
        QemuEngines engines = QemuEngines.get();
        VmSpec spec = template.toVmSpec(VmSpec.newVmId());
        Vm vm = null;
        try {
            vm = engines.engine(config).create(spec, line -> { });
            vm.boot();
            Duration online = vm.timings().timeToOnline();
            String java = javaVersion(vm);
            String summary = "Online after " + PhaseTimings.millis(online) + " (" + vm.timings() + "; accelerator "
                    + vm.accelerator().accel() + ")";
            if (java == null) {
                return FormValidation.warning(summary + ", but 'java -version' failed in the guest: the SSH launcher needs "
                        + "a Java runtime on the agent user's PATH.");
            }
            return FormValidation.ok(summary + ". Guest Java: " + java);
        } catch (VmBootException e) {
            return FormValidation.errorWithMarkup("<pre>" + Util.escape(e.getMessage()) + "</pre>");
        } catch (IOException | RuntimeException e) {
            return FormValidation.error("Could not boot the template: " + e.getMessage());
        } finally {
            if (vm != null) {
                vm.destroy();
            }
        }
    }

    /** The first line of {@code java -version} (printed on stderr), or null when Java is missing. */
    private static String javaVersion(Vm vm) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try {
            int status = vm.exec("java -version", out, err, JAVA_CHECK_TIMEOUT);
            if (status != 0) {
                return null;
            }
        } catch (IOException | RuntimeException e) {
            return null;
        }
        String text = err.toString(StandardCharsets.UTF_8).strip();
        if (text.isEmpty()) {
            text = out.toString(StandardCharsets.UTF_8).strip();
        }
        int nl = text.indexOf('\n');
        return nl < 0 ? text : text.substring(0, nl);
    }
}
