package io.jenkins.plugins.qemu.engine.config;

import java.time.Duration;

/**
 * Every default a VM or a template gets when its caller says nothing, in one table: the CLI's
 * {@code run}, {@code VmSpec}, {@code cloud.TemplateSpec} and the plugin's form all read them
 * here. A VM asked for directly (CLI, tests, engine callers) is the smallest useful guest; a
 * Jenkins template, which runs builds, gets more room.
 */
public final class Defaults {
    public static final String IMAGE = "debian-12";
    public static final String USER = "jenkins";
    public static final String MACHINE = "pc";
    public static final Duration BOOT_TIMEOUT = Duration.ofMinutes(5);
    /** {@link #BOOT_TIMEOUT} as a form and JCasC write it. */
    public static final String BOOT_TIMEOUT_TEXT = "5m";

    /** A VM asked for directly: one vCPU, 1 GiB. */
    public static final int VM_CPUS = 1;
    public static final long VM_MEMORY_MIB = 1024;

    /** A Jenkins template: room for a build. */
    public static final int TEMPLATE_CPUS = 2;
    public static final String TEMPLATE_MEMORY = "2G";
    public static final String TEMPLATE_REMOTE_FS = "/home/jenkins/agent";
    public static final int TEMPLATE_EXECUTORS = 1;
    /** On: where the image supports it, a template's VM is restored in seconds instead of booted. */
    public static final boolean TEMPLATE_WARM_START = true;

    private Defaults() {}
}
