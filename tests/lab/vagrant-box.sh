#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# make vagrant-lab's box: a small Debian 12 box for vagrant-libvirt, built here
# from Debian packages (no box can be downloaded on this machine).
#
# usage: tests/lab/vagrant-box.sh OUT.box   (root; mmdebstrap, mkfs.ext4, qemu-img)
#
# The root file system (mmdebstrap --variant=minbase) is made into an ext4
# image with no partition table and no bootloader (mkfs.ext4 -d), then qcow2.
# The box carries the kernel and initrd beside the disk and its own
# Vagrantfile boots them directly (lv.kernel, lv.initrd), with what a
# libvirt without KVM needs (domain type qemu, CPU model qemu64) and an
# isolated management network. A user with KVM keeps debian/bookworm64:
# nothing here is in the project's Vagrantfile.
#
# Inside: systemd, udev, sshd, sudo, systemd-networkd (DHCP on eth0, the
# management network; Vagrant writes eth1's static address as a networkd
# file), the user vagrant with Vagrant's insecure public key (the one the
# vagrant package ships: first contact only, `vagrant up` replaces it), the
# libraries the vxsec .debs need (libmnl0 libsodium23 libprotobuf-c1
# libssl3), and the lab's tools (iproute2, ping, tcpdump, kmod).
set -euo pipefail
out=${1:?usage: vagrant-box.sh OUT.box}
[ "$(id -u)" = 0 ] || { echo "vagrant-box.sh: run as root" >&2; exit 1; }
key=$(find /usr/share/rubygems-integration/all/gems /usr/share/vagrant /opt/vagrant \
	-path '*/keys/vagrant.pub' 2>/dev/null | head -n 1 || true)
[ -n "$key" ] || { echo "vagrant-box.sh: no vagrant.pub (is vagrant installed?)" >&2; exit 1; }

# Not under build/: the Makefile includes the *.d files it finds there.
work=$(mktemp -d /var/tmp/vxsec-box.XXXXXX)
trap 'rm -rf "$work"' EXIT
root=$work/root
t0=$(date +%s)
mmdebstrap --variant=minbase --quiet \
	--include=systemd-sysv,udev,dbus,openssh-server,sudo,linux-image-amd64,initramfs-tools,hostname,netbase,iproute2,iputils-ping,tcpdump,kmod,procps,libmnl0,libsodium23,libprotobuf-c1,libssl3 \
	--customize-hook="chroot \"\$1\" useradd -m -s /bin/bash -U vagrant" \
	--customize-hook="install -d -m 0700 \"\$1/home/vagrant/.ssh\"" \
	--customize-hook="install -m 0600 $key \"\$1/home/vagrant/.ssh/authorized_keys\"" \
	--customize-hook="chroot \"\$1\" chown -R vagrant:vagrant /home/vagrant/.ssh" \
	--customize-hook="echo 'vagrant ALL=(ALL) NOPASSWD: ALL' >\"\$1/etc/sudoers.d/vagrant\"; chmod 0440 \"\$1/etc/sudoers.d/vagrant\"" \
	--customize-hook="printf '[Match]\nName=eth0\n\n[Network]\nDHCP=ipv4\n' >\"\$1/etc/systemd/network/10-eth0.network\"" \
	--customize-hook="chroot \"\$1\" systemctl enable systemd-networkd; chroot \"\$1\" systemctl mask systemd-networkd-wait-online.service" \
	--customize-hook="echo '/dev/vda / ext4 defaults 0 0' >\"\$1/etc/fstab\"; echo vxsec-box >\"\$1/etc/hostname\"" \
	--customize-hook="echo 'UseDNS no' >\"\$1/etc/ssh/sshd_config.d/vagrant.conf\"" \
	--customize-hook="rm -f \"\$1\"/etc/ssh/ssh_host_*; : >\"\$1/etc/machine-id\"" \
	--customize-hook="printf '[Unit]\nBefore=ssh.service\nConditionPathExists=!/etc/ssh/ssh_host_ed25519_key\n[Service]\nType=oneshot\nExecStart=/usr/bin/ssh-keygen -A\n[Install]\nWantedBy=multi-user.target\n' >\"\$1/etc/systemd/system/ssh-hostkeys.service\"; chroot \"\$1\" systemctl enable ssh-hostkeys.service" \
	--customize-hook="cp \"\$1\"/boot/vmlinuz-* $work/vmlinuz; cp \"\$1\"/boot/initrd.img-* $work/initrd.img" \
	--customize-hook="rm -rf \"\$1\"/var/lib/apt/lists/* \"\$1\"/var/cache/apt/*.bin \"\$1\"/usr/share/doc/* \"\$1\"/usr/share/man/*" \
	bookworm "$root"
t1=$(date +%s)
# 1 GiB more than the files: room for the project's packages and pcaps.
size=$(($(du -sm "$root" | cut -f1) + 1024))
mkfs.ext4 -q -L root -d "$root" "$work/root.raw" "${size}M"
qemu-img convert -O qcow2 "$work/root.raw" "$work/box.img"
rm -f "$work/root.raw"
gib=$(((size + 1023) / 1024))
printf '{"provider": "libvirt", "format": "qcow2", "virtual_size": %d}\n' "$gib" >"$work/metadata.json"
cat >"$work/Vagrantfile" <<'EOF'
# The vxsec lab's local box (tests/lab/vagrant-box.sh): a libvirt without
# KVM (TCG), the kernel booted directly, an isolated management network.
Vagrant.configure("2") do |config|
  config.vm.provider :libvirt do |lv|
    lv.driver = "qemu"
    lv.cpu_mode = "custom"
    lv.cpu_model = "qemu64"
    lv.kernel = File.expand_path("vmlinuz", __dir__)
    lv.initrd = File.expand_path("initrd.img", __dir__)
    lv.cmd_line = "root=/dev/vda rw console=ttyS0 net.ifnames=0"
    lv.features = ["acpi", "apic", "pae"]
    lv.management_network_mode = "none"
    lv.graphics_type = "none" # no VNC server: nobody looks, TCG spares the cycles
  end
end
EOF
tar -C "$work" -cf "$out.tmp" metadata.json Vagrantfile box.img vmlinuz initrd.img
mv "$out.tmp" "$out"
echo "vagrant-box: mmdebstrap $((t1 - t0)) s, image and box $(($(date +%s) - t1)) s, $(du -m "$out" | cut -f1) MB: $out"
