# riskguard: PGXS build, plus the project's own targets.
#
#   make && make install        build and install into the PostgreSQL that pg_config names
#   make test                   every test suite in a throw-away cluster (installs packages as root)
#   make demo                   the demo on sample data in a throw-away cluster
#   make bench [BENCH=name]     benchmarks, as ratios against a baseline measured in the same run
#   make installcheck           pg_regress suites against an already running server
#   make test SANITIZE=1        the same, with the extension built under UBSan
#   make test SANITIZE=address  the same, under ASan and UBSan, against a PostgreSQL built
#                               with ASan (test/asan/build-postgres.sh; built once, cached)
#   make stress                 the slow suites in test/stress/ (fuzzing, ...)
#   make fuzz                   build the libFuzzer harnesses of test/fuzz/

EXTENSION = riskguard
EXTVERSION = $(shell sed -n "s/^default_version = '\(.*\)'/\1/p" riskguard.control)

MODULE_big = riskguard
OBJS = \
	src/riskguard.o \
	src/rg_errors.o \
	src/rootkey.o \
	src/audit.o \
	src/limit_rules.o \
	src/alert.o \
	src/recorder.o \
	src/rowcache.o \
	src/model_spec.o \
	src/scoring_core.o \
	src/scoring.o \
	src/normal.o \
	src/irls.o \
	src/credit_stats_core.o \
	src/credit_stats.o \
	src/credit_stats_fit.o \
	src/credit_stats_pricing.o \
	src/ledger_hash.o \
	src/ledger_cache.o \
	src/ledger_heap.o \
	src/ledger_trigger.o \
	src/ledger_guard.o \
	src/ledger_verify.o \
	src/envelope.o \
	src/crypto_cache.o \
	src/crypto.o \
	src/crypto_copy.o \
	src/market_core.o \
	src/market.o \
	src/market_backtest.o

DATA_built = riskguard--$(EXTVERSION).sql
SQL_PIECES = $(sort $(wildcard src/sql/*.sql))

SHLIB_LINK = -lsodium
PG_CPPFLAGS = -I$(srcdir)/src
# PGXS's own warnings, plus these, as errors
PG_CFLAGS = -Werror -Wextra -Wno-unused-parameter -Wno-missing-field-initializers -Wno-sign-compare

REGRESS = $(patsubst sql/%.sql,%,$(sort $(wildcard sql/*.sql)))

EXTRA_CLEAN = test/bench/results

# SANITIZE=address builds against the ASan build of PostgreSQL (see below), whose
# pg_config would report its own small leaks at exit
RG_ASAN_CACHE ?= /var/cache/riskguard/asan
ifeq ($(SANITIZE),address)
PG_CONFIG ?= ASAN_OPTIONS=detect_leaks=0 $(RG_ASAN_CACHE)/postgresql-15/bin/pg_config
endif
PG_CONFIG ?= $(firstword $(wildcard /usr/lib/postgresql/15/bin/pg_config) pg_config)
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

$(DATA_built): $(SQL_PIECES) riskguard.control
	cat $(SQL_PIECES) | sed 's/@EXTVERSION@/$(EXTVERSION)/g' > $@

# ---- hardening: sanitizer builds and fuzz harnesses ----
# SANITIZE=1 (or undefined) builds the extension with UndefinedBehaviorSanitizer (any
# report aborts); test/run then scans the server logs for reports.  SANITIZE=address
# builds it with AddressSanitizer and UBSan against the PostgreSQL that
# test/asan/build-postgres.sh built with ASan (its pg_config is the default PG_CONFIG
# then).  The objects remember which way they were built, so switching rebuilds them.
RG_FLAVOUR := $(if $(SANITIZE),$(if $(filter address,$(SANITIZE)),asan,ubsan),plain)
ifeq ($(RG_FLAVOUR),ubsan)
PG_CFLAGS += -fsanitize=undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
SHLIB_LINK += -fsanitize=undefined
endif
ifeq ($(RG_FLAVOUR),asan)
PG_CFLAGS += -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
SHLIB_LINK += -fsanitize=address,undefined
endif
src/.flavour: FORCE
	@echo $(RG_FLAVOUR) | cmp -s - $@ || echo $(RG_FLAVOUR) >$@
$(OBJS): src/.flavour
FORCE:

# PGXS tracks no header dependencies: rebuild every object when a header changes, since
# a struct changed in one file and not recompiled in another corrupts memory silently.
# (After the include, so that PGXS's `all` stays the default goal.)
$(OBJS): $(wildcard src/*.h)

# Each test/fuzz/fuzz_NAME.c is linked with the pure-C cores it exercises.
FUZZ_CC ?= clang-14
FUZZ_CFLAGS ?= -g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=all -Isrc
FUZZ_NAMES = $(patsubst test/fuzz/fuzz_%.c,%,$(wildcard test/fuzz/fuzz_*.c))
FUZZ_BINS = $(addprefix test/fuzz/bin/fuzz_,$(FUZZ_NAMES))
FUZZ_SRC_envelope = src/envelope.c
FUZZ_SRC_model_spec = src/model_spec.c src/scoring_core.c test/fuzz/json_tree.c
FUZZ_SRC_market = src/market_core.c src/normal.c
FUZZ_SRC_credit_stats = src/credit_stats_core.c src/normal.c
FUZZ_SRC_irls = src/irls.c
FUZZ_SRC_ledger_hash = src/ledger_hash.c
FUZZ_LIBS = -lsodium -lm
fuzz: $(FUZZ_BINS)
.SECONDEXPANSION:
test/fuzz/bin/fuzz_%: test/fuzz/fuzz_%.c $$(FUZZ_SRC_$$*) $(wildcard src/*.h test/fuzz/*.h)
	@mkdir -p test/fuzz/bin
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $< $(FUZZ_SRC_$*) $(FUZZ_LIBS)
EXTRA_CLEAN += test/fuzz/bin src/.flavour

.PHONY: test demo bench deps stress fuzz FORCE
stress:
	test/run stress

test:
	test/run test

demo:
	test/run demo

bench:
	test/run bench $(BENCH)

deps:
	test/run deps
