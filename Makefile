# riskguard: PGXS build, plus the project's own targets.
#
#   make && make install        build and install into the PostgreSQL that pg_config names
#   make test                   every test suite in a throw-away cluster (installs packages as root)
#   make demo                   the demo on sample data in a throw-away cluster
#   make bench [BENCH=name]     benchmarks, as ratios against a baseline measured in the same run
#   make installcheck           pg_regress suites against an already running server

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

PG_CONFIG ?= $(firstword $(wildcard /usr/lib/postgresql/15/bin/pg_config) pg_config)
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

$(DATA_built): $(SQL_PIECES) riskguard.control
	cat $(SQL_PIECES) | sed 's/@EXTVERSION@/$(EXTVERSION)/g' > $@

.PHONY: test demo bench deps
test:
	test/run test

demo:
	test/run demo

bench:
	test/run bench $(BENCH)

deps:
	test/run deps
