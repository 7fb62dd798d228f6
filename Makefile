# mmr - top-level build. `make` builds the three programs into build/; `make demo` and `make test` are
# the README's two commands (they install Debian packages first, so run them as root on a new machine).
#
#   make            build/mmr-dataplane build/mmr-controller build/mmrctl, unit tests, fuzz-free
#   make test       install deps, build, run every test (unit, integration, crash, stress under ASan, e2e)
#   make demo       install deps, build, run a demo meeting on virtual devices with live stats (DURATION=s)
#   make unit       build and run the cmocka unit tests only
#   make asan       the same programs built with AddressSanitizer into build-asan/
#   make selfcheck  build-check/mmr-dataplane: ASan plus the table self-check after every batch
#   make fuzz       build the libFuzzer targets (clang) and run each for FUZZ_SECONDS (with
#                   tests/fuzz/<target>.dict and the seeds in tests/fuzz/seeds/<target>/ when there are)
#   make bench      benchmarks (see scripts/)
#   make install    install the programs, man pages, /etc/mmr configs, systemd units (PREFIX, DESTDIR)
#   make deb        build/mmr_VERSION_amd64.deb (scripts/make-deb.sh; DEB_DIR=dir to put it elsewhere)

SHELL     := /bin/bash
BUILD     ?= build
CC        ?= cc
SAN       ?=
OPT       ?= -O2
DPDK_CFLAGS := $(shell pkg-config --cflags libdpdk 2>/dev/null)
DPDK_LIBS   := $(shell pkg-config --libs libdpdk 2>/dev/null)
URCU_LIBS   := $(shell pkg-config --libs liburcu-qsbr liburcu-cds 2>/dev/null)
URCU_CFLAGS := $(shell pkg-config --cflags liburcu-qsbr 2>/dev/null)
CONFIG_LIBS := $(shell pkg-config --libs libconfig 2>/dev/null)
CMOCKA_LIBS := $(shell pkg-config --libs cmocka 2>/dev/null)
CRYPTO_LIBS := $(shell pkg-config --libs libcrypto zlib 2>/dev/null)
# lib/dtls (DTLS-SRTP handshakes) needs libssl; it goes first (it uses libcrypto).
CRYPTO_LIBS := $(shell pkg-config --libs libssl 2>/dev/null) $(CRYPTO_LIBS)
# libsrtp2 is only the reference the SRTP unit test checks lib/srtp/srtp_fast.c against.
SRTP2_LIBS  := $(shell pkg-config --libs libsrtp2 2>/dev/null)
GEN_LIBS    := $(shell pkg-config --libs libssl libcrypto zlib 2>/dev/null)
# the controller's HTTP API: libmicrohttpd (the server) and jansson (JSON; tokens, bodies)
MHD_LIBS    := $(shell pkg-config --libs libmicrohttpd 2>/dev/null)
JANSSON_LIBS := $(shell pkg-config --libs jansson 2>/dev/null)
# sd_notify(READY=1) of the two daemons under systemd (Type=notify units in systemd/)
SYSTEMD_LIBS := $(shell pkg-config --libs libsystemd 2>/dev/null)
# the zone in etcd (control/etcd_client.c: etcd's v3 JSON gateway over HTTP, issue 16)
CURL_LIBS   := $(shell pkg-config --libs libcurl 2>/dev/null)

