# SPDX-License-Identifier: MIT
# The VM lab's make targets, included by the top Makefile.
.PHONY: lab lab-setup lab-shell

lab-setup:
	$(Q)tests/lab/lab.sh setup

lab: all
	$(Q)tests/lab/lab.sh run $(SCENARIOS)

lab-shell: all
	$(Q)tests/lab/lab.sh shell

# ==== the Vagrant lab (issue 19): make vagrant-lab (root) ====
# The project's Vagrantfile on libvirt without KVM, in a network namespace
# of its own, with a box built here (tests/lab/vagrant-lab.sh). Test-only
# tools, not dependencies of vxsec (docs/testing.md says what each is for):
# vagrant and vagrant-libvirt drive the VMs; libvirt-daemon-system (libvirtd,
# virtlogd, their configuration), libvirt-clients (virsh) and dnsmasq-base
# (the management network's DHCP) host them; mmdebstrap, e2fsprogs and
# qemu-utils build the box; qemu-system-x86 runs it.
VAGRANT_DEPS_PKGS := vagrant vagrant-libvirt libvirt-daemon-system \
	libvirt-clients dnsmasq-base mmdebstrap e2fsprogs qemu-utils \
	qemu-system-x86
.PHONY: vagrant-deps vagrant-box vagrant-lab vagrant-lab-clean

vagrant-deps:
	$(Q)if [ "$$(id -u)" != 0 ]; then echo "make vagrant-deps: run as root (apt-get)" >&2; exit 1; fi
	$(Q)missing=$$(for p in $(VAGRANT_DEPS_PKGS); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | \
		grep -q '^install ok installed$$' || printf ' %s' $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "make vagrant-deps: installing$$missing"; \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
			--no-install-recommends $(VAGRANT_DEPS_PKGS); fi

vagrant-lab: all vagrant-deps
	$(Q)tests/lab/vagrant-lab.sh run

# Only the box (once; make vagrant-lab reuses it): CI builds it in the
# background while the host's tests run.
vagrant-box: vagrant-deps
	$(Q)tests/lab/vagrant-lab.sh box

vagrant-lab-clean:
	$(Q)tests/lab/vagrant-lab.sh clean
