package io.jenkins.plugins.qemu.engine.image;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;

/**
 * What the engine found out about an image by booting it, as opposed to what its manifest
 * declares: {@code probed.json} beside the manifest, written after each warm-snapshot build (the
 * one boot per template the engine makes for itself). {@code cloudInit} is the guest's
 * {@code cloud-init --version} or "absent"; {@code fastPathUnit} whether our fw_cfg unit is
 * installed; {@code warmStart} "ok (image service)", "ok (installed by cloud-init)" or
 * "failed: why"; {@code systemd} the guest's systemd version and {@code networkd} whether
 * systemd-networkd is enabled, which together say whether a cold boot can take its identity as
 * systemd credentials instead of through cloud-init ({@link #takesSystemdCredentials()}). A pulled
 * image thus learns what it supports from its first snapshot build, and {@code images list} shows both.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
public record ImageProbe(String cloudInit, Boolean fastPathUnit, String warmStart, String checkedAt, Integer systemd,
        Boolean networkd) {
    /**
     * The first systemd that has everything the credentials identity uses: {@code tmpfiles.extra}
     * with base64 arguments ({@code ~}) and {@code network.network.*} credentials (both 254).
     */
    public static final int SYSTEMD_FOR_CREDENTIALS = 254;
    public static final String FILE = "probed.json";
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** A probe without the systemd facts (a file written before they were probed, or a failed probe). */
    public ImageProbe(String cloudInit, Boolean fastPathUnit, String warmStart, String checkedAt) {
        this(cloudInit, fastPathUnit, warmStart, checkedAt, null, null);
    }

    /**
     * The guest command whose output {@link #fromGuest} reads: exactly four lines (each answer is
     * cut to its first line, and an empty answer is an empty line), no side effects. systemd 257
     * prints "not-found" for a unit it does not have, older ones nothing.
     */
    public static final String GUEST_COMMAND = "echo \"$(cloud-init --version 2>&1 | head -n1)\";"
            + " echo \"$(systemctl is-enabled qemu-agents-fastpath.service 2>/dev/null | head -n1)\";"
            + " echo \"$(systemctl --version 2>/dev/null | head -n1)\";"
            + " echo \"$(systemctl is-enabled systemd-networkd.service 2>/dev/null | head -n1)\"";

    /** Reads {@link #GUEST_COMMAND}'s output; the warm-start verdict is added by the caller. */
    public static ImageProbe fromGuest(String output, Instant now) {
        String[] lines = output.replace("\r", "").split("\n", -1); // not stripped: an empty first answer keeps its line
        String ci = lines.length > 0 ? lines[0].strip() : "";
        boolean hasCloudInit = ci.matches("(?i).*cloud-init[^ ]* \\d.*") || ci.matches("\\d+\\.\\d+.*");
        boolean unit = lines.length > 1 && lines[1].strip().equals("enabled");
        // "systemd 257 (257.13-1~deb13u1)": the number after the name; anything else says nothing.
        java.util.regex.Matcher v = lines.length > 2
                ? java.util.regex.Pattern.compile("^systemd (\\d+)\\b").matcher(lines[2].strip()) : null;
        Integer systemd = v != null && v.find() ? Integer.valueOf(v.group(1)) : null;
        boolean networkd = lines.length > 3 && lines[3].strip().equals("enabled");
        return new ImageProbe(hasCloudInit ? ci : "absent", unit, null, now.toString(), systemd, networkd);
    }

    public ImageProbe withWarmStart(String verdict) {
        return new ImageProbe(cloudInit, fastPathUnit, verdict, checkedAt, systemd, networkd);
    }

    /**
     * Whether a cold boot of this image can take its identity as systemd credentials
     * ({@code seed.SystemdCredentials}): a systemd new enough for all of them, and systemd-networkd
     * enabled to apply the stated network (another network manager would leave the SSH NIC without
     * an address, and the boot would time out).
     */
    public boolean takesSystemdCredentials() {
        return systemd != null && systemd >= SYSTEMD_FOR_CREDENTIALS && Boolean.TRUE.equals(networkd);
    }

    public boolean cloudInitAbsent() {
        return "absent".equals(cloudInit);
    }

    /** The image's last probe, or null if it was never booted for a snapshot (or the file is unreadable). */
    public static ImageProbe read(Path imageDir) {
        try {
            return JSON.readValue(Files.readAllBytes(imageDir.resolve(FILE)), ImageProbe.class);
        } catch (IOException e) {
            return null; // missing or unreadable: a probe is advice, the manifest still describes the image
        }
    }

    /** Replaces the image's probe atomically, so readers see the old file or the new one. */
    public void write(Path imageDir) throws IOException {
        Path tmp = Files.createTempFile(imageDir, ".probed-", ".json");
        try {
            Files.write(tmp, toJson().getBytes(StandardCharsets.UTF_8));
            Files.move(tmp, imageDir.resolve(FILE), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    String toJson() {
        try {
            return JSON.writeValueAsString(this) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a probe record always serialises", e);
        }
    }
}
