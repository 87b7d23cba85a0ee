package io.jenkins.plugins.qemu.engine.image;

import io.jenkins.plugins.qemu.engine.config.InvalidInputException;
import io.jenkins.plugins.qemu.engine.config.Validation;
import java.net.URI;

/**
 * What to pull into the catalog: a name, the disk's URL and how to trust it (its SHA-256, or a
 * published SHA256SUMS list naming it), optional kernel and initrd URLs for direct kernel boot
 * (each trusted the same way), and the facts the manifest records about the guest. Built and
 * validated by {@link #builder()}; every error names the option and the value.
 */
public record PullRequest(
        String name,
        URI url,
        String sha256,
        URI sha256Sums,
        String format,
        URI kernelUrl,
        String kernelSha256,
        URI initrdUrl,
        String initrdSha256,
        String append,
        String defaultUser,
        boolean cloudInit,
        Long minMemoryMiB,
        boolean replace) {

    public static Builder builder() {
        return new Builder();
    }

    /** Collects the options of a pull; {@link #build()} checks them together. */
    public static final class Builder {
        private String name;
        private URI url;
        private String sha256;
        private URI sha256Sums;
        private String format = DiskInspector.AUTO;
        private URI kernelUrl;
        private String kernelSha256;
        private URI initrdUrl;
        private String initrdSha256;
        private String append;
        private String defaultUser;
        private boolean cloudInit = true;
        private Long minMemoryMiB;
        private boolean replace;

        public Builder name(String v) { name = v; return this; }
        public Builder url(URI v) { url = v; return this; }
        public Builder sha256(String v) { sha256 = v; return this; }
        public Builder sha256Sums(URI v) { sha256Sums = v; return this; }
        public Builder format(String v) { format = v; return this; }
        public Builder kernel(URI v, String sha) { kernelUrl = v; kernelSha256 = sha; return this; }
        public Builder initrd(URI v, String sha) { initrdUrl = v; initrdSha256 = sha; return this; }
        public Builder append(String v) { append = v; return this; }
        public Builder defaultUser(String v) { defaultUser = v; return this; }
        public Builder cloudInit(boolean v) { cloudInit = v; return this; }
        public Builder minMemoryMiB(Long v) { minMemoryMiB = v; return this; }
        public Builder replace(boolean v) { replace = v; return this; }

        public PullRequest build() {
            Validation.imageName("name", name);
            Downloader.checkUrl("--url", Validation.required("--url", url));
            if (sha256Sums != null) {
                Downloader.checkUrl("--sha256sums", sha256Sums);
            }
            String sha = checksum("--sha256", sha256, "--url");
            if (kernelUrl != null) {
                Downloader.checkUrl("--kernel-url", kernelUrl);
            }
            String kSha = kernelUrl == null ? none("--kernel-sha256", kernelSha256) : checksum("--kernel-sha256", kernelSha256, "--kernel-url");
            if (initrdUrl != null) {
                Downloader.checkUrl("--initrd-url", initrdUrl);
                if (kernelUrl == null) {
                    throw new InvalidInputException("--initrd-url", initrdUrl, "needs --kernel-url: an initrd is only used with direct kernel boot");
                }
            }
            String iSha = initrdUrl == null ? none("--initrd-sha256", initrdSha256) : checksum("--initrd-sha256", initrdSha256, "--initrd-url");
            if (append != null && kernelUrl == null) {
                throw new InvalidInputException("--append", append, "needs --kernel-url: QEMU takes a kernel command line only with -kernel");
            }
            Validation.kernelAppend("--append", append);
            if (defaultUser != null && !defaultUser.equals("root")) {
                Validation.userName("--default-user", defaultUser);
            }
            if (minMemoryMiB != null) {
                Validation.memoryMiB("--min-memory", minMemoryMiB);
            }
            return new PullRequest(name, url, sha, sha256Sums, DiskInspector.requireFormat("--format", format),
                    kernelUrl, kSha, initrdUrl, iSha, append, defaultUser, cloudInit, minMemoryMiB, replace);
        }

        /** A download is trusted by its own checksum or by the SHA256SUMS list; never by nothing. */
        private String checksum(String field, String hex, String urlField) {
            if (hex != null) {
                return Sha256.requireHex(field, hex);
            }
            if (sha256Sums == null) {
                throw new InvalidInputException(field, null, "is required for " + urlField + " (or give --sha256sums URL of a published checksum list)");
            }
            return null;
        }

        private static String none(String field, String hex) {
            if (hex != null) {
                throw new InvalidInputException(field, hex, "is given without the URL it would check");
            }
            return null;
        }
    }
}
