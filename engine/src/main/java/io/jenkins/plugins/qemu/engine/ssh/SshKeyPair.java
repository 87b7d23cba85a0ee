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

    /**
     * A key pair from the OpenSSH private-key text {@link #privateKeyOpenSsh()} wrote, e.g. kept
     * by a controller (encrypted, as a Jenkins {@code Secret}) to reconnect to a VM it adopts
     * after a restart. The error never quotes the text.
     */
    public static SshKeyPair fromOpenSsh(String privateKey, String comment) {
        try {
            java.util.Iterator<KeyPair> pairs = org.apache.sshd.common.util.security.SecurityUtils.loadKeyPairIdentities(null,
                    org.apache.sshd.common.NamedResource.ofName("VM key"),
                    new java.io.ByteArrayInputStream(privateKey.getBytes(StandardCharsets.US_ASCII)), null).iterator();
            if (!pairs.hasNext()) {
                throw new IllegalArgumentException("privateKey: no key in the given OpenSSH private-key text");
            }
            SshKeyPair k = new SshKeyPair(pairs.next(), comment);
            k.privateText = privateKey;
            return k;
        } catch (IOException | GeneralSecurityException | RuntimeException e) {
            throw new IllegalArgumentException("privateKey: not an unencrypted OpenSSH private key (" + e.getClass().getSimpleName() + ")", e);
        }
    }

    /** The public key of an {@code ssh-ed25519 AAAA... [comment]} line, e.g. a pinned host key. */
    public static PublicKey parsePublicKeyLine(String line) {
        try {
            return PublicKeyEntry.parsePublicKeyEntry(line.strip()).resolvePublicKey(null, java.util.Map.of(),
                    org.apache.sshd.common.config.keys.PublicKeyEntryResolver.FAILING);
        } catch (IOException | GeneralSecurityException | RuntimeException e) {
            throw new IllegalArgumentException("hostKey: not a public key line '" + line + "': " + e.getMessage(), e);
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
