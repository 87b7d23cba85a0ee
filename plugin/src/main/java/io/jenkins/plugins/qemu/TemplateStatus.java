package io.jenkins.plugins.qemu;

import io.jenkins.plugins.qemu.engine.cloud.CapacityLedger;
import java.util.ArrayList;
import java.util.List;

/**
 * One row of a QEMU cloud's page: a template, how many VMs of it are booked now (booting,
 * running, its snapshot boot, a trial), and whether it can boot or why not, so an administrator
 * sees a failing template and its back-off where they look rather than in the log.
 */
public final class TemplateStatus {
    private final String labels;
    private final String image;
    private final int vms;
    private final String status;

    TemplateStatus(String labels, String image, int vms, String status) {
        this.labels = labels;
        this.image = image;
        this.vms = vms;
        this.status = status;
    }

    static List<TemplateStatus> of(QemuCloud cloud) {
        QemuEngines engines = QemuEngines.get();
        CapacityLedger ledger = engines.ledgers().get(cloud.getId());
        List<TemplateStatus> rows = new ArrayList<>();
        for (QemuTemplate t : cloud.candidates()) {
            String key = cloud.templateKey(t);
            String blocked = cloud.blockage(t);
            if (blocked == null && cloud.usesHosts()) {
                blocked = QemuHosts.get().probes().refusal(key); // why its last VM found no host; null once one did
            }
            String status = blocked != null ? blocked
                    : engines.backoff().lastFailure(key).map(f -> "ready again after " + f.failuresInARow()
                            + " failed boots in a row; last: " + f.reason()).orElse("ready");
            rows.add(new TemplateStatus(t.getLabels(), t.getImage(), ledger == null ? 0 : ledger.count(key), status));
        }
        return rows;
    }

    public String getLabels() { return labels; }
    public String getImage() { return image; }
    public int getVms() { return vms; }
    public String getStatus() { return status; }
}
