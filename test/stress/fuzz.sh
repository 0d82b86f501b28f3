#!/usr/bin/env bash
# Fuzzing: each libFuzzer harness in test/fuzz/ (ASan + UBSan) for FUZZ_SECONDS seconds
# (default 60), starting from its committed seed corpus.  First it replays the inputs
# that crashed it before (test/fuzz/regressions/NAME/); a new crash fails the run and its
# input is kept there, to commit with the fix, so that the replay in the test command
# (test/shell/fuzz_replay.sh) keeps it fixed.  Run by `make stress`, or on its own with
# RG_TOP set (RG_WORK defaults to a temporary directory).
#
# Environment: FUZZ_SECONDS (per harness), FUZZ_ONLY (space-separated harness names).
set -u
RG_TOP=${RG_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$RG_TOP/test/shell/tap.sh"
. "$RG_TOP/test/fuzz/lib.sh"

seconds=${FUZZ_SECONDS:-60}
own_work=
if [ -z "${RG_WORK:-}" ]; then
	RG_WORK=$(mktemp -d /tmp/riskguard-fuzz.XXXXXX)
	own_work=1
fi
work=$RG_WORK/fuzz
mkdir -p "$work"

if ! fuzz_deps; then
	echo "not ok 1 - fuzzing needs clang-14 and libclang-rt-14-dev"
	exit 1
fi
if ! fuzz_build "$work/build.log"; then
	tail -n 40 "$work/build.log"
	echo "not ok 1 - the fuzz harnesses build"
	exit 1
fi

total=0
for name in ${FUZZ_ONLY:-$(fuzz_names)}; do
	bin=$RG_TOP/test/fuzz/bin/fuzz_$name
	regress=$RG_TOP/test/fuzz/regressions/$name
	corpus=$work/corpus-$name
	log=$work/$name.log
	mkdir -p "$regress" "$corpus"

	# the known crashers first, quickly
	rc=0
	n=$(fuzz_replay "$name" "$work/$name-replay.log") || rc=$?
	if [ "$rc" -ne 0 ]; then
		echo "not ok $((TAP_N += 1)) - fuzz_$name replays its $n corpus and regression inputs"
		TAP_FAILED=$((TAP_FAILED + 1))
		grep -E -m 8 'ERROR|invariant|runtime error|Running:' "$work/$name-replay.log" | sed 's/^/#   /'
		continue
	fi
	echo "ok $((TAP_N += 1)) - fuzz_$name replays its $n corpus and regression inputs"

	# then fuzz: new inputs go to a scratch corpus; a crashing input to regressions/
	rc=0
	"$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=4096 \
		-print_final_stats=1 -artifact_prefix="$regress/" \
		"$corpus" "$RG_TOP/test/fuzz/corpus/$name" >"$log" 2>&1 || rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	execs=${execs:-0}
	total=$((total + execs))
	echo "# fuzz_$name: $execs executions, $(sed -n 's/^stat::new_units_added: *//p' "$log" | tail -n 1) new inputs, exit $rc"
	if [ "$rc" -eq 0 ]; then
		echo "ok $((TAP_N += 1)) - fuzz_$name: $execs executions in ${seconds}s, no crash"
	else
		echo "not ok $((TAP_N += 1)) - fuzz_$name: crashed after $execs executions (exit $rc)"
		TAP_FAILED=$((TAP_FAILED + 1))
		grep -E -m 12 'ERROR|invariant|runtime error|SUMMARY|Test unit written' "$log" | sed 's/^/#   /'
		echo "#   reproduce: $bin $regress/<file>; fix, then commit the file"
	fi
done
echo "# fuzz executions in all: $total"

[ -n "$own_work" ] && rm -rf "$RG_WORK"
done_testing
