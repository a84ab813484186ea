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

.PHONY: all static check unit integration e2e sanitize fuzz-replay install clean fuzz bench demo demo-container deps test-deps helpers
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
		-fno-asynchronous-unwind-tables -fno-unwind-tables -fno-pie
static: deps $(BUILD)/volinit-static
$(BUILD)/volinit-static: $(SOBJS)
	$(CC) -static -no-pie -Wl,--gc-sections -Wl,-Map=$(BUILD)/volinit-static.map -o $@ $(SOBJS) $(PKG_STATIC)
	strip $@

$(BUILD)/sobj/%.o: src/%.c $(HDRS) | $(BUILD)/sobj
	$(CC) $(STATIC_CFLAGS) -c -o $@ $<

$(BUILD)/obj $(BUILD)/sobj $(BUILD)/unit $(BUILD)/helpers:
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

e2e: test-deps $(BUILD)/volinit-static helpers
	@sh tools/deps.sh e2e
	VOLINIT_STATIC=$(abspath $(BUILD)/volinit-static) HELPERS=$(abspath $(BUILD)/helpers) bats tests/e2e

# The same unit and integration tests again under ASan and UBSan, built
# with gcc and then with clang (whose UBSan also checks pointer arithmetic
# on NULL); any report fails the run (reports go to files, counted after).
SAN_FLAGS = CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
	LDFLAGS="-fsanitize=address,undefined"
sanitize: test-deps
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

check: test-deps unit integration e2e sanitize fuzz-replay
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

install: $(BUILD)/volinit
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 $(BUILD)/volinit $(DESTDIR)$(PREFIX)/bin/volinit

clean:
	rm -rf build