WARN    := -Wall -Wextra -Werror -Wno-address-of-packed-member
# lib/ is in sub-folders by concern (lib/README.md); every one is on the include path, so sources
# say #include "x.h" whatever folder x.h is in.
LIB_DIRS := $(sort $(dir $(wildcard lib/*/*.h lib/*/*.c)))
LIB_INC  := $(patsubst %/,-I%,$(LIB_DIRS))
BASE_CFLAGS := $(OPT) -g -std=gnu11 $(WARN) -MMD -MP $(SAN)
# the version (VERSION, the one place it is kept) as $(BUILD)/include/mmr_version.h (lib/util/version.h)
VERSION_H := $(BUILD)/include/mmr_version.h
BASE_CFLAGS += -I$(BUILD)/include
CFLAGS  := $(BASE_CFLAGS) $(LIB_INC)
# The controller and mmrctl see the contract only (lib/contract, lib/util), and the controller the
# SDP offer/answer code (lib/sdp, pure text, no media code): a media header included there fails
# to compile.
CTL_CFLAGS := $(BASE_CFLAGS) -Ilib/contract -Ilib/util -Ilib/sdp
# DPDK's pkg-config carries -march=corei7; ours goes after it (MARCH: `make deb` builds for any
# x86-64 host Debian's DPDK runs on, corei7).
MARCH ?= native
DP_CFLAGS := $(DPDK_CFLAGS) -march=$(MARCH) $(URCU_CFLAGS) -DALLOW_EXPERIMENTAL_API -Wno-deprecated-declarations
LDFLAGS := $(SAN)

