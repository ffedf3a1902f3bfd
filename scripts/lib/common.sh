# shellcheck shell=bash
# Helpers shared by superguard's install scripts. Source it; do not run it.
#
# Environment knobs (mainly for tests of the scripts themselves):
#   SUPERGUARD_INSTALL_DRY_RUN=1  print the commands that would change the
#                                 system (apt-get, pip, venv) on stderr
#                                 prefixed with "+ " instead of running them
#   SUPERGUARD_INSTALL_NO_APT=1   behave as if this were not a Debian/Ubuntu
#                                 machine (skip every apt-get branch)

sg_log() { printf '%s: %s\n' "${SG_SCRIPT:-superguard}" "$*" >&2; }

sg_die() {
	sg_log "error: $*"
	exit 1
}

sg_dry_run() { [ "${SUPERGUARD_INSTALL_DRY_RUN:-0}" = 1 ]; }

# sg_run CMD...: runs a command that changes the system, or only prints it in
# dry-run mode. Output goes to a log file and is shown only when it fails, so
# the scripts stay quiet on success.
sg_run() {
	if sg_dry_run; then
		printf '+ %s\n' "$*" >&2
		return 0
	fi
	local out rc=0
	out=$(mktemp)
	"$@" >"$out" 2>&1 || rc=$?
	if [ "$rc" -ne 0 ]; then
		sg_log "command failed (exit $rc): $*"
		cat "$out" >&2
	fi
	rm -f "$out"
	return "$rc"
}

# sg_can_apt: true on a Debian/Ubuntu machine where we are root and apt-get exists.
sg_can_apt() {
	[ "${SUPERGUARD_INSTALL_NO_APT:-0}" = 1 ] && return 1
	[ -r /etc/debian_version ] || return 1
	command -v apt-get >/dev/null 2>&1 || return 1
	[ "$(id -u)" -eq 0 ]
}

# sg_apt_candidate PKG: prints the version apt would install, empty if none.
sg_apt_candidate() {
	apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ { if ($2 != "(none)") print $2; exit }'
}

# sg_apt_install PKG...: installs Debian packages non-interactively without
# letting their maintainer scripts start (or restart) any system service: a
# policy-rc.d that answers 101 ("action forbidden") is put in place for the
# duration of the install, and whatever policy-rc.d was there before is put
# back afterwards. Runs apt-get update first when the package lists do not
# know the first package.
sg_apt_install() {
	export DEBIAN_FRONTEND=noninteractive
	if [ -z "$(sg_apt_candidate "$1")" ]; then
		sg_run apt-get update -q || return 1
	fi
	local rc=0
	sg_policy_forbid
	sg_run apt-get install -y -q --no-install-recommends "$@" || rc=$?
	sg_policy_restore
	return "$rc"
}

SG_POLICY=/usr/sbin/policy-rc.d
SG_POLICY_BACKUP=""
SG_POLICY_OURS=0

# sg_policy_forbid: puts a policy-rc.d in place that forbids every service
# action, keeping a backup of any existing one; an EXIT/INT/TERM trap restores
# it if the script dies half-way.
sg_policy_forbid() {
	sg_dry_run && return 0
	if [ -e "$SG_POLICY" ]; then
		SG_POLICY_BACKUP=$(mktemp "$SG_POLICY.superguard.XXXXXX")
		cp -p "$SG_POLICY" "$SG_POLICY_BACKUP"
	fi
	SG_POLICY_OURS=1
	trap sg_policy_restore EXIT
	trap 'sg_policy_restore; exit 130' INT TERM
	printf '#!/bin/sh\n# written by superguard scripts/lib/common.sh during apt-get install\nexit 101\n' >"$SG_POLICY"
	chmod 0755 "$SG_POLICY"
}

# sg_policy_restore: undoes sg_policy_forbid (safe to call twice).
sg_policy_restore() {
	[ "$SG_POLICY_OURS" = 1 ] || return 0
	if [ -n "$SG_POLICY_BACKUP" ]; then
		mv -f "$SG_POLICY_BACKUP" "$SG_POLICY"
	else
		rm -f "$SG_POLICY"
	fi
	SG_POLICY_OURS=0
	SG_POLICY_BACKUP=""
	trap - EXIT INT TERM
}
