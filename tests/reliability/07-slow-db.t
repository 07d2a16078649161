#!/bin/bash
# Scenario 7: a slow database.  Alternately, a session holds
# LOCK TABLE tongxin.events IN EXCLUSIVE MODE for a while (every insert
# waits), and a statement trigger on tongxin.events sleeps in every insert
# for a while.  Producers keep submitting and resend what is not answered
# in time, so the collector receives more than it can write: its memory
# must stay bounded (peak RSS under 64 MiB), and nothing may be lost.
. tests/lib.sh
. tests/reliability/lib.sh
plan 14
rel_setup slow 6
sql "$db" "CREATE TABLE public.rel_slow (delay float8 NOT NULL);
           INSERT INTO public.rel_slow VALUES (0);
           CREATE FUNCTION public.rel_slow() RETURNS trigger LANGUAGE plpgsql AS
             \$\$ BEGIN PERFORM pg_sleep(delay) FROM public.rel_slow; RETURN NULL; END \$\$;
           CREATE TRIGGER rel_slow BEFORE INSERT ON tongxin.events
             FOR EACH STATEMENT EXECUTE FUNCTION public.rel_slow();" >/dev/null
ok $? "a trigger that can slow every insert"
rel_collector 1 || { echo "Bail out! the collector did not start"; exit 1; }
per=$(( (REL_EVENTS + 5) / 6 ))
gap=$(( REL_SECONDS * 1000 / (REL_FAULTS + 1) ))
hold_ms=$(( gap * 2 / 3 > 2500 ? gap * 2 / 3 : 2500 ))
hold=$(printf '%d.%03d' $((hold_ms / 1000)) $((hold_ms % 1000)))
rel_stream_start
for i in 1 2 3 4 5 6; do
    rel_driver "p$i" "rel-$i" $(rel_ep 1) $(rel_rate $per)
done
locks=0 slowed=0
fault() {
    if [ $(($1 % 2)) = 1 ]; then
        psql "$db" -X -q -v ON_ERROR_STOP=1 -c "BEGIN" \
            -c "LOCK TABLE tongxin.events IN EXCLUSIVE MODE" -c "SELECT pg_sleep($hold)" \
            -c "COMMIT" >/dev/null && locks=$((locks + 1))
    else
        sql "$db" "UPDATE public.rel_slow SET delay = 0.5" >/dev/null
        rel_sleep_ms "$hold_ms"
        sql "$db" "UPDATE public.rel_slow SET delay = 0" >/dev/null && slowed=$((slowed + 1))
    fi
}
rel_faults fault
is "$((locks + slowed))" "$REL_FAULTS" "the table was locked $locks times, inserts slowed $slowed times"
rel_driver_wait p1 p2 p3 p4 p5 p6
is "$rel_rcs" 000000 "every producer finished with an answer for each of its events"
resent=$(cat "$T"/out/*.err | sed -n 's/.*resent_batches=\([0-9]*\).*/\1/p' | awk '{ n += $1 } END { print n + 0 }')
rss=$(rel_peak_rss)
if [ -n "${ASAN_OPTIONS:-}" ]; then
    ok 0 "# SKIP the collector's peak RSS ($rss kB) is not bounded the same under ASan"
else
    ok $(( rss > 0 && rss < 65536 ? 0 : 1 )) "the collector's peak RSS stayed under 64 MiB ($rss kB)"
fi
check_scenario slow-db "hold_ms=$hold_ms resent_batches=$resent"
[ "$_tap_failed" = 0 ] || rel_tail_logs
