# test/fuzz/lib.sh: shared by the fuzz runner (test/stress/fuzz.sh) and the replay test
# (test/shell/fuzz_replay.sh).  Sourced; needs RG_TOP.

FUZZ_PACKAGES=(clang-14 libclang-rt-14-dev)

# fuzz_deps: install the compiler and the fuzzer runtime as root, or name them
fuzz_deps() {
	local p missing=()
	for p in "${FUZZ_PACKAGES[@]}"; do
		[ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null)" = installed ] \
			|| missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	if [ "$(id -u)" != 0 ]; then
		echo "# missing Debian packages: ${missing[*]} (apt-get install -y ${missing[*]})"
		return 1
	fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		"${missing[@]}" >/dev/null 2>&1 \
		|| { apt-get update -qq >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1; }
}

# fuzz_names: the harnesses, test/fuzz/fuzz_NAME.c
fuzz_names() {
	local f
	for f in "$RG_TOP"/test/fuzz/fuzz_*.c; do
		[ -e "$f" ] || continue
		f=$(basename "$f" .c)
		echo "${f#fuzz_}"
	done
}

# fuzz_build LOG: build every harness (test/fuzz/bin/fuzz_NAME)
fuzz_build() {
	make -s -C "$RG_TOP" fuzz >"$1" 2>&1
}

# fuzz_replay NAME LOG: run the harness once over its seed corpus and its regression
# inputs (no fuzzing); prints how many inputs ran
fuzz_replay() {
	local name=$1 log=$2 files=() f
	for f in "$RG_TOP/test/fuzz/corpus/$name"/* "$RG_TOP/test/fuzz/regressions/$name"/*; do
		[ -f "$f" ] && files+=("$f")
	done
	echo "${#files[@]}"
	[ ${#files[@]} -eq 0 ] && return 0
	"$RG_TOP/test/fuzz/bin/fuzz_$name" -runs=1 "${files[@]}" >"$log" 2>&1
}
