package io.jenkins.plugins.qemu;

import edu.umd.cs.findbugs.annotations.CheckForNull;
import hudson.Util;
import hudson.util.FormValidation;
import io.jenkins.plugins.qemu.engine.cloud.CapacityLedger;
import io.jenkins.plugins.qemu.engine.cloud.TemplateReadiness;
import io.jenkins.plugins.qemu.engine.cloud.TemplateSpec;
import io.jenkins.plugins.qemu.engine.config.Defaults;
import io.jenkins.plugins.qemu.engine.config.InvalidInputException;
import io.jenkins.plugins.qemu.engine.config.Validation;
import io.jenkins.plugins.qemu.engine.state.EngineConfig;
import io.jenkins.plugins.qemu.engine.vm.PhaseTimings;
import io.jenkins.plugins.qemu.engine.vm.Vm;
import io.jenkins.plugins.qemu.engine.vm.VmBootException;
import io.jenkins.plugins.qemu.engine.vm.VmSpec;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;

/**
 * The "Test" button of a template: boots one VM exactly as provisioning would, runs the agent's
 * Java with the template's JVM options and checks the remote root directory in it (the SSH
 * launcher needs both), and destroys it again. The VM is booked in the saved cloud's ledger for
 * its lifetime, so a trial counts against the cap and budget like an agent. The result is what an
 * administrator needs to judge the template: time to online with the phase timings, or the
 * engine's full failure report.
 */
final class TemplateTrial {
    private static final Duration CHECK_TIMEOUT = Duration.ofSeconds(30);

    private TemplateTrial() {}

    /** The template as its form holds it now (unsaved values included); blank values get the defaults a saved template gets. */
    static TemplateSpec specFromForm(String labels, String image, String cpus, String memory, String diskSize, String user,
            String remoteFs, String jvmOptions, String extraCloudConfig, String bootTimeout, String egress, boolean warmStart) {
        return TemplateSpec.builder()
                .labels(labels)
                .image(Util.fixNull(image).trim())
                .cpus(Validation.cpus("cpus", Util.fixNull(cpus)))
                .memory(memory)
                .diskSize(diskSize)
                .user(Util.fixNull(user).trim())
                .remoteFs(Util.fixEmptyAndTrim(remoteFs) == null ? Defaults.TEMPLATE_REMOTE_FS : remoteFs.trim())
                .jvmOptions(jvmOptions)
                .extraCloudConfig(extraCloudConfig)
                .bootTimeout(Util.fixEmptyAndTrim(bootTimeout) == null ? Defaults.BOOT_TIMEOUT_TEXT : bootTimeout.trim())
                .egress(egress)
                .warmStart(warmStart)
                .build();
    }

    static FormValidation run(EngineConfig config, TemplateSpec template, @CheckForNull QemuCloud savedCloud)
            throws InterruptedException {
        QemuEngines engines = QemuEngines.get();
        VmSpec spec;
        try {
            spec = engines.withRemotingJar(template.toVmSpec(VmSpec.newVmId()), template.jvmOptions());
        } catch (java.io.IOException e) {
            return FormValidation.error("Jenkins' remoting.jar cannot be read: " + e.getMessage());
        }
        CapacityLedger.Reservation booking = null;
        if (savedCloud != null) {
            CapacityLedger ledger;
            try {
                ledger = engines.ledger(savedCloud.getId(), savedCloud.limits());
            } catch (InvalidInputException e) {
                return FormValidation.error("The saved cloud's limits are invalid: " + e.getMessage());
            }
            CapacityLedger.Claim claim = new CapacityLedger.Claim(TemplateReadiness.key(savedCloud.getId(), template), 0,
                    template.cpus(), template.memoryMiB(), CapacityLedger.Purpose.TRIAL);
            Optional<CapacityLedger.Reservation> r = ledger.tryReserve(spec.vmId(), claim);
            if (r.isEmpty()) {
                return FormValidation.warning("Not tested now: " + ledger.refusal(claim) + ". Try again when VMs of the cloud have ended.");
            }
            booking = r.get();
        }
        Vm vm = null;
        try {
            vm = engines.engine(config).create(spec, line -> { });
            vm.boot();
            Duration online = vm.timings().timeToOnline();
            String summary = "Online after " + PhaseTimings.millis(online) + " (" + vm.timings() + "; accelerator "
                    + vm.accelerator().accel() + (vm.restored() ? ", restored from the warm snapshot" : "") + ")";
            String java = javaVersion(vm, template.jvmOptions());
            if (java == null) {
                return FormValidation.warning(summary + ", but 'java " + template.jvmOptions() + " -version' failed in the guest: "
                        + "the SSH launcher needs a Java runtime on the agent user's PATH that accepts the JVM options.");
            }
            if (!writable(vm, template.remoteFs())) {
                return FormValidation.warning(summary + ", but the agent user cannot create the remote root directory "
                        + template.remoteFs() + " in the guest.");
            }
            return FormValidation.ok(summary + ". Guest Java: " + java + "; " + template.remoteFs() + " is writable.");
        } catch (VmBootException e) {
            return FormValidation.errorWithMarkup("<pre>" + Util.escape(e.getMessage()) + "</pre>");
        } catch (IOException | RuntimeException e) {
            return FormValidation.error("Could not boot the template: " + e.getMessage());
        } finally {
            if (vm != null) {
                vm.destroy();
            }
            if (booking != null) {
                booking.release();
            }
        }
    }

    private static boolean writable(Vm vm, String remoteFs) {
        try {
            // remoteFs is validated (absolute, no spaces or shell characters), so it can go on the command line as is.
            return vm.exec("mkdir -p " + remoteFs + " && test -w " + remoteFs, new ByteArrayOutputStream(),
                    new ByteArrayOutputStream(), CHECK_TIMEOUT) == 0;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /** The first line of {@code java -version} (printed on stderr) with the template's options, or null when it fails. */
    private static String javaVersion(Vm vm, String jvmOptions) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try {
            String options = jvmOptions == null || jvmOptions.isBlank() ? "" : jvmOptions + " ";
            int status = vm.exec("java " + options + "-version", out, err, CHECK_TIMEOUT);
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
