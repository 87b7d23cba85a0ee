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

/**
 * The ssh-slaves launcher, pointed at the VM's forwarded port on 127.0.0.1, logging in with the
 * VM's own throw-away key and accepting only the host key the engine generated for that guest.
 * The key is handed over in memory: it never enters the credentials store and is never written
 * to disk ({@code transient}, so the agent's {@code config.xml} holds no key). After a restart
 * the key is gone with the VM, and such an agent is removed rather than relaunched.
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
    private transient volatile String privateKey;

    QemuSshLauncher(int port, String user, String privateKeyOpenSsh, String hostKeyLine, String jvmOptions) {
        super(LOOPBACK, port, CREDENTIAL_ID);
        this.user = user;
        this.privateKey = privateKeyOpenSsh;
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

    /** The VM's key as an unsaved credential; null once the key is gone (after a restart). */
    @Override
    public StandardUsernameCredentials getCredentials() {
        String key = privateKey;
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

    /** Writes how the VM booted into the agent log before the SSH launch's own output. */
    @Override
    public void launch(SlaveComputer computer, TaskListener listener) throws InterruptedException {
        if (computer instanceof QemuComputer qemu) {
            qemu.printProvisioningLog(listener);
        }
        if (privateKey == null) {
            listener.getLogger().println("This agent's VM is from before a controller restart and gone; it will be removed.");
            return;
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
