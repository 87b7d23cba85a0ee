#!/usr/bin/env bash
# The baseline every time-to-online figure is compared with: what a user would write by hand to
# boot a throw-away VM from the same image and wait for SSH. qemu-img overlay, a seed made with
# xorriso, qemu-system-x86_64 with the flags a user would pick, and ssh polled every 0.2 s.
#
#   bench/baseline.sh IMAGE_DIR WORK_DIR PORT
#
# Prints one line "online_ms=<ms from start to first successful ssh>" and cleans up after itself.
set -euo pipefail
image=$1 work=$2 port=$3
start=$(date +%s%N)
mkdir -p "$work"
cleanup() {
    [[ -n ${qemu_pid:-} ]] && kill "$qemu_pid" 2>/dev/null && wait "$qemu_pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

manifest=$image/manifest.json
field() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get(sys.argv[2]) or "")' "$manifest" "$1"; }

qemu-img create -q -f qcow2 -F qcow2 -b "$image/$(field disk)" "$work/overlay.qcow2"
ssh-keygen -q -t ed25519 -N '' -f "$work/id"
cat > "$work/meta-data" <<META
instance-id: baseline-$$
local-hostname: baseline
META
cat > "$work/user-data" <<USER
#cloud-config
users:
  - name: jenkins
    sudo: ALL=(ALL) NOPASSWD:ALL
    shell: /bin/bash
    ssh_authorized_keys:
      - $(cat "$work/id.pub")
USER
xorriso -as mkisofs -quiet -o "$work/seed.iso" -V cidata -J -R "$work/user-data" "$work/meta-data" 2>/dev/null

qemu-system-x86_64 -machine pc -accel tcg -m 1024 -smp 1 -display none \
    -kernel "$image/$(field kernel)" -initrd "$image/$(field initrd)" -append "$(field append)" \
    -drive file="$work/overlay.qcow2",if=virtio,format=qcow2 \
    -drive file="$work/seed.iso",media=cdrom,format=raw \
    -netdev user,id=n0,hostfwd=tcp:127.0.0.1:"$port"-:22 -device virtio-net-pci,netdev=n0 \
    -serial file:"$work/console.log" &
qemu_pid=$!

until ssh -q -i "$work/id" -p "$port" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
        -o ConnectTimeout=5 -o BatchMode=yes jenkins@127.0.0.1 true 2>/dev/null; do
    kill -0 "$qemu_pid" 2>/dev/null || { echo "qemu exited" >&2; exit 1; }
    sleep 0.2
done
echo "online_ms=$(( ($(date +%s%N) - start) / 1000000 ))"
