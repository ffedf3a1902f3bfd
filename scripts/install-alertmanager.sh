#!/usr/bin/env bash
# install-alertmanager.sh makes Debian's prometheus-alertmanager binary
# available for integration tests that run a real Alertmanager (optional: only
# those tests need it), and prints its path on the LAST line of stdout.
#
# It never starts, stops or restarts the system alertmanager service: the
# package is installed with service actions forbidden (policy-rc.d), and tests
# run their own alertmanager process with their own config and data dir.
# Idempotent: when the binary is already there it only prints the path.
#
# Environment: SUPERGUARD_ALERTMANAGER (use this binary instead), and the knobs
# in scripts/lib/common.sh (SUPERGUARD_INSTALL_DRY_RUN=1, SUPERGUARD_INSTALL_NO_APT=1).
set -euo pipefail

SG_SCRIPT=install-alertmanager
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib/common.sh
. "$here/lib/common.sh"

runs() { [ -x "$1" ] && "$1" --version >/dev/null 2>&1; }

if [ -n "${SUPERGUARD_ALERTMANAGER:-}" ]; then
	runs "$SUPERGUARD_ALERTMANAGER" || sg_die "SUPERGUARD_ALERTMANAGER=$SUPERGUARD_ALERTMANAGER does not run"
	printf '%s\n' "$SUPERGUARD_ALERTMANAGER"
	exit 0
fi

for p in "$(command -v prometheus-alertmanager 2>/dev/null || true)" /usr/bin/prometheus-alertmanager; do
	if [ -n "$p" ] && runs "$p"; then
		printf '%s\n' "$p"
		exit 0
	fi
done

sg_can_apt || sg_die "prometheus-alertmanager is not installed. Install it as root on Debian/Ubuntu with
  apt-get install prometheus-alertmanager
or download alertmanager from https://prometheus.io/download/ and set SUPERGUARD_ALERTMANAGER to its path"

sg_log "installing Debian package prometheus-alertmanager"
sg_apt_install prometheus-alertmanager || sg_die "apt-get install prometheus-alertmanager failed (output above)"
if sg_dry_run || runs /usr/bin/prometheus-alertmanager; then
	printf '%s\n' /usr/bin/prometheus-alertmanager
	exit 0
fi
sg_die "the prometheus-alertmanager package did not provide a runnable /usr/bin/prometheus-alertmanager"