# Three archives (lib/README.md): the contract between the processes (the shared segment, the
# controller's wire format, SRTP master keys), linked by everyone; the media code (parsers, layer
# selection, SRTP packet crypto and ledger), linked by the dataplane, mmr-gen, tests and fuzzers;
# the SDP offer/answer code (lib/sdp), linked by the controller, tests and fuzzers.
# Every .c of a folder goes into its folder's archive.
CONTRACT_DIRS := lib/contract lib/util
CONTRACT_SRC := $(foreach d,$(CONTRACT_DIRS),$(wildcard $(d)/*.c))
# WebRTC signalling (SDP offers in, answers out): its own archive, linked by the controller (its
# WHIP/WHEP endpoints) and by the tests; it uses the contract's types only.
SDP_SRC  := $(wildcard lib/sdp/*.c)
MEDIA_SRC := $(filter-out $(CONTRACT_SRC) $(SDP_SRC),$(wildcard lib/*/*.c))
LIB_SRC  := $(CONTRACT_SRC) $(SDP_SRC) $(MEDIA_SRC)
CONTRACT_A := $(BUILD)/libmmr_contract.a
MEDIA_A := $(BUILD)/libmmr_media.a
SDP_A   := $(BUILD)/libmmr_sdp.a
LIBS_A := $(MEDIA_A) $(SDP_A) $(CONTRACT_A)
DP_SRC   := $(wildcard dataplane/*.c)
DP_OBJ   := $(DP_SRC:%.c=$(BUILD)/%.o)
CTL_SRC  := $(filter-out control/mmrctl.c control/doctor.c,$(wildcard control/*.c))
CTL_OBJ  := $(CTL_SRC:%.c=$(BUILD)/%.o)
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)

# End-to-end test tools (tests/e2e/tools/NAME.c -> build/tests/e2e/NAME): real encoders and decoders
# (libvpx, libaom, libopus) that make and check the layered streams the e2e tests send through the MMR.
E2E_SRC  := $(wildcard tests/e2e/tools/*.c)
E2E_BIN  := $(E2E_SRC:tests/e2e/tools/%.c=$(BUILD)/tests/e2e/%)
# Integration test tools (tests/integration/tools/NAME.c -> build/tests/integration/NAME): small C
# programs that speak the project's own formats (e.g. raw commands on the shared-memory ring).
ITOOL_SRC := $(wildcard tests/integration/tools/*.c)
ITOOL_BIN := $(ITOOL_SRC:tests/integration/tools/%.c=$(BUILD)/tests/integration/%)
CODEC_LIBS := $(shell pkg-config --libs vpx aom opus 2>/dev/null)
CODEC_CFLAGS := $(shell pkg-config --cflags vpx aom opus 2>/dev/null)

GEN_SRC  := $(wildcard gen/*.c)
GEN_OBJ  := $(GEN_SRC:%.c=$(BUILD)/%.o)

PROGS := $(BUILD)/mmr-dataplane $(BUILD)/mmr-controller $(BUILD)/mmrctl $(if $(GEN_SRC),$(BUILD)/mmr-gen)

.PHONY: install deb all progs unit test test-browsers demo demo-browser asan selfcheck fuzz bench clean deps shm-layout
all: progs $(UNIT_BIN) $(E2E_BIN) $(ITOOL_BIN)
progs: $(PROGS)

$(CONTRACT_A): $(CONTRACT_SRC:%.c=$(BUILD)/%.o)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

$(MEDIA_A): $(MEDIA_SRC:%.c=$(BUILD)/%.o)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

$(SDP_A): $(SDP_SRC:%.c=$(BUILD)/%.o)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

# rewritten only when VERSION changes, so the mains that print it rebuild then and only then
$(VERSION_H): VERSION
	@mkdir -p $(@D)
	printf '#define MMR_VERSION "%s"\n' "$$(cat VERSION)" > $@.tmp && mv $@.tmp $@
$(BUILD)/dataplane/main.o $(BUILD)/control/controller.o $(BUILD)/control/mmrctl.o $(BUILD)/gen/main.o: $(VERSION_H)

$(BUILD)/lib/%.o: lib/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/dataplane/%.o: dataplane/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(DP_CFLAGS) -c $< -o $@

$(BUILD)/gen/%.o: gen/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(DP_CFLAGS) -c $< -o $@

$(BUILD)/mmr-gen: $(GEN_OBJ) $(LIBS_A)
	$(CC) $(LDFLAGS) -o $@ $^ $(DPDK_LIBS) $(CONFIG_LIBS) $(GEN_LIBS) -lpthread

$(BUILD)/control/%.o: control/%.c
	@mkdir -p $(@D)
	$(CC) $(CTL_CFLAGS) -c $< -o $@

$(BUILD)/mmr-dataplane: $(DP_OBJ) $(LIBS_A)
	$(CC) $(LDFLAGS) -o $@ $^ $(DPDK_LIBS) $(URCU_LIBS) $(CONFIG_LIBS) $(CRYPTO_LIBS) $(SYSTEMD_LIBS) -lpthread

$(BUILD)/mmr-controller: $(CTL_OBJ) $(SDP_A) $(CONTRACT_A)
	$(CC) $(LDFLAGS) -o $@ $^ $(CONFIG_LIBS) $(MHD_LIBS) $(JANSSON_LIBS) $(CURL_LIBS) $(CRYPTO_LIBS) $(SYSTEMD_LIBS) -lpthread

# mmrctl mints access tokens itself (token mint): control/token.c and the wiping JSON allocator
# and checks a host (doctor: reads the dataplane config with libconfig)
$(BUILD)/mmrctl: $(BUILD)/control/mmrctl.o $(BUILD)/control/token.o $(BUILD)/control/jwipe.o \
		 $(BUILD)/control/doctor.o $(BUILD)/control/outbuf.o $(CONTRACT_A)
	$(CC) $(LDFLAGS) -o $@ $^ $(JANSSON_LIBS) $(CRYPTO_LIBS) $(CONFIG_LIBS)

# A unit test of pure code in dataplane/ or control/ names the objects it links as extra
# prerequisites (filtered into the link below) and its include flags in TEST_CFLAGS.
$(BUILD)/tests/%: tests/unit/%.c $(LIBS_A)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(TEST_CFLAGS) -DMMR_SRC_DIR='"$(CURDIR)"' -o $@ $< $(filter %.o,$^) $(LIBS_A) $(TEST_EXTRA_LIBS) $(CMOCKA_LIBS) $(CRYPTO_LIBS)

$(BUILD)/tests/test_srtp_fast: TEST_EXTRA_LIBS := $(SRTP2_LIBS)
# checks lib/audio's score tables against libm
$(BUILD)/tests/test_dominant_speaker: TEST_EXTRA_LIBS := -lm
# dataplane/csum.h and rewrite.h: header-only, DPDK's headers but no DPDK library
$(BUILD)/tests/test_csum $(BUILD)/tests/test_rewrite $(BUILD)/tests/test_bwe_stamp: TEST_CFLAGS := $(DP_CFLAGS) -Idataplane
# dataplane/ice_check.h: header-only, pure (lib/ice/stun.c from the media archive)
$(BUILD)/tests/test_ice_check: TEST_CFLAGS := -Idataplane
# control/model.c with its indexes and id pools
$(BUILD)/tests/test_model: $(BUILD)/control/model.o $(BUILD)/control/id_index.o $(BUILD)/control/id_pool.o
$(BUILD)/tests/test_model: TEST_CFLAGS := -Icontrol
# mmr-gen's receiver feedback and packet extensions (gen/twcc_fb.c, media.c, model.c: no DPDK calls;
# the test includes gen/'s headers by path: lib/codec has a media.h too)
$(BUILD)/tests/test_gen_twcc_fb: $(BUILD)/gen/twcc_fb.o $(BUILD)/gen/model.o $(BUILD)/gen/media.o
# control/journal.c and state_store.c with the state file, the model and what they use
$(BUILD)/tests/test_journal: $(addprefix $(BUILD)/control/,journal.o state_store.o state_file.o file_atomic.o model.o values.o \
			     keys.o log.o outbuf.o id_index.o id_pool.o)
$(BUILD)/tests/test_journal: TEST_CFLAGS := -Icontrol
# the HTTP API's access tokens and its route table (control/token.c, http_routes.c)
$(BUILD)/tests/test_token: $(BUILD)/control/token.o $(BUILD)/control/jwipe.o
$(BUILD)/tests/test_http_routes: $(BUILD)/control/http_routes.o $(BUILD)/control/jwipe.o
$(BUILD)/tests/test_token $(BUILD)/tests/test_http_routes: TEST_CFLAGS := -Icontrol
$(BUILD)/tests/test_token $(BUILD)/tests/test_http_routes: TEST_EXTRA_LIBS := $(JANSSON_LIBS)
# the role -> permission table (control/perm.c) with the token role names (token.c)
$(BUILD)/tests/test_perm: $(BUILD)/control/perm.o $(BUILD)/control/token.o $(BUILD)/control/jwipe.o
$(BUILD)/tests/test_perm: TEST_CFLAGS := -Icontrol
$(BUILD)/tests/test_perm: TEST_EXTRA_LIBS := $(JANSSON_LIBS)
# meeting passcodes (control/passcode.c) and the rate limit's peek
$(BUILD)/tests/test_passcode: $(BUILD)/control/passcode.o $(BUILD)/control/rate_limit.o $(BUILD)/control/id_index.o \
	$(BUILD)/control/file_atomic.o $(BUILD)/control/outbuf.o $(BUILD)/control/values.o $(BUILD)/control/log.o
$(BUILD)/tests/test_passcode: TEST_CFLAGS := -Icontrol
# the join endpoints' rate limits (control/rate_limit.c, hashing with id_index.c's id_hash_bytes)
$(BUILD)/tests/test_rate_limit: $(BUILD)/control/rate_limit.o $(BUILD)/control/id_index.o
$(BUILD)/tests/test_rate_limit: TEST_CFLAGS := -Icontrol
# GET /metrics' page (control/metrics.c) with the model it reads
$(BUILD)/tests/test_metrics: $(addprefix $(BUILD)/control/,metrics.o outbuf.o values.o model.o id_index.o id_pool.o)
$(BUILD)/tests/test_metrics: TEST_CFLAGS := -Icontrol
# the zone block's checks and the placement decision (control/zone_conf.c, issue 16)
# and failover's plan and txn (control/zone_failover.c)
$(BUILD)/tests/test_zone: $(BUILD)/control/zone_conf.o $(BUILD)/control/zone_failover.o $(BUILD)/control/etcd_client.o \
	$(BUILD)/control/log.o
$(BUILD)/tests/test_zone: TEST_CFLAGS := -Icontrol
$(BUILD)/tests/test_zone: TEST_EXTRA_LIBS := $(CONFIG_LIBS) $(CURL_LIBS) $(JANSSON_LIBS)

# the cascade trunks' SRTP keys (control/zone_cascade.c, issue 16)
$(BUILD)/tests/test_zone_cascade: $(addprefix $(BUILD)/control/,zone_cascade.o zone_seal.o zone_conf.o etcd_client.o log.o values.o \
				  model.o id_index.o id_pool.o token.o jwipe.o)
$(BUILD)/tests/test_zone_cascade: TEST_CFLAGS := -Icontrol
$(BUILD)/tests/test_zone_cascade: TEST_EXTRA_LIBS := $(CONFIG_LIBS) $(CURL_LIBS) $(JANSSON_LIBS)

# the zone's sealed passcode records (control/zone_seal.c, issue 16)
$(BUILD)/tests/test_zone_seal: $(BUILD)/control/zone_seal.o
$(BUILD)/tests/test_zone_seal: TEST_CFLAGS := -Icontrol

$(BUILD)/tests/integration/%: tests/integration/tools/%.c $(LIBS_A)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $< $(LIBS_A) $(CRYPTO_LIBS) -lpthread

$(BUILD)/tests/e2e/%: tests/e2e/tools/%.c $(wildcard tests/e2e/tools/*.h) $(LIBS_A)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(CODEC_CFLAGS) -Itests/e2e/tools -o $@ $< $(LIBS_A) $(CODEC_LIBS) -lm

# ---- the README's two commands -------------------------------------------------------------
deps:
	scripts/install-deps.sh

demo: deps
	$(MAKE) progs
	scripts/demo.sh $(DURATION)

# issue 13: a browser joins a demo meeting through the controller's join endpoints (README)
demo-browser: deps
	$(MAKE) progs
	scripts/demo_browser.py $(ARGS)

test: deps
	$(MAKE) all
	$(MAKE) asan
	$(MAKE) selfcheck
	tests/run-all.sh

# issue 13's Chromium end-to-end test alone (three publishers, three receivers; also in `make test`)
test-browsers: deps
	$(MAKE) all
	tests/run-all.sh test_browsers

unit: $(UNIT_BIN)
	@fail=0; for t in $(UNIT_BIN); do $$t || fail=1; done; exit $$fail

asan:
	$(MAKE) BUILD=build-asan SAN="-fsanitize=address -fno-omit-frame-pointer" OPT=-O1 all

# The dataplane with its table self-check (docs/dataplane.md, "Self-check build"): ASan, and
# cmd_apply_check() after every batch of commands, aborting on the first inconsistency. Used by
# tests/integration/test_stress.py --selfcheck and test_selfcheck.py.
selfcheck:
	$(MAKE) BUILD=build-check SAN="-fsanitize=address -fno-omit-frame-pointer -DMMR_DP_SELFCHECK" OPT=-O1 \
		build-check/mmr-dataplane

# ---- fuzzing (clang + libFuzzer) -------------------------------------------------------------
FUZZ_SECONDS ?= 20
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=build-fuzz/%)
# the lib/ sources compiled once with coverage and sanitizers, linked into every target
FUZZ_OBJ := $(LIB_SRC:%.c=build-fuzz/obj/%.o)
FUZZ_CFLAGS := -g -O1 $(LIB_INC) -Wall -Wextra -Werror -MMD -MP
.SECONDARY: $(FUZZ_OBJ)
build-fuzz/obj/%.o: %.c
	@mkdir -p $(@D)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link,address,undefined -c $< -o $@
build-fuzz/%: tests/fuzz/%.c $(FUZZ_OBJ)
	@mkdir -p $(@D)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer,address,undefined $< $(FUZZ_OBJ) -o $@ $(CRYPTO_LIBS)
# the token parser is the controller's (control/token.c), with jansson
build-fuzz/fuzz_token: tests/fuzz/fuzz_token.c control/token.c control/token.h
	@mkdir -p $(@D)
	clang -g -O1 -Icontrol -Ilib/util -Wall -Wextra -Werror -fsanitize=fuzzer,address,undefined $< control/token.c -o $@ \
		$(JANSSON_LIBS) $(CRYPTO_LIBS)
fuzz: $(FUZZ_BIN)
	@set -o pipefail; for f in $(FUZZ_BIN); do mkdir -p build-fuzz/corpus-$$(basename $$f); \
	  echo "fuzz: $$f for $(FUZZ_SECONDS)s"; \
	  dict=tests/fuzz/$$(basename $$f).dict; [ -f $$dict ] && dict=-dict=$$dict || dict=; \
	  seeds=tests/fuzz/seeds/$$(basename $$f); [ -d $$seeds ] || seeds=; \
	  $$f -max_total_time=$(FUZZ_SECONDS) -max_len=2048 -artifact_prefix=build-fuzz/ $$dict \
	    build-fuzz/corpus-$$(basename $$f) $$seeds > build-fuzz/$$(basename $$f).log 2>&1 \
	    || { tail -n 30 build-fuzz/$$(basename $$f).log; exit 1; }; tail -n 1 build-fuzz/$$(basename $$f).log; done

bench: progs $(BUILD)/tests/integration/dtls_peer
	scripts/bench.sh

clean:
	rm -rf build build-asan build-check build-fuzz build-deb

# ---- install (issue 14) ------------------------------------------------------------------------
# `make install [PREFIX=/usr/local] [DESTDIR=]`: the daemons to sbin, mmrctl and mmr-gen to bin, man
# pages, the host configs to /etc/mmr (an existing config is never overwritten), the systemd units,
# the state directory /var/lib/mmr (0700). /etc, /var and the unit directory do not follow PREFIX.
PREFIX     ?= /usr/local
DESTDIR    ?=
UNITDIR    ?= /lib/systemd/system
SYSCONFDIR ?= /etc/mmr
STATEDIR   ?= /var/lib/mmr
install: progs
	install -d -m 0755 $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/bin \
		$(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man8 \
		$(DESTDIR)$(PREFIX)/share/mmr/examples $(DESTDIR)$(SYSCONFDIR)
	install -d -m 0700 $(DESTDIR)$(STATEDIR)
	install -m 0755 $(BUILD)/mmr-dataplane $(BUILD)/mmr-controller $(DESTDIR)$(PREFIX)/sbin/
	install -m 0755 $(BUILD)/mmrctl $(if $(GEN_SRC),$(BUILD)/mmr-gen) $(DESTDIR)$(PREFIX)/bin/
	install -m 0644 man/mmrctl.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 0644 man/mmr-dataplane.8 man/mmr-controller.8 $(DESTDIR)$(PREFIX)/share/man/man8/
	install -m 0644 config/host/*.conf config/*-demo.conf $(DESTDIR)$(PREFIX)/share/mmr/examples/
	install -d -m 0755 $(DESTDIR)$(UNITDIR)
	for u in systemd/*.service; do sed 's|/usr/sbin/|$(PREFIX)/sbin/|' $$u > $(DESTDIR)$(UNITDIR)/$${u#systemd/} && \
	  chmod 0644 $(DESTDIR)$(UNITDIR)/$${u#systemd/} || exit 1; done
	@for f in config/host/*.conf; do d=$(DESTDIR)$(SYSCONFDIR)/$$(basename $$f); \
	  if [ -e $$d ]; then echo "install: keeping the existing $$d"; \
	  else echo "install -m 0644 $$f $$d"; install -m 0644 $$f $$d; fi; done

# `make deb [DEB_DIR=build]`: build/mmr_VERSION_amd64.deb (scripts/make-deb.sh; built in build-deb/)
DEB_DIR ?= $(BUILD)
deb:
	scripts/make-deb.sh build-deb $(DEB_DIR)

-include $(shell find $(BUILD) build-fuzz/obj -name '*.d' 2>/dev/null)

# The fingerprint of the shared-memory layout (MMR_SHM_LAYOUT in lib/contract/cmd_chan.h).
shm-layout:
	@mkdir -p $(BUILD)
	@printf '#include "cmd_chan.h"\n#include <stdio.h>\nint main(void){printf("0x%%016llxull\\n",(unsigned long long)(MMR_SHM_LAYOUT_FINGERPRINT));return 0;}\n' | \
	  $(CC) -std=gnu11 -DMMR_SHM_LAYOUT_UNCHECKED $(LIB_INC) -x c - -o $(BUILD)/shm-layout && $(BUILD)/shm-layout
