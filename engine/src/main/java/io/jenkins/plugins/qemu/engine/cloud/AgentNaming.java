package io.jenkins.plugins.qemu.engine.cloud;

import java.util.Locale;

/**
 * Names that tie Jenkins objects to VMs: the agent name is {@code <cloud>-<vmId>}, so an agent is
 * recognisable in the UI and its VM id readable from the name; the owner id tags every VM with
 * the controller that made it, so the reaper never touches another controller's VMs.
 */
public final class AgentNaming {
    /** Leaves room for "-qa-" and ten hex digits in a name that stays readable. */
    static final int MAX_CLOUD_PART = 40;
    private static final String UNSAFE = "?*/\\%!@#$^&|<>[]:;";

    private AgentNaming() {}

    /** A valid, unique Jenkins node name for this VM of this cloud. */
    public static String nodeName(String cloudName, String vmId) {
        StringBuilder b = new StringBuilder();
        String c = cloudName == null ? "" : cloudName.trim();
        for (int i = 0; i < c.length() && b.length() < MAX_CLOUD_PART; i++) {
            char ch = c.charAt(i);
            boolean bad = Character.isISOControl(ch) || Character.isWhitespace(ch) || UNSAFE.indexOf(ch) >= 0
                    || ch == '(' || ch == ')' || ch == '"' || ch == '\'';
            b.append(bad ? '-' : ch);
        }
        String prefix = b.toString().replaceAll("-{2,}", "-").replaceAll("^[-.]+|[-.]+$", "");
        return prefix.isEmpty() ? vmId : prefix + "-" + vmId;
    }

    /**
     * An engine owner id from a controller's instance id (any text): lower-case letters, digits
     * and '-', at most 64 characters, as the engine requires.
     */
    public static String ownerId(String instanceId) {
        String cleaned = instanceId == null ? "" : instanceId.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9-]", "");
        if (cleaned.isEmpty()) {
            throw new IllegalArgumentException("an owner id needs a non-empty instance id");
        }
        String id = "jenkins-" + cleaned;
        return id.length() > 64 ? id.substring(0, 64) : id;
    }
}
