# volinit: a plain Makefile. CFLAGS/LDFLAGS may be overridden by the user.
PREFIX  ?= /usr/local
DESTDIR ?=
CC      ?= cc
CFLAGS  ?= -O2 -g
BUILD   ?= build

WARN     = -std=c17 -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wvla -Wstrict-prototypes
DEFS     = -D_GNU_SOURCE -DVOLINIT_VERSION=\"$(VERSION)\"
VERSION := $(shell cat VERSION 2>/dev/null || echo 0.0.0)
PKGS     = inih libcap
# Asked of pkg-config when first used, not when make reads this file: on a
# fresh machine the -dev packages arrive only with the deps target.
pkg = $(eval $(1) := $(shell pkg-config $(2) $(PKGS) 2>/dev/null || echo '?'))$\
	$(if $(filter ?,$($(1))),$(error pkg-config finds no $(PKGS): run 'make deps'))$($(1))
PKG_CFLAGS = $(call pkg,PKG_CFLAGS,--cflags)
PKG_LIBS   = $(call pkg,PKG_LIBS,--libs)
PKG_STATIC = $(call pkg,PKG_STATIC,--static --libs)

SRCS     = $(wildcard src/*.c)
LIB_SRCS = $(filter-out src/main.c,$(SRCS))
OBJS     = $(SRCS:src/%.c=$(BUILD)/obj/%.o)
LIB_OBJS = $(LIB_SRCS:src/%.c=$(BUILD)/obj/%.o)
SOBJS    = $(SRCS:src/%.c=$(BUILD)/sobj/%.o)
HDRS     = $(wildcard src/*.h)

UNIT_SRCS   = $(wildcard tests/unit/test_*.c)
UNIT_BINS   = $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/unit/%)
HELPER_SRCS = $(wildcard tests/helpers/*.c)
HELPER_BINS = $(HELPER_SRCS:tests/helpers/%.c=$(BUILD)/helpers/%)

ALL_CFLAGS = $(WARN) $(DEFS) $(PKG_CFLAGS) $(CFLAGS)

.PHONY: all static check crash crash-sample unit man-lint integration e2e e2e-podman e2e-docker e2e-sharedfs sanitize fuzz-replay install clean fuzz bench demo demo-container deps test-deps helpers \
	release release-deps release-check release-repro image
all: deps $(BUILD)/volinit

# Installs what is missing (as root on Debian), or says the exact command.
deps:
	@sh tools/deps.sh build

# What the test suites need besides (cmocka, bats, strace, jq...).
test-deps: deps
	@sh tools/deps.sh test

$(BUILD)/volinit: $(OBJS)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(OBJS) $(PKG_LIBS)

$(BUILD)/obj/%.o: src/%.c $(HDRS) | $(BUILD)/obj
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# Static: size matters (see BENCHMARKS.md), so -Os, sections and gc, and no
# unwind tables (8 KB): nothing unwinds through volinit's C (no C++, no
# pthread_cancel, no backtrace); the sanitizer build keeps its own flags.
# -fno-pie: the static binary is not position-independent (it loads at a
# fixed address), so PIE code would only be bigger (1.5 KB).
STATIC_CFLAGS = $(WARN) $(DEFS) $(PKG_CFLAGS) -Os -ffunction-sections -fdata-sections \
		-fno-asynchronous-unwind-tables -fno-unwind-tables -fno-pie $(STATIC_LTO)
# -flto (static only: the unit tests link the plain objects): 4 KB.
STATIC_LTO ?= -flto
# The linker's own script, but libc's unwind tables (.eh_frame, 53 KB of the
# binary) dropped: only C++ exceptions and pthread_cancel/pthread_exit
# unwind, and volinit has neither. crtbeginT.o's and crtend.o's stay: the
# registry of frames that crtbeginT.o fills at start-up finds an empty list.
$(BUILD)/static.ld: Makefile | $(BUILD)/sobj
	$(CC) -static -no-pie -Wl,--verbose -x c /dev/null -o $(BUILD)/static.ld.out 2>/dev/null \
		| sed -n '/^=====/,/^=====/p' | sed -e '1d' -e '$$d' \
		-e 's/KEEP (\*(\.eh_frame))/KEEP (*crtbegin*.o(.eh_frame)) KEEP (*crtend*.o(.eh_frame))/' \
		-e 's|/DISCARD/ : {|/DISCARD/ : { *(.eh_frame)|' >$@.tmp; \
	rm -f $(BUILD)/static.ld.out; if grep -q 'KEEP (\*crtend' $@.tmp; then mv $@.tmp $@; \
	else echo "static.ld: no GNU ld script to edit: unwind tables kept" >&2; : >$@; rm -f $@.tmp; fi
static: deps $(BUILD)/volinit-static
$(BUILD)/volinit-static: $(SOBJS) $(BUILD)/static.ld
	$(CC) -Os $(STATIC_LTO) -ffunction-sections -fdata-sections -fno-asynchronous-unwind-tables -fno-unwind-tables \
		-static -no-pie $$(test -s $(BUILD)/static.ld && echo -Wl,-T,$(BUILD)/static.ld) -Wl,--gc-sections -Wl,--sort-section=alignment -Wl,-Map=$(BUILD)/volinit-static.map -o $@ $(SOBJS) $(PKG_STATIC)
	strip $@

$(BUILD)/sobj/%.o: src/%.c $(HDRS) | $(BUILD)/sobj
	$(CC) $(STATIC_CFLAGS) -c -o $@ $<

$(BUILD)/obj $(BUILD)/sobj $(BUILD)/unit $(BUILD)/helpers $(BUILD)/crash:
	mkdir -p $@

# Unit tests: cmocka, linked against every module but main.c.
$(BUILD)/unit/%: tests/unit/%.c $(LIB_OBJS) $(HDRS) | $(BUILD)/unit
	$(CC) $(ALL_CFLAGS) -Isrc -o $@ $< $(LIB_OBJS) $(PKG_LIBS) -lcmocka

# Small programs the integration tests run under volinit.
helpers: $(HELPER_BINS)
$(BUILD)/helpers/%: tests/helpers/%.c | $(BUILD)/helpers
	$(CC) -std=c17 -D_GNU_SOURCE -Wall -Wextra -Werror -O2 -static -o $@ $<

unit: test-deps $(UNIT_BINS)
	@set -e; for t in $(UNIT_BINS); do echo "== $$t"; $$t; done

integration: test-deps $(BUILD)/volinit $(BUILD)/volinit-static helpers
	VOLINIT=$(abspath $(BUILD)/volinit) HELPERS=$(abspath $(BUILD)/helpers) bats tests/integration

# The container suites: podman (tests/e2e/*.bats but docker*) and Docker
# Engine with docker-compose on a private daemon (tests/e2e/docker*.bats).
E2E_PODMAN = $(filter-out tests/e2e/docker% tests/e2e/shared-fs.bats,$(wildcard tests/e2e/*.bats))
E2E_DOCKER = $(wildcard tests/e2e/docker*.bats)
E2E_ENV = VOLINIT_STATIC=$(abspath $(BUILD)/volinit-static) HELPERS=$(abspath $(BUILD)/helpers)
e2e: e2e-podman e2e-docker e2e-sharedfs
e2e-podman: test-deps $(BUILD)/volinit-static helpers
	@sh tools/deps.sh e2e
	$(E2E_ENV) bats $(E2E_PODMAN)
e2e-docker: test-deps $(BUILD)/volinit-static helpers
	@sh tools/deps.sh docker
	$(E2E_ENV) bats $(E2E_DOCKER)
# GlusterFS, MooseFS and bindfs on this machine, each mounted twice (two nodes).
e2e-sharedfs: test-deps $(BUILD)/volinit helpers
	@sh tools/deps.sh sharedfs
	VOLINIT=$(abspath $(BUILD)/volinit) HELPERS=$(abspath $(BUILD)/helpers) bats tests/e2e/shared-fs.bats

# The same unit and integration tests again under ASan and UBSan, built
# with gcc and then with clang (whose UBSan also checks pointer arithmetic
# on NULL); any report fails the run (reports go to files, counted after).
SAN_FLAGS = CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
	LDFLAGS="-fsanitize=address,undefined"
sanitize: test-deps helpers
	$(MAKE) --no-print-directory BUILD=build/san $(SAN_FLAGS) \
		build/san/volinit $(UNIT_SRCS:tests/unit/%.c=build/san/unit/%) helpers
	@sh tools/sanitize.sh build/san
	@sh tools/deps.sh fuzz
	$(MAKE) --no-print-directory BUILD=build/san-clang CC=clang $(SAN_FLAGS) \
		build/san-clang/volinit $(UNIT_SRCS:tests/unit/%.c=build/san-clang/unit/%)
	@sh tools/sanitize.sh build/san-clang

# The fuzzers' seed corpora, replayed once under ASan/UBSan.
fuzz-replay:
	@sh tools/deps.sh fuzz
	@sh tests/fuzz/replay.sh

# Power loss (issue 20, tests/crash): loop-mounted XFS and ext4, cut with
# the shutdown ioctl at volinit's durability calls, counted by an LD_PRELOAD
# shim (so the dynamic build). crash: every point of every scenario (tens of
# minutes); crash-sample: a few points each, for make check.
CRASH_SHIM = $(BUILD)/crash/shim.so
$(CRASH_SHIM): tests/crash/shim.c | $(BUILD)/crash
	$(CC) -std=c17 -D_GNU_SOURCE -Wall -Wextra -Werror -O2 -fPIC -shared -o $@ $< -ldl
CRASH_ENV = VOLINIT=$(abspath $(BUILD)/volinit) SHIM=$(abspath $(CRASH_SHIM)) CRASH_RESULTS=$(abspath $(BUILD)/crash/results)
crash: deps $(BUILD)/volinit $(CRASH_SHIM)
	@sh tools/deps.sh crash
	$(CRASH_ENV) bash tests/crash/run.sh
crash-sample: deps $(BUILD)/volinit $(CRASH_SHIM)
	@sh tools/deps.sh crash
	VOLINIT=$(abspath $(BUILD)/volinit) SHIM=$(abspath $(CRASH_SHIM)) bats tests/crash/shim.bats
	$(CRASH_ENV) bash tests/crash/run.sh --sample

check: test-deps unit man-lint release-check integration e2e sanitize fuzz-replay crash-sample
	@echo "make check: all suites passed"

fuzz:
	@sh tools/deps.sh fuzz
	@sh tests/fuzz/run.sh $(FUZZ_SECONDS)

bench: deps $(BUILD)/volinit $(BUILD)/volinit-static helpers
	@sh tools/deps.sh bench
	@bash bench/run.sh

demo: deps $(BUILD)/volinit
	@bash examples/demo.sh $(abspath $(BUILD)/volinit)

demo-container: deps $(BUILD)/volinit-static
	@sh tools/deps.sh e2e
	@bash examples/demo-container.sh $(abspath $(BUILD)/volinit-static)

# Release binaries: static and stripped, for amd64 and arm64 (cross-compiled
# with Debian's gcc-aarch64-linux-gnu against the arm64 libcap-dev and
# libinih-dev, multiarch), and their SHA256SUMS. Reproducible: the same
# commit gives the same bytes anywhere (no build ID, no build paths, the
# commit's time as SOURCE_DATE_EPOCH); release-repro proves it on two clones.
RELEASE    = $(BUILD)/release
REL_ARCHES = amd64 arm64
REL_BINS   = $(REL_ARCHES:%=$(RELEASE)/volinit-$(VERSION)-linux-%)
TRIPLET_amd64 = x86_64-linux-gnu
TRIPLET_arm64 = aarch64-linux-gnu
ifeq ($(origin SOURCE_DATE_EPOCH),undefined)
SOURCE_DATE_EPOCH := $(shell git log -1 --format=%ct 2>/dev/null || echo 0)
endif
REL_CFLAGS = $(WARN) $(DEFS) -Os -ffunction-sections -fdata-sections \
	-fno-asynchronous-unwind-tables -fno-unwind-tables -fno-pie -ffile-prefix-map=$(CURDIR)/=
relpkg = PKG_CONFIG_LIBDIR=/usr/lib/$(TRIPLET_$(1))/pkgconfig:/usr/share/pkgconfig pkg-config

define release_arch
REL_OBJS_$(1) = $(SRCS:src/%.c=$(RELEASE)/$(1)/obj/%.o)
$(RELEASE)/$(1)/obj/%.o: src/%.c $(HDRS)
	@mkdir -p $$(@D)
	SOURCE_DATE_EPOCH=$(SOURCE_DATE_EPOCH) $(TRIPLET_$(1))-gcc $(REL_CFLAGS) $$$$($(call relpkg,$(1)) --cflags $(PKGS)) -c -o $$@ $$<
$(RELEASE)/volinit-$(VERSION)-linux-$(1): $$(REL_OBJS_$(1))
	$(TRIPLET_$(1))-gcc -static -no-pie -Wl,--gc-sections -Wl,--build-id=none -o $$@ $$^ \
		$$$$($(call relpkg,$(1)) --static --libs $(PKGS))
	$(TRIPLET_$(1))-strip $$@
# Unit tests for this architecture (cmocka, linked dynamically).
$(RELEASE)/$(1)/unit/%: tests/unit/%.c $$(filter-out %/main.o,$$(REL_OBJS_$(1)))
	@mkdir -p $$(@D)
	$(TRIPLET_$(1))-gcc $(WARN) $(DEFS) -O2 -no-pie -Isrc -o $$@ $$^ $$$$($(call relpkg,$(1)) --libs $(PKGS)) -lcmocka
endef
$(foreach a,$(REL_ARCHES),$(eval $(call release_arch,$(a))))

release-deps: deps
	@sh tools/deps.sh release
release: release-deps $(RELEASE)/SHA256SUMS
$(RELEASE)/SHA256SUMS: $(REL_BINS)
	cd $(RELEASE) && sha256sum $(notdir $(REL_BINS)) >SHA256SUMS
	@cat $@

# The arm64 binary under qemu-user-static: its unit tests, then a smoke test
# (--version, check and a start on a temporary volume); then reproducibility.
REL_UNIT_arm64 = $(UNIT_SRCS:tests/unit/%.c=$(RELEASE)/arm64/unit/%)
release-check: release test-deps $(REL_UNIT_arm64)
	@set -e; for t in $(REL_UNIT_arm64); do echo "== qemu-aarch64-static $$t"; qemu-aarch64-static $$t; done
	@sh tests/e2e/release-smoke.sh $(RELEASE)/volinit-$(VERSION)-linux-amd64 "" x86-64
	@sh tests/e2e/release-smoke.sh $(RELEASE)/volinit-$(VERSION)-linux-arm64 qemu-aarch64-static aarch64
	@$(MAKE) --no-print-directory release-repro

# Two clean clones of HEAD, each built with make release: identical bytes.
release-repro: release-deps
	@sh tests/e2e/release-repro.sh

# A FROM scratch image holding only /volinit, for this machine's
# architecture unless IMAGE_ARCHES names more (IMAGE_ARCHES="amd64 arm64"):
# volinit:VERSION-ARCH each, and volinit:VERSION for this machine's. Only a
# foreign architecture needs the cross toolchain (tools/deps.sh release).
# IMAGE_ENGINE: docker when its daemon answers, else podman.
IMAGE_NAME   ?= volinit
NATIVE_ARCH  := $(shell dpkg --print-architecture 2>/dev/null || echo amd64)
IMAGE_ARCHES ?= $(NATIVE_ARCH)
ifeq ($(origin IMAGE_ENGINE),undefined)
IMAGE_ENGINE = $(eval IMAGE_ENGINE := $(shell docker info >/dev/null 2>&1 && echo docker || echo podman))$(IMAGE_ENGINE)
endif
image: deps
	@$(if $(filter-out $(NATIVE_ARCH),$(IMAGE_ARCHES)),sh tools/deps.sh release,true)
	@$(MAKE) --no-print-directory $(IMAGE_ARCHES:%=$(RELEASE)/volinit-$(VERSION)-linux-%)
	@set -e; for a in $(IMAGE_ARCHES); do \
		ctx=$(RELEASE)/image-$$a; rm -rf $$ctx; mkdir -p $$ctx; \
		cp $(RELEASE)/volinit-$(VERSION)-linux-$$a $$ctx/volinit; \
		printf 'FROM scratch\nCOPY volinit /volinit\nENTRYPOINT ["/volinit"]\n' >$$ctx/Dockerfile; \
		echo "== $(IMAGE_ENGINE) build $(IMAGE_NAME):$(VERSION)-$$a"; \
		$(IMAGE_ENGINE) build -q --platform linux/$$a -t $(IMAGE_NAME):$(VERSION)-$$a $$ctx; \
	done
	$(if $(filter $(NATIVE_ARCH),$(IMAGE_ARCHES)),$(IMAGE_ENGINE) tag $(IMAGE_NAME):$(VERSION)-$(NATIVE_ARCH) $(IMAGE_NAME):$(VERSION))

# volinit (dynamic, for the host) and volinit-static (static, stripped: the
# one to copy into an image).
install: $(BUILD)/volinit $(BUILD)/volinit-static
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 0755 $(BUILD)/volinit $(DESTDIR)$(PREFIX)/bin/volinit
	install -m 0755 $(BUILD)/volinit-static $(DESTDIR)$(PREFIX)/bin/volinit-static
	install -m 0644 man/volinit.1 $(DESTDIR)$(PREFIX)/share/man/man1/volinit.1

# The man page, mdoc: no warning from mandoc (its style notes, such as a
# referenced manual this machine lacks, aside).
man-lint: test-deps
	mandoc -T lint -W warning man/volinit.1

clean:
	rm -rf build
