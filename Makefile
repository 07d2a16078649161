# Tongxin: plain GNU make, pkg-config, one build directory.
#
#   make            build everything into build/
#   make check      install missing Debian packages, build, run every test
#   make asan       the same tests with ASan + UBSan
#   make soak       the reliability scenarios at scale (docs/reliability.md)
#   make demo       the end-to-end demo (see README.md)
#   make bench      benchmarks
#   make install    PREFIX=/usr/local DESTDIR=
#   make deb        Debian packages into $(B)/deb/ (debian/), checked by lintian
#   make check-deb  install them in a fresh Debian 12 root and run them (tests/deb.t)
#   make pot        po/tongxin.pot from the marked strings, merged into po/*.po
#   make clean

PREFIX  ?= /usr/local
DESTDIR ?=
BINDIR   = $(PREFIX)/bin
SBINDIR  = $(PREFIX)/sbin
LIBDIR   = $(PREFIX)/lib
INCDIR   = $(PREFIX)/include
MANDIR   = $(PREFIX)/share/man
LOCALEDIR ?= $(PREFIX)/share/locale
SYSCONFDIR ?= /etc

B       ?= build
CC      ?= cc
OPT     ?= -O2
WARN     = -Wall -Wextra -Wshadow -Wformat=2 -Wstrict-prototypes -Werror
SAN     ?=
CFLAGS  ?=
CFLAGS  += -std=gnu11 $(OPT) -g $(WARN) $(SAN) -fPIC -D_GNU_SOURCE \
           -Icommon -Iproducers/lib -Icollector
LDFLAGS += $(SAN)

# msgpack-c >= 6 calls itself msgpack-c; Debian 12 ships 4.0 as msgpack.
MSGPACK_PC := $(shell pkg-config --exists msgpack-c 2>/dev/null && echo msgpack-c || echo msgpack)
PCS      = libzmq $(MSGPACK_PC) libpq jansson inih libmicrohttpd libsystemd libsodium
PC_CFLAGS := $(shell pkg-config --cflags $(PCS) 2>/dev/null)
PC_LIBS   := $(shell pkg-config --libs $(PCS) 2>/dev/null)
CMOCKA_LIBS := $(shell pkg-config --libs cmocka 2>/dev/null)
CFLAGS  += $(PC_CFLAGS)
LIBS     = $(PC_LIBS) -lpthread -lm

VERSION := $(shell cat VERSION 2>/dev/null || echo 0.0.0)
CFLAGS  += -DTONGXIN_VERSION='"$(VERSION)"'

