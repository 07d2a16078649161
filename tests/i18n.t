#!/bin/sh
# Messages in Chinese (issue 15, part 3): the catalogues (po/), and the
# programs choosing the language from the locale as usual (LC_ALL, then
# LC_MESSAGES, then LANG): Chinese under zh_CN.UTF-8, English under C or
# an English locale.  What machines and scripts read stays English in
# every locale: reason codes, log lines, the CSV's headings, the example
# config.  The programs read the build tree's catalogues
# (TONGXIN_LOCALEDIR); scripts/install-deps generates zh_CN.UTF-8 (as
# root; else the Chinese cases are skipped, saying so).  tongxin-send and
# tongxin-admin too: --help, usage errors, the summary of a real send, a
# refusal's explanation; their tab-separated lists stay as they are.
. tests/lib.sh
plan 61
export TONGXIN_LOCALEDIR=$B/locale
REPORT=$B/tongxin-report
COLL=$B/tongxin-collectord
SEND=$B/tongxin-send
ADMIN=$B/tongxin-admin
# loc LOCALE CMD...: run CMD with only LANG=LOCALE set among the locale variables
loc() { _l=$1; shift; env -u LC_ALL -u LC_MESSAGES -u LANGUAGE LANG="$_l" "$@"; }

# ---------------------------------------------------------------- catalogues
missing=""
while read -r f; do [ -f "$f" ] || missing="$missing $f"; done < po/POTFILES
is "$missing" "" "every file of po/POTFILES exists"
unlisted=$(grep -rlE '\b(N?_|NG_) *\("' --include='*.c' --include='*.h' common collector analytics admin producers desk \
           | grep -v '^common/i18n\.h$' | sort | comm -23 - "$(sort po/POTFILES > "$T/pf"; echo "$T/pf")")
