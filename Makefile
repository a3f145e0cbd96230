# Makefile - builds build/rlc and runs the tests.  Plain make, no configure:
# the dependencies are Debian packages (make deps).
#
#   make            build build/rlc
#   make test       every unit binary and suite (tests/run.sh), several at a time
#                   (TEST_JOBS, default CPUs + 2); each suite plans its cases, so
#                   a lost one fails; ends "N skipped" and "N passed, N failed"
#   make asan       the whole suite under AddressSanitizer + UBSan (build/asan/)
#   make fuzz       each libFuzzer harness (tests/fuzz/) for FUZZ_TIME seconds
#                   (default 60) under ASan + UBSan, built with clang in build/fuzz/
#   make bench      benchmarks (figures and ratios on stdout)
#   make deps       apt-get install what the project needs (idempotent)
#   make clean
#   make install    build/rlc, doc/rlc.1 and the bash completion under
#                   $(DESTDIR)$(PREFIX)
#   make deb        the Debian package build/rlc_VERSION_ARCH.deb (packaging/deb.sh)

CC      ?= cc
BUILD   ?= build
OPT     ?= -O2
SAN     ?=
CFLAGS  ?= $(OPT) -g
WARN    := -std=c11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wvla
DEFS    := -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE
INCS    := -Ibase -Ilang -Iplan -Icompiler -Iruntime -Icli -I$(BUILD)/lang
# Math functions do not set errno: the one rlc calls, sqrt, is then the
# sqrtsd instruction (as exact), and libm is not linked at all.
CODEGEN := -fno-math-errno
ALL_CFLAGS = $(WARN) $(CODEGEN) $(DEFS) $(INCS) $(CFLAGS) $(SAN)
# libssl and libcrypto are not linked: base/openssl_lazy loads them when TLS or
# a plan signature needs them (as runtime/curl_lazy loads libcurl).  jansson,
# hiredis and libyaml (MIT and BSD licensed) are linked from Debian's static
# archives, since every shared library costs each rlc process about 0.2 ms in
# the loader (SPEC 7.7, "Libraries"); `make LINK=shared` links them shared.
# Nettle (LGPL) stays shared.
LINK    ?= static
DEP_LIBS := -ljansson -lhiredis -lyaml
BSTATIC := -Wl,-Bstatic
BDYNAMIC := -Wl,-Bdynamic
LDLIBS  := $(if $(filter static,$(LINK)),$(BSTATIC) $(DEP_LIBS) $(BDYNAMIC),$(DEP_LIBS)) \
           -lnettle -ldl
VERSION := $(shell cat VERSION 2>/dev/null || echo 0.0.0)

DEB_PACKAGES := build-essential flex bison libyaml-dev libhiredis-dev \
    libcurl4-openssl-dev libssl-dev nettle-dev libcmocka-dev redis-server redis-tools \
    faketime valgrind python3 python3-yaml libjansson-dev time \
    etcd-server etcd-client nginx libnginx-mod-http-lua clang strace

