#!/usr/bin/env bash
#
# Builds a *stock* Debian 13 (trixie) cloud-style image for the tests: the kind of image users
# bring, not ours. Debian packages only (kernel, systemd, cloud-init, openssh-server, a JRE) with
# Debian's own configuration: none of this project's units, scripts or cloud-init settings, the
# default datasource list (so cloud-init probes as it does on a downloaded image), a partitioned
# disk, no SSH host keys and an empty machine id, as cloud image builders leave them.
#
#   images/stock-debian-13.sh OUT_DIR
#
# produces OUT_DIR/stock-debian-13/ laid out like a vendor's download folder, for
# `qemu-agents images pull ... --url file://...`:
#
#   disk.qcow2     MBR-partitioned disk, root filesystem on partition 1
#   vmlinuz        the kernel (published beside the disk, as Ubuntu and Fedora do)
#   initrd.img     its initramfs (Debian's default MODULES=most)
#   SHA256SUMS     checksums of the three
#   append         the kernel command line a user would take from the image's GRUB config
#
# Idempotent (exits at once when SHA256SUMS exists) and atomic (built next to the output, renamed
# into place). Must run as root (mmdebstrap root mode, mkfs.ext4 -d ownership). No loop devices:
# the filesystem is made with mkfs.ext4 -d and copied into the partitioned file at its offset.
set -euo pipefail

readonly NAME=stock-debian-13
readonly SUITE=trixie
readonly MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
readonly SECURITY_MIRROR=${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
readonly DISK_MIB=3072
readonly APPEND="root=/dev/vda1 ro console=ttyS0,115200"
readonly PACKAGES=(
    linux-image-amd64 initramfs-tools
    systemd-sysv systemd-resolved udev dbus netplan.io
    cloud-init cloud-guest-utils
    openssh-server sudo ca-certificates iproute2 netbase procps
    openjdk-21-jre-headless
)

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
[[ $# -eq 1 && $1 != -* ]] || { echo "usage: $0 OUT_DIR   (builds OUT_DIR/$NAME/)" >&2; exit 2; }
OUT_DIR=$1
FINAL=$OUT_DIR/$NAME
if [[ -f $FINAL/SHA256SUMS ]]; then
    log "$FINAL already built"
    exit 0
fi
[[ ! -e $FINAL ]] || { log "$FINAL exists without SHA256SUMS; remove it first"; exit 1; }
[[ $(id -u) -eq 0 ]] || { log "must run as root"; exit 1; }

mkdir -p "$OUT_DIR"
WORK=$(mktemp -d "$OUT_DIR/.$NAME.build.XXXXXX")
cleanup() {
    local rc=$?
    if [[ -d $WORK ]]; then
        grep -F " $WORK/" /proc/self/mounts | awk '{print $2}' | sort -r | xargs -r -n1 umount -l || true
        rm -rf --one-file-system "$WORK"
    fi
    ((rc == 0)) || log "FAILED (exit $rc)"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
ROOTFS=$WORK/rootfs
OUT=$WORK/$NAME
mkdir -p "$OUT"

log "mmdebstrap $SUITE into $WORK (a few minutes)"
# openjdk's postinst needs the man1 folder that minbase leaves out.
mmdebstrap --mode=root --variant=minbase --format=directory --arch=amd64 \
    --include="$(IFS=,; echo "${PACKAGES[*]}")" \
    --essential-hook='mkdir -p "$1/usr/share/man/man1"' \
    "$SUITE" "$ROOTFS" \
    "deb $MIRROR $SUITE main" "deb $MIRROR $SUITE-updates main" "deb $SECURITY_MIRROR $SUITE-security main" >&2

# What a cloud image builder leaves behind: no host-specific files, no host keys, an empty
# machine id; fstab by partition, checked at boot, as Debian's cloud images have it.
rm -f "$ROOTFS/etc/hostname" "$ROOTFS/etc/resolv.conf" "$ROOTFS"/etc/ssh/ssh_host_*
: > "$ROOTFS/etc/machine-id"
rm -f "$ROOTFS/var/lib/dbus/machine-id"
printf '127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n' > "$ROOTFS/etc/hosts"
printf '/dev/vda1 / ext4 rw,discard,errors=remount-ro 0 1\n' > "$ROOTFS/etc/fstab"
# Debian's cloud images: cloud-init renders the network as netplan, applied by systemd-networkd.
systemctl --root="$ROOTFS" --quiet enable systemd-networkd.service
cp -L "$ROOTFS/vmlinuz" "$OUT/vmlinuz"
cp -L "$ROOTFS/initrd.img" "$OUT/initrd.img"
printf '%s\n' "$APPEND" > "$OUT/append"

log "root filesystem and partitioned disk"
mkfs.ext4 -q -L root -d "$ROOTFS" "$WORK/root.ext4" "$((DISK_MIB - 2))M"
truncate -s "${DISK_MIB}M" "$WORK/disk.raw"
# One Linux partition from sector 2048 to the end, in an MBR written byte by byte (no partitioning
# tool on the host; the guest's growpart reads it with its own sfdisk).
le32() { local v=$1; printf '\\x%02x\\x%02x\\x%02x\\x%02x' $((v & 255)) $((v >> 8 & 255)) $((v >> 16 & 255)) $((v >> 24 & 255)); }
entry="\\x00\\xfe\\xff\\xff\\x83\\xfe\\xff\\xff$(le32 2048)$(le32 $((DISK_MIB * 2048 - 2048)))"
printf "$entry" | dd of="$WORK/disk.raw" bs=1 seek=446 conv=notrunc status=none
printf '\x55\xaa' | dd of="$WORK/disk.raw" bs=1 seek=510 conv=notrunc status=none
dd if="$WORK/root.ext4" of="$WORK/disk.raw" bs=1M seek=1 conv=notrunc,sparse status=none
qemu-img convert -f raw -O qcow2 "$WORK/disk.raw" "$OUT/disk.qcow2"
(cd "$OUT" && sha256sum disk.qcow2 vmlinuz initrd.img > SHA256SUMS)
mv -T "$OUT" "$FINAL"
log "built $FINAL: $(du -sh "$FINAL" | cut -f1)"
