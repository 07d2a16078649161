#!/bin/sh
# tongxin-send trusts only spools and key files that are its user's alone
# (issue 12, findings 2 and 9), and says so when durable spooled events
# are lost (finding 3).  No collector is needed: --wait 0 and an endpoint
# nobody listens on.
#
# The attack: another user makes a 0777 spool directory holding
# LOCK -> a file of root's, and root's tongxin-send --spool on it used to
# truncate that file and write its pid into it.
. tests/lib.sh
plan 30
ADMIN=$B/tongxin-admin
SEND=$B/tongxin-send
EP="ipc://$T/nobody.sock"
AT=2025-04-01T05:00:00+08:00

# send SPOOL [ARGS...]: one event; output in $out, status in $rc
send() {
    sp=$1; shift
    out=$($SEND --unit u1 --endpoint "$EP" --spool "$sp" --wait 0 --type visit --at $AT "$@" 2>&1)
    rc=$?
}

printf 'precious\n' > "$T/victim"
root=0
[ "$(id -u)" = 0 ] && root=1

# ---------------------------------------------------------------- spools
evil=$T/evil
mkdir "$evil"
chmod 0777 "$evil"
ln -s "$T/victim" "$evil/LOCK"
ln -s "$T/victim" "$evil/rejected.log"
if [ $root = 1 ]; then
    chown -h 65534:65534 "$evil" "$evil/LOCK" "$evil/rejected.log"
    send "$evil" --insecure
    is "$rc" 5 "a spool directory owned by another user is refused (exit 5)"
    like "$out" "spool directory $evil is owned by uid 65534, not by you \(uid 0\); run chown 0 $evil" \
        "the message names the owner and what to run"
    chown -h 0:0 "$evil"
else
    skip 2 "not root: cannot give the directory to another user"
fi
send "$evil" --insecure
is "$rc" 5 "a spool directory writable by group or others is refused"
like "$out" "spool directory $evil is writable by group or others \(mode 0777\); run chmod go-w $evil" \
    "the message says what to run"
chmod go-w "$evil"
send "$evil" --insecure
is "$rc" 5 "LOCK as a symbolic link is refused"
like "$out" "$evil/LOCK is a symbolic link, which the spool never follows; remove it" \
    "the message says to remove it"
is "$(cat "$T/victim")" precious "the link's target is untouched (not truncated, no pid written)"
rm "$evil/LOCK"
ln "$T/victim" "$evil/LOCK"
send "$evil" --insecure
like "$out" "LOCK has 2 hard links" "LOCK as a hard link to another file is refused"
is "$(cat "$T/victim")" precious "and its other name is untouched"
rm "$evil/LOCK" "$evil/rejected.log"
send "$evil" --insecure
is "$rc" 0 "once fixed, the spool is used"
is "$(stat -c %a "$evil/LOCK") $(stat -c %a "$evil"/seg-*.log)" "600 600" "its files are created 0600"
send "$T/fresh/spool" --insecure
is "$(stat -c %a "$T/fresh/spool")" 700 "a missing spool directory is created 0700"
ln -s "$T/fresh/spool" "$T/spool-link"
send "$T/spool-link" --insecure
like "$out" "spool $T/spool-link is a symbolic link" "a spool given as a symbolic link is refused"

# ---------------------------------------------------------------- keys
umask 000
$ADMIN key server --out "$T/k.key" >/dev/null
ok $? "key server works under umask 000"
umask 022
is "$(stat -c %a "$T/k.key") $(stat -c %a "$T/k.key.pub")" "600 644" \
    "the secret key file is 0600 and the public one 0644 whatever the umask"
keys="--key $T/k.key --server-key $T/k.key.pub"
send "$T/ks" $keys
is "$rc" 0 "a 0600 key is used"
chmod 0644 "$T/k.key"
send "$T/ks" $keys
is "$rc" 5 "a secret key readable by others is refused (exit 5)"
like "$out" "$T/k.key: this secret key is readable by group or others \(mode 0644\); run chmod 600 $T/k.key" \
    "the message says what to run"
chmod 0640 "$T/k.key"
send "$T/ks" $keys
like "$out" "readable by group or others \(mode 0640\)" "group-readable is refused too"
chmod 0600 "$T/k.key"
ln -s "$T/k.key" "$T/k-link.key"
send "$T/ks" --key "$T/k-link.key" --server-key "$T/k.key.pub"
like "$out" "$T/k-link.key: a symbolic link; key files are not read through links" \
    "a secret key given as a symbolic link is refused"
chmod 0666 "$T/k.key.pub"
send "$T/ks" $keys
like "$out" "$T/k.key.pub: writable by group or others \(mode 0666\), so anyone could put another key there; run chmod go-w" \
    "a server key writable by others is refused"
chmod 0644 "$T/k.key.pub"
send "$T/ks" --key "$T/k.key" --server-key "$T/k.key"
is "$rc" 0 "the secret file as --server-key is accepted when it is 0600"
if [ $root = 1 ]; then
    chown 65534 "$T/k.key"
    send "$T/ks" $keys
    like "$out" "$T/k.key: owned by uid 65534, not by you \(uid 0\) or root" \
        "a key owned by another user is refused"
    chown 0 "$T/k.key"
else
    skip 1 "not root: cannot give the key to another user"
fi
# systemd's LoadCredential: root-owned, 0440 (its ACL mask) in $CREDENTIALS_DIRECTORY
mkdir -m 0700 "$T/creds"
cp "$T/k.key" "$T/creds/k.key"
chmod 0440 "$T/creds/k.key"
CREDENTIALS_DIRECTORY=$T/creds send "$T/ks" --key "$T/creds/k.key" --server-key "$T/k.key.pub"
is "$rc" 0 "a 0440 key in \$CREDENTIALS_DIRECTORY is accepted"
send "$T/ks" --key "$T/creds/k.key" --server-key "$T/k.key.pub"
is "$rc" 5 "the same file without \$CREDENTIALS_DIRECTORY is refused"

# ---------------------------------------------------------------- lost
sp=$T/lost
send "$sp" --insecure
send "$sp" --insecure
send "$sp" --insecure
is "$rc" 0 "three events spooled (no collector)"
rm "$sp"/seg-*.log
out=$($SEND --unit u1 --endpoint "$EP" --spool "$sp" --wait 0 --insecure /dev/null 2>&1); rc=$?
is "$rc" 5 "events lost from the spool: exit 5"
like "$out" "tongxin-send: 3 spooled events could not be read back and are lost \(spool $sp, seqs 1-3" \
    "one line says how many and which"
like "$out" "event=lost records=3 seqs=1-3" "the spool's log line has the count and the range"
out=$($SEND --unit u1 --endpoint "$EP" --spool "$sp" --wait 0 --insecure /dev/null 2>&1); rc=$?
is "$rc/$out" "0/" "the next run does not report them again"
