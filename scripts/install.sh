#!/usr/bin/env bash
# install.sh installs (or uninstalls) superguard as the README's "Install the
# suite" describes: `make install` and `make uninstall` run it.
#
#   scripts/install.sh install     the listeners, the confs and the unit
#   scripts/install.sh uninstall   the listeners and the unit; the confs and
#                                  the secrets stay (they are the operator's)
#
# What goes where (DESTDIR is prepended to every path, as packagers expect):
#   $PREFIX/bin/{crashpager,eventlog,haltguard,...}   0755, from $BIN
#   /etc/superguard/                                  0750
#   /etc/superguard/supervisord.conf                  0644
#   /etc/superguard/conf.d/*.conf (+ trading.conf.example)  0644, dir 0750
#   /etc/superguard/superguard.yaml                   0640 (names secrets)
#   /etc/superguard/prometheus/ (alert rules, their tests, a prometheus.yml
#   example), /etc/superguard/grafana/superguard.json  0644, dirs 0755
#   /etc/superguard/secrets/                          0700, left empty
#   $UNITDIR/superguard.service                       0644
# The confs say /usr/local/bin/NAME; with another PREFIX they say
# $PREFIX/bin/NAME. /etc/superguard is not configurable: the unit, the confs
# and the listeners' defaults all name it.
#
# A binary is replaced atomically (written beside it, then renamed), so a
# listener that supervisord restarts during an upgrade runs the old or the
# new binary, never half of one. A config is never overwritten once the
# operator has edited it: the checksum of each file as installed is kept in
# /etc/superguard/.installed.sha256; a file that still has it is replaced
# by the new version, an edited one is kept and the new version is written
# beside it as FILE.new (compare with `diff -u FILE FILE.new`), as dpkg does
# with conffiles. A file that exists but was never installed by this script
# counts as edited.
#
# Environment: DESTDIR (default empty), PREFIX (default /usr/local), BIN (the
# built listeners, default <repo>/bin: `make build`), UNITDIR (default
# /etc/systemd/system).
set -euo pipefail

SG_SCRIPT=install
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
# shellcheck source=lib/common.sh
. "$here/lib/common.sh"

destdir=${DESTDIR:-}
prefix=${PREFIX:-/usr/local}
prefix=${prefix%/}
bin=${BIN:-"$root/bin"}
unitdir=${UNITDIR:-/etc/systemd/system}
etc=/etc/superguard
manifest=.installed.sha256
conf="$root/supervisor-conf"

case "$prefix" in
/*) ;;
*) sg_die "PREFIX must be an absolute path (got '$prefix')" ;;
esac
case "$destdir" in
"" | /*) ;;
*) sg_die "DESTDIR must be empty or an absolute path (got '$destdir')" ;;
esac

# listeners: the binaries superguard installs, one per listeners/NAME/main.go.
listeners() {
	local m
	for m in "$root"/listeners/*/main.go; do
		basename "$(dirname "$m")"
	done
}

# render SRC: the shipped file with /usr/local/bin/ replaced by the
# installed binaries' directory.
render() {
	if [ "$prefix" = /usr/local ]; then
		cat "$1"
	else
		sed "s#/usr/local/bin/#$prefix/bin/#g" "$1"
	fi
}

sum() { sha256sum "$1" | cut -d' ' -f1; }

# recorded REL: the checksum REL had when it was last installed, if any.
recorded() {
	local m="$destdir$etc/$manifest"
	[ -r "$m" ] || return 0
	awk -v rel="$1" '$2 == rel { sum = $1 } END { if (sum != "") print sum }' "$m"
}

# record REL SUM: remember REL as installed with checksum SUM.
record() {
	local m="$destdir$etc/$manifest" tmp
	tmp=$(mktemp "$destdir$etc/.manifest.XXXXXX")
	if [ -r "$m" ]; then
		awk -v rel="$1" '$2 != rel' "$m" >"$tmp"
	fi
	printf '%s  %s\n' "$2" "$1" >>"$tmp"
	chmod 0600 "$tmp"
	mv -f "$tmp" "$m"
}

# put_file SRC DEST MODE: writes SRC to DEST (DESTDIR included) atomically.
put_file() {
	local tmp
	tmp=$(mktemp "$(dirname "$2")/.$(basename "$2").XXXXXX")
	cat "$1" >"$tmp"
	chmod "$3" "$tmp"
	mv -f "$tmp" "$2"
}

