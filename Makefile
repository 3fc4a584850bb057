# SPDX-License-Identifier: MIT
# vxsec build: one non-recursive Makefile; objects and generated code in build/.

PREFIX ?= /usr/local
DESTDIR ?=
BUILD ?= build
PKG_CONFIG ?= pkg-config
CC ?= cc

V ?= 0
ifeq ($(V),1)
Q :=
else
Q := @
endif

# Every Debian package the build, the tests, the lab and the benchmarks need.
DEPS_PKGS := build-essential pkg-config libmnl-dev libsodium-dev libssl-dev \
	libprotobuf-c-dev protobuf-c-compiler libcmocka-dev iproute2 scdoc \
	clang libclang-rt-14-dev llvm cppcheck clang-tidy clang-format valgrind \
	openssl qemu-system-x86 busybox-static kmod vde2 tcpdump xz-utils \
	procps psmisc iputils-ping etcd-server nftables conntrack \
	debhelper dpkg-dev lintian

PC_LIBS := libmnl libsodium libssl libcrypto libprotobuf-c
PC_TEST := cmocka

WARN := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wvla \
	-Wstrict-prototypes -Wmissing-prototypes
HARDEN := -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE
OPT ?= -O2 -g
SAN ?=
SANFLAGS :=
ifneq ($(SAN),)
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined
OPT := -O1 -g -fno-omit-frame-pointer $(SANFLAGS)
endif

PC_CFLAGS = $(shell $(PKG_CONFIG) --cflags $(PC_LIBS) $(PC_TEST) 2>/dev/null)
CFLAGS ?=
CFLAGS += -std=gnu11 $(OPT) $(WARN) $(HARDEN) -I. -I$(BUILD)/proto $(PC_CFLAGS)
LDFLAGS ?=
LDFLAGS += -pie -Wl,-z,relro,-z,now $(SANFLAGS)

LIBMNL = $(shell $(PKG_CONFIG) --libs libmnl)
LIBCMOCKA = $(shell $(PKG_CONFIG) --libs cmocka)
LIBSSL = $(shell $(PKG_CONFIG) --libs libssl libcrypto)

