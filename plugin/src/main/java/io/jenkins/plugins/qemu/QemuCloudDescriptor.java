package io.jenkins.plugins.qemu;

import edu.umd.cs.findbugs.annotations.NonNull;
import hudson.Extension;
import hudson.model.Descriptor;
import hudson.slaves.Cloud;
import hudson.util.FormValidation;
import io.jenkins.plugins.qemu.engine.cloud.CloudValidation;
import io.jenkins.plugins.qemu.engine.config.InvalidInputException;
import io.jenkins.plugins.qemu.engine.image.ImageCatalog;
import io.jenkins.plugins.qemu.engine.state.EngineConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.jenkinsci.Symbol;
import org.kohsuke.stapler.QueryParameter;
import org.kohsuke.stapler.verb.POST;

/**
 * The descriptor of {@link QemuCloud}: its form's checks (each judged by the engine's rule for the
 * field) and the configuration-as-code symbol {@code qemu}. A class of its own, not nested, so the
 * cloud itself stays about provisioning.
 */
@Extension
@Symbol("qemu")
public final class QemuCloudDescriptor extends Descriptor<Cloud> {

    public QemuCloudDescriptor() {
        super(QemuCloud.class);
    }

    @NonNull
    @Override
    public String getDisplayName() {
        return "QEMU VMs";
    }

    public int getDefaultInstanceCap() {
        return QemuCloud.DEFAULT_INSTANCE_CAP;
    }

    @POST
    public FormValidation doCheckName(@QueryParameter String value) {
        return FormChecks.field(() -> CloudValidation.cloudName("name", value));
    }

    /**
     * Blank is fine (no hosts: the controller's own machine, as before); otherwise the expression
     * must parse, and a warning says when no agent has it yet or none of those is online.
     */
    @POST
    public FormValidation doCheckHostLabel(@QueryParameter String value) {
        return FormChecks.ifAllowed(() -> {
            if (value == null || value.isBlank()) {
                return FormValidation.ok();
            }
            // Only a syntax error counts from Jenkins' own check: its warning for a label no node has
            // yet ("No agent/cloud matches ...") is about clouds too, and ours says what it means here.
            FormValidation parsed = hudson.model.labels.LabelExpression.validate(value.trim());
            if (parsed.kind == FormValidation.Kind.ERROR) {
                return parsed;
            }
            int nodes = 0;
            int online = 0;
            for (hudson.model.Node n : hudson.model.Label.parseExpression(value.trim()).getNodes()) {
                if (n instanceof QemuAgent || n instanceof jenkins.model.Jenkins) {
                    continue;
                }
                nodes++;
                hudson.model.Computer c = n.toComputer();
                online += c != null && c.isOnline() ? 1 : 0;
            }
            if (nodes == 0) {
                return FormValidation.warning("hostLabel: no agent has the label '" + value.trim() + "' yet; VMs wait until a host has it");
            }
            return online == 0 ? FormValidation.warning("hostLabel: none of the " + nodes + " agents with this label is online")
                    : FormValidation.ok(online + " of " + nodes + " hosts online");
        });
    }

    @POST
    public FormValidation doCheckRestartLeaseMinutes(@QueryParameter String value) {
        return FormChecks.field(() -> CloudValidation.restartLeaseMinutes("restartLeaseMinutes",
                FormChecks.parseInt("restartLeaseMinutes", value)));
    }

    @POST
    public FormValidation doCheckInstanceCap(@QueryParameter String value) {
        return FormChecks.field(() -> CloudValidation.instanceCap("instanceCap", FormChecks.parseInt("instanceCap", value)));
    }

    @POST
    public FormValidation doCheckHostCpus(@QueryParameter String value) {
        return FormChecks.ifAllowed(() -> {
            int cpus;
            try {
                cpus = CloudValidation.hostCpus("hostCpus", FormChecks.parseInt("hostCpus", value));
            } catch (InvalidInputException e) {
                return FormValidation.error(e.getMessage());
            }
            int host = Runtime.getRuntime().availableProcessors();
            return cpus > host ? FormValidation.warning("This host has only " + host + " CPUs; the VMs would share them.")
                    : FormValidation.ok();
        });
    }

    @POST
    public FormValidation doCheckHostMemory(@QueryParameter String value) {
        return FormChecks.field(() -> CloudValidation.hostMemoryMiB("hostMemory", value));
    }

    /** Besides the syntax, tells which images the catalog holds, so a wrong directory shows at once. */
    @POST
    public FormValidation doCheckImagesDir(@QueryParameter String value) {
        return FormChecks.ifAllowed(() -> {
            EngineConfig config;
            try {
                config = QemuCloud.engineConfig(value, null);
            } catch (InvalidInputException e) {
                return FormValidation.error(e.getMessage());
            }
            Path dir = config.imagesDir();
            if (!Files.isDirectory(dir)) {
                return FormValidation.warning("No image catalog at " + dir + " yet (see the README on how to prepare images).");
            }
            try {
                List<String> names = new ImageCatalog(dir).names();
                return names.isEmpty()
                        ? FormValidation.warning("The catalog at " + dir + " holds no images yet.")
                        : FormValidation.ok("Images in " + dir + ": " + String.join(", ", names));
            } catch (IOException | RuntimeException e) {
                return FormValidation.warning("Cannot read the catalog at " + dir + ": " + e.getMessage());
            }
        });
    }

    /** The engine refuses state directories whose QMP socket paths would be too long; say so here. */
    @POST
    public FormValidation doCheckStateDir(@QueryParameter String value) {
        return FormChecks.field(() -> QemuCloud.engineConfig(null, value));
    }
}