BASE_SRC     := $(wildcard base/*.c)
LANG_SRC     := $(wildcard lang/*.c)
PLAN_SRC     := $(wildcard plan/*.c)
COMPILER_SRC := $(wildcard compiler/*.c)
RUNTIME_SRC  := $(wildcard runtime/*.c)
CLI_SRC      := $(wildcard cli/*.c)
STDLIB_FILES := $(sort $(wildcard stdlib/std/*.rlp) $(wildcard stdlib/*.lua))

GEN_OBJ := $(BUILD)/lang/parser.o $(BUILD)/lang/lexer.o
LIB_OBJ := $(BASE_SRC:%.c=$(BUILD)/%.o) $(LANG_SRC:%.c=$(BUILD)/%.o) $(GEN_OBJ) \
           $(PLAN_SRC:%.c=$(BUILD)/%.o) \
           $(COMPILER_SRC:%.c=$(BUILD)/%.o) $(RUNTIME_SRC:%.c=$(BUILD)/%.o) \
           $(BUILD)/gen/stdlib_embed.o $(BUILD)/gen/explain_text.o
CLI_OBJ := $(CLI_SRC:%.c=$(BUILD)/%.o)

.PHONY: all test asan bench deps clean check-deps install deb fuzz fuzz-build
all: $(BUILD)/rlc

$(BUILD)/rlc: $(CLI_OBJ) $(BUILD)/librlc.a
	$(CC) $(ALL_CFLAGS) -o $@ $(CLI_OBJ) $(BUILD)/librlc.a $(LDLIBS)

$(BUILD)/librlc.a: $(LIB_OBJ)
	rm -f $@
	ar rcs $@ $^

# Generated scanner and parser live in build/, never in the tree.
$(BUILD)/lang/parser.c $(BUILD)/lang/parser.h: lang/parser.y
	@mkdir -p $(BUILD)/lang
	bison -Wall -Werror --defines=$(BUILD)/lang/parser.h -o $(BUILD)/lang/parser.c $<
$(BUILD)/lang/lexer.c $(BUILD)/lang/lexer.h: lang/lexer.l
	@mkdir -p $(BUILD)/lang
	flex --header-file=$(BUILD)/lang/lexer.h -o $(BUILD)/lang/lexer.c $<

# Generated code is compiled with the same flags, minus the warnings that
# flex's skeleton trips over.
GEN_CFLAGS = $(ALL_CFLAGS) -I$(BUILD)/lang -Wno-unused-function -Wno-sign-compare -Wno-shadow -Wno-strict-prototypes
# -MMD here too: the generated code includes ast.h and parse.h, and a
# stale parser.o after a struct change miscompiles silently.
$(BUILD)/lang/parser.o: $(BUILD)/lang/parser.c $(BUILD)/lang/lexer.h
	$(CC) $(GEN_CFLAGS) -MMD -MP -c -o $@ $<
$(BUILD)/lang/lexer.o: $(BUILD)/lang/lexer.c $(BUILD)/lang/parser.h
	$(CC) $(GEN_CFLAGS) -MMD -MP -c -o $@ $<
$(BUILD)/lang/parse.o: $(BUILD)/lang/parser.h $(BUILD)/lang/lexer.h

# The stdlib modules and the Redis library are embedded from their sources;
# the explain pages are cut from SPEC.md (one source of truth).
$(BUILD)/tools/embed: tools/embed.c
	@mkdir -p $(@D)
	$(CC) -std=c11 -O2 -o $@ $<
$(BUILD)/gen/stdlib_embed.c: $(BUILD)/tools/embed $(STDLIB_FILES)
	@mkdir -p $(@D)
	$(BUILD)/tools/embed stdlib stdlib $(STDLIB_FILES) > $@.tmp && mv $@.tmp $@
$(BUILD)/gen/explain_text.c: SPEC.md tools/gen_explain.sh
	@mkdir -p $(@D)
	sh tools/gen_explain.sh SPEC.md > $@.tmp && mv $@.tmp $@
$(BUILD)/gen/%.o: $(BUILD)/gen/%.c
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# Every object is compiled with -DRLC_VERSION, so every one depends on VERSION.
$(LIB_OBJ) $(CLI_OBJ): VERSION
$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -DRLC_VERSION='"$(VERSION)"' -MMD -MP -c -o $@ $<

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

# --- tests ---------------------------------------------------------------
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

# Unit tests link the cli objects (all but main.o) as an archive, so a test
# pulls in only what it uses (render.o) and not the verbs, whose references
# to main.o's helpers would stay undefined.
$(BUILD)/libcli.a: $(filter-out $(BUILD)/cli/main.o,$(CLI_OBJ))
	rm -f $@
	ar rcs $@ $^
$(BUILD)/tests/%: tests/unit/%.c tests/unit/unit.h $(BUILD)/libcli.a $(BUILD)/librlc.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(BUILD)/libcli.a $(BUILD)/librlc.a $(LDLIBS) -lcmocka

# Runtime test programs (owner: runtime): cmocka tests (test_*) and helpers
# that suites run against servers they start (cluster_client).  Linked with
# librlc only: runtime/ never needs cli/.
RT_TEST_SRC := $(wildcard tests/runtime/*.c)
RT_TEST_BIN := $(RT_TEST_SRC:tests/runtime/%.c=$(BUILD)/tests/%)
$(BUILD)/tests/%: tests/runtime/%.c $(BUILD)/librlc.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(BUILD)/librlc.a $(LDLIBS) -lcmocka
test: $(RT_TEST_BIN)

# Test drivers that are programs, not cmocka suites (tests/suites/*.sh run them).
DRIVER_SRC := $(wildcard tests/drivers/*.c)
DRIVER_BIN := $(DRIVER_SRC:tests/drivers/%.c=$(BUILD)/tests/drivers/%)
$(BUILD)/tests/drivers/%: tests/drivers/%.c $(BUILD)/librlc.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(BUILD)/librlc.a $(LDLIBS)

test: $(DRIVER_BIN)

# The fuzz harnesses, built with the ordinary compiler and a main that feeds
# them files (tests/fuzz/replay_main.c): tests/suites/fuzz_replay.sh replays
# the seeds and any saved crasher through them on every test run.
REPLAY_BIN := $(patsubst tests/fuzz/fuzz_%.c,$(BUILD)/tests/replay_%,$(wildcard tests/fuzz/fuzz_*.c))
$(BUILD)/tests/replay_%: tests/fuzz/fuzz_%.c tests/fuzz/replay_main.c $(BUILD)/libcli.a $(BUILD)/librlc.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -o $@ $< tests/fuzz/replay_main.c $(BUILD)/libcli.a $(BUILD)/librlc.a $(LDLIBS)
test: $(REPLAY_BIN)

test: $(BUILD)/rlc $(UNIT_BIN)
	@BUILD=$(BUILD) sh tests/run.sh

asan:
	$(MAKE) BUILD=build/asan OPT=-O1 SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" test

# Fuzzing: the library and the cli objects are built with clang and
# -fsanitize=fuzzer-no-link in build/fuzz/, each tests/fuzz/fuzz_NAME.c is
# linked with libFuzzer's main, and tests/fuzz/run.sh runs them (seeds from
# the other tests' files; build/rlc compiles the example plans).
FUZZ_TIME ?= 60
FUZZ_SAN  := -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all \
             -fno-omit-frame-pointer -fsanitize-coverage-ignorelist=tests/fuzz/coverage_ignore.txt
FUZZ_SRC  := $(wildcard tests/fuzz/fuzz_*.c)
$(BUILD)/bin/fuzz_%: tests/fuzz/fuzz_%.c $(BUILD)/libcli.a $(BUILD)/librlc.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -fsanitize=fuzzer -o $@ $< $(BUILD)/libcli.a $(BUILD)/librlc.a $(LDLIBS)
fuzz-build:
	$(MAKE) BUILD=build/fuzz CC=clang OPT=-O1 SAN="$(FUZZ_SAN)" \
	    $(FUZZ_SRC:tests/fuzz/%.c=build/fuzz/bin/%)
fuzz: fuzz-build $(BUILD)/rlc
	FUZZ=build/fuzz RLC=$(BUILD)/rlc FUZZ_TIME=$(FUZZ_TIME) sh tests/fuzz/run.sh

# The policy generator is a plain C program (no library code): it only
# writes text.
$(BUILD)/gen_policy: tests/bench/gen_policy.c
	@mkdir -p $(@D)
	$(CC) $(WARN) $(DEFS) $(CFLAGS) -o $@ $<
$(BUILD)/tests/bench/enforce: tests/bench/enforce.c tests/bench/record.h tests/bench/redis_stats.h $(BUILD)/librlc.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(BUILD)/librlc.a $(LDLIBS)
$(BUILD)/tests/bench/sliding: tests/bench/sliding.c tests/bench/record.h tests/bench/redis_stats.h $(BUILD)/librlc.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(BUILD)/librlc.a $(LDLIBS)
$(BUILD)/tests/bench/templates: tests/bench/templates.c tests/bench/record.h tests/bench/redis_stats.h $(BUILD)/librlc.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(BUILD)/librlc.a $(LDLIBS)
bench: $(BUILD)/rlc $(BUILD)/gen_policy $(BUILD)/tests/bench/enforce $(BUILD)/tests/bench/sliding \
       $(BUILD)/tests/bench/templates
	@BUILD=$(BUILD) BENCH_FULL=$${BENCH_FULL-1} sh tests/bench/report.sh run.sh enforce.sh callgrind.sh peer.sh apply.sh \
	    import.sh diag.sh

deps:
	@missing=""; for p in $(DEB_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

PREFIX ?= /usr/local
# bash-completion looks in $XDG_DATA_DIRS/bash-completion/completions, which
# holds /usr/local/share by default.
install: $(BUILD)/rlc
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
	    $(DESTDIR)$(PREFIX)/share/bash-completion/completions
	install -m 755 $(BUILD)/rlc $(DESTDIR)$(PREFIX)/bin/rlc
	install -m 644 doc/rlc.1 $(DESTDIR)$(PREFIX)/share/man/man1/rlc.1
	install -m 644 packaging/completion/rlc.bash \
	    $(DESTDIR)$(PREFIX)/share/bash-completion/completions/rlc

# The package holds the binary, the man page, the completion and the
# copyright and changelog Debian asks for; the stdlib is in the binary.
deb: $(BUILD)/rlc
	sh packaging/deb.sh $(BUILD)/rlc $(BUILD)

clean:
	rm -rf build
