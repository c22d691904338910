# peoplesync — plain GNU Makefile.
#   make            ./peoplesync (optimised, -Werror)
#   make test       every test: cmocka units, JSONTestSuite, end-to-end against the fakes,
#                   all built with -Wall -Wextra -Werror under ASan + UBSan
#   make demo       the whole job against the loopback fakes on the embedded default config
#   make bench      benchmarks

CC	?= cc
PREFIX	?= /usr/local
DESTDIR	?=
# make install: where each kind of file goes (all under $(DESTDIR); /etc is never written).
BINDIR	?= $(PREFIX)/bin
MANDIR	?= $(PREFIX)/share/man
UNITDIR	?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
TMPFILESDIR ?= $(PREFIX)/lib/tmpfiles.d
DOCDIR	?= $(PREFIX)/share/doc/peoplesync
INSTALL	?= install
UNITS	= $(wildcard etc/systemd/*.service etc/systemd/*.timer)
PYTHON	?= /usr/bin/python3

WARN	= -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 \
	  -Wno-format-nonliteral -Werror
DEFS	= -D_GNU_SOURCE -DJSMN_PARENT_LINKS -DJSMN_STRICT
CPPFLAGS_ALL = -Iinclude $(DEFS)
CFLAGS_REL  = -std=c11 -O2 -g $(WARN)
CFLAGS_TEST = -std=c11 -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
	      -fno-sanitize-recover=undefined $(WARN)
LIBS	= -llmdb -lcurl -lconfig -lcrypto -lmicrohttpd -lpthread -lm

# The layers, bottom up (scripts/check-layers.py holds the allowed include directions).
LAYERS	= base store drivers reconcile report web src
LIB_SRC	= $(filter-out src/main.c,$(foreach d,$(LAYERS),$(wildcard $(d)/*.c)))
MAIN_SRC = src/main.c
HDRS	= $(wildcard include/*.h $(LAYERS:%=%/*.h))

REL_OBJ	 = $(LIB_SRC:%.c=build/rel/%.o)
TEST_OBJ = $(LIB_SRC:%.c=build/test/%.o)

UNIT_SRC = $(wildcard tests/unit/test_*.c)
UNIT_BIN = $(UNIT_SRC:tests/unit/%.c=build/test/unit/%)

.PHONY: all test unit e2e demo bench bench-record deps clean install fuzz
all: peoplesync

deps:
	@sh scripts/deps.sh

peoplesync: $(REL_OBJ) build/rel/src/main.o
	@$(if $(V),,echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS_REL) -o $@ $^ $(LIBS)

# V=1 shows the full compiler lines
Q	= $(if $(V),,@)
build/rel/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  CC      $<")
	$(Q)$(CC) $(CPPFLAGS_ALL) $(CFLAGS_REL) -c -o $@ $<

build/test/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  CC asan $<")
	$(Q)$(CC) $(CPPFLAGS_ALL) $(CFLAGS_TEST) -c -o $@ $<

# The sanitized binary the end-to-end tests run.
build/test/peoplesync: $(TEST_OBJ) build/test/src/main.o
	@$(if $(V),,echo "  LD asan $@")
	$(Q)$(CC) $(CFLAGS_TEST) -o $@ $^ $(LIBS)

build/test/unit/%: tests/unit/%.c $(TEST_OBJ) $(HDRS)
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  LD asan $@")
	$(Q)$(CC) $(CPPFLAGS_ALL) -Itests/unit $(CFLAGS_TEST) -o $@ $< $(TEST_OBJ) $(LIBS) -lcmocka

unit: $(UNIT_BIN)
	@$(PYTHON) -c "import sys; sys.path.insert(0, 'tests'); import run_all; p, f = run_all.run_units(); print(f'{p} passed, {f} failed'); sys.exit(1 if f else 0)"

e2e: build/test/peoplesync
	@$(PYTHON) tests/run_all.py e2e

test: deps
	@$(MAKE) --no-print-directory build/test/peoplesync $(UNIT_BIN)
	@$(PYTHON) tests/run_all.py

# The long crash-injection run: 1000 SIGKILLs of reconcile over a larger org (test_crash.py;
# `make test` runs its short variant). PEOPLESYNC_CRASH_KILLS / _SEED override.
.PHONY: soak
soak: deps
	@$(MAKE) --no-print-directory build/test/peoplesync
	@PEOPLESYNC_SOAK=1 $(PYTHON) -m unittest -v tests.e2e.test_crash

demo: deps
	@$(MAKE) --no-print-directory peoplesync
	@$(PYTHON) tests/demo.py

# The units run /usr/local/bin/peoplesync (the default BINDIR, so that systemd-analyze verify
# sees a real path); installed copies name $(BINDIR)/peoplesync instead. The example config
# goes to the documentation, never to /etc.
install: peoplesync
	$(INSTALL) -d -m 0755 $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(UNITDIR) \
	    $(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(TMPFILESDIR) $(DESTDIR)$(DOCDIR)
	$(INSTALL) -m 0755 peoplesync $(DESTDIR)$(BINDIR)/peoplesync
	$(INSTALL) -m 0644 peoplesync.1 $(DESTDIR)$(MANDIR)/man1/peoplesync.1
	for u in $(UNITS); do \
		sed '/^Exec/s|/usr/local/bin/peoplesync|$(BINDIR)/peoplesync|' $$u \
		    > $(DESTDIR)$(UNITDIR)/$${u##*/}.tmp && \
		chmod 0644 $(DESTDIR)$(UNITDIR)/$${u##*/}.tmp && \
		mv -f $(DESTDIR)$(UNITDIR)/$${u##*/}.tmp $(DESTDIR)$(UNITDIR)/$${u##*/} || exit 1; \
	done
	$(INSTALL) -m 0644 etc/systemd/peoplesync.sysusers $(DESTDIR)$(SYSUSERSDIR)/peoplesync.conf
	$(INSTALL) -m 0644 etc/systemd/peoplesync.tmpfiles $(DESTDIR)$(TMPFILESDIR)/peoplesync.conf
	$(INSTALL) -m 0644 etc/peoplesync.cfg README.md $(DESTDIR)$(DOCDIR)/

# Benchmarks (bench/run_bench.py): BENCH_SIZES=10000,100000 for a shorter run; BENCH_GRID
# accounts of the 3-workspace Enterprise Grid row (0: none).
BENCH_SIZES ?= 10000,100000,1000000
BENCH_GRID ?= 300000
build/bench/limit: bench/limit.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -O2 -D_GNU_SOURCE -DJSMN_PARENT_LINKS $(WARN) -o $@ $< -lcurl -llmdb

# The console's page queries on a synthetic database (bench/console.c, the library's objects).
build/bench/console: bench/console.c $(REL_OBJ) $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS_ALL) $(CFLAGS_REL) -o $@ $< $(REL_OBJ) $(LIBS)

bench: deps
	@$(MAKE) --no-print-directory peoplesync build/bench/limit build/bench/console
	@$(PYTHON) bench/run_bench.py --sizes $(BENCH_SIZES) --grid $(BENCH_GRID)

bench-record: deps
	@$(MAKE) --no-print-directory peoplesync build/bench/limit build/bench/console
	@$(PYTHON) bench/run_bench.py --sizes $(BENCH_SIZES) --grid $(BENCH_GRID) --record

clean:
	rm -rf build peoplesync

# ---- fuzzing (tests/fuzz/README.md) ----
#   make fuzz               builds every libFuzzer target under build/fuzz/ (clang, ASan +
#                           UBSan) and runs each for FUZZ_SECONDS with FUZZ_JOBS workers;
#                           findings land in tests/fuzz/crashes/TARGET/ and fail the run
#   make fuzz-build         only builds them
#   make fuzz-coverage      what each corpus reaches of the code under test (llvm-cov)
#   make fuzz FUZZ_TARGETS="fuzz_json fuzz_events" FUZZ_SECONDS=300
# make test replays tests/fuzz/regress/ and tests/fuzz/seeds/ through every target, built
# with gcc under CFLAGS_TEST (build/test/unit/test_fuzz_regress).
FUZZ_CC		?= clang
FUZZ_SECONDS	?= 60
FUZZ_JOBS	?= 2
FUZZ_MAX_LEN	?= 16384
FUZZ_ALL	 = $(sort $(basename $(notdir $(wildcard tests/fuzz/fuzz_*.c))))
FUZZ_TARGETS	?= $(FUZZ_ALL)
FUZZ_SAN	 = -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_CFLAGS	 = -std=c11 -g -O1 -fno-omit-frame-pointer $(FUZZ_SAN) \
		   $(filter-out -Werror,$(WARN))
FUZZ_OBJ	 = $(LIB_SRC:%.c=build/fuzz/obj/%.o)
FUZZ_BIN	 = $(FUZZ_ALL:%=build/fuzz/%)
FUZZ_HDRS	 = $(wildcard tests/fuzz/*.h)
REGRESS_OBJ	 = $(FUZZ_ALL:%=build/test/fuzz/%.o)
UNIT_BIN	+= build/test/unit/test_fuzz_regress
unit: build/test/unit/test_fuzz_regress

.PHONY: fuzz-build fuzz-coverage
.SECONDARY: $(FUZZ_OBJ) $(REGRESS_OBJ)
build/fuzz/obj/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  CC fuzz $<")
	$(Q)$(FUZZ_CC) $(CPPFLAGS_ALL) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

build/fuzz/%: tests/fuzz/%.c $(FUZZ_OBJ) $(FUZZ_HDRS) $(HDRS)
	@$(if $(V),,echo "  LD fuzz $@")
	$(Q)$(FUZZ_CC) $(CPPFLAGS_ALL) -Itests/fuzz $(FUZZ_CFLAGS) -fsanitize=fuzzer \
	    -o $@ $< $(FUZZ_OBJ) $(LIBS)

fuzz-build: $(FUZZ_BIN)

fuzz: $(FUZZ_TARGETS:%=build/fuzz/%)
	@FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_JOBS=$(FUZZ_JOBS) FUZZ_MAX_LEN=$(FUZZ_MAX_LEN) \
	    sh tests/fuzz/run.sh $(FUZZ_TARGETS)

# make fuzz-coverage: line and branch coverage (llvm-cov) of the code under test that each
# target's corpus reaches, from a separate source-coverage build (no sanitizers).
FUZZ_COV_FLAGS	 = -std=c11 -g -O0 -fprofile-instr-generate -fcoverage-mapping
FUZZ_COV_OBJ	 = $(LIB_SRC:%.c=build/fuzz/covobj/%.o)
.SECONDARY: $(FUZZ_COV_OBJ)
build/fuzz/covobj/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  CC cov  $<")
	$(Q)$(FUZZ_CC) $(CPPFLAGS_ALL) $(FUZZ_COV_FLAGS) -c -o $@ $<

build/fuzz/cov/%: tests/fuzz/%.c $(FUZZ_COV_OBJ) $(FUZZ_HDRS) $(HDRS)
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  LD cov  $@")
	$(Q)$(FUZZ_CC) $(CPPFLAGS_ALL) -Itests/fuzz $(FUZZ_COV_FLAGS) -fsanitize=fuzzer \
	    -o $@ $< $(FUZZ_COV_OBJ) $(LIBS)

fuzz-coverage: $(FUZZ_TARGETS:%=build/fuzz/cov/%)
	@FUZZ_MAX_LEN=$(FUZZ_MAX_LEN) sh tests/fuzz/coverage.sh $(FUZZ_TARGETS)

build/test/fuzz/%.o: tests/fuzz/%.c $(FUZZ_HDRS) $(HDRS)
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  CC asan $<")
	$(Q)$(CC) $(CPPFLAGS_ALL) -Itests/fuzz $(CFLAGS_TEST) -DLLVMFuzzerTestOneInput=$*_one \
	    -DLLVMFuzzerInitialize=$*_initialize -c -o $@ $<

build/test/unit/test_fuzz_regress: tests/fuzz/replay.c $(REGRESS_OBJ) $(TEST_OBJ) $(HDRS)
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  LD asan $@")
	$(Q)$(CC) $(CPPFLAGS_ALL) $(CFLAGS_TEST) '-DFUZZ_TARGETS_X=$(foreach t,$(FUZZ_ALL),X($t))' \
	    -o $@ $< $(REGRESS_OBJ) $(TEST_OBJ) $(LIBS)
