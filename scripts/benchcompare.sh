#!/usr/bin/env bash
# benchcompare.sh: the same benchmarks on an earlier revision and on this
# checkout's HEAD, alternated round by round so that both see the same
# machine load: a before/after figure measured in one run rather than
# across days.
#
#   scripts/benchcompare.sh [-r ROUNDS] BEFORE_REV 'PATTERN' PACKAGE [PATTERN PACKAGE ...]
#
# e.g. the kill switch and crashpager's ack before the listener skeleton:
#
#   scripts/benchcompare.sh 6347fd9^ 'BenchmarkHalt/(floor|haltguard=EXITED$)' ./integration/haltguard \
#       BenchmarkEventToAck ./integration/crashpager
#
# Each revision is exported with git archive into a temporary directory
# (the checkout is not touched; uncommitted changes are not measured).
# $SUPERGUARD_SUPERVISORD is passed on; make supervisord installs one. The
# benchmark lines are printed prefixed with the revision and round; the
# raw output stays in the temporary directory, whose path is printed.
set -euo pipefail

rounds=2
if [[ ${1:-} == -r ]]; then
	rounds=$2
	shift 2
fi
if (($# < 3 || ($# - 1) % 2 != 0)); then
	sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
fi
before=$1
shift

root=$(git rev-parse --show-toplevel)
work=$(mktemp -d "${TMPDIR:-/tmp}/benchcompare.XXXXXX")
echo "benchcompare: sources and raw output in $work" >&2
for side in before after; do
	rev=$before
	[[ $side == after ]] && rev=HEAD
	mkdir -p "$work/$side"
	if ! git -C "$root" archive --format=tar "$rev" | tar -x -C "$work/$side"; then
		echo "benchcompare: no source for $rev (a shallow clone?)" >&2
		exit 2
	fi
	echo "$side = $(git -C "$root" rev-parse --short "$rev")" >&2
done

for ((round = 1; round <= rounds; round++)); do
	for side in before after; do
		args=("$@")
		for ((i = 0; i < ${#args[@]}; i += 2)); do
			pattern=${args[i]} pkg=${args[i + 1]}
			out="$work/$side-$round-$((i / 2)).txt"
			(cd "$work/$side" && go test -run '^$' -bench "$pattern" -timeout 30m "$pkg") >"$out" 2>&1 ||
				{ echo "benchcompare: $side round $round $pkg failed, see $out" >&2; exit 1; }
			grep '^Benchmark' "$out" | sed "s/^/$side#$round /"
		done
	done
done
