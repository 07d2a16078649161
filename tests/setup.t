#!/bin/sh
# tongxin-admin setup, against the private PostgreSQL and a test root (--etc):
# it creates the database, migrates, makes the collector's and an analyst's
# logins with passwords only in password files, the collector's key and its
# config; a second run changes nothing; the collector logs in with what it
# made, has only its privileges, and a unit's event gets through.
. tests/lib.sh
plan 38
A=$B/tongxin-admin
[ "$(id -u)" = 0 ] || { echo "1..0 # SKIP needs root (files owned by another user)"; exit 0; }
# The private server runs as postgres; its socket is reachable by it only.
U=postgres; G=$(id -gn postgres)
dbn=tx_setup_$$ login=tx_sc_$$ analyst=tx_sa_$$
su=$(printf '%s' "$TONGXIN_TEST_PG" | sed "s/dbname=postgres/dbname=$dbn/")
at_exit "psql '$TONGXIN_TEST_PG' -X -q -c 'DROP DATABASE IF EXISTS $dbn WITH (FORCE)' -c 'DROP ROLE IF EXISTS $login, $analyst'"
E=$T/etc
setup() { $A --db "$su" setup --etc "$E" --user $U --login $login --analyst $analyst "$@"; }

out=$(setup 2>&1); rc=$?
is "$rc" 0 "setup runs"
[ $rc = 0 ] || printf '%s\n' "$out" | sed 's/^/#   /'
like "$out" "database $dbn: created" "it creates the database"
is "$(sql "$su" "SELECT max(version) FROM tongxin.schema_migrations")" "$($A --version | sed 's/.*schema version \([0-9]*\).*/\1/')" \
   "and migrates it to the latest schema"
