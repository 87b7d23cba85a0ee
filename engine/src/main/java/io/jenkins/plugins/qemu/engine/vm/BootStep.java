package io.jenkins.plugins.qemu.engine.vm;

/**
 * One named step of a boot: the phase it is timed, logged and blamed under, and what it does. A
 * boot is a list of these (see {@link VmBoot}), so the cold and the restore path share their
 * steps and a new step is one more entry rather than another copy of the sequence.
 */
record BootStep(Phase phase, Action action) {
    /** The work of a step; any resource it makes is handed to {@link Resources} at once. */
    @FunctionalInterface
    interface Action {
        void run() throws Exception;
    }
}
