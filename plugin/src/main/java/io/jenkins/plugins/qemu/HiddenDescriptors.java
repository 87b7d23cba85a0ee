package io.jenkins.plugins.qemu;

import edu.umd.cs.findbugs.annotations.CheckForNull;
import edu.umd.cs.findbugs.annotations.NonNull;
import hudson.Extension;
import hudson.model.Descriptor;
import hudson.model.DescriptorVisibilityFilter;

/**
 * Keeps the QEMU launcher and retention strategy out of the choices for ordinary agents: they
 * only work for agents a {@link QemuCloud} made, which are never configured through those lists.
 */
@Extension
public final class HiddenDescriptors extends DescriptorVisibilityFilter {
    @Override
    public boolean filter(@CheckForNull Object context, @NonNull Descriptor descriptor) {
        return !isOurs(descriptor);
    }

    @Override
    public boolean filterType(@NonNull Class<?> contextClass, @NonNull Descriptor descriptor) {
        return !isOurs(descriptor);
    }

    private static boolean isOurs(Descriptor<?> descriptor) {
        return descriptor instanceof QemuSshLauncher.DescriptorImpl || descriptor instanceof QemuAgentLauncher.DescriptorImpl
                || descriptor instanceof QemuHostLauncher.DescriptorImpl
                || descriptor instanceof QemuRetentionStrategy.DescriptorImpl;
    }
}
