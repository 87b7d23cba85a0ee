package io.jenkins.plugins.qemu;

import com.cloudbees.jenkins.plugins.sshcredentials.impl.BasicSSHUserPrivateKey;
import com.cloudbees.plugins.credentials.CredentialsScope;
import com.cloudbees.plugins.credentials.common.StandardUsernameCredentials;
import edu.umd.cs.findbugs.annotations.NonNull;
import hudson.Extension;
import hudson.model.Descriptor;
import hudson.model.TaskListener;
import hudson.plugins.sshslaves.SSHLauncher;
import hudson.plugins.sshslaves.verifiers.ManuallyProvidedKeyVerificationStrategy;
import hudson.slaves.ComputerLauncher;
import hudson.slaves.SlaveComputer;
import hudson.util.Secret;
import edu.umd.cs.findbugs.annotations.CheckForNull;

/**
 * The ssh-slaves launcher, pointed at the VM's forwarded port on 127.0.0.1, logging in with the
 * VM's own throw-away key and accepting only the host key the engine generated for that guest.
 * The key never enters the credentials store. It is kept the Jenkins way, as a {@link Secret}
 * (the agent's {@code config.xml} holds it encrypted with the controller's key, never in plain
 * text), because the VM outlives a controller restart for a lease: the restarted controller
 * re-attaches the VM ({@link QemuAgent#reattach}) and logs in again with this key and the pinned
 * host key. An agent whose VM cannot be re-attached is removed instead of being relaunched.
 *
 * <p>It has its own descriptor (not {@link SSHLauncher.DescriptorImpl}) on purpose: ssh-slaves
 * only validates the credentials id against the store when the launcher's descriptor is its own,
 * and our id names no stored credential.
 */
public class QemuSshLauncher extends SSHLauncher {
    /** Names the in-memory credential in logs; nothing with this id exists in any store. */
    static final String CREDENTIAL_ID = "qemu-agents-vm-key";
    static final String LOOPBACK = "127.0.0.1";

    private final String user;
    /** Null in agents saved before keys were kept; such an agent cannot be re-attached after a restart. */
    private final Secret privateKey;
    /** The guest's host key line as pinned, for re-attaching the VM; the verification strategy pins the same key. */
    private final String hostKey;

    QemuSshLauncher(int port, String user, String privateKeyOpenSsh, String hostKeyLine, String jvmOptions) {
        super(LOOPBACK, port, CREDENTIAL_ID);
        this.user = user;
        this.privateKey = Secret.fromString(privateKeyOpenSsh);
        this.hostKey = hostKeyLine;
        setSshHostKeyVerificationStrategy(new ManuallyProvidedKeyVerificationStrategy(hostKeyLine));
        setJvmOptions(jvmOptions);
        // The engine has already logged in once, so SSH is up: fail fast instead of the
        // default ten retries fifteen seconds apart.
        setLaunchTimeoutSeconds(60);
        setMaxNumRetries(3);
        setRetryWaitTime(2);
    }

    public String getUser() {
        return user;
    }

    /** The VM's client key in OpenSSH form, decrypted; null in an agent saved without one. */
    @CheckForNull
    String privateKeyText() {
        Secret key = privateKey;
        return key == null ? null : key.getPlainText();
    }

    @CheckForNull
    String hostKeyLine() {
        return hostKey;
    }

    /** The VM's key as a credential that is in no store; null in an agent saved without one. */
    @Override
    public StandardUsernameCredentials getCredentials() {
        String key = privateKeyText();
        if (key == null) {
            return null;
        }
        return new BasicSSHUserPrivateKey(CredentialsScope.SYSTEM, CREDENTIAL_ID, user,
                new BasicSSHUserPrivateKey.DirectEntryPrivateKeySource(key), null, "Throw-away key of a QEMU agent VM");
    }

    /** Tracking would leave a fingerprint record for every throw-away key. */
    @Override
    public boolean getTrackCredentials() {
        return false;
    }

    /**
     * Writes how the VM booted into the agent log before the SSH launch's own output. After a
     * controller restart the VM is re-attached first (once per agent; it may already have been,
     * by the cleanup that runs at start); an agent whose VM cannot be re-attached is not launched
     * and is removed by the retention check.
     */
    @Override
    public void launch(SlaveComputer computer, TaskListener listener) throws InterruptedException {
        if (computer instanceof QemuComputer qemu) {
            qemu.printProvisioningLog(listener);
            QemuAgent agent = qemu.getNode();
            if (agent != null && agent.reattach(listener) == null) {
                String why = agent.reattachFailure();
                listener.getLogger().println("This agent's VM is gone" + (why == null ? "" : " (" + why + ")") + "; the agent will be removed.");
                return;
            }
        }
        super.launch(computer, listener);
    }

    /** Hidden from every launcher list (see {@link HiddenDescriptors}); exists so Jenkins can describe the launcher. */
    @Extension
    public static final class DescriptorImpl extends Descriptor<ComputerLauncher> {
        @NonNull
        @Override
        public String getDisplayName() {
            return "Launch a QEMU VM agent via SSH";
        }
    }
}