# install_conf SRC REL MODE: installs the rendered SRC as $etc/REL unless the
# operator edited the installed one, in which case it goes to REL.new.
install_conf() {
	local src=$1 rel=$2 mode=$3 dest="$destdir$etc/$2" new was now
	new=$(mktemp)
	render "$src" >"$new"
	now=$(sum "$new")
	if [ ! -e "$dest" ]; then
		put_file "$new" "$dest" "$mode"
		record "$rel" "$now"
		sg_log "installed $etc/$rel"
	elif [ "$(sum "$dest")" = "$now" ]; then
		record "$rel" "$now"
		rm -f "$destdir$etc/$rel.new"
	else
		was=$(recorded "$rel")
		if [ -n "$was" ] && [ "$(sum "$dest")" = "$was" ]; then
			put_file "$new" "$dest" "$mode"
			record "$rel" "$now"
			rm -f "$destdir$etc/$rel.new"
			sg_log "updated $etc/$rel"
		else
			put_file "$new" "$dest.new" "$mode"
			sg_log "kept $etc/$rel: it was edited; the shipped version is $etc/$rel.new (diff -u $etc/$rel $etc/$rel.new)"
		fi
	fi
	rm -f "$new"
}

do_install() {
	local name missing=() f
	for name in $(listeners); do
		[ -x "$bin/$name" ] || missing+=("$bin/$name")
	done
	[ ${#missing[@]} -eq 0 ] || sg_die "not built: ${missing[*]} (run make build, or make install)"

	install -d -m 0755 "$destdir$prefix/bin"
	for name in $(listeners); do
		put_file "$bin/$name" "$destdir$prefix/bin/$name" 0755
	done
	sg_log "installed $(listeners | tr '\n' ' ')into $prefix/bin"

	install -d -m 0750 "$destdir$etc" "$destdir$etc/conf.d"
	install -d -m 0700 "$destdir$etc/secrets"
	install_conf "$conf/supervisord.conf" supervisord.conf 0644
	for f in "$conf"/conf.d/*.conf "$conf"/conf.d/*.conf.example; do
		[ -e "$f" ] || continue
		install_conf "$f" "conf.d/$(basename "$f")" 0644
	done
	install_conf "$conf/superguard.yaml" superguard.yaml 0640
	install -d -m 0755 "$destdir$etc/prometheus" "$destdir$etc/grafana"
	for f in "$conf"/prometheus/*; do
		install_conf "$f" "prometheus/$(basename "$f")" 0644
	done
	install_conf "$conf/grafana/superguard.json" grafana/superguard.json 0644

	install -d -m 0755 "$destdir$unitdir"
	local unit="$destdir$unitdir/superguard.service" new
	new=$(mktemp)
	render "$conf/superguard.service" >"$new"
	if [ -e "$unit" ] && ! cmp -s "$new" "$unit"; then
		# The unit is not a conffile: local changes belong in a drop-in
		# (systemctl edit superguard), which survives this.
		sg_log "replaced $unitdir/superguard.service (put local changes in a drop-in: systemctl edit superguard)"
	fi
	put_file "$new" "$unit" 0644
	rm -f "$new"

	cat >&2 <<EOF
$SG_SCRIPT: done. Next:
  1. one 0600 file per secret superguard.yaml names by *_file, in $etc/secrets/
  2. edit $etc/superguard.yaml (host, sinks, routes, haltguard's critical programs and targets)
     and put your strategies in $etc/conf.d/ (see conf.d/trading.conf.example)
  3. $prefix/bin/haltguard -check -file-only -config $etc/superguard.yaml -supervisord-conf $etc/supervisord.conf
  4. systemctl daemon-reload && systemctl enable --now superguard
  5. $prefix/bin/haltguard -check -config $etc/superguard.yaml   (against the running supervisord)
EOF
}

do_uninstall() {
	local name
	for name in $(listeners); do
		rm -f "$destdir$prefix/bin/$name"
	done
	rm -f "$destdir$unitdir/superguard.service"
	sg_log "removed the listeners from $prefix/bin and $unitdir/superguard.service"
	if [ -d "$destdir$etc" ]; then
		sg_log "kept $etc (your confs, superguard.yaml and secrets); remove it by hand when you no longer need it"
	fi
}

case "${1:-}" in
install) do_install ;;
uninstall) do_uninstall ;;
*)
	echo "usage: $0 install|uninstall   (environment: DESTDIR, PREFIX, BIN, UNITDIR)" >&2
	exit 2
	;;
esac