is "$unlisted" "" "every file that marks strings is in po/POTFILES"
scripts/po template "$T/fresh.pot" 2>"$T/xgettext.err"; ok $? "scripts/po template (xgettext) runs"
is "$(cat "$T/xgettext.err")" "" "xgettext has nothing to say"
# The same messages as the committed template, whatever the dates and lines.
msgids() { msgcat --no-location --no-wrap --sort-output "$1" | grep -v '^"POT-Creation-Date:'; }
msgids "$T/fresh.pot" > "$T/fresh.ids"; msgids po/tongxin.pot > "$T/committed.ids"
diff -u "$T/committed.ids" "$T/fresh.ids" > "$T/pot.diff"
ok $? "po/tongxin.pot is up to date (else: make pot, then translate)"
[ -s "$T/pot.diff" ] && sed 's/^/#   /' "$T/pot.diff" | head -n 20
for po in po/*.po; do
    l=$(basename "$po" .po)
    stats=$(msgfmt --check --statistics -o /dev/null "$po" 2>&1); rc=$?
    is "$rc" 0 "msgfmt --check $po (formats, header, plural forms)"
    like "$stats" '^[0-9]+ translated messages?\.$' "$l: every message translated, none fuzzy ($stats)"
    msgcmp "$po" "$T/fresh.pot" 2>"$T/msgcmp.err"; ok $? "$l: every marked string of the sources is translated"
    sed 's/^/#   /' "$T/msgcmp.err" | head -n 10
    msgcmp --use-untranslated "$T/fresh.pot" "$po" 2>/dev/null; ok $? "$l: no translation of a string the sources no longer have"
    [ "$B/locale/$l/LC_MESSAGES/tongxin.mo" -nt "$po" ] || [ ! "$po" -nt "$B/locale/$l/LC_MESSAGES/tongxin.mo" ]
    ok $? "$l: make all compiled it into $B/locale"
done
make -s install B="$B" PREFIX=/usr DESTDIR="$T/dest" >/dev/null 2>&1
[ -f "$T/dest/usr/share/locale/zh_CN/LC_MESSAGES/tongxin.mo" ]; ok $? "make install puts it in PREFIX/share/locale"

# ---------------------------------------------------------------- English
like "$(loc C $REPORT --help)" '^usage: tongxin-report ' "LANG=C: tongxin-report --help in English"
like "$(loc C $COLL --help)" '^usage: tongxin-collectord ' "LANG=C: tongxin-collectord --help in English"
like "$(loc en_GB.UTF-8 $COLL --help 2>&1)" '^usage: tongxin-collectord ' "an English locale (even one the system lacks): English"
like "$(loc C $SEND --help)" '^usage: tongxin-send ' "LANG=C: tongxin-send --help in English"
like "$(loc C $ADMIN --help)" '^usage: tongxin-admin ' "LANG=C: tongxin-admin --help in English"
out=$(loc C $ADMIN unit add 2>&1); rc=$?
is "$rc:$out" "2:tongxin-admin: expected exactly one unit CODE
usage: tongxin-admin unit add CODE --name NAME --kind KIND [--parent CODE] [--db CONNINFO]" \
   "LANG=C: tongxin-admin's usage error in English"

if ! locale -a 2>/dev/null | grep -qix 'zh_CN\.utf-\?8'; then
    diag "the system has no zh_CN.UTF-8 locale: run scripts/install-deps as root (make check does)"
    skip 39 "no zh_CN.UTF-8 locale"
    exit 0
fi

# ---------------------------------------------------------------- Chinese: the collector
out=$(loc zh_CN.UTF-8 $COLL --help); rc=$?
like "$rc:$out" '^0:用法：tongxin-collectord \[--config 文件\]' "LANG=zh_CN.UTF-8: tongxin-collectord --help in Chinese, exit 0"
like "$out" '--group-events N +一个事务最多写入的事件数；默认 5000' "...each option's line too"
out=$(env -u LC_ALL LANG=C.UTF-8 LC_MESSAGES=zh_CN.UTF-8 $COLL --help | head -n 1)
like "$out" '^用法：' "LC_MESSAGES wins over LANG"
out=$(env LANG=zh_CN.UTF-8 LC_ALL=C $COLL --help | head -n 1)
like "$out" '^usage: ' "LC_ALL=C wins over LANG"
printf '[collector]\ninsecure = true\ncolour = red\n' > "$T/bad.conf"
out=$(loc zh_CN.UTF-8 $COLL --config "$T/bad.conf" 2>&1); rc=$?
is "$rc:$out" "2:tongxin-collectord: $T/bad.conf:3: 未知的配置项 'colour'（tongxin-collectord --help 列出了所有配置项）" \
   "a configuration error in Chinese, FILE:LINE and the key as they are, exit 2"
out=$(loc zh_CN.UTF-8 $COLL --insecure --log-level loud 2>&1); rc=$?
is "$rc:$out" "2:tongxin-collectord: --log-level：'loud' 不是以下取值之一： debug, info, warn, error" \
   "a refused value in Chinese, the allowed values as they are"
out=$(loc zh_CN.UTF-8 $COLL --insecure --check-config); rc=$?
is "$rc:$out" "0:配置有效" "--check-config says so in Chinese"
loc zh_CN.UTF-8 $COLL --print-config-example | diff -u systemd/collectord.conf.example - >/dev/null
ok $? "the example config stays the shipped (English) file under zh_CN"
# Log lines are for machines: English, libpq's and the C library's words too.
loc zh_CN.UTF-8 timeout 2 $COLL --insecure --bind "ipc://$T/c.sock" --db "host=$T/nowhere dbname=x" 2>"$T/c.log"
grep -q '^level=warn msg="waiting for the database" err="connection to server on socket .* failed: No such file or directory"' "$T/c.log"
ok $? "under zh_CN the collector's log lines stay English (msg=, and err= from libpq)"
LC_ALL=C grep -q "$(printf '[\200-\377]')" "$T/c.log"; is $? 1 "...not one byte of them Chinese"

# ---------------------------------------------------------------- Chinese: the report
out=$(loc zh_CN.UTF-8 $REPORT --help); rc=$?
like "$rc:$out" '^0:用法：tongxin-report \[--db 连接串\]' "LANG=zh_CN.UTF-8: tongxin-report --help in Chinese, exit 0"
out=$(loc zh_CN.UTF-8 $REPORT --format pdf 2>&1); rc=$?
like "$rc:$out" '^2:tongxin-report: --format 只能是 table、csv 或 html，而不是: pdf' "a usage error in Chinese, exit 2"

db=$(newdb i18n)
$B/tongxin-admin --db "$db" migrate >/dev/null || { echo "Bail out! migrate failed"; exit 1; }
psql "$db" -X -q -v ON_ERROR_STOP=1 -f tests/data/analytics.sql >/dev/null 2>&1 || { echo "Bail out! data"; exit 1; }
out=$(loc zh_CN.UTF-8 $REPORT --db "$db" --unit nosuch 2>&1); rc=$?
is "$rc:$out" "1:tongxin-report: 没有单位 'nosuch'（请检查单位代码）" "an error from the database's answer in Chinese, exit 1"
loc zh_CN.UTF-8 $REPORT --db "$db" > "$T/zh.txt"; ok $? "the report as a table under zh_CN"
like "$(sed -n 1,2p "$T/zh.txt" | tr '\n' '|')" '^Tongxin 报表：双清区（d）\|统计期间：第一个事件 至 [0-9-]+（按 Asia/Shanghai 时区计日）' \
     "its heading and period in Chinese"
like "$(cat "$T/zh.txt")" '“百千万”目标：跨省结对人数' "section titles in Chinese"
# Column names take two terminal columns per character: still aligned.
is "$(grep -E '^  (类别|cadre) ' "$T/zh.txt" | sed -n '1p;2p')" \
"  类别        目标  已完成  完成率（%）  说明
  cadre        100      17         17.0  跨省结对干部（百千万工程之“百”）" \
   "column names in Chinese, aligned by display width; the target's description from the registry's Chinese label"
like "$(cat "$T/zh.txt")" '  预计年产值（元） +1,500,000,000' "the report's own labels in Chinese"
loc C $REPORT --db "$db" --format csv > "$T/c.csv"
loc zh_CN.UTF-8 $REPORT --db "$db" --format csv > "$T/zh.csv"
# (but the minute it was generated, which the two runs may straddle)
sed -i '/^generated,/d' "$T/c.csv" "$T/zh.csv"
cmp -s "$T/c.csv" "$T/zh.csv"; ok $? "CSV: the same bytes under zh_CN as under C (its headings are read by scripts)"
loc zh_CN.UTF-8 $REPORT --db "$db" --format html > "$T/zh.html"
like "$(cat "$T/zh.html")" '<h2>“8\+N”结对覆盖情况（截至今日）</h2>' "HTML: headings in Chinese"
like "$(cat "$T/zh.html")" '<span class="reached">17</span> / <span class="goal">100</span>' \
     "HTML: the progress toward a target"

# ---------------------------------------------------------------- Chinese: tongxin-send
out=$(loc zh_CN.UTF-8 $SEND --help); rc=$?
like "$rc:$out" '^0:用法：tongxin-send --unit 代码 安全选项 \[选项\] --type 类型 --at 时间' \
     "LANG=zh_CN.UTF-8: tongxin-send --help in Chinese, exit 0"
out=$(loc zh_CN.UTF-8 $SEND --unit u1 --insecure --wait soon --type t --at 2025-04-01T05:00:00Z 2>&1); rc=$?
is "$rc:$out" "2:tongxin-send: --wait：'soon' 不是 0 到 2000000 之间的秒数
请运行 'tongxin-send --help' 查看用法" "a usage error of tongxin-send in Chinese, exit 2"
$ADMIN --db "$db" unit add zhu --name 'ZH unit' --kind department >/dev/null
ep="ipc://$T/send.sock"
start_collector "$ep" --db "$db" --insecure || exit 1
export TZ=Asia/Shanghai
zsend() { _l=$1; shift; loc "$_l" $SEND --unit zhu --insecure --endpoint "$ep" --spool "$T/spool" --wait 10 "$@"; }
meeting() { printf '{"type":"cloud_meeting","occurred_at":"2025-04-01T05:00:00+08:00","attrs":{"participants":%s,"topic":"i18n"}}\n' "$1"; }
{ meeting 1; meeting 2; echo '{"type":"cloud_meetin","occurred_at":"2025-04-01T05:00:00+08:00"}'; } > "$T/three.jsonl"
zsend zh_CN.UTF-8 --no-registry "$T/three.jsonl" 2>"$T/s1.err"; rc=$?    # the collector refuses
is "$rc|$(tail -n 1 "$T/s1.err")" "1|tongxin-send: 3 个事件：2 个已存储，1 个被拒收" "the summary line of a send in Chinese"
like "$(sed -n 1p "$T/s1.err")" '^3: unknown_type: .+（没有登记这个名称的事件类型；请检查拼写）$' \
     "a refusal keeps its line and code, with the code's explanation in Chinese"
zsend zh_CN.UTF-8 "$T/three.jsonl" 2>"$T/s2.err"
day=$(sql "$db" "SELECT to_char(min(received_at) AT TIME ZONE '$TZ', 'YYYY-MM-DD') FROM tongxin.events WHERE unit_code = 'zhu'")
is "$(sed -n 2p "$T/s2.err")" "tongxin-send: 3 个事件：2 个此前已存储（$day），1 个被拒收" \
   "sent again: the events already stored, and on which day, in Chinese"
like "$(sed -n 3p "$T/s2.err")" "^第 1 行：此前已于 $day [0-9:]+ 存储（id [0-9a-f-]{36}）\$" "...each such line in Chinese"
is "$(tail -n 1 "$T/s2.err")" 'tongxin-send: 如果其中有第二次完全相同的活动，请在该行加上 "nth": 2，然后重新发送该文件' \
   "...and the hint at \"nth\" in Chinese"
zsend C --no-registry "$T/three.jsonl" 2>"$T/s3.err"
is "$(sed -n 2p "$T/s3.err")" "tongxin-send: 3 events: 2 already stored on $day, 1 refused" "LANG=C: the same summary in English"
like "$(sed -n 1p "$T/s3.err")" '^3: unknown_type: [ -~]+$' "LANG=C: the refusal as the collector said it, no explanation added"
# libtongxin's own messages (the spool, the key files) in the reader's language too.
mkdir -m 777 "$T/openspool"
zsend zh_CN.UTF-8 --spool "$T/openspool" --type visit --at 2025-04-01T05:00:00Z 2>"$T/s4.err"
is "$(cat "$T/s4.err")" "tongxin-send: 发送缓存目录 $T/openspool 同组或其他用户可写（权限 0777）；请运行 chmod go-w $T/openspool" \
   "a spool others may write: libtongxin says so in Chinese"
$ADMIN key server --out "$T/leaky.key" >/dev/null; chmod 644 "$T/leaky.key"
loc zh_CN.UTF-8 $SEND --unit zhu --key "$T/leaky.key" --server-key "$T/leaky.key.pub" --endpoint "$ep" --spool "$T/spool5" \
    --wait 1 --type visit --at 2025-04-01T05:00:00Z 2>"$T/s5.err"
like "$(cat "$T/s5.err")" "^tongxin-send: $T/leaky.key：这个私钥同组或其他用户可读（权限 0644）；请运行 chmod 600 " \
     "a secret key others may read: the key file's check in Chinese"

# ---------------------------------------------------------------- Chinese: tongxin-admin
out=$(loc zh_CN.UTF-8 $ADMIN --help); rc=$?
like "$rc:$out" '^0:用法：tongxin-admin \[--db 连接串\] 命令 \[参数\]' "LANG=zh_CN.UTF-8: tongxin-admin --help in Chinese, exit 0"
out=$(loc zh_CN.UTF-8 $ADMIN unit add --help); rc=$?
like "$rc:$out" '^0:用法：tongxin-admin unit add 代码 --name 名称 --kind 类型' "a command's --help in Chinese, exit 0"
like "$out" '登记一个报送单位。' "...its text too"
out=$(loc zh_CN.UTF-8 $ADMIN unit add 2>&1); rc=$?
is "$rc:$out" "2:tongxin-admin: 需要且只需要一个单位代码
用法：tongxin-admin unit add 代码 --name 名称 --kind 类型 [--parent 代码] [--db 连接串]" \
   "a usage error of tongxin-admin in Chinese, exit 2"
out=$(loc zh_CN.UTF-8 $ADMIN key 2>&1); rc=$?
like "$rc:$out" "^2:tongxin-admin: 'key' 后面需要一个子命令：" "a group without its subcommand, in Chinese"
out=$(loc zh_CN.UTF-8 $ADMIN --db "$db" unit add zhu --name again --kind department 2>&1); rc=$?
is "$rc:$out" "1:tongxin-admin: 单位 'zhu' 已存在" "an error from the database's answer in Chinese, exit 1"
for what in "unit list --all" "key list" "pairing list" "rejected list" "type list" "type show cloud_meeting"; do
    loc C $ADMIN --db "$db" $what > "$T/c.tsv"; loc zh_CN.UTF-8 $ADMIN --db "$db" $what > "$T/zh.tsv"
    cmp -s "$T/c.tsv" "$T/zh.tsv"; ok $? "tongxin-admin $what: the same bytes under zh_CN as under C (tab-separated, for scripts)"
done
