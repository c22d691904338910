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

LIB_SRC	= $(filter-out src/main.c,$(wildcard src/*.c)) $(wildcard store/*.c) \
	  $(wildcard reconcile/*.c) $(wildcard drivers/*.c)
MAIN_SRC = src/main.c
HDRS	= $(wildcard include/*.h store/*.h drivers/*.h reconcile/*.h src/*.h)

REL_OBJ	 = $(LIB_SRC:%.c=build/rel/%.o)
TEST_OBJ = $(LIB_SRC:%.c=build/test/%.o)

UNIT_SRC = $(wildcard tests/unit/test_*.c)
UNIT_BIN = $(UNIT_SRC:tests/unit/%.c=build/test/unit/%)

.PHONY: all test unit e2e demo bench deps clean install fuzz
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
	@$(PYTHON) tests/e2e/run.py

test: deps
	@$(MAKE) --no-print-directory build/test/peoplesync $(UNIT_BIN)
	@$(PYTHON) tests/run_all.py

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

clean:
	rm -rf build peoplesync
