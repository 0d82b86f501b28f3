#!/usr/bin/env bash
# The fuzz harnesses replay their seed corpora and every crash the fuzzer ever found
# (test/fuzz/regressions/), under ASan and UBSan, without fuzzing: found crashes stay
# fixed.  The fuzzing itself runs in `make stress` (test/stress/fuzz.sh).
set -u
. "$RG_TOP/test/shell/tap.sh"
. "$RG_TOP/test/fuzz/lib.sh"

log=$RG_WORK/fuzz-replay
mkdir -p "$log"
if ! fuzz_deps; then
	echo "not ok 1 - the fuzz harnesses need clang-14 and libclang-rt-14-dev"
	exit 1
fi
ok "the fuzz harnesses build" fuzz_build "$log/build.log" || { tail -n 30 "$log/build.log"; }

for name in $(fuzz_names); do
	rc=0
	n=$(fuzz_replay "$name" "$log/$name.log") || rc=$?
	n=$(printf '%s\n' "$n" | head -n 1)
	if [ "$rc" -eq 0 ] && [ "$n" -gt 0 ]; then
		echo "ok $((TAP_N += 1)) - fuzz_$name replays its $n corpus and regression inputs"
	else
		echo "not ok $((TAP_N += 1)) - fuzz_$name replays its $n corpus and regression inputs (exit $rc)"
		TAP_FAILED=$((TAP_FAILED + 1))
		grep -E -m 5 'ERROR|invariant|runtime error|Running:' "$log/$name.log" | sed 's/^/#   /'
	fi
done

done_testing