# ---- modules ----
PROTO_GEN := $(BUILD)/proto/vxsec.pb-c.c $(BUILD)/proto/vxsec.pb-c.h
PROTO_SRC := $(wildcard proto/*.c)
PROTO_OBJ := $(PROTO_SRC:%.c=$(BUILD)/%.o) $(BUILD)/proto/vxsec.pb-c.o
PROTO_LIB := $(BUILD)/libvxsec-proto.a
LIBPROTOBUF = $(shell $(PKG_CONFIG) --libs libprotobuf-c)

COMMON_SRC := $(wildcard common/*.c)
COMMON_OBJ := $(COMMON_SRC:%.c=$(BUILD)/%.o)
COMMON_LIB := $(BUILD)/libvxsec-common.a
LIBSODIUM = $(shell $(PKG_CONFIG) --libs libsodium)

KEYMGR_SRC := $(filter-out keymgr/main.c,$(wildcard keymgr/*.c))
KEYMGR_OBJ := $(KEYMGR_SRC:%.c=$(BUILD)/%.o)
KEYMGR_LIB := $(BUILD)/libvxsec-keymgr.a
KEYMGR_BIN := $(BUILD)/vxsec-keymgr

AGENT_SRC := $(filter-out agent/main.c,$(wildcard agent/*.c))
AGENT_OBJ := $(AGENT_SRC:%.c=$(BUILD)/%.o)
AGENT_LIB := $(BUILD)/libvxsec-agent.a
AGENT_BIN := $(BUILD)/vxsec-agent

XFRM_SRC := $(wildcard xfrm/*.c)
XFRM_OBJ := $(XFRM_SRC:%.c=$(BUILD)/%.o)
XFRM_LIB := $(BUILD)/libvxsec-xfrm.a

# The netlink core under xfrm/ and the agent's rtnetlink (libmnl only).
NL_SRC := $(wildcard nl/*.c)
NL_OBJ := $(NL_SRC:%.c=$(BUILD)/%.o)
NL_LIB := $(BUILD)/libvxsec-nl.a

# The shared leader library (see "the leader as a shared library" below).
VERSION := $(shell sed -n 's/^\#define VXSEC_VERSION "\([^"]*\)".*/\1/p' common/cli.h)
KEYMGR_SOVERSION := 0
KEYMGR_SONAME := libvxsec-keymgr.so.$(KEYMGR_SOVERSION)
KEYMGR_SO := $(BUILD)/$(KEYMGR_SONAME).0.0
KEYMGR_MAP := keymgr/libvxsec-keymgr.map
PIC_DIR := $(BUILD)/pic
PIC_OBJ := $(patsubst %.c,$(PIC_DIR)/%.o,$(KEYMGR_SRC) $(PROTO_SRC) \
	$(COMMON_SRC)) $(PIC_DIR)/proto/vxsec.pb-c.o
# ASan's runtime lives in the program, so a sanitized library has undefined
# symbols by design.
SO_NOUNDEF := $(if $(SAN),,-Wl,--no-undefined)
# Man pages: scdoc sources in man/, roff in build/man/ (make deps installs
# scdoc).
MAN_SRC := $(wildcard man/*.scd)
MAN_PAGES := $(MAN_SRC:man/%.scd=$(BUILD)/man/%)

# ---- tests, tools, benchmarks ----
UNIT_TESTS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(wildcard tests/unit/test_*.c))
# Shell tests of the lab's own rules (tests/lab/ping.sh, pcap.sh), run on the host,
# and of the man pages against the daemons' own tables.
SHELL_TESTS := tests/lab/test_ping.sh tests/lab/test_pcap.sh tests/man/test_man.sh
NETNS_TESTS := $(patsubst tests/netns/%.c,$(BUILD)/tests/%,$(wildcard tests/netns/test_*.c))
XFRMCTL := $(BUILD)/tests/xfrmctl
BENCH_XFRM := $(BUILD)/tests/bench_policy
BENCH_AGENT := $(BUILD)/tests/bench_agent

# One libFuzzer target per parser: tests/fuzz/fuzz_<name>.c, corpus/<name>/.
# FUZZ_USES_<name>: the modules whose library it links, in link order, the
# same for make check's replay (gcc) and make fuzz (clang): a target links
# the library its code lives in, never a list of files, so a new
# dependency inside a module cannot break one of them unnoticed.
# FUZZ_FAKES_<name>: fakes that stand in for some of a library's objects
# (they come first, so the archive's own is never pulled in).
FUZZ_ALL := frame state_body config_line ctl_request conn xfrm_reply \
	agent_wire static_key http_response json etcd_reply records http_request \
	natprobe
FUZZ_USES_frame := proto
FUZZ_USES_state_body := keymgr proto common
FUZZ_USES_config_line := common
FUZZ_USES_ctl_request := common
# conn: common/conn.c with TLS and the loop faked (the input is the
# decrypted stream, the fuzzer moves the clock), keymgr/wire.c behind it.
FUZZ_USES_conn := keymgr proto common
FUZZ_FAKES_conn := tests/fuzz/fake_io.c
# xfrm_reply: the kernel's XFRM replies through xfrm/'s parsers and nl/'s.
FUZZ_USES_xfrm_reply := xfrm nl
# agent_wire: the leader's frames through agent/wire.c (a selector byte
# picks this node, see fuzz_agent_wire.c); static_key: the agent's
# static.key file through agent/static_key.c.
FUZZ_USES_agent_wire := agent proto common
FUZZ_USES_static_key := agent common
# natprobe: a datagram on the agent's ESP-in-UDP socket (agent/natprobe.c).
FUZZ_USES_natprobe := agent common
# http_response: an etcd gateway's responses through common/http.c.
FUZZ_USES_http_response := common
# http_request: a scraper's request head through common/httpd.c.
FUZZ_USES_http_request := common
# json: etcd's gateway replies through common/json.c (hand-written seeds).
FUZZ_USES_json := common
# etcd_reply: a gateway reply through keymgr/etcd_kv.c's readers.
FUZZ_USES_etcd_reply := keymgr proto common
# records: the etcd store's records, sealed or not, through keymgr/records*.c.
FUZZ_USES_records := keymgr proto common
MODULE_LIB_proto := $(PROTO_LIB)
MODULE_LIB_common := $(COMMON_LIB)
MODULE_LIB_keymgr := $(KEYMGR_LIB)
MODULE_SRC_proto := $(PROTO_SRC) $(BUILD)/proto/vxsec.pb-c.c
MODULE_SRC_common := $(COMMON_SRC)
MODULE_SRC_keymgr := $(KEYMGR_SRC)
MODULE_SRC_agent := $(AGENT_SRC)
MODULE_SRC_xfrm := $(XFRM_SRC)
MODULE_SRC_nl := $(NL_SRC)
# Every library any module may need: linking one more costs nothing.
FUZZ_LDLIBS = $(LIBPROTOBUF) $(LIBSSL) $(LIBSODIUM) $(LIBMNL)
# make check replays each corpus through its target: build/tests/test_fuzz_<name>.
FUZZ_REPLAY := $(FUZZ_ALL:%=$(BUILD)/tests/test_fuzz_%)
WIRESRV := $(BUILD)/tests/wiresrv
WIRECLI := $(BUILD)/tests/wirecli
WIREFLOOD := $(BUILD)/tests/wireflood
# The longest first (test_ha ~150 s, test_hostile ~70 s, mostly waiting on
# leases and deadlines): tests/run.sh runs several binaries at once, in the
# order given, so these set make check's wall time only if they start early.
WIRE_TESTS := $(BUILD)/tests/test_ha $(BUILD)/tests/test_hostile \
	$(BUILD)/tests/test_agent $(BUILD)/tests/test_keymgr \
	$(BUILD)/tests/test_keymgr_disk $(BUILD)/tests/test_wire \
	$(BUILD)/tests/test_leader_embed \
	$(BUILD)/tests/test_agent_cli \
	$(BUILD)/tests/test_etcd $(BUILD)/tests/test_store_etcd \
	$(BUILD)/tests/test_etcd_tls \
	$(BUILD)/tests/test_metrics
FAKEAGENTS := $(BUILD)/tests/fakeagents
FAKEAGENTS_OBJ := $(patsubst %.c,$(BUILD)/%.o,$(wildcard tests/tools/fakeagents*.c))

MEMSCAN := $(BUILD)/tests/memscan
# Each daemon's flags, config keys and commands, printed from its own code
# for the man pages' coverage test (tests/man/test_man.sh).
CLIDUMP := $(BUILD)/tests/clidump_keymgr $(BUILD)/tests/clidump_agent
PROGRAMS := $(XFRMCTL) $(MEMSCAN) $(BENCH_XFRM) $(BENCH_AGENT) $(WIRESRV) $(WIRECLI) $(WIREFLOOD) \
	$(FAKEAGENTS) $(CLIDUMP)
TESTS := $(UNIT_TESTS) $(FUZZ_REPLAY) $(WIRE_TESTS) $(NETNS_TESTS)

.PHONY: all man check check-unit check-netns sanitize bench fuzz fuzz-seeds depcheck \
	daemons lib install \
	uninstall deb deb-check clean deps demo analyze format format-check
.DEFAULT_GOAL := all
.SECONDARY:

all: $(NL_LIB) $(XFRM_LIB) $(PROTO_LIB) $(COMMON_LIB) $(KEYMGR_LIB) $(KEYMGR_BIN) \
	$(AGENT_LIB) $(AGENT_BIN) $(KEYMGR_SO) \
	$(PROGRAMS) $(TESTS) $(MAN_PAGES)

man: $(MAN_PAGES)

$(BUILD)/man/%: man/%.scd
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  SCDOC   $<")
	$(Q)scdoc <$< >$@.tmp && mv $@.tmp $@

daemons: $(KEYMGR_BIN) $(AGENT_BIN)
lib: $(KEYMGR_SO)

# Generated from proto/vxsec.proto at build time; never edited by hand.
$(PROTO_GEN) &: proto/vxsec.proto
	@mkdir -p $(BUILD)/proto
	$(if $(Q),@echo "  PROTOC  $<")
	$(Q)protoc-c --c_out=$(BUILD)/proto -Iproto $<

$(BUILD)/proto/vxsec.pb-c.o: $(BUILD)/proto/vxsec.pb-c.c
	$(if $(Q),@echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS) -Wno-missing-prototypes -c -o $@ $<

$(BUILD)/%.o: %.c | $(PROTO_GEN)
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

# ---- linking: one rule for every archive, one for every program ----
$(BUILD)/libvxsec-%.a:
	$(if $(Q),@echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^
$(NL_LIB): $(NL_OBJ)
$(XFRM_LIB): $(XFRM_OBJ)
$(PROTO_LIB): $(PROTO_OBJ)
$(COMMON_LIB): $(COMMON_OBJ)
$(KEYMGR_LIB): $(KEYMGR_OBJ)
$(AGENT_LIB): $(AGENT_OBJ)

# Each module's archive, and the system libraries its objects call.
MODULE_LIB_nl := $(NL_LIB)
MODULE_LIB_xfrm := $(XFRM_LIB)
MODULE_LIB_agent := $(AGENT_LIB)
MODULE_LDLIBS_nl = $(LIBMNL)
MODULE_LDLIBS_xfrm = $(LIBMNL)
MODULE_LDLIBS_proto = $(LIBPROTOBUF)
MODULE_LDLIBS_common = $(LIBSSL) $(LIBSODIUM)
MODULE_LDLIBS_keymgr = $(LIBSSL) $(LIBSODIUM)
MODULE_LDLIBS_agent = $(LIBMNL) $(LIBSODIUM)

# A program <name> is linked from OBJS_<name> (a test's default: its own
# object), the archives of the modules in USES_<name> (in link order: a
# module before those it uses) and their system libraries, LDLIBS_<name>
# (tests: cmocka) and LDFLAGS_<name>. NEEDS_<name>: programs a test runs,
# built first. A program without USES_<name> is a build error, not a link
# error: say which modules it links (none is ":=" with nothing after).
USES_vxsec-keymgr := keymgr proto common
OBJS_vxsec-keymgr := $(BUILD)/keymgr/main.o
USES_vxsec-agent := agent xfrm nl proto common
OBJS_vxsec-agent := $(BUILD)/agent/main.o

USES_test_agent_config := agent xfrm nl proto common
USES_test_agent_wire := agent proto common
USES_test_atomic := common
USES_test_cli := common
USES_test_cluster := keymgr proto
USES_test_cluster_keys := keymgr proto common
USES_test_cluster_nat := keymgr proto common
USES_test_config := common
USES_test_conn := common
USES_test_ctl := common
USES_test_ctl_later := common
USES_test_ctl_reply := common
# free/realloc wrapped: the test sees what the reply buffer leaves behind.
LDFLAGS_test_ctl_reply := -Wl,--wrap=free,--wrap=realloc
USES_test_ctl_table := common
# The daemons' tables, each with the library its handlers live in.
USES_test_ctl_keymgr := keymgr proto common
USES_test_ctl_agent := agent xfrm nl proto common
# The socket calls of nl/ wrapped: a fake kernel, so its error paths (and
# xfrm/'s and the overlay's on top) run without root.
USES_test_nl := agent xfrm nl common
LDFLAGS_test_nl := -Wl,--wrap=mnl_socket_sendto,--wrap=recvfrom,--wrap=poll \
	-Wl,--wrap=__poll_chk
USES_test_desired := agent xfrm nl
USES_test_natprobe := agent common
USES_test_diff := agent xfrm nl
USES_test_frame := proto
USES_test_guard := keymgr
USES_test_election := keymgr
USES_test_http := common
USES_test_http_req := common
USES_test_httpd := common
USES_test_json := common
USES_test_keys := keymgr
USES_test_loop := common
USES_test_node_id := proto
USES_test_overlay := agent nl common
# The agent's VXLAN devices over fake kernel calls (and a captured log).
USES_test_overlay_set := agent xfrm nl common
LDFLAGS_test_overlay_set := -Wl,--wrap=overlay_ensure \
	-Wl,--wrap=overlay_present,--wrap=overlay_fdb_sync,--wrap=log_msg
USES_test_pairkey := common
USES_test_pki := common
USES_test_reconcile := agent xfrm nl
USES_test_registry := keymgr
USES_test_rotation := keymgr
# keymgr's sessions with the connection layer faked: hellos, refusals.
USES_test_sessions := keymgr proto common
LDFLAGS_test_sessions := -Wl,--wrap=conn_new,--wrap=conn_send \
	-Wl,--wrap=conn_close,--wrap=conn_queued,--wrap=conn_tls \
	-Wl,--wrap=conn_auth,--wrap=tls_conn_peer_id
# These two measure locked memory with tests/unit/vmlck.c.
OBJS_test_desired := $(BUILD)/tests/unit/test_desired.o \
	$(BUILD)/tests/unit/vmlck.o
OBJS_test_rotation := $(BUILD)/tests/unit/test_rotation.o \
	$(BUILD)/tests/unit/vmlck.o
OBJS_test_view := $(BUILD)/tests/unit/test_view.o \
	$(BUILD)/tests/unit/view_fixture.o
USES_test_state := keymgr proto common
OBJS_test_state := $(BUILD)/tests/unit/test_state.o \
	$(BUILD)/tests/unit/state_util.o
USES_test_state_rekey := keymgr proto common
OBJS_test_state_rekey := $(BUILD)/tests/unit/test_state_rekey.o \
	$(BUILD)/tests/unit/state_util.o
USES_test_static_key := agent common
# The etcd records; sodium_free and free wrapped: the test sees plaintexts
# handed back, and wiped.
USES_test_records := keymgr proto common
OBJS_test_records := $(BUILD)/tests/unit/test_records.o \
	$(BUILD)/tests/unit/state_util.o
LDFLAGS_test_records := -Wl,--wrap=sodium_free,--wrap=free
USES_test_sdnotify := common
USES_test_session_addr := agent common
USES_test_state_body := keymgr proto common
USES_test_tls := common
USES_test_token := common
USES_test_view := agent xfrm nl proto common
USES_test_xfrm_build := xfrm nl
USES_test_xfrm_parse := xfrm nl
USES_test_xstat := agent

# make check replays each fuzz corpus through its target (FUZZ_USES_<name>).
$(foreach t,$(FUZZ_ALL),$(eval USES_test_fuzz_$(t) := $(FUZZ_USES_$(t))) \
	$(eval OBJS_test_fuzz_$(t) := $(BUILD)/tests/fuzz/replay_$(t).o \
		$(BUILD)/tests/fuzz/fuzz_$(t).o \
		$(patsubst %.c,$(BUILD)/%.o,$(FUZZ_FAKES_$(t)))))

# The network-namespace tests (root) share netns_util and netns_check.
$(foreach t,$(NETNS_TESTS),$(eval OBJS_$(notdir $(t)) := \
	$(BUILD)/tests/netns/$(notdir $(t)).o $(BUILD)/tests/netns/netns_util.o \
	$(BUILD)/tests/netns/netns_check.o))
USES_test_netns_overlay := agent common xfrm nl
USES_test_netns_overlay_set := agent common xfrm nl
USES_test_netns_desired := agent xfrm nl
USES_test_netns_catchall := agent common xfrm nl
USES_test_netns_reconcile := agent xfrm nl
USES_test_netns_events := xfrm nl
USES_test_netns_policy := xfrm nl
USES_test_netns_sa := xfrm nl
USES_test_netns_encap := xfrm nl

# The wire tests run the daemons and tools as processes, with the helpers
# of tests/wire/ (proc_util.c, run_cmd.c) and a fixture: the leader's
# (test_keymgr, test_keymgr_disk, test_hostile) or the agent's.
$(foreach t,$(WIRE_TESTS),$(eval OBJS_$(notdir $(t)) := \
	$(BUILD)/tests/wire/$(notdir $(t)).o))
WIRE_UTIL := $(BUILD)/tests/wire/proc_util.o $(BUILD)/tests/wire/run_cmd.o
LEADER_FIXTURE := $(BUILD)/tests/wire/leader_fixture.o $(WIRE_UTIL)
AGENT_FIXTURE := $(BUILD)/tests/wire/agent_fixture.o $(WIRE_UTIL)
$(foreach t,test_keymgr test_keymgr_disk test_hostile test_metrics, \
	$(eval OBJS_$(t) += $(LEADER_FIXTURE)))
# What systemd and a scraper see: notify datagrams, HTTP on loopback.
PROBE := $(BUILD)/tests/wire/probe.o
OBJS_test_metrics += $(PROBE)
OBJS_test_agent += $(PROBE)
$(foreach t,test_agent test_agent_cli,$(eval OBJS_$(t) += $(AGENT_FIXTURE)))
OBJS_test_wire += $(BUILD)/tests/wire/run_cmd.o
USES_test_keymgr :=
NEEDS_test_keymgr := $(KEYMGR_BIN) $(FAKEAGENTS) $(WIRECLI)
USES_test_keymgr_disk :=
NEEDS_test_keymgr_disk := $(NEEDS_test_keymgr)
# keymgr/etcd*.c, store_etcd*.c against a real etcd on loopback
# (etcd-server, make deps).
ETCD_FIXTURE := $(BUILD)/tests/wire/etcd_fixture.o $(WIRE_UTIL)
OBJS_test_etcd += $(ETCD_FIXTURE)
USES_test_etcd := keymgr proto common
OBJS_test_store_etcd += $(ETCD_FIXTURE)
USES_test_store_etcd := keymgr proto common
# etcd over TLS with client certificates (the openssl command makes them):
# keymgr/etcd.c, then a vxsec-keymgr instance with --etcd-ca/-cert/-key.
OBJS_test_etcd_tls += $(ETCD_FIXTURE)
USES_test_etcd_tls := keymgr proto common
NEEDS_test_etcd_tls := $(KEYMGR_BIN)
# keymgr instances with store = etcd on a 3-member etcd (failover).
OBJS_test_ha += $(ETCD_FIXTURE) $(BUILD)/tests/wire/run_cmd.o $(PROBE)
USES_test_ha := keymgr proto common
NEEDS_test_ha := $(KEYMGR_BIN) $(FAKEAGENTS)
USES_test_hostile :=
NEEDS_test_hostile := $(NEEDS_test_keymgr) $(WIREFLOOD)
# GET /metrics and systemd's notify protocol, the leader as a process.
USES_test_metrics :=
NEEDS_test_metrics := $(NEEDS_test_keymgr)
# The agent as a process, each case in a fresh network namespace (root).
USES_test_agent :=
NEEDS_test_agent := $(AGENT_BIN) $(KEYMGR_BIN) $(FAKEAGENTS)
USES_test_agent_cli :=
NEEDS_test_agent_cli := $(NEEDS_test_agent)
# store = etcd embedded too: a real etcd (etcd-server) on loopback.
OBJS_test_leader_embed += $(ETCD_FIXTURE)
USES_test_leader_embed := keymgr proto common
NEEDS_test_leader_embed := $(KEYMGR_BIN) $(FAKEAGENTS)
USES_test_wire := common
NEEDS_test_wire := $(WIRESRV) $(WIRECLI)

$(foreach t,$(TESTS),$(eval OBJS_$(notdir $(t)) ?= \
	$(BUILD)/tests/unit/$(notdir $(t)).o) \
	$(eval LDLIBS_$(notdir $(t)) += $(LIBCMOCKA)))

# Tools and benchmarks.
OBJS_xfrmctl := $(BUILD)/tests/tools/xfrmctl.o
USES_xfrmctl := xfrm nl common
# Whether a process's memory holds some byte strings (the lab: keys).
OBJS_memscan := $(BUILD)/tests/tools/memscan.o
USES_memscan :=
LDLIBS_memscan := $(LIBSODIUM)
$(foreach t,wiresrv wirecli wireflood,$(eval OBJS_$(t) := \
	$(BUILD)/tests/tools/$(t).o) $(eval USES_$(t) := proto common))
# Each includes its daemon's main.c and settings' file (clidump.h).
OBJS_clidump_keymgr := $(BUILD)/tests/tools/clidump_keymgr.o \
	$(BUILD)/tests/tools/clidump.o
USES_clidump_keymgr := keymgr proto common
OBJS_clidump_agent := $(BUILD)/tests/tools/clidump_agent.o \
	$(BUILD)/tests/tools/clidump.o
USES_clidump_agent := agent xfrm nl proto common
# N simulated agents in one process: the leader's load generator and bench driver.
OBJS_fakeagents := $(FAKEAGENTS_OBJ)
USES_fakeagents := proto common
OBJS_bench_policy := $(BUILD)/tests/bench/bench_policy.o \
	$(BUILD)/tests/netns/netns_util.o
USES_bench_policy := xfrm nl
# Agent cold start against ip -batch: needs ESP, so make bench runs it in the lab.
OBJS_bench_agent := $(BUILD)/tests/bench/bench_agent.o \
	$(BUILD)/tests/netns/netns_util.o
USES_bench_agent := agent xfrm nl

define link_rule
$(if $(filter undefined,$(origin USES_$(2))),$(error $(1): no USES_$(2) in the Makefile: name the modules it links))
$(1): $(OBJS_$(2)) $(foreach m,$(USES_$(2)),$(MODULE_LIB_$(m))) | $(NEEDS_$(2))
	$$(if $$(Q),@echo "  LD      $$@")
	$$(Q)$$(CC) $$(LDFLAGS) $$(LDFLAGS_$(2)) -o $$@ $$(filter %.o %.a,$$^) \
		$$(sort $$(foreach m,$$(USES_$(2)),$$(MODULE_LDLIBS_$$(m)))) \
		$$(LDLIBS_$(2))
endef
LINKED := $(KEYMGR_BIN) $(AGENT_BIN) $(PROGRAMS) $(TESTS)
$(foreach b,$(LINKED),$(eval $(call link_rule,$(b),$(notdir $(b)))))

$(FUZZ_ALL:%=$(BUILD)/tests/fuzz/replay_%.o): $(BUILD)/tests/fuzz/replay_%.o: \
		tests/fuzz/replay.c | $(PROTO_GEN)
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  CC      $< ($*)")
	$(Q)$(CC) $(CFLAGS) -DFUZZ_TARGET=fuzz_$* -DFUZZ_NAME='"$*"' -MMD -MP \
		-c -o $@ $<
# ---- the leader as a shared library: libvxsec-keymgr.so.0 ----
# keymgr/, proto/ and common/ compiled again with -fPIC into build/pic/ (the
# daemons keep linking the static archives). The soname's 0 is the ABI of
# keymgr/leader.h, struct leader_config's layout included; the version
# script keymgr/libvxsec-keymgr.map exports the functions that header
# declares and nothing else, so the library's own conn_*, json_*, log_*
# cannot collide with a host's. A changed ABI bumps KEYMGR_SOVERSION and
# gets a new node in the map (debian/libvxsec-keymgr0.symbols follows).

$(PIC_DIR)/%.o: %.c | $(PROTO_GEN)
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  CC -fPIC $<")
	$(Q)$(CC) $(CFLAGS) -fPIC -MMD -MP -c -o $@ $<

$(PIC_DIR)/proto/vxsec.pb-c.o: $(BUILD)/proto/vxsec.pb-c.c
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  CC -fPIC $<")
	$(Q)$(CC) $(CFLAGS) -fPIC -Wno-missing-prototypes -c -o $@ $<

$(KEYMGR_SO): $(PIC_OBJ) $(KEYMGR_MAP)
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) -shared $(filter-out -pie,$(LDFLAGS)) $(SO_NOUNDEF) \
		-Wl,-soname,$(KEYMGR_SONAME) -Wl,--version-script=$(KEYMGR_MAP) \
		-o $@ $(PIC_OBJ) $(LIBPROTOBUF) $(LIBSSL) $(LIBSODIUM)

# ---- checks ----
depcheck:
	$(Q)tests/depcheck.sh

check: depcheck all
	$(Q)BUILD=$(BUILD) tests/run.sh $(WIRE_TESTS) $(UNIT_TESTS) $(SHELL_TESTS) $(FUZZ_REPLAY) \
		$(NETNS_TESTS)

check-unit: all
	$(Q)BUILD=$(BUILD) tests/run.sh $(WIRE_TESTS) $(UNIT_TESTS) $(SHELL_TESTS) $(FUZZ_REPLAY)

check-netns: all
	$(Q)tests/run.sh $(NETNS_TESTS)

sanitize:
	$(Q)$(MAKE) --no-print-directory BUILD=$(BUILD)/sanitize SAN=1 check

# Leader figures for these numbers of simulated agents (see docs/keymgr.md).
BENCH_AGENTS ?= 1000 10000
# A leader failover (etcd, two instances, kill -9) under these.
BENCH_FAILOVER_AGENTS ?= 1000

bench: all
	$(Q)$(BENCH_XFRM)
	$(Q)tests/bench/bench_keymgr.sh $(BENCH_AGENTS)
	$(Q)tests/bench/bench_failover.sh $(BENCH_FAILOVER_AGENTS)
	$(Q)tests/lab/lab.sh bench agent-cold

# libFuzzer under clang: FUZZ_SECONDS for each of FUZZ_TARGETS (make fuzz
# FUZZ_TARGETS=state_body runs one). Each module is compiled again with the
# fuzzer's instrumentation into build/fuzz/lib/, and each target links the
# libraries of FUZZ_USES_<name> like its replay does. New inputs go to
# build/fuzz/new-<name>; with FUZZ_MERGE=1 (the default) those that add
# coverage are then merged into tests/fuzz/corpus/<name>; FUZZ_MERGE=0
# (CI) leaves every tracked file alone. A crash, a leak or a timeout
# (FUZZ_TIMEOUT seconds for one input) leaves build/fuzz/<name>-crash-*
# (or -leak-, -timeout-) and fails the target.
FUZZ_TARGETS ?= $(FUZZ_ALL)
FUZZ_SECONDS ?= 60
FUZZ_TIMEOUT ?= 20
FUZZ_MERGE ?= 1
FUZZ_CC ?= clang
FUZZ_DIR := $(BUILD)/fuzz
FUZZ_CFLAGS = -std=gnu11 -g -O1 -I. -I$(BUILD)/proto $(PC_CFLAGS) \
	-fsanitize=fuzzer-no-link,address,undefined \
	-fno-sanitize-recover=undefined
FUZZ_LEN_frame = 65536
FUZZ_LEN_state_body = 65536
FUZZ_LEN_config_line = 2048
FUZZ_LEN_ctl_request = 4096
FUZZ_LEN_conn = 20000
FUZZ_LEN_xfrm_reply = 16384
FUZZ_LEN_agent_wire = 65536
FUZZ_LEN_static_key = 1024
FUZZ_LEN_http_response = 65536
FUZZ_LEN_json = 16384
FUZZ_LEN_http_request = 8192
FUZZ_LEN_etcd_reply = 16384
FUZZ_LEN_records = 65536
FUZZ_LEN_natprobe = 2048
# Every target says how long an input may be (an empty -max_len= would
# leave it to libFuzzer's default).
$(foreach t,$(FUZZ_ALL),$(if $(FUZZ_LEN_$(t)),,$(error FUZZ_LEN_$(t) is not set in the Makefile)))
FUZZ_BINS = $(FUZZ_TARGETS:%=$(FUZZ_DIR)/fuzz_%)

$(FUZZ_DIR)/obj/%.o: %.c | $(PROTO_GEN)
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  FUZZCC  $<")
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -MMD -MP -c -o $@ $<

define fuzz_lib_rule
$(FUZZ_DIR)/lib/libvxsec-$(1).a: $(patsubst %.c,$(FUZZ_DIR)/obj/%.o,$(MODULE_SRC_$(1)))
	@mkdir -p $$(dir $$@)
	$$(if $$(Q),@echo "  AR      $$@")
	$$(Q)rm -f $$@ && ar rcs $$@ $$^
endef
$(foreach m,proto common keymgr agent xfrm nl,$(eval $(call fuzz_lib_rule,$(m))))

define fuzz_bin_rule
$(FUZZ_DIR)/fuzz_$(1): tests/fuzz/entry.c $(FUZZ_DIR)/obj/tests/fuzz/fuzz_$(1).o \
		$(patsubst %.c,$(FUZZ_DIR)/obj/%.o,$(FUZZ_FAKES_$(1))) \
		$(foreach m,$(FUZZ_USES_$(1)),$(FUZZ_DIR)/lib/libvxsec-$(m).a)
	$$(if $$(Q),@echo "  FUZZLD  $$@")
	$$(Q)$$(FUZZ_CC) $$(FUZZ_CFLAGS) -fsanitize=fuzzer \
		-DFUZZ_TARGET=fuzz_$(1) -o $$@ $$^ $$(FUZZ_LDLIBS)
endef
$(foreach t,$(FUZZ_ALL),$(eval $(call fuzz_bin_rule,$(t))))

define fuzz_run
	@mkdir -p $(FUZZ_DIR)/new-$(1)
	@echo "  FUZZ    $(1) for $(FUZZ_SECONDS) s"
	$(Q)$(FUZZ_DIR)/fuzz_$(1) -max_total_time=$(FUZZ_SECONDS) \
		-timeout=$(FUZZ_TIMEOUT) -max_len=$(FUZZ_LEN_$(1)) \
		-artifact_prefix=$(FUZZ_DIR)/$(1)- -print_final_stats=1 \
		$(FUZZ_DIR)/new-$(1) tests/fuzz/corpus/$(1) \
		2>$(FUZZ_DIR)/$(1).log || { tail -n 60 $(FUZZ_DIR)/$(1).log; exit 1; }
	@grep '^Done' $(FUZZ_DIR)/$(1).log | sed 's/^/  $(1): /'
	$(if $(filter 1,$(FUZZ_MERGE)),$(Q)$(FUZZ_DIR)/fuzz_$(1) -merge=1 \
		-max_len=$(FUZZ_LEN_$(1)) tests/fuzz/corpus/$(1) \
		$(FUZZ_DIR)/new-$(1) 2>>$(FUZZ_DIR)/$(1).log)

endef

fuzz: $(FUZZ_BINS)
	$(foreach t,$(FUZZ_TARGETS),$(call fuzz_run,$(t)))

# Rewrites the generated seeds (frame: one per message kind; state_body:
# a body per rotation phase and broken ones; conn: frames whole, cut,
# refused, over the limits, under slow handshakes, reads and writes;
# xfrm_reply: dumps, batch acks, error and done replies, events, whole,
# cut and broken; agent_wire: each message a leader sends, for this node
# and refused; static_key: files of one to four keys, and damaged ones;
# records: states as plaintext and sealed records, and refused ones)
# into the corpora.
# The generators link every library the fuzzers may (fuzz-seeds did not
# link either when state_body.c came to need a file of common/); the
# agent's after the leader's: both define wire_decode() and the like.
SEED_LIBS = $(KEYMGR_LIB) $(AGENT_LIB) $(PROTO_LIB) $(COMMON_LIB) $(XFRM_LIB) \
	$(NL_LIB)
SEEDS := frame state_body conn xfrm_reply agent_wire static_key records \
	natprobe
fuzz-seeds: $(SEED_LIBS)
	@mkdir -p $(BUILD)/fuzz $(SEEDS:%=tests/fuzz/corpus/%)
	$(Q)for s in $(SEEDS); do \
		$(CC) $(CFLAGS) $(LDFLAGS) -o $(BUILD)/fuzz/seed_$$s \
			tests/fuzz/seed_$$s.c $(SEED_LIBS) $(FUZZ_LDLIBS) && \
		$(BUILD)/fuzz/seed_$$s tests/fuzz/corpus/$$s || exit 1; \
	done

analyze: $(PROTO_GEN)
	$(Q)cppcheck --quiet --error-exitcode=1 --enable=warning,portability \
		--inline-suppr -I. -I$(BUILD)/proto $(NL_SRC) $(XFRM_SRC) $(PROTO_SRC) \
		$(COMMON_SRC) $(KEYMGR_SRC) keymgr/main.c $(AGENT_SRC) agent/main.c
	$(Q)clang-tidy --quiet $(NL_SRC) $(XFRM_SRC) $(PROTO_SRC) $(COMMON_SRC) \
		$(KEYMGR_SRC) keymgr/main.c $(AGENT_SRC) agent/main.c -- $(CFLAGS)

FORMAT_FILES = $(NL_SRC) nl/*.h $(XFRM_SRC) xfrm/*.h $(PROTO_SRC) proto/*.h $(COMMON_SRC) \
	common/*.h $(KEYMGR_SRC) keymgr/main.c keymgr/*.h $(AGENT_SRC) \
	agent/*.h tests/*/*.c \
	tests/*/*.h examples/*.c

format:
	$(Q)clang-format -i $(FORMAT_FILES)

format-check:
	$(Q)clang-format --dry-run --Werror $(FORMAT_FILES)

# ---- set-up, install ----
deps:
	$(Q)if [ "$$(id -u)" != 0 ]; then echo "make deps: run as root (apt-get)" >&2; exit 1; fi
	$(Q)apt-get update -q
	$(Q)DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
		--no-install-recommends $(DEPS_PKGS)

# The "run it" command (root): installs what is missing (make deps), builds,
# then runs the leader and three agents over an encrypted VXLAN overlay, in
# network namespaces if this kernel has ESP, otherwise in the VM lab.
demo:
	$(Q)DEPS_PKGS="$(DEPS_PKGS)" tests/demo/demo.sh

# ==== install (issue 17): make install [PREFIX=/usr/local] [DESTDIR=] ====
# The daemons, the shared leader library with its header and pkg-config
# file, the systemd units (ExecStart= pointed at SBINDIR), the sysusers.d
# and tmpfiles.d snippets, and /etc/vxsec/*.conf (commented defaults; an
# existing file is left alone), the man pages. debian/rules passes the
# Debian paths.
SBINDIR ?= $(PREFIX)/sbin
LIBDIR ?= $(PREFIX)/lib$(if $(DEB_HOST_MULTIARCH),/$(DEB_HOST_MULTIARCH))
INCLUDEDIR ?= $(PREFIX)/include
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
SYSCONFDIR ?= /etc
UNITDIR ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
TMPFILESDIR ?= $(PREFIX)/lib/tmpfiles.d
MANDIR ?= $(PREFIX)/share/man
DAEMONS := vxsec-keymgr vxsec-agent
KEYMGR_PC := $(BUILD)/vxsec-keymgr.pc

# Written at install time: it names the directories of this install.
$(KEYMGR_PC): contrib/pkgconfig/vxsec-keymgr.pc.in FORCE
	$(Q)sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
		-e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' -e 's|@VERSION@|$(VERSION)|' \
		$< >$@
FORCE:

install: $(KEYMGR_BIN) $(AGENT_BIN) $(KEYMGR_SO) $(KEYMGR_PC) $(MAN_PAGES)
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(LIBDIR) \
		$(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(PKGCONFIGDIR) $(DESTDIR)$(INCLUDEDIR)/vxsec/common \
		$(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSUSERSDIR) \
		$(DESTDIR)$(TMPFILESDIR) $(DESTDIR)$(SYSCONFDIR)/vxsec
	install -m 0755 $(KEYMGR_BIN) $(AGENT_BIN) $(DESTDIR)$(SBINDIR)/
	install -m 0644 $(KEYMGR_SO) $(DESTDIR)$(LIBDIR)/
	ln -sf $(notdir $(KEYMGR_SO)) $(DESTDIR)$(LIBDIR)/$(KEYMGR_SONAME)
	ln -sf $(KEYMGR_SONAME) $(DESTDIR)$(LIBDIR)/libvxsec-keymgr.so
	install -m 0644 $(KEYMGR_PC) $(DESTDIR)$(PKGCONFIGDIR)/
	install -m 0644 keymgr/leader.h $(DESTDIR)$(INCLUDEDIR)/vxsec/
	install -m 0644 common/why.h $(DESTDIR)$(INCLUDEDIR)/vxsec/common/
	install -m 0644 $(filter %.5,$(MAN_PAGES)) $(DESTDIR)$(MANDIR)/man5/
	install -m 0644 $(filter %.8,$(MAN_PAGES)) $(DESTDIR)$(MANDIR)/man8/
	for d in $(DAEMONS); do \
		sed 's|/usr/local/sbin/|$(SBINDIR)/|g' contrib/systemd/$$d.service \
			>$(DESTDIR)$(UNITDIR)/$$d.service && \
		chmod 0644 $(DESTDIR)$(UNITDIR)/$$d.service && \
		install -m 0644 contrib/sysusers.d/$$d.conf $(DESTDIR)$(SYSUSERSDIR)/ && \
		install -m 0644 contrib/tmpfiles.d/$$d.conf $(DESTDIR)$(TMPFILESDIR)/ \
			|| exit 1; \
	done
	for c in keymgr agent; do \
		[ -e $(DESTDIR)$(SYSCONFDIR)/vxsec/$$c.conf ] || \
		install -m 0644 contrib/etc/$$c.conf $(DESTDIR)$(SYSCONFDIR)/vxsec/ \
			|| exit 1; \
	done

# The config files stay (they may hold the operator's settings).
uninstall:
	rm -f $(addprefix $(DESTDIR)$(SBINDIR)/,$(DAEMONS)) \
		$(DESTDIR)$(LIBDIR)/$(notdir $(KEYMGR_SO)) \
		$(DESTDIR)$(LIBDIR)/$(KEYMGR_SONAME) \
		$(DESTDIR)$(LIBDIR)/libvxsec-keymgr.so \
		$(DESTDIR)$(PKGCONFIGDIR)/vxsec-keymgr.pc \
		$(DESTDIR)$(INCLUDEDIR)/vxsec/leader.h \
		$(DESTDIR)$(INCLUDEDIR)/vxsec/common/why.h \
		$(foreach d,$(DAEMONS),$(DESTDIR)$(UNITDIR)/$(d).service \
			$(DESTDIR)$(SYSUSERSDIR)/$(d).conf $(DESTDIR)$(TMPFILESDIR)/$(d).conf) \
		$(addprefix $(DESTDIR)$(MANDIR)/man5/,$(notdir $(filter %.5,$(MAN_PAGES)))) \
		$(addprefix $(DESTDIR)$(MANDIR)/man8/,$(notdir $(filter %.8,$(MAN_PAGES))))

# The Debian packages (debian/), built from a copy of the tree in
# build/deb/src; the .debs, .changes and lintian's report land in build/deb.
# deb-check proves them without root: dpkg -x, the example daemon built
# with pkg-config against the -dev package, run on loopback.
deb:
	$(Q)tests/deb/make_deb.sh $(BUILD)/deb

deb-check:
	$(Q)tests/deb/deb_check.sh $(BUILD)/deb
# ==== end of install ====

clean:
	rm -rf $(BUILD)

-include tests/lab/lab.mk
# (Not those of make deb's copy of the tree, nor its sysusers.d directories,
# nor make vagrant-lab's libvirt state.)
-include $(shell find $(BUILD) \( -path $(BUILD)/deb -o -path $(BUILD)/vagrant-lab \) \
	-prune -o -name '*.d' -type f -print 2>/dev/null)