COMMON_SRC    := $(wildcard common/*.c)
PRODLIB_SRC   := $(wildcard producers/lib/*.c)
COLLECTOR_SRC := $(filter-out collector/main.c,$(wildcard collector/*.c))
ADMIN_SRC     := $(wildcard admin/*.c)
SCHEMA_SQL    := $(sort $(wildcard schema/[0-9][0-9][0-9]_*.sql))
UNIT_SRC      := $(wildcard tests/unit/test_*.c)
SHIM_SRC      := $(wildcard tests/shim/*.c)
TOOL_SRC      := $(wildcard tests/tools/*.c)
BENCH_SRC     := $(wildcard bench/*.c)

obj = $(patsubst %.c,$(B)/%.o,$(1))
COMMON_OBJ    := $(call obj,$(COMMON_SRC))
PRODLIB_OBJ   := $(call obj,$(PRODLIB_SRC))
COLLECTOR_OBJ := $(call obj,$(COLLECTOR_SRC))
ADMIN_OBJ     := $(call obj,$(ADMIN_SRC)) $(B)/gen/migrations.o
UNIT_BIN      := $(patsubst tests/unit/%.c,$(B)/tests/%,$(UNIT_SRC))
SHIM_SO       := $(patsubst tests/shim/%.c,$(B)/tests/%.so,$(SHIM_SRC))
TOOL_BIN      := $(patsubst tests/tools/%.c,$(B)/tests/tools/%,$(TOOL_SRC))
BENCH_BIN     := $(patsubst bench/%.c,$(B)/bench/%,$(BENCH_SRC))

PROGS := $(B)/tongxin-admin
ifneq ($(wildcard collector/main.c),)
PROGS += $(B)/tongxin-collectord
endif
SEND_SRC := $(wildcard producers/send/*.c)
ifneq ($(SEND_SRC),)
PROGS += $(B)/tongxin-send
endif
REPORT_SRC := $(wildcard analytics/*.c)
ifneq ($(REPORT_SRC),)
PROGS += $(B)/tongxin-report
endif
ifneq ($(PRODLIB_SRC),)
PROGS += $(B)/libtongxin.a $(B)/libtongxin.so
endif

# Message catalogues (po/README.md): po/LANG.po -> $(B)/locale/LANG/LC_MESSAGES/tongxin.mo.
# The programs find them in $(LOCALEDIR), or in $$TONGXIN_LOCALEDIR (tests).
PO_LANGS := $(patsubst po/%.po,%,$(wildcard po/*.po))
MO_FILES := $(patsubst %,$(B)/locale/%/LC_MESSAGES/tongxin.mo,$(PO_LANGS))

.PHONY: all check asan soak test deps demo demo-stop bench bench-views install clean fuzz deb check-deb pot mo
all: $(PROGS) $(UNIT_BIN) $(SHIM_SO) $(TOOL_BIN) $(BENCH_BIN) $(MO_FILES)

$(B)/common/i18n.o: CFLAGS += -DTX_LOCALEDIR='"$(LOCALEDIR)"'

mo: $(MO_FILES)

$(B)/locale/%/LC_MESSAGES/tongxin.mo: po/%.po
	@mkdir -p $(dir $@)
	msgfmt --check -o $@.tmp $< && mv $@.tmp $@

# po/tongxin.pot afresh from the files of po/POTFILES, merged into every
# catalogue (scripts/po).
pot:
	@scripts/po update

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

$(B)/libtxcommon.a: $(COMMON_OBJ)
	@rm -f $@; ar rcs $@ $^

$(B)/libtongxin.a: $(PRODLIB_OBJ) $(COMMON_OBJ)
	@rm -f $@; ar rcs $@ $^

# Only the API (tongxin_*) is exported: producers/lib/libtongxin.map.
$(B)/libtongxin.so: $(PRODLIB_OBJ) $(COMMON_OBJ) producers/lib/libtongxin.map
	$(CC) -shared -Wl,-soname,libtongxin.so.0 -Wl,--version-script=producers/lib/libtongxin.map \
	    $(LDFLAGS) -o $@ $(PRODLIB_OBJ) $(COMMON_OBJ) $(LIBS)

# Migrations are compiled into tongxin-admin, so the binary knows exactly
# which schema versions it understands.
$(B)/tools/embed: tools/embed.c
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -O1 $(WARN) -o $@ $<

$(B)/gen/migrations.c: $(SCHEMA_SQL) $(B)/tools/embed
	@mkdir -p $(dir $@)
	$(B)/tools/embed $(SCHEMA_SQL) > $@.tmp && mv $@.tmp $@

$(B)/gen/migrations.o: $(B)/gen/migrations.c
	$(CC) $(CFLAGS) -Iadmin -c $< -o $@

# replay checks kept events with the collector's decoder and validator.
$(B)/tongxin-admin: $(ADMIN_OBJ) $(COLLECTOR_OBJ) $(B)/libtxcommon.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

$(B)/tongxin-collectord: $(B)/collector/main.o $(COLLECTOR_OBJ) $(B)/libtxcommon.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

$(B)/tongxin-report: $(call obj,$(REPORT_SRC)) $(B)/libtxcommon.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

$(B)/tongxin-send: $(call obj,$(SEND_SRC)) $(B)/libtongxin.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

$(B)/tests/%: tests/unit/%.c $(COLLECTOR_OBJ) $(PRODLIB_OBJ) $(B)/libtxcommon.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(LDFLAGS) $(LIBS) $(CMOCKA_LIBS)

# Test programs (drivers, helpers) are not tests themselves.
$(B)/tests/tools/%: tests/tools/%.c $(B)/libtongxin.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(LDFLAGS) $(LIBS)

# Benchmark programs (make bench), linked like the test programs; the
# baseline also uses the collector's modules, so its rows are the collector's.
$(B)/bench/%: bench/%.c $(COLLECTOR_OBJ) $(B)/libtongxin.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(LDFLAGS) $(LIBS)

$(B)/tests/%.so: tests/shim/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -shared -o $@ $< -ldl

deps:
	@scripts/install-deps

# The test runner: prove over tests/*.t (shell, TAP) and the unit binaries;
# tests/run starts a private PostgreSQL and stops it afterwards.
check: deps
	@$(MAKE) --no-print-directory all
	@B=$(B) tests/run

ASAN_SAN = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
asan: deps
	@$(MAKE) --no-print-directory B=build-asan OPT=-O1 SAN="$(ASAN_SAN)" all
	@B=build-asan OPT=-O1 SAN="$(ASAN_SAN)" ASAN_OPTIONS=detect_leaks=1 tests/run

# The fault-injection scenarios of make check at scale: 1,000,000 events and
# 10 faults each; one summary line per scenario (also in $(B)/soak.log).
soak: deps
	@$(MAKE) --no-print-directory all
	@rm -f $(B)/soak.log
	@SOAK=1 RELIABILITY_EVENTS=1000000 RELIABILITY_FAULTS=10 RELIABILITY_LOG=$(B)/soak.log \
	    B=$(B) tests/run --timer tests/reliability/*.t

demo: deps
	@$(MAKE) --no-print-directory all
	@B=$(B) scripts/demo start

demo-stop:
	@B=$(B) scripts/demo stop

bench: deps
	@$(MAKE) --no-print-directory all >&2
	@B=$(B) scripts/bench

# bench plus the analysts' views on 10,000,000 events (bench/views.sh; 15-25 min).
bench-views: deps
	@$(MAKE) --no-print-directory all >&2
	@B=$(B) BENCH_VIEWS=1 scripts/bench

UNITDIR ?= $(PREFIX)/lib/systemd/system
DOCDIR  ?= $(PREFIX)/share/doc/tongxin
PCDIR   ?= $(LIBDIR)/pkgconfig

# libFuzzer (clang) over the pre-scan, decoder and validator.  New inputs go
# to $(B)/fuzz/corpus; crashes to $(B)/fuzz/ (add them to
# tests/fuzz/regressions.txt, which make check replays under ASan).
FUZZ_TIME ?= 60
FUZZ_SRC   = tests/fuzz/fuzz_wire.c common/prescan.c common/utf8.c common/uuid.c common/wire.c \
             common/buf.c common/strmap.c common/lex.c common/registry.c common/validate.c \
             common/safetext.c
$(B)/fuzz/fuzz_wire: $(FUZZ_SRC)
	@mkdir -p $(dir $@)
	clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -D_GNU_SOURCE \
	    -Icommon -Icollector $(PC_CFLAGS) $(FUZZ_SRC) -lmsgpackc -ljansson -lsodium -o $@

fuzz: deps $(B)/fuzz/fuzz_wire $(B)/tests/test_wire_cases
	@mkdir -p $(B)/fuzz/corpus $(B)/fuzz/regressions
	$(B)/tests/test_wire_cases --emit $(B)/fuzz/regressions tests/fuzz/regressions.txt
	$(B)/fuzz/fuzz_wire -max_total_time=$(FUZZ_TIME) -malloc_limit_mb=1024 -max_len=65536 \
	    -artifact_prefix=$(B)/fuzz/ $(B)/fuzz/corpus tests/fuzz/corpus $(B)/fuzz/regressions

# The programs and the library only (not the tests).  The config goes to
# $(SYSCONFDIR)/tongxin/collectord.conf unless one is there (never
# overwritten): the commented example, with db and key set to what
# tongxin-admin setup makes.
CONF_DEFAULTS = -e 's|^\# db = $$|db = dbname=tongxin user=tongxin|' \
                -e 's|^\# key = $$|key = $(SYSCONFDIR)/tongxin/collector.key|'
install: $(PROGS) $(MO_FILES)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SBINDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCDIR) \
	    $(DESTDIR)$(PCDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(UNITDIR) $(DESTDIR)$(DOCDIR) \
	    $(DESTDIR)$(SYSCONFDIR)/tongxin
	install -m 0755 $(B)/tongxin-admin $(DESTDIR)$(BINDIR)/
	for f in tongxin-send tongxin-report; do [ ! -f $(B)/$$f ] || install -m 0755 $(B)/$$f $(DESTDIR)$(BINDIR)/; done
	install -m 0755 $(B)/tongxin-collectord $(DESTDIR)$(SBINDIR)/
	install -m 0644 $(B)/libtongxin.a $(DESTDIR)$(LIBDIR)/
	install -m 0755 $(B)/libtongxin.so $(DESTDIR)$(LIBDIR)/libtongxin.so.0
	ln -sf libtongxin.so.0 $(DESTDIR)$(LIBDIR)/libtongxin.so
	install -m 0644 producers/lib/tongxin.h $(DESTDIR)$(INCDIR)/
	sed -e 's|@PREFIX@|$(PREFIX)|; s|@LIBDIR@|$(LIBDIR)|; s|@INCDIR@|$(INCDIR)|; s|@VERSION@|$(VERSION)|' \
	    producers/lib/tongxin.pc.in > $(DESTDIR)$(PCDIR)/tongxin.pc
	for m in docs/man/*.1; do [ ! -f $$m ] || install -m 0644 $$m $(DESTDIR)$(MANDIR)/man1/; done
	for m in docs/man/*.5; do [ ! -f $$m ] || install -m 0644 $$m $(DESTDIR)$(MANDIR)/man5/; done
	for m in docs/man/*.8; do [ ! -f $$m ] || install -m 0644 $$m $(DESTDIR)$(MANDIR)/man8/; done
	sed -e 's|/usr/local/sbin/|$(SBINDIR)/|' -e 's|/etc/tongxin/|$(SYSCONFDIR)/tongxin/|g' \
	    systemd/tongxin-collectord.service > $(DESTDIR)$(UNITDIR)/tongxin-collectord.service
	install -m 0644 systemd/collectord.conf.example README.md docs/*.md docs/*.svg $(DESTDIR)$(DOCDIR)/
	[ -e $(DESTDIR)$(SYSCONFDIR)/tongxin/collectord.conf ] || \
	    sed $(CONF_DEFAULTS) systemd/collectord.conf.example > $(DESTDIR)$(SYSCONFDIR)/tongxin/collectord.conf
	for l in $(PO_LANGS); do \
	    install -d $(DESTDIR)$(LOCALEDIR)/$$l/LC_MESSAGES && \
	    install -m 0644 $(B)/locale/$$l/LC_MESSAGES/tongxin.mo $(DESTDIR)$(LOCALEDIR)/$$l/LC_MESSAGES/ || exit 1; \
	done

# Debian packages (debian/): built from a copy of the tree in $(B)/deb, so
# the packages, .changes and lintian's verdict land there.  Needs the
# packaging tools (scripts/install-deps installs them; make check does not).
DEB_DEPS = debhelper dpkg-dev fakeroot lintian
DEB_SRC  = $(B)/deb/tongxin-$(VERSION)
deb:
	@scripts/install-deps $(DEB_DEPS)
	rm -rf $(B)/deb && mkdir -p $(DEB_SRC)
	git ls-files -co --exclude-standard | grep -v '^debian/.*\.log$$' | tar -cf - -T - | tar -xf - -C $(DEB_SRC)
	cd $(DEB_SRC) && dpkg-buildpackage -b -us -uc -j2 >../build.log 2>&1 || { tail -n 30 ../build.log; exit 1; }
	@lintian --fail-on error,warning --display-info --show-overrides $(B)/deb/*.changes >$(B)/deb/lintian.log; \
	    rc=$$?; cat $(B)/deb/lintian.log; [ $$rc = 0 ] || echo "lintian: errors or warnings (see above)"; exit $$rc
	@ls $(B)/deb/*.deb

# The packages in a fresh Debian 12 root (debootstrap; needs root and a
# mirror, DEB_MIRROR): not part of make check.
check-deb: deb
	@scripts/install-deps debootstrap
	@TONGXIN_CHECK_DEB=1 B=$(B) tests/run tests/deb.t

clean:
	rm -rf build build-asan

-include $(shell find $(B) -name '*.d' 2>/dev/null)

# tongxin-desk (desk/, docs/desk.md): the web desk for a unit's clerks.  Its
# page (desk/web/) is compiled in by tools/deskembed, which also lists the
# page's msgids for /i18n/LANG.json.
DESK_SRC   := $(wildcard desk/*.c)
DESK_WEB   := $(sort $(wildcard desk/web/*))
ifneq ($(DESK_SRC),)
PROGS += $(B)/tongxin-desk
all: $(B)/tongxin-desk
endif
$(B)/tools/deskembed: tools/deskembed.c
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -O1 $(WARN) -o $@ $<
$(B)/gen/desk_assets.c: $(DESK_WEB) $(B)/tools/deskembed
	@mkdir -p $(dir $@)
	$(B)/tools/deskembed $(DESK_WEB) > $@.tmp && mv $@.tmp $@
$(B)/gen/desk_assets.o: $(B)/gen/desk_assets.c
	$(CC) $(CFLAGS) -Idesk -c $< -o $@
$(B)/desk/%.o: CFLAGS += -Idesk -DTX_LOCALEDIR='"$(LOCALEDIR)"'
$(B)/tongxin-desk: $(call obj,$(DESK_SRC)) $(B)/gen/desk_assets.o $(B)/libtongxin.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)
# Its user service and example configuration (in a directory of its own,
# the tongxin-desk package's).
USERUNITDIR ?= $(PREFIX)/lib/systemd/user
DESKDOCDIR  ?= $(DOCDIR)-desk
install: install-desk
install-desk: $(B)/tongxin-desk
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(USERUNITDIR) $(DESTDIR)$(DESKDOCDIR)
	install -m 0755 $(B)/tongxin-desk $(DESTDIR)$(BINDIR)/
	sed -e 's|/usr/local/bin/|$(BINDIR)/|' systemd/tongxin-desk.service \
	    > $(DESTDIR)$(USERUNITDIR)/tongxin-desk.service
	install -m 0644 systemd/desk.conf.example $(DESTDIR)$(DESKDOCDIR)/
	install -d $(DESTDIR)$(DOCDIR)/zh
	install -m 0644 docs/desk-*.png $(DESTDIR)$(DOCDIR)/
	install -m 0644 docs/zh/desk.md $(DESTDIR)$(DOCDIR)/zh/
.PHONY: install-desk
