#!/bin/sh
# make check-deb: the Debian packages of make deb in a fresh Debian 12 root
# (debootstrap --variant=minbase, a chroot; systemd does not run), as the
# README tells an administrator: apt install the packages and PostgreSQL,
# tongxin-admin setup, start the collector as its unit would (ExecStart,
# User, LoadCredential, Environment read from the installed unit), issue a
# unit's key and send it an event; then purge the packages: nothing of
# Tongxin is left but the database.  Needs root, debootstrap and a Debian
# mirror (DEB_MIRROR); downloads are kept in DEB_CACHE.  Not in make check.
if [ -z "${TONGXIN_CHECK_DEB:-}" ]; then
    echo "1..0 # SKIP make check-deb runs it (root, debootstrap, a Debian mirror)"; exit 0
fi
. tests/lib.sh
plan 26
[ "$(id -u)" = 0 ] || { echo "Bail out! needs root (debootstrap, chroot)"; exit 1; }
MIRROR=${DEB_MIRROR:-http://deb.debian.org/debian}
mkdir -p "${DEB_CACHE:-$B/debootstrap-cache}"
CACHE=$(cd "${DEB_CACHE:-$B/debootstrap-cache}" && pwd)
R=$T/root
debs=$(ls "$B"/deb/*.deb 2>/dev/null | grep -v dbgsym)
[ -n "$debs" ] || { echo "Bail out! no packages in $B/deb: run make deb"; exit 1; }

in_root() {
    chroot "$R" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"
}

s=$(date +%s)
debootstrap --variant=minbase --cache-dir="$CACHE" bookworm "$R" "$MIRROR" >"$T/debootstrap.log" 2>&1
ok $? "debootstrap a Debian 12 root ($(( $(date +%s) - s )) s)" || { tail -n 5 "$T/debootstrap.log" | sed 's/^/#   /'; exit 1; }
# Cleanups run last-registered first: /proc is unmounted after the server stops.
at_exit "umount -l '$R/proc'"
mount -t proc proc "$R/proc"
cp /etc/resolv.conf "$R/etc/resolv.conf"
# No service starts by itself in the chroot (the server is started below).
printf '#!/bin/sh\nexit 101\n' > "$R/usr/sbin/policy-rc.d"; chmod 755 "$R/usr/sbin/policy-rc.d"
mkdir "$R/tmp/debs"; cp $debs "$R/tmp/debs/"
snapshot() { (cd "$R" && find . -xdev \( -path ./proc -o -path ./tmp -o -path ./var/lib/postgresql -o -path ./root \
                 -o -path ./var/cache -o -path ./var/log -o -path ./var/lib/apt -o -path ./var/lib/dpkg -o -path ./run \) -prune \
                 -o -print | sort); }

s=$(date +%s)
in_root apt-get update -qq >"$T/apt.log" 2>&1 &&
    in_root sh -c 'apt-get install -y -qq --no-install-recommends postgresql locales' >>"$T/apt.log" 2>&1
ok $? "PostgreSQL installs ($(( $(date +%s) - s )) s)" || { tail -n 5 "$T/apt.log" | sed 's/^/#   /'; exit 1; }
# A Chinese office's system has its locale (before the snapshot: not ours to remove).
echo "zh_CN.UTF-8 UTF-8" >> "$R/etc/locale.gen" && in_root locale-gen >>"$T/apt.log" 2>&1
ok $? "the zh_CN.UTF-8 locale is generated" || tail -n 3 "$T/apt.log" | sed 's/^/#   /'
echo "listen_addresses = ''" > "$R/etc/postgresql/15/main/conf.d/check-deb.conf"   # socket only
before=$(snapshot)
s=$(date +%s)
in_root sh -c 'apt-get install -y -qq --no-install-recommends /tmp/debs/*.deb' >"$T/apt.log" 2>&1
ok $? "apt install ./tongxin*.deb ($(( $(date +%s) - s )) s)" || { tail -n 5 "$T/apt.log" | sed 's/^/#   /'; exit 1; }
is "$(in_root dpkg-query -W -f '${Package} ${db:Status-Abbrev}\n' 'tongxin*' 'libtongxin*' 2>&1 | sort | tr -s ' \n' ' ')" \
   "libtongxin-dev ii libtongxin0 ii tongxin-collectord ii tongxin-l10n ii tongxin-send ii tongxin-tools ii " "the six packages are installed"
in_root getent passwd tongxin >/dev/null; ok $? "the package made the system user tongxin"
[ ! -e "$R/etc/systemd/system/multi-user.target.wants/tongxin-collectord.service" ]
ok $? "the unit is not enabled before setup"

at_exit "chroot '$R' pg_ctlcluster 15 main stop -m fast"
in_root pg_ctlcluster 15 main start >"$T/pg.log" 2>&1; ok $? "the root's PostgreSQL starts" || sed 's/^/#   /' "$T/pg.log"

out=$(in_root tongxin-admin setup 2>&1); rc=$?
is "$rc" 0 "tongxin-admin setup (as root: PostgreSQL's postgres by peer authentication)"
[ $rc = 0 ] || printf '%s\n' "$out" | sed 's/^/#   /'
like "$out" "database tongxin: created" "it creates the database"
like "$out" "config /etc/tongxin/collectord.conf: kept .*db = dbname=tongxin user=tongxin" \
     "the packaged config already names the login setup makes"
out=$(in_root tongxin-admin setup 2>&1); ok $? "setup again changes nothing and succeeds"
is "$(in_root stat -c '%a %U' /etc/tongxin/pgpass /etc/tongxin/collector.key | tr '\n' ' ')" "600 tongxin 600 tongxin " \
   "the password file and the key are the collector's, 0600"

# The collector, started as the unit would start it.
unit=$R/lib/systemd/system/tongxin-collectord.service
creds=/run/credentials/tongxin-collectord.service
mkdir -p "$R$creds"
sed -n 's/^LoadCredential=//p' "$unit" | while IFS=: read -r name src; do cp "$R$src" "$R$creds/$name"; done
user=$(sed -n 's/^User=//p' "$unit")
uid=$(in_root id -u "$user") gid=$(in_root id -g "$user")
chown -R "$uid:$gid" "$R$creds"; chmod 500 "$R$creds"; chmod 400 "$R$creds"/*
cmd=$(sed -n 's/^ExecStart=//p' "$unit" | sed "s|\${CREDENTIALS_DIRECTORY}|$creds|g")
envs=$(sed -n 's/^Environment=//p' "$unit" | sed "s|%d|$creds|g")
port=$(( 20000 + $(od -An -N2 -tu2 /dev/urandom) % 20000 ))
sed -i "s|^# bind = .*|bind = tcp://127.0.0.1:$port|" "$R/etc/tongxin/collectord.conf"   # the host's network
# shellcheck disable=SC2086
chroot --userspec="$uid:$gid" --groups="$gid" "$R" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
    CREDENTIALS_DIRECTORY="$creds" $envs $cmd >"$T/collector.log" 2>&1 &
cpid=$!
at_exit "kill $cpid"
for _i in $(seq 100); do grep -q 'msg="listening"' "$T/collector.log" && break; sleep 0.1; done
grep -q 'msg="listening"' "$T/collector.log"; ok $? "the collector starts by the unit's ExecStart line, as $user" \
    || sed 's/^/#   /' "$T/collector.log"
psql_root() { in_root runuser -u postgres -- psql -X -q -A -t -d tongxin -c "$1"; }
is "$(psql_root "SELECT DISTINCT usename || ' ' || r.rolsuper FROM pg_stat_activity a JOIN pg_roles r ON r.rolname = a.usename
                 WHERE a.datname = 'tongxin' AND a.usename <> 'postgres'")" "tongxin false" \
   "it is logged in as the login tongxin, no superuser"

in_root tongxin-admin unit add u1 --name U1 --kind department >/dev/null &&
    in_root tongxin-admin key issue u1 --out /root/u1.key >/dev/null
ok $? "a unit is registered and its key issued"
out=$(in_root tongxin-send --unit u1 --key /root/u1.key --server-key /etc/tongxin/collector.key.pub \
      --endpoint "tcp://127.0.0.1:$port" --spool /root/spool --wait 10 --type cloud_meeting \
      --at 2025-04-01T05:00:00+08:00 --attr participants=3 2>&1)
ok $? "tongxin-send delivers an event with the unit's key and collector.key.pub" || printf '%s\n' "$out" | sed 's/^/#   /'
is "$(psql_root "SELECT count(*) FROM tongxin.events")" 1 "the event is stored"
# The installed catalogue (tongxin-l10n) speaks to a Chinese locale.
like "$(in_root env LANG=zh_CN.UTF-8 tongxin-send --help | head -n 1)" '^用法：tongxin-send ' \
     "LANG=zh_CN.UTF-8: the installed tongxin-send answers in Chinese"
like "$(in_root env LANG=zh_CN.UTF-8 tongxin-admin unit add 2>&1 | head -n 1)" '^tongxin-admin: 需要且只需要一个单位代码' \
     "...and tongxin-admin"
kill $cpid; wait $cpid 2>/dev/null
rm -rf "$R$creds" "$R/root/u1.key" "$R/root/u1.key.pub" "$R/root/spool"   # systemd's, and the unit's side

s=$(date +%s)
in_root apt-get purge --autoremove -y -qq tongxin-collectord tongxin-tools tongxin-send tongxin-l10n libtongxin0 libtongxin-dev >"$T/purge.log" 2>&1
ok $? "the packages are purged, with the libraries they pulled in ($(( $(date +%s) - s )) s)" || tail -n 5 "$T/purge.log" | sed 's/^/#   /'
is "$(in_root dpkg -l | grep -c tongxin)" 0 "dpkg knows no tongxin package, not even as config-files"
in_root getent passwd tongxin >/dev/null || in_root getent group tongxin >/dev/null; is $? 2 "the system user and group are gone"
is "$(snapshot | diff - "$(printf '%s\n' "$before" > "$T/before"; echo "$T/before")" | grep '^[<>]')" "" \
   "no file is left that was not there before the packages (outside the database, logs and caches)"
is "$(find "$R" -xdev \( -path "$R/proc" -o -path "$R/tmp" -o -path "$R/var/lib/postgresql" \) -prune \
        -o -name '*tongxin*' -print)" "" "no file named tongxin anywhere outside the database (and the .debs in /tmp)"
is "$(psql_root "SELECT count(*) FROM tongxin.events")" 1 "the database stays, with its event"
