package io.jenkins.plugins.qemu;

import edu.umd.cs.findbugs.annotations.NonNull;
import hudson.Extension;
import hudson.ExtensionList;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The one-off templates of the builds running a {@code qemu} step now (see {@link QemuStep}): each
 * is a cloud's template with one build's image, size and keep time, labelled with a label of its
 * own, which the build's {@code node} blocks ask for. It exists while the step's block runs (and
 * again after a restart, when the step resumes); its cloud offers it next to its own templates.
 */
@Extension
public final class OneOffTemplates {
    private record OneOff(String cloudName, QemuTemplate template) {}

    private final Map<String, OneOff> byLabel = new ConcurrentHashMap<>();

    @NonNull
    public static OneOffTemplates get() {
        return ExtensionList.lookupSingleton(OneOffTemplates.class);
    }

    void register(String cloudName, QemuTemplate template) {
        byLabel.put(template.getLabels(), new OneOff(cloudName, template));
    }

    /** Drops the template of {@code label}, and what the cloud kept about it. */
    void unregister(String label) {
        OneOff gone = byLabel.remove(label);
        QemuCloud cloud = gone == null ? null : QemuCloud.savedCloudNamed(gone.cloudName());
        if (cloud != null) {
            QemuEngines.get().forgetTemplate(cloud.templateKey(gone.template()));
        }
    }

    /** The one-off templates of the cloud named {@code cloudName}. */
    List<QemuTemplate> of(String cloudName) {
        List<QemuTemplate> out = new ArrayList<>();
        for (OneOff o : byLabel.values()) {
            if (o.cloudName().equals(cloudName)) {
                out.add(o.template());
            }
        }
        return out;
    }
}
