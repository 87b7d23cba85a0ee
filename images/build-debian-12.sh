#!/usr/bin/env bash
#
# Build the default guest image of the QEMU Agents plugin: Debian 12 (bookworm), amd64.
#
#   images/build-debian-12.sh OUT_DIR
#
# produces OUT_DIR/debian-12/ with
#
#   disk.qcow2     ext4 root filesystem written straight onto the virtual disk (no partition
#                  table, no boot loader): the plugin boots it with -kernel/-initrd, which skips
#                  firmware and GRUB, and opens a throw-away qcow2 overlay on top of it per build
#   vmlinuz        the guest kernel (linux-image-amd64)
#   initrd.img     its initramfs
#   manifest.json  what the plugin's ImageCatalog reads (kernel command line, sha256, sizes)
#
# Only Debian packages are used (mmdebstrap from deb.debian.org); nothing is compiled and no
# cloud image is downloaded. No loop devices, no mounts of the disk: the root filesystem is
# assembled in a directory and turned into an ext4 image with `mkfs.ext4 -d`.
#
# The image is configured per VM by cloud-init from a NoCloud seed (ISO9660 volume "cidata" on
# an IDE CD-ROM) that the plugin generates: user + authorized key, pre-generated SSH host keys
# (`ssh_keys`), hostname. Nothing VM-specific is baked in: no SSH host keys, empty machine-id,
# no hostname.
#
# Idempotent: exits 0 at once when OUT_DIR/debian-12/manifest.json exists. Atomic: everything
# is built in a temporary directory next to the output and renamed into place at the very end,
# so a crashed or concurrent build never leaves a half-built image where the plugin looks.
#
# Must run as root (mmdebstrap root mode, and mkfs.ext4 -d must record root ownership).
#
# Environment overrides (all optional):
#   DEBIAN_MIRROR           default http://deb.debian.org/debian
#   DEBIAN_SECURITY_MIRROR  default http://deb.debian.org/debian-security
#   DISK_SIZE               virtual size of the disk, default 4G (qcow2 only stores what is used)

set -euo pipefail

