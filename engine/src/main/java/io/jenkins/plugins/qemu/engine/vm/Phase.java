package io.jenkins.plugins.qemu.engine.vm;

/**
 * The steps of a VM's life, in order. Timings, log lines and errors are all reported per phase,
 * so a person can tell at a glance whether a boot died in QEMU, in the guest or at SSH.
 */
public enum Phase {
    PREPARE("preparing the state directory"),
    OVERLAY("creating the overlay"),
    SEED("writing the cloud-init seed"),
    NETWORK("starting the network helper"),
    QEMU_START("starting QEMU"),
    QMP("connecting to QMP"),
    PORT("reading the forwarded SSH port"),
    RESTORE("restoring the warm snapshot"),
    IDENTITY("giving the restored clone its identity"),
    FIRST_CONSOLE("waiting for the first console output"),
    SSH("waiting for an SSH login"),
    EGRESS("configuring the guest's egress NIC"),
    RUNNING("running"),
    DESTROY("destroying"),
    /** A leased VM its engine let go of at close, still running for the engine that adopts it. */
    LEFT_RUNNING("left running for the next engine");

    private final String description;

    Phase(String description) {
        this.description = description;
    }

    public String description() {
        return description;
    }
}
