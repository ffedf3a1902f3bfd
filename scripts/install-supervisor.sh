#!/usr/bin/env bash
# install-supervisor.sh makes a real supervisord 4.x available for superguard's
# tests and demo, and prints the path of the supervisord to use on its LAST line
# of stdout (nothing else goes to stdout; notes go to stderr).
#
# In order:
#   1. $SUPERGUARD_SUPERVISORD, when set, must be a supervisord 4.x (else fail);
#   2. a supervisord 4.x already on PATH is used as it is;
#   3. a supervisord 4.x in the repo's .venv-supervisor is used as it is;
#   4. on Debian/Ubuntu, as root, the `supervisor` package is installed with
#      apt-get (apt-get update first if needed), when apt offers a 4.x;
#      service starts are forbidden during the install (policy-rc.d) and a
#      system supervisord that the install started anyway is stopped again;
#      a system service that was already running is never touched;
#   5. otherwise supervisor 4.x is installed with pip into .venv-supervisor;
#   6. otherwise it fails, saying exactly what to install.
# Running it again once something is installed does nothing and prints the path.
#
# Environment: SUPERGUARD_SUPERVISORD (see 1), SUPERGUARD_PYTHON (interpreter for
# the venv, default python3), SUPERGUARD_VENV (default <repo>/.venv-supervisor),
# and the knobs in scripts/lib/common.sh (SUPERGUARD_INSTALL_DRY_RUN=1,
# SUPERGUARD_INSTALL_NO_APT=1).
set -euo pipefail

SG_SCRIPT=install-supervisor
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
# shellcheck source=lib/common.sh
. "$here/lib/common.sh"

venv=${SUPERGUARD_VENV:-"$root/.venv-supervisor"}
python=${SUPERGUARD_PYTHON:-python3}

# version_of PATH: the version a supervisord binary reports, empty if none.
version_of() { "$1" --version 2>/dev/null | head -n 1 | tr -d '[:space:]' || true; }

# usable PATH: true when PATH runs and reports a 4.x version.
usable() {
	[ -x "$1" ] || return 1
	local v
	v=$(version_of "$1")
	case "$v" in
	4.*) return 0 ;;
	esac
	sg_log "ignoring $1: version ${v:-unknown}, superguard needs supervisord 4.x"
	return 1
}

found() {
	printf '%s\n' "$1"
	exit 0
}

# system_supervisord_running: true when the distribution's supervisord service
# is running (systemd when it is PID 1, else the Debian pidfile).
system_supervisord_running() {
	if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
		systemctl is-active --quiet supervisor.service && return 0
	fi
	local f pid
	for f in /run/supervisord.pid /var/run/supervisord.pid; do
		[ -r "$f" ] || continue
		pid=$(tr -dc '0-9' <"$f")
		[ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] &&
			tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q supervisord && return 0
	done
	return 1
}

stop_system_supervisord() {
	if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
		sg_run systemctl stop supervisor.service
	else
		sg_run /etc/init.d/supervisor stop
	fi
}

if [ -n "${SUPERGUARD_SUPERVISORD:-}" ]; then
	usable "$SUPERGUARD_SUPERVISORD" && found "$SUPERGUARD_SUPERVISORD"
	sg_die "SUPERGUARD_SUPERVISORD=$SUPERGUARD_SUPERVISORD is not a runnable supervisord 4.x"
fi

if p=$(command -v supervisord 2>/dev/null); then
	usable "$p" && found "$p"
fi

if [ -e "$venv/bin/supervisord" ] && usable "$venv/bin/supervisord"; then
	found "$venv/bin/supervisord"
fi

if sg_can_apt; then
	candidate=$(sg_apt_candidate supervisor)
	if [ -z "$candidate" ] && ! sg_dry_run; then
		sg_run apt-get update -q || true
		candidate=$(sg_apt_candidate supervisor)
	fi
	case "$candidate" in
	4.* | "")
		# "" only in dry-run mode without package lists: show the full plan.
		sg_log "installing Debian package supervisor ${candidate:-(candidate unknown)}"
		was_running=0
		system_supervisord_running && was_running=1
		sg_apt_install supervisor || sg_die "apt-get install supervisor failed (output above)"
		if [ "$was_running" = 0 ] && system_supervisord_running; then
			sg_log "the package started the system supervisord; stopping it again"
			stop_system_supervisord || sg_log "warning: could not stop the system supervisord"
		fi
		if sg_dry_run; then
			found /usr/bin/supervisord
		fi
		usable /usr/bin/supervisord && found /usr/bin/supervisord
		sg_log "the supervisor package did not provide a usable /usr/bin/supervisord"
		;;
	*)
		sg_log "apt offers supervisor $candidate, not 4.x; trying a Python venv instead"
		;;
	esac
fi

if command -v "$python" >/dev/null 2>&1 && "$python" -c 'import venv, ensurepip' >/dev/null 2>&1; then
	sg_log "installing supervisor 4.x with pip into $venv"
	sg_run "$python" -m venv "$venv" || sg_die "$python -m venv $venv failed"
	sg_run "$venv/bin/pip" install -q --disable-pip-version-check 'supervisor>=4,<5' ||
		sg_die "pip install supervisor failed (output above)"
	if sg_dry_run; then
		found "$venv/bin/supervisord"
	fi
	usable "$venv/bin/supervisord" && found "$venv/bin/supervisord"
	sg_die "pip installed supervisor but $venv/bin/supervisord is not a usable 4.x"
fi

sg_die "no supervisord 4.x found and none could be installed. Install one of:
  - Debian/Ubuntu, as root: apt-get install supervisor   (needs a release shipping 4.x, e.g. Debian 11+ / Ubuntu 20.04+)
  - any system: Python 3 with the venv module (Debian: apt-get install python3-venv), then re-run this script
  - or point SUPERGUARD_SUPERVISORD at a supervisord 4.x binary"