readonly NAME=debian-12
readonly SUITE=bookworm
readonly MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
readonly SECURITY_MIRROR=${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
readonly DISK_SIZE=${DISK_SIZE:-4G}
readonly DEFAULT_USER=debian          # Debian's cloud.cfg default_user
readonly MIN_MEMORY_MIB=512           # JVM of a Jenkins agent + cloud-init; 1024 recommended

# Kernel command line for direct kernel boot.
#  root=/dev/vda rw   the disk is attached as virtio-blk and has no partition table; mounted
#                     read-write at once, never fsck'ed (fstab pass 0, see below)
#  console=ttyS0      kernel + systemd + cloud-init output on the first serial port, so the
#                     host can keep it with `-serial file:console.log`
#  edd=off            skip the BIOS EDD probe in the boot stub (useless here)
#  net.ifnames=0      NIC is always eth0, whatever PCI slot the machine type puts it in
#  mitigations=off    no Spectre/Meltdown workarounds: they only slow a TCG guest down
#  no_timer_check     skip the IO-APIC timer check: on a host so loaded that the vCPU is starved
#                     for a moment it fails and the kernel panics ("IO-APIC + timer doesn't work!"),
#                     as a snapshot boot here did under a load of 20; cloud images set it for this
readonly APPEND="root=/dev/vda rw console=ttyS0,115200n8 edd=off net.ifnames=0 mitigations=off no_timer_check"

# Packages on top of the "minbase" variant (Essential + priority required). Recommends are not
# installed (mmdebstrap default), so everything needed is listed explicitly.
readonly PACKAGES=(
    linux-image-amd64        # full kernel: the -cloud flavour lacks AHCI, i.e. the seed CD on q35
    initramfs-tools zstd     # initrd, zstd-compressed (faster to unpack than gzip under TCG)
    systemd-sysv udev dbus   # init; dbus so hostnamectl (used by cloud-init) works
    cloud-init               # NoCloud seed -> user, keys, hostname, network
    ifupdown isc-dhcp-client # network: cloud-init renders ENI (static from the seed's
                             # network-config, or DHCP as fallback); ifup applies it
    iproute2 netbase
    openssh-server
    sudo
    ca-certificates
    openjdk-17-jre-headless  # to run the Jenkins agent (remoting) later
    qemu-guest-agent         # for later use (starts only if the virtio-serial port exists)
    procps less
)

# Trim documentation, man pages, translations and kernel drivers for hardware a QEMU guest
# never sees: a smaller image copies and caches faster. Copyright files are kept.
readonly DPKG_OPTS=(
    'path-exclude=/usr/share/man/*'
    'path-exclude=/usr/share/locale/*'
    'path-include=/usr/share/locale/locale.alias'
    'path-exclude=/usr/share/doc/*'
    'path-include=/usr/share/doc/*/copyright'
    'path-exclude=/usr/share/info/*'
    # bookworm's linux-image ships its modules under /lib/modules (merged-usr alias of
    # /usr/lib/modules); both spellings are listed so this survives the move.
    'path-exclude=/lib/modules/*/kernel/sound/*'
    'path-exclude=/lib/modules/*/kernel/drivers/gpu/*'
    'path-exclude=/lib/modules/*/kernel/drivers/media/*'
    'path-exclude=/lib/modules/*/kernel/drivers/net/wireless/*'
    'path-exclude=/lib/modules/*/kernel/drivers/infiniband/*'
    'path-exclude=/lib/modules/*/kernel/drivers/staging/*'
    'path-exclude=/lib/modules/*/kernel/drivers/bluetooth/*'
    'path-exclude=/lib/modules/*/kernel/drivers/isdn/*'
    'path-exclude=/lib/modules/*/kernel/drivers/iio/*'
    'path-exclude=/lib/modules/*/kernel/net/wireless/*'
    'path-exclude=/lib/modules/*/kernel/net/mac80211/*'
    'path-exclude=/lib/modules/*/kernel/net/bluetooth/*'
    'path-exclude=/usr/lib/modules/*/kernel/sound/*'
    'path-exclude=/usr/lib/modules/*/kernel/drivers/gpu/*'
    'path-exclude=/usr/lib/modules/*/kernel/drivers/media/*'
    'path-exclude=/usr/lib/modules/*/kernel/drivers/net/wireless/*'
    'path-exclude=/usr/lib/modules/*/kernel/drivers/infiniband/*'
    'path-exclude=/usr/lib/modules/*/kernel/drivers/staging/*'
    'path-exclude=/usr/lib/modules/*/kernel/drivers/bluetooth/*'
    'path-exclude=/usr/lib/modules/*/kernel/drivers/isdn/*'
    'path-exclude=/usr/lib/modules/*/kernel/drivers/iio/*'
    'path-exclude=/usr/lib/modules/*/kernel/net/wireless/*'
    'path-exclude=/usr/lib/modules/*/kernel/net/mac80211/*'
    'path-exclude=/usr/lib/modules/*/kernel/net/bluetooth/*'
)

START=$SECONDS
# The guest files this script installs (guest/) live beside it, in the repository and in the jar.
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# Recorded in the manifest: scripts/host-setup.sh rebuilds a cached image built by another
# revision of this script or of the guest files it installs.
SCRIPT_SHA=$(cat "${BASH_SOURCE[0]}" "$HERE"/guest/* | sha256sum | cut -d' ' -f1)
log() { printf '[%s +%4ds] %s\n' "$(date +%H:%M:%S)" $((SECONDS - START)) "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

if [[ $# -ne 1 || $1 == -* ]]; then
    echo "usage: $0 OUT_DIR   (builds OUT_DIR/$NAME/)" >&2
    exit 2
fi
OUT_DIR=$1
FINAL=$OUT_DIR/$NAME

if [[ -f $FINAL/manifest.json ]]; then
    log "$FINAL already built (manifest.json exists); delete the directory to rebuild"
    exit 0
fi
if [[ -e $FINAL ]]; then
    die "$FINAL exists but has no manifest.json (not built by this script?); remove it first"
fi
[[ $(id -u) -eq 0 ]] || die "must run as root (mmdebstrap root mode, mkfs.ext4 -d ownership)"

# --- host tools ------------------------------------------------------------------------------
# CI machines may be fresh: install only what is missing, and only then touch apt at all.
need_pkgs=()
command -v mmdebstrap >/dev/null || need_pkgs+=(mmdebstrap)
command -v mkfs.ext4  >/dev/null || need_pkgs+=(e2fsprogs)
command -v qemu-img   >/dev/null || need_pkgs+=(qemu-utils)
command -v sha256sum  >/dev/null || need_pkgs+=(coreutils)
[[ -f /usr/share/keyrings/debian-archive-keyring.gpg ]] || need_pkgs+=(debian-archive-keyring)
if ((${#need_pkgs[@]})); then
    log "installing missing host packages: ${need_pkgs[*]}"
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need_pkgs[@]}"
fi

# --- work directory --------------------------------------------------------------------------
# Next to the output so the final rename is on the same filesystem (atomic).
mkdir -p "$OUT_DIR"
WORK=$(mktemp -d "$OUT_DIR/.$NAME.build.XXXXXX")
cleanup() {
    local rc=$?
    # mmdebstrap unmounts /proc, /sys, /dev of the chroot itself, also on failure; this is the
    # belt to its braces so rm never walks into a host filesystem.
    if [[ -d $WORK ]]; then
        grep -F " $WORK/" /proc/self/mounts | awk '{print $2}' | sort -r | xargs -r -n1 umount -l || true
        rm -rf --one-file-system "$WORK"
    fi
    ((rc == 0)) || log "FAILED (exit $rc); removed $WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
ROOTFS=$WORK/rootfs
OUT=$WORK/$NAME
mkdir -p "$OUT"
log "building $NAME in $WORK"

# --- root filesystem -------------------------------------------------------------------------
# The initramfs configuration is written by an essential hook, i.e. before the kernel package
# is installed, so the kernel's postinst builds the initrd with it:
#  - MODULES=list: only what mounting the root filesystem needs (the disk is always virtio-blk,
#    the filesystem ext4; crc32c_generic because ext4's metadata checksums ask for "crc32c"
#    through the crypto API, which no module dependency pulls in, and TCG's default CPU has no
#    SSE4.2 for crc32c-intel). MODULES=most gives a 28 MB initrd that loads hundreds of
#    modules on every boot; MODULES=dep would guess from the build host, not the guest.
#    Everything else (network, CD-ROM, ISO9660) is loaded by udev from the root filesystem.
#    The list goes to modules.d/ rather than /etc/initramfs-tools/modules, a conffile of
#    initramfs-tools that dpkg would otherwise ask about.
#  - COMPRESS=zstd: decompresses fastest under TCG.
log "mmdebstrap $SUITE (variant minbase) ..."
t=$SECONDS
mmdebstrap_args=(--mode=root --variant=minbase --format=directory --arch=amd64)
mmdebstrap_args+=(--include="$(IFS=,; echo "${PACKAGES[*]}")")
for o in "${DPKG_OPTS[@]}"; do mmdebstrap_args+=(--dpkgopt="$o"); done
mmdebstrap_args+=(--essential-hook='mkdir -p "$1/etc/initramfs-tools/conf.d" "$1/usr/share/initramfs-tools/modules.d"')
mmdebstrap_args+=(--essential-hook='printf "MODULES=list\nCOMPRESS=zstd\n" > "$1/etc/initramfs-tools/conf.d/qemu-agents.conf"')
mmdebstrap_args+=(--essential-hook='printf "%s\n" virtio_pci virtio_blk crc32c_generic ext4 > "$1/usr/share/initramfs-tools/modules.d/qemu-agents"')
# openjdk's postinst registers its man page with update-alternatives, which fails when the
# man1 directory is missing (it is, since /usr/share/man is path-excluded above).
mmdebstrap_args+=(--essential-hook='mkdir -p "$1/usr/share/man/man1"')
mmdebstrap "${mmdebstrap_args[@]}" "$SUITE" "$ROOTFS" \
    "deb $MIRROR $SUITE main" \
    "deb $MIRROR $SUITE-updates main" \
    "deb $SECURITY_MIRROR $SUITE-security main"
log "mmdebstrap done in $((SECONDS - t))s"

# --- configuration ---------------------------------------------------------------------------
log "configuring the root filesystem"

# fstab: the disk has no partition table, the filesystem is /dev/vda itself. fsck pass 0: every
# VM boots a fresh overlay of a clean filesystem, checking it would only cost boot time.
cat > "$ROOTFS/etc/fstab" <<'EOF'
# <file system> <mount point> <type> <options>                  <dump> <pass>
/dev/vda        /             ext4   rw,errors=remount-ro        0      0
EOF

# Nothing host- or VM-specific: mmdebstrap copied the build host's hostname and resolv.conf.
# cloud-init sets the hostname from meta-data; dhclient writes resolv.conf from the lease.
rm -f "$ROOTFS/etc/hostname" "$ROOTFS/etc/resolv.conf"
cat > "$ROOTFS/etc/hosts" <<'EOF'
127.0.0.1 localhost
::1       localhost ip6-localhost ip6-loopback
EOF
# Empty (not missing, not "uninitialized") machine-id: systemd generates a fresh one each boot
# without treating it as a "first boot" (which would re-apply unit presets).
: > "$ROOTFS/etc/machine-id"
rm -f "$ROOTFS/var/lib/dbus/machine-id"

# No SSH host keys in the image: every VM gets its own, pre-generated by the plugin and handed
# over by cloud-init (`ssh_keys`), so the plugin can pin them in known_hosts. Debian has no
# sshd-keygen unit, so nothing regenerates them behind cloud-init's back.
rm -f "$ROOTFS"/etc/ssh/ssh_host_*

# Password logins are never wanted. The setting goes exactly where cloud-init 22.4 writes
# `ssh_pwauth` when sshd_config has "Include sshd_config.d/*.conf" (Debian's does): into
# sshd_config.d/50-cloud-init.conf, mode 0600. With the file already saying "no", the
# set-passwords module (cloud-config stage, which runs *after* sshd has started) finds nothing to
# change for `ssh_pwauth: false` and does not run `systemctl restart ssh`. Without this, sshd is
# restarted ~10-30 s after it first accepts connections, so the plugin's first logins fail with
# "Connection closed by remote host" / "Connection reset by peer".
install -d -m 0755 "$ROOTFS/etc/ssh/sshd_config.d"
printf 'PasswordAuthentication no\n' > "$ROOTFS/etc/ssh/sshd_config.d/50-cloud-init.conf"
chmod 0600 "$ROOTFS/etc/ssh/sshd_config.d/50-cloud-init.conf"

# Nobody reads a message of the day on an agent, but pam_motd runs a shell, run-parts and uname for
# every SSH session, the first login of every VM and every agent launch included: hundreds of
# milliseconds under TCG. Removed from sshd's PAM stack only.
sed -i '/pam_motd\.so/d' "$ROOTFS/etc/pam.d/sshd"
grep -q pam_motd "$ROOTFS/etc/pam.d/sshd" && die "pam_motd is still in /etc/pam.d/sshd"

# cloud-init: our image, our datasource. Restricting the list avoids probing (and timing out
# on) EC2/OpenStack/... metadata services that do not exist here.
cat > "$ROOTFS/etc/cloud/cloud.cfg.d/90-qemu-agents.cfg" <<'EOF'
# QEMU Agents image: configured only from a NoCloud seed (ISO9660 volume "cidata").
datasource_list: [ NoCloud, None ]
# /etc/hosts gets the seeded hostname, so sudo and Java resolve it without DNS.
manage_etc_hosts: true

# Module lists: Debian's defaults minus what has no use in a throw-away CI VM or needs software
# that is not installed. Each module costs time under TCG; grub-dpkg (no GRUB here, ~8 s) and
# apt-configure (~3 s) were the most expensive. Kept: everything a seed from the plugin may
# reasonably use (users, keys, hostname, write_files, bootcmd/runcmd, packages, timezone,
# CA certificates, power_state).
cloud_init_modules:
  - seed_random
  - bootcmd
  - write-files
  - growpart
  - resizefs
  - disk_setup
  - mounts
  - set_hostname
  - update_hostname
  - update_etc_hosts
  - ca-certs
  - users-groups
  - ssh
cloud_config_modules:
  - set-passwords
  - timezone
  - runcmd
cloud_final_modules:
  - package-update-upgrade-install
  - write-files-deferred
  - scripts-vendor
  - scripts-per-once
  - scripts-per-boot
  - scripts-per-instance
  - scripts-user
  - final-message
  - power-state-change
EOF

# Units that only make sense on a long-lived machine: apt's daily download/upgrade would change
# the agent under a running build, e2scrub needs LVM (and e2scrub_reap cost ~8 s at boot), the
# others are housekeeping that a VM living for one build never needs.
for unit in apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer e2scrub_all.timer \
            e2scrub_reap.service fstrim.timer; do
    if [[ -e $ROOTFS/lib/systemd/system/$unit ]]; then
        systemctl --root="$ROOTFS" --quiet disable "$unit"
    fi
done

# The engine's fast path: when QEMU is given the VM's identity as fw_cfg items and the kernel
# command line says qemu-agents.fastpath=1 (it then also says cloud-init=disabled), this unit
# sets host name, agent user, authorized key, host key, sudo and the static user-mode network
# before sshd starts, in a few lines of shell instead of two cloud-init (Python) stages. Without
# that switch it does nothing and cloud-init configures the VM from its seed as usual.
install -d -m 0755 "$ROOTFS/usr/local/lib/qemu-agents"
cat > "$ROOTFS/usr/local/lib/qemu-agents/fastpath" <<'EOF'
#!/bin/sh
# QEMU Agents fast path: apply the identity the engine passed through fw_cfg.
set -eu
d=/sys/firmware/qemu_fw_cfg/by_name/opt/io.jenkins.qemu-agents
item() { cat "$d/$1/raw"; }
[ -d "$d" ] || { echo "qemu-agents-fastpath: no identity in fw_cfg" >&2; exit 1; }

name=$(item hostname)
user=$(item user)
echo "$name" > /etc/hostname
hostname "$name"
printf '127.0.1.1 %s\n' "$name" >> /etc/hosts

umask 077
item host_key > /etc/ssh/ssh_host_ed25519_key
item host_key.pub > /etc/ssh/ssh_host_ed25519_key.pub

useradd --create-home --shell /bin/bash --user-group "$user"
install -d -m 0700 -o "$user" -g "$user" "/home/$user/.ssh"
item authorized_key > "/home/$user/.ssh/authorized_keys"
chown "$user:$user" "/home/$user/.ssh/authorized_keys"
if [ "$(item sudo)" = yes ]; then
    printf '%s ALL=(ALL) NOPASSWD:ALL\n' "$user" > /etc/sudoers.d/90-qemu-agents
    chmod 0440 /etc/sudoers.d/90-qemu-agents
fi

# A template asked for a disk larger than the image: the overlay is bigger, the filesystem grows
# online to fill it (the disk has no partition table, so there is nothing else to grow).
if [ -d "$d/grow_fs" ]; then
    resize2fs /dev/vda >/dev/null 2>&1 || echo "qemu-agents-fastpath: resize2fs /dev/vda failed" >&2
fi

# A boot that will be saved as a warm snapshot: the agent user's systemd instance is started at
# boot and kept (linger), so it is part of the saved state and no login after a restore waits
# for it to start.
if grep -qw 'qemu-agents.warm=1' /proc/cmdline; then
    mkdir -p /var/lib/systemd/linger
    : > "/var/lib/systemd/linger/$user"
fi

# QEMU's user-mode network has fixed addresses: three ip calls instead of ifup and its hooks.
umask 022
ip link set lo up
# udev may still be loading virtio_net this early; wait for the NIC rather than order after udev.
i=0
while [ ! -e /sys/class/net/eth0 ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
ip link set eth0 up
ip addr add 10.0.2.15/24 dev eth0
ip route add default via 10.0.2.2
echo 'nameserver 10.0.2.3' > /etc/resolv.conf
EOF
chmod 0755 "$ROOTFS/usr/local/lib/qemu-agents/fastpath"
# Loaded by systemd-modules-load with the others rather than by a modprobe of its own.
echo qemu_fw_cfg > "$ROOTFS/etc/modules-load.d/qemu-agents.conf"
cat > "$ROOTFS/etc/systemd/system/qemu-agents-fastpath.service" <<'EOF'
[Unit]
Description=QEMU Agents identity from fw_cfg (engine fast path)
ConditionKernelCommandLine=qemu-agents.fastpath=1
DefaultDependencies=no
After=local-fs.target systemd-modules-load.service
Before=sysinit.target network-pre.target ssh.service
Wants=network-pre.target

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/local/lib/qemu-agents/fastpath

[Install]
WantedBy=sysinit.target
EOF
systemctl --root="$ROOTFS" --quiet enable qemu-agents-fastpath.service

# Warm snapshots: a VM booted with qemu-agents.warm=1 is saved (RAM and devices) once and then
# restored for every build, so each restored clone must be given an identity of its own. This
# service waits on a virtio-serial port that only the host's QEMU process can write to (no
# network path leads to it), and when the host sends the clone's identity it sets the clock,
# mixes in host entropy, replaces host name, host key and authorized key, makes sshd reload its
# host key and answers "ok" only once the reloaded sshd listens, so the host can never reach the
# snapshot's placeholder key. The kernel's RNG is reseeded by the vmgenid device on restore.
install -m 0755 "$HERE/guest/qemu-agents-identity" "$ROOTFS/usr/local/lib/qemu-agents/identity"
cat > "$ROOTFS/etc/systemd/system/qemu-agents-identity.service" <<'EOF'
[Unit]
Description=QEMU Agents identity for a restored warm snapshot (virtio-serial)
ConditionKernelCommandLine=qemu-agents.warm=1
BindsTo=dev-virtio\x2dports-io.jenkins.qemu\x2dagents.0.device
After=dev-virtio\x2dports-io.jenkins.qemu\x2dagents.0.device ssh.service qemu-agents-fastpath.service

[Service]
Type=simple
ExecStart=/usr/local/lib/qemu-agents/identity

[Install]
WantedBy=multi-user.target
EOF
systemctl --root="$ROOTFS" --quiet enable qemu-agents-identity.service

# Kernel and initrd for direct kernel boot.
kver=$(ls "$ROOTFS/boot" | sed -n 's/^vmlinuz-//p' | sort -V | tail -n1)
[[ -n $kver ]] || die "no kernel found in $ROOTFS/boot"
cp "$ROOTFS/boot/vmlinuz-$kver" "$OUT/vmlinuz"
cp "$ROOTFS/boot/initrd.img-$kver" "$OUT/initrd.img"
log "kernel $kver: vmlinuz $(du -h "$OUT/vmlinuz" | cut -f1), initrd $(du -h "$OUT/initrd.img" | cut -f1)"
log "root filesystem: $(du -sh --one-file-system "$ROOTFS" | cut -f1)"

# --- disk image ------------------------------------------------------------------------------
# mkfs.ext4 -d copies the directory into the new filesystem (with owners, modes, xattrs), so no
# loop device or mount is needed. lazy_itable_init=0: otherwise every guest would zero the inode
# tables in the background on first mount (CPU and overlay writes in each VM).
log "making ext4 ($DISK_SIZE) and converting to qcow2"
t=$SECONDS
truncate -s "$DISK_SIZE" "$WORK/root.raw"
mkfs.ext4 -q -F -L debian-root -m 1 -E lazy_itable_init=0,lazy_journal_init=0 \
    -d "$ROOTFS" "$WORK/root.raw"
rm -rf --one-file-system "$ROOTFS"
qemu-img convert -f raw -O qcow2 "$WORK/root.raw" "$OUT/disk.qcow2"
rm -f "$WORK/root.raw"
log "disk done in $((SECONDS - t))s: $(du -h "$OUT/disk.qcow2" | cut -f1) on disk"

# --- manifest --------------------------------------------------------------------------------
sha=$(sha256sum "$OUT/disk.qcow2" | cut -d' ' -f1)
vsize=$(qemu-img info --output=json "$OUT/disk.qcow2" | sed -n 's/^ *"virtual-size": *\([0-9]*\).*/\1/p' | head -n1)
[[ -n $vsize ]] || die "could not read the virtual size of disk.qcow2"
cat > "$OUT/manifest.json" <<EOF
{
  "name": "$NAME",
  "format": "qcow2",
  "disk": "disk.qcow2",
  "kernel": "vmlinuz",
  "initrd": "initrd.img",
  "append": "$APPEND",
  "defaultUser": "$DEFAULT_USER",
  "cloudInit": true,
  "fastPath": "fw_cfg-1",
  "warmStart": "virtio-serial-1",
  "buildScriptSha256": "$SCRIPT_SHA",
  "minMemoryMiB": $MIN_MEMORY_MIB,
  "sha256": "$sha",
  "virtualSize": $vsize,
  "kernelVersion": "$kver",
  "addedAt": "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
}
EOF
chmod 0644 "$OUT"/*
chmod 0755 "$OUT"

# --- publish ---------------------------------------------------------------------------------
# rename(2) of a directory onto an existing non-empty one fails, so a concurrent build that won
# the race is detected instead of being overwritten (-T: never move *into* the target).
if ! mv -T "$OUT" "$FINAL" 2>/dev/null; then
    [[ -f $FINAL/manifest.json ]] && { log "$FINAL was built concurrently; keeping that one"; exit 0; }
    die "cannot rename $OUT to $FINAL"
fi
log "built $FINAL in $((SECONDS - START))s"
ls -l "$FINAL" >&2
