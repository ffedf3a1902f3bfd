#!/usr/bin/env bash
# fuzz.sh runs every fuzz target in the module for a short fixed time each
# (FUZZTIME, default 20s). Targets are discovered with `go test -list`, so a
# new Fuzz function is picked up without editing anything. New crashers are
# written by the go tool to the package's testdata/fuzz/ and must be committed
# with the fix. Fails as soon as one target fails.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
fuzztime=${FUZZTIME:-20s}
count=0
for pkg in $(go list ./...); do
	dir=$(go list -f '{{.Dir}}' "$pkg")
	grep -qs '^func Fuzz' "$dir"/*_test.go || continue
	for target in $(go test -list '^Fuzz' "$pkg" | grep '^Fuzz' || true); do
		echo "fuzz: $pkg $target for $fuzztime" >&2
		go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" -timeout 10m "$pkg"
		count=$((count + 1))
	done
done
echo "fuzz: $count target(s) passed" >&2
