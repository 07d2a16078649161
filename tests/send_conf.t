#!/bin/sh
# tongxin.conf(5): a unit writes its producer settings once and types
# tongxin-send --type ... --at ...; the user's file overrides the system's,
# TONGXIN_<KEY> the files, flags everything; a misspelt key names its file
# and line; a file others may write is refused; relative key paths are the
# file's directory's.
. tests/lib.sh
plan 15
ADMIN=$B/tongxin-admin
SEND=$B/tongxin-send
db=$(newdb sendconf)
$ADMIN --db "$db" migrate >/dev/null || { echo "Bail out! migrate failed"; exit 1; }
$ADMIN --db "$db" unit add u1 --name U1 --kind department >/dev/null
$ADMIN --db "$db" unit add u2 --name U2 --kind department >/dev/null
mkdir -p "$T/etc" "$T/home/.config/tongxin"
$ADMIN key server --out "$T/etc/collector.key" >/dev/null
$ADMIN --db "$db" key issue u1 --out "$T/etc/u1.key" >/dev/null
$ADMIN --db "$db" key issue u2 --out "$T/etc/u2.key" >/dev/null
ep="ipc://$T/c.sock"
start_collector "$ep" --db "$db" --key "$T/etc/collector.key" || exit 1
count() { sql "$db" "SELECT count(*) FROM tongxin.events WHERE unit_code = '$1'"; }
ev() { echo --type cloud_meeting --at "2025-04-0${1}T05:00:00+08:00" --attr participants=3 --wait 20; }

# Relative paths: the file's directory's.
cat > "$T/etc/tongxin.conf" <<EOF2
# the unit's producer settings
unit       = u1
key        = u1.key
server_key = collector.key.pub
endpoint   = $ep
spool      = spool-u1
EOF2
chmod 644 "$T/etc/tongxin.conf"
$SEND --config "$T/etc/tongxin.conf" $(ev 1) 2>"$T/err"; rc=$?
is "$rc" 0 "--config FILE: unit, keys and endpoint from the file (exit $rc: $(cat "$T/err"))"
is "$(count u1)" 1 "stored as u1"
ok "$(test -d "$T/etc/spool-u1"; echo $?)" "the spool is relative to the file's directory"

# The default places: ~/.config/tongxin/tongxin.conf (no TONGXIN_CONFIG).
cp "$T/etc/tongxin.conf" "$T/home/.config/tongxin/tongxin.conf"
sed -i "s|= u1.key|= $T/etc/u1.key|; s|= collector.key.pub|= $T/etc/collector.key.pub|; s|= spool-u1|= $T/spool-home|" \
    "$T/home/.config/tongxin/tongxin.conf"
home() { env -u TONGXIN_CONFIG HOME="$T/home" XDG_CONFIG_HOME= "$@"; }
home $SEND $(ev 2) 2>"$T/err"; rc=$?
is "$rc" 0 "no flag but the event's: the settings from ~/.config/tongxin/tongxin.conf (exit $rc: $(cat "$T/err"))"
is "$(count u1)" 2 "stored"

# The environment over the file, flags over both.
home env TONGXIN_UNIT=u2 TONGXIN_KEY="$T/etc/u2.key" TONGXIN_SPOOL="$T/spool-env" $SEND $(ev 3) 2>"$T/err"
is "$(count u2)" 1 "TONGXIN_UNIT and TONGXIN_KEY win over the file"
home env TONGXIN_UNIT=u2 $SEND --unit u1 --spool "$T/spool-flag" $(ev 4) 2>"$T/err"
is "$(count u1)" 3 "--unit wins over TONGXIN_UNIT"
home $SEND --insecure --spool "$T/spool-insec" --wait 3 $(ev 5 | sed 's/--wait 20//') 2>"$T/err"; rc=$?
ok $(( rc == 0 )) "a transport flag replaces the file's transport as a whole: --insecure does not take its keys (exit $rc)"

# Mistakes are named with their file and line.
printf 'unit = u1\nendpiont = tcp://x:1\n' > "$T/bad.conf"
$SEND --config "$T/bad.conf" $(ev 6) 2>"$T/err"; rc=$?
is "$rc" 2 "a misspelt key: usage error"
is "$(head -1 "$T/err")" "tongxin-send: $T/bad.conf:2: unknown key 'endpiont' (see tongxin.conf(5))" "it names the file, the line and the key"
printf 'unit = u1\n[desk]\nlisen = 127.0.0.1:8450\n' > "$T/bad3.conf"
$SEND --config "$T/bad3.conf" $(ev 6) 2>"$T/err"
is "$(head -1 "$T/err")" "tongxin-send: $T/bad3.conf:3: unknown key 'desk.lisen' (see tongxin.conf(5))" \
   "a misspelt key of another program's section too: the file is shared"
printf '[sender]\nunit = u1\n' > "$T/bad2.conf"
$SEND --config "$T/bad2.conf" $(ev 6) 2>"$T/err"
like "$(head -1 "$T/err")" "bad2.conf:2: unknown section \[sender\]" "an unknown section too"
chmod 666 "$T/bad2.conf"
$SEND --config "$T/bad2.conf" $(ev 6) 2>"$T/err"
like "$(head -1 "$T/err")" "may be changed by any user \(mode 666\)" "a file anyone may write is refused: it says which keys to trust"
$SEND --config "$T/nosuch.conf" $(ev 6) 2>"$T/err"; rc=$?
is "$rc" 2 "--config with a missing file: exit 2"
like "$(head -1 "$T/err")" "cannot read the configuration .*nosuch.conf: No such file" "saying so"
