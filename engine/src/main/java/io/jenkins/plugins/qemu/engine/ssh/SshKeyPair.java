package io.jenkins.plugins.qemu.engine.ssh;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.PublicKey;
import org.apache.sshd.common.config.keys.KeyUtils;
import org.apache.sshd.common.config.keys.PublicKeyEntry;
import org.apache.sshd.common.config.keys.writer.openssh.OpenSSHKeyPairResourceWriter;
import org.apache.sshd.common.keyprovider.KeyPairProvider;

/**
 * An Ed25519 key pair generated for one VM and held in memory only. The same type serves both
 * sides: the client key a build logs in with, and the guest host key we generate before boot and
 * pin, so that the very first connection is already verified and never trusts on first use.
 */
public final class SshKeyPair {
    private final KeyPair keyPair;
    private final String comment;
    private String privateText;

    private SshKeyPair(KeyPair keyPair, String comment) {
        this.keyPair = keyPair;
        this.comment = comment;
    }

    public static SshKeyPair generate(String comment) {
        try {
            return new SshKeyPair(KeyUtils.generateKeyPair(KeyPairProvider.SSH_ED25519, 256), comment);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot generate an Ed25519 key (is net.i2p.crypto:eddsa on the class path?)", e);
        }
    }

    public KeyPair keyPair() {
        return keyPair;
    }

    public PublicKey publicKey() {
        return keyPair.getPublic();
    }

    /** {@code ssh-ed25519 AAAA... comment}: the form authorized_keys, known_hosts and Jenkins take. */
    public String publicKeyLine() {
        return publicKeyLine(keyPair.getPublic()) + (comment == null ? "" : " " + comment);
    }

    public static String publicKeyLine(PublicKey key) {
        return PublicKeyEntry.toString(key);
    }

    public String fingerprint() {
        return KeyUtils.getFingerPrint(keyPair.getPublic());
    }

    /** The private key in OpenSSH's own format, unencrypted: for cloud-init's {@code ssh_keys} and the SSH launcher. */
    public synchronized String privateKeyOpenSsh() {
        // Encoded once: the format has a random check word, and callers compare and reuse the text.
        if (privateText != null) {
            return privateText;
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            OpenSSHKeyPairResourceWriter.INSTANCE.writePrivateKey(keyPair, comment == null ? "" : comment, null, out);
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalStateException("cannot encode the private key", e);
        }
        privateText = out.toString(StandardCharsets.US_ASCII);
        return privateText;
    }

    @Override
    public String toString() {
        return "SshKeyPair[" + fingerprint() + "]"; // never the private half
    }
}
