# SPDX-License-Identifier: MIT
# The VM lab's make targets, included by the top Makefile.
.PHONY: lab lab-setup lab-shell

lab-setup:
	$(Q)tests/lab/lab.sh setup

lab: all
	$(Q)tests/lab/lab.sh run $(SCENARIOS)

lab-shell: all
	$(Q)tests/lab/lab.sh shell