like "$out" "login $login \(tongxin_collector only\): created; password written to $E/pgpass" "it creates the collector's login"
like "$out" "login $analyst \(tongxin_analyst only\): created; password written to $E/$analyst.pgpass" "and the analyst's"
like "$out" "systemctl enable --now tongxin-collectord" "it prints the next steps"
mode() { stat -c '%a %U:%G' "$1"; }
is "$(mode "$E/pgpass")" "600 $U:$G" "the collector's password file: 0600, its user's"
is "$(mode "$E/$analyst.pgpass")" "600 root:root" "the analyst's: 0600, the admin's, to hand over"
is "$(mode "$E/collector.key")" "600 $U:$G" "the collector's secret key: 0600, its user's"
is "$(mode "$E/collector.key.pub")" "644 root:root" "its public key: readable by all"
is "$(mode "$E/collectord.conf")" "644 root:root" "the config"
pw=$(cut -d: -f5 "$E/pgpass"); apw=$(cut -d: -f5 "$E/$analyst.pgpass")
[ ${#pw} -ge 32 ] && [ ${#apw} -ge 32 ] && [ "$pw" != "$apw" ]; ok $? "each login has its own random password"
printf '%s' "$out" | grep -q -e "$pw" -e "$apw"; is $? 1 "neither is printed"
cdb=$(sed -n 's/^db = //p' "$E/collectord.conf")
like "$cdb" "dbname=$dbn user=$login\$" "the config's db is the collector's login"
is "$(sed -n 's/^key = //p' "$E/collectord.conf")" "$E/collector.key" "its key is the one setup made"
$B/tongxin-collectord --config "$E/collectord.conf" --check-config >/dev/null 2>&1; ok $? "the config is valid"

sums() { (cd "$E" && ls -l --time-style=+ . && sha256sum ./*); }
before=$(sums)
out=$(setup 2>&1); rc=$?
is "$rc" 0 "setup runs again"
like "$out" "database $dbn: exists" "the database is left"
like "$out" "login $login \(tongxin_collector only\): exists; password kept in $E/pgpass" "the logins and passwords are kept"
is "$(sums)" "$before" "not one file changed (contents, owners, modes)"

# What the collector's login may do.
export PGPASSFILE=$E/pgpass
is "$(runuser -u $U -- env PGPASSFILE="$E/pgpass" psql "$cdb" -X -q -A -t -c 'SELECT current_user' 2>&1)" "$login" \
   "the collector's user logs in with its password file"
is "$(sql "$su" "SELECT rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolcanlogin FROM pg_roles WHERE rolname = '$login'")" \
   "f|f|f|f|t" "the login has no role attributes but LOGIN"
is "$(sql "$su" "SELECT string_agg(g.rolname, ',') FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid
                 JOIN pg_roles r ON r.oid = m.member WHERE r.rolname = '$login'")" "tongxin_collector" "and is a member of tongxin_collector only"
out=$(psql "$cdb" -X -q -A -t -c "DELETE FROM tongxin.events" 2>&1)
like "$out" "permission denied" "it cannot delete events"
adb=$(printf '%s' "$cdb" | sed "s/user=$login/user=$analyst/")
is "$(PGPASSFILE=$E/$analyst.pgpass psql "$adb" -X -q -A -t -c 'SELECT count(*) FROM tongxin.units' 2>&1)" 0 \
   "the analyst logs in with the file handed over and reads"
out=$(PGPASSFILE=$E/$analyst.pgpass psql "$adb" -X -q -A -t -c "INSERT INTO tongxin.units (code, name, kind) VALUES ('x', 'x', 'village')" 2>&1)
like "$out" "permission denied" "and cannot write"

# The collector runs as its user with exactly these files; a unit's event is stored.
$A --db "$su" unit add u1 --name U1 --kind department >/dev/null
$A --db "$su" key issue u1 --out "$T/u1.key" >/dev/null
mkdir "$T/run"; chown $U "$T/run"
runuser -u $U -- env PGPASSFILE="$E/pgpass" $B/tongxin-collectord --config "$E/collectord.conf" \
    --bind "ipc://$T/run/c.sock" >"$T/collector.log" 2>&1 &
cpid=$!
at_exit "kill $cpid"
for _i in $(seq 100); do grep -q 'msg="listening"' "$T/collector.log" && break; sleep 0.1; done
$B/tongxin-send --unit u1 --key "$T/u1.key" --server-key "$E/collector.key.pub" --endpoint "ipc://$T/run/c.sock" \
    --spool "$T/spool" --wait 10 --type cloud_meeting --at 2025-04-01T05:00:00+08:00 --attr participants=3 >/dev/null 2>&1
ok $? "the collector, run as its user with setup's files, stores a unit's event"
[ $? = 0 ] || sed 's/^/#   /' "$T/collector.log"
is "$(sql "$su" "SELECT count(*) FROM tongxin.events")" 1 "(one event)"
kill $cpid; wait $cpid 2>/dev/null

# An edited config is kept; a lost password file gets a new password.
echo "# edited" >> "$E/collectord.conf"; conf=$(cat "$E/collectord.conf")
rm "$E/pgpass"
out=$(setup 2>&1); rc=$?
is "$rc $(cat "$E/collectord.conf" | tail -n 1)" "0 # edited" "an edited config is never overwritten"
npw=$(cut -d: -f5 "$E/pgpass")
[ -n "$npw" ] && [ "$npw" != "$pw" ] && runuser -u $U -- env PGPASSFILE="$E/pgpass" psql "$cdb" -X -q -A -t -c 'SELECT 1' >/dev/null 2>&1
ok $? "a lost password file: a new password, set on the login, written to a new file"

# The analyst's file, handed over and deleted as setup says: a rerun keeps
# the analyst's password (and makes no new file).
mv "$E/$analyst.pgpass" "$T/handed.pgpass"
out=$(setup 2>&1); rc=$?
is "$rc" 0 "setup runs after the analyst's file was handed over"
like "$out" "login $analyst \(tongxin_analyst only\): exists; password kept \(not in $E/$analyst.pgpass: handed over" \
     "it keeps the analyst's password and says so"
[ ! -e "$E/$analyst.pgpass" ] && [ "$(PGPASSFILE=$T/handed.pgpass psql "$adb" -X -q -A -t -c 'SELECT 1' 2>&1)" = 1 ]
ok $? "no new file; the handed-over file still logs in"

# Refusals.
out=$($A --db "$su" setup --etc "$E" --user $U --login tongxin --analyst $analyst 2>&1); rc=$?
is "$rc" 1 "a login that is a superuser is refused"
like "$out" "the role tongxin exists with more privileges than tongxin_collector alone" "... saying why"
printf '*:*:*:%s:%s\n' $analyst "$apw" > "$T/any.pgpass"; chmod 600 "$T/any.pgpass"
out=$(PGPASSFILE=$T/any.pgpass $A --db "$adb" setup --etc "$E" --user $U --login $login --analyst $analyst 2>&1)
like "$out" "setup needs a PostgreSQL superuser, and '$analyst' is not one" "setup as a login that is not a superuser is refused"
mkdir -m 0777 "$T/open-etc"; chmod 0777 "$T/open-etc"
out=$($A --db "$su" setup --etc "$T/open-etc" --user $U --login $login --analyst $analyst 2>&1); rc=$?
is "$rc $(ls -A "$T/open-etc" | wc -l)" "1 0" "a configuration directory others may write to is refused, nothing written in it"
like "$out" "open-etc must be a directory of yours that no one else may write to" "... saying what to fix"
