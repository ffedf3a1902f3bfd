#!/usr/bin/env bash
# install-prometheus.sh makes Debian's prometheus package (the prometheus
# server and promtool) available for `make test`: promtool checks and
# unit-tests the shipped alert rules, and an integration test runs a real
# Prometheus against the exporter. It prints the path of the prometheus
# binary on the LAST line of stdout; promtool is the one beside it.
#
# It never starts, stops or restarts the system prometheus service: the
# package is installed with service actions forbidden (policy-rc.d), and tests
# run their own prometheus process with their own config and data dir.
# Idempotent: when both binaries are already there it only prints the path.
#
# Environment: SUPERGUARD_PROMETHEUS (use this prometheus, with a promtool in
# the same directory), and the knobs in scripts/lib/common.sh
# (SUPERGUARD_INSTALL_DRY_RUN=1, SUPERGUARD_INSTALL_NO_APT=1).
set -euo pipefail

SG_SCRIPT=install-prometheus
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib/common.sh
. "$here/lib/common.sh"

runs() { [ -x "$1" ] && "$1" --version >/dev/null 2>&1 && [ -x "$(dirname "$1")/promtool" ] && "$(dirname "$1")/promtool" --version >/dev/null 2>&1; }

if [ -n "${SUPERGUARD_PROMETHEUS:-}" ]; then
	runs "$SUPERGUARD_PROMETHEUS" || sg_die "SUPERGUARD_PROMETHEUS=$SUPERGUARD_PROMETHEUS does not run, or has no runnable promtool beside it"
	printf '%s\n' "$SUPERGUARD_PROMETHEUS"
	exit 0
fi

for p in "$(command -v prometheus 2>/dev/null || true)" /usr/bin/prometheus; do
	if [ -n "$p" ] && runs "$p"; then
		printf '%s\n' "$p"
		exit 0
	fi
done

sg_can_apt || sg_die "prometheus and promtool are not installed. Install them as root on Debian/Ubuntu with
  apt-get install prometheus
or download prometheus from https://prometheus.io/download/ and set SUPERGUARD_PROMETHEUS to its path (promtool beside it)"

sg_log "installing Debian package prometheus (prometheus and promtool)"
sg_apt_install prometheus || sg_die "apt-get install prometheus failed (output above)"
if sg_dry_run || runs /usr/bin/prometheus; then
	printf '%s\n' /usr/bin/prometheus
	exit 0
fi
sg_die "the prometheus package did not provide a runnable /usr/bin/prometheus and /usr/bin/promtool"
