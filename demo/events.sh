#!/bin/bash
# demo/events.sh DIR: write the year of activity the article reports as
# JSON lines, one file per reporting unit (DIR/UNIT.jsonl), for
# tongxin-send.  Every event has an explicit UUIDv7 id made now, so sending
# the same files again stores nothing twice.
#
# The figures (shared/seed/DOMAIN.md): 20 units with a signed pairing;
# 600,000,000 yuan of investment, 260 jobs, 1,500,000,000 yuan annual output;
# 70,000 yuan donated to Xide and 10 students aided; 182 instructors;
# 6 party organisations; 1 + 16 + 9 stations; 600 workers served; 320 lane
# advisers; 43 governance activities; 220 reports.  Progress toward the
# 百千万 targets and the smaller activities are illustrative.  Every one of
# the 34 departments and 12 townships/sub-districts reports at least once.
# For completeness: nil returns of one village, two units silent, and the
# reports of one village in DIR/unreachable/, which scripts/demo sends to
# an address where no collector listens (they wait in its spool).
set -eu
out=${1:?usage: demo/events.sh DIR}
mkdir -p "$out"
rm -f "$out"/*.jsonl

uuid7() {
    local ms hex r v vs=89ab
    ms=$(date +%s%3N)
    hex=$(printf '%012x' "$ms")
    r=$(od -An -N10 -tx1 /dev/urandom | tr -d ' \n')
    v=$(( 0x${r:19:1} & 3 ))
    printf '%s-%s-7%s-%s%s-%s' "${hex:0:8}" "${hex:8:4}" "${r:0:3}" "${vs:$v:1}" "${r:3:3}" "${r:6:12}"
}

# ev UNIT TYPE DATE PARTNER ATTRS-JSON
ev() {
    local unit=$1 type=$2 date=$3 partner=$4 attrs=$5 p=""
    [ -z "$partner" ] || p=",\"partner\":\"$partner\""
    printf '{"id":"%s","unit":"%s","type":"%s","occurred_at":"%sT10:00:00+08:00"%s,"attrs":%s}\n' \
        "$(uuid7)" "$unit" "$type" "$date" "$p" "$attrs" >> "$out/$unit.jsonl"
}

# The pairing agreements of 20 units (the pairs demo/registry.sh registers;
# the district itself signed two).
while IFS='|' read -r unit region date counterpart fields; do
    ev "$unit" pairing_signed "$date" "$region" "{\"counterpart\":\"$counterpart\",\"fields\":\"$fields\"}"
done <<'PAIRS'
shuangqing|150125|2023-03-01|武川县|ethnic_unity,culture_tourism,team_building
procuratorate|540522|2023-04-10|贡嘎县检察院|team_building
party-school|532800|2023-05-06|西双版纳州委党校|team_building,education
tax-bureau|659004|2023-05-20|五家渠市税务局|team_building
cppcc|513432|2023-06-15|喜德县|development,education
youth-league|620723|2023-07-01|临泽县团委|youth,education
education-bureau|430100|2023-08-01|湖南湘江新区（长沙）|education,development
culture-tourism|150000|2023-04-01|内蒙古自治区文旅厅|culture_tourism
commerce-bureau|330000|2023-05-01|浙江省商务厅|development
ethnic-affairs|640000|2023-05-12|宁夏回族自治区民委|ethnic_unity
health-bureau|450000|2023-06-08|广西壮族自治区卫健委|team_building
gig-party-committee|520000|2023-06-20|贵州省新就业群体党委|team_building
xiaojiang|630000|2023-07-03|青海省西宁市城中区|ethnic_unity
longxumen|340000|2023-07-15|安徽省临泉县城关街道|development
gaochong|510000|2023-08-02|四川省喜德县光明镇|development,education
qutang|620000|2023-08-20|甘肃省临泽县沙河镇|culture_tourism
huoche|650000|2023-09-05|新疆五家渠市军户街道|ethnic_unity
dongfeng|540000|2023-09-18|西藏贡嘎县吉雄镇|ethnic_unity
gaochong-village|530000|2023-10-10|云南勐海县勐遮镇曼根村|development
shuangqing|341221|2023-06-01|临泉县|development,ethnic_unity
xiaojiang-community|450000|2023-11-02|广西南宁市兴宁区民生社区|ethnic_unity
PAIRS

# Investment via Linquan: the leather association invests in Lide Technology.
ev shuangqing investment 2023-11-15 341221 \
   '{"amount_yuan":600000000,"jobs":260,"annual_output_yuan":1500000000,"investor":"安徽省皮革协会","project":"立得科技皮革产业项目"}'
# Xide: the CPPCC's donation, aid to the first 10 students, counselling and a lecture.
ev cppcc donation 2023-09-01 513432 '{"amount_yuan":70000,"purpose":"捐赠喜德县"}'
ev cppcc student_aid 2023-09-01 513432 '{"students":10}'
ev cppcc lecture 2023-10-12 513432 '{"kind":"counselling","attendees":80}'
ev cppcc lecture 2023-10-13 513432 '{"kind":"lecture","attendees":150}'
ev cppcc product_promotion 2023-12-05 513432 '{"products":"喜德县特色农产品、双清区特色产品"}'

# Gig-economy party work.
for n in 50:2023-03-15 50:2023-05-15 42:2023-08-15 40:2023-11-15; do
    ev gig-party-committee instructor_dispatched "${n#*:}" "" "{\"instructors\":${n%%:*}}"
done
for d in 2023-04-20 2023-06-18 2023-08-08 2023-09-26 2023-11-11; do
    ev gig-party-committee party_org_founded "$d" "" '{"name":"新就业群体党支部","sector":"delivery"}'
done
ev bubugao-branch party_org_founded 2023-10-01 "" '{"name":"步步高新天地商圈党支部","sector":"business_district"}'
ev gig-party-committee station_opened 2023-05-01 "" '{"kind":"health_station","name":"宝庆小哥健康驿站"}'
for u in xiaojiang longxumen huoche dongfeng; do
    for m in 03 06 09 12; do
        ev "$u" station_opened "2023-$m-10" "" '{"kind":"rider_home","name":"宝庆骑手之家"}'
    done
done
for u in gaochong qutang gig-party-committee; do
    for m in 04 07 10; do
        ev "$u" station_opened "2023-$m-20" "" '{"kind":"outdoor_station","name":"户外劳动者驿站"}'
    done
done
for m in 01 02 03 04 05 06 07 08 09 10 11 12; do
    ev gig-party-committee workers_served "2023-$m-28" "" '{"workers":50}'
done
for m in 03 06 09 12; do
    ev gig-party-committee lane_adviser_enrolled "2023-$m-05" "" '{"advisers":80}'
done
i=0
for u in xiaojiang longxumen huoche dongfeng; do
    n=11; [ "$u" = dongfeng ] && n=10
    for k in $(seq 1 $n); do
        i=$((i + 1))
        ev "$u" governance_activity "2023-$(printf %02d $(( (k - 1) % 12 + 1 )))-1$((k % 10))" "" "{\"participants\":$((10 + i % 7))}"
    done
done
for k in $(seq 1 22); do
    ev gig-party-committee governance_report "2023-$(printf %02d $(( (k - 1) % 12 + 1 )))-2$((k % 8))" "" \
       '{"reports":10,"category":"文明创建与安全隐患"}'
done

# Toward the 百千万 targets (illustrative progress).
for u in procuratorate party-school tax-bureau cppcc youth-league education-bureau culture-tourism commerce-bureau; do
    ev "$u" people_paired 2023-10-20 "" '{"category":"cadre","count":8}'
done
ev education-bureau people_paired 2023-09-10 430100 '{"category":"student","count":300}'
ev youth-league people_paired 2023-09-12 620723 '{"category":"student","count":120}'
ev culture-tourism people_paired 2023-10-01 150000 '{"category":"resident","count":1150}'
for u in xiaojiang longxumen huoche dongfeng; do
    ev "$u" people_paired 2023-11-01 "" '{"category":"resident","count":500}'
done

# Exchanges.
for m in 04 06 08 10 12; do
    ev procuratorate cloud_meeting "2023-$m-18" 540522 '{"participants":16,"topic":"检察业务云座谈"}'
done
for m in 03 07 11; do
    ev shuangqing cloud_meeting "2023-$m-08" 150125 '{"participants":24,"topic":"民族团结进步创建经验云交流"}'
done
ev shuangqing visit 2023-05-22 150125 '{"direction":"outbound","delegates":12,"purpose":"考察交流"}'
ev procuratorate visit 2023-09-14 540522 '{"direction":"inbound","delegates":8}'
ev shuangqing cadre_secondment 2023-06-01 150125 '{"cadres":3,"days":30}'
ev party-school research_project 2023-07-20 532800 '{"title":"铸牢中华民族共同体意识研究"}'
ev procuratorate party_day 2023-07-01 540522 '{"participants":40,"theme":"结对共建主题党日"}'
ev education-bureau investment_fair 2023-11-25 430100 '{"participants":200,"deals":12}'
ev youth-league youth_exchange 2023-04-15 620723 '{"kind":"letter","participants":60}'
ev youth-league youth_exchange 2023-06-10 620723 '{"kind":"hometown_guide","participants":20}'
ev youth-league youth_exchange 2023-08-10 620723 '{"kind":"video","participants":10}'
ev youth-league youth_exchange 2023-10-15 620723 '{"kind":"cloud_visit","participants":120}'
ev shuangqing mutual_tourism 2023-07-28 150125 '{"visitors":500}'

# The units that take part without a pairing yet (demo/registry.sh): one
# cloud seminar each, so that 34 departments and 12 townships/sub-districts
# have reported.
k=0
for u in general-office government-office congress-office discipline organisation-dept publicity-dept \
         united-front political-legal court development-reform finance-bureau hr-social-security \
         housing-bureau agriculture-bureau emergency-bureau market-regulation civil-affairs justice-bureau \
         veterans-bureau medical-insurance urban-management womens-federation trade-union \
         science-association qichezhan xinglong qiaotou ailian shiqiao huochezhan; do
    k=$((k + 1))
    ev "$u" cloud_meeting "2023-$(printf %02d $(( (k - 1) % 12 + 1 )))-0$(( k % 9 + 1 ))" "" \
       "{\"participants\":$(( 12 + k % 20 )),\"topic\":\"“8+N”结对工作交流\"}"
done

# Nil returns (零报告) of 金星村 for November and December 2023: the month is
# the attribute period; the return for December is filed on 3 January.
ev gaochong-jinxing nil_return 2023-12-02 "" '{"period":"2023-11-01"}'
ev gaochong-jinxing nil_return 2024-01-03 "" '{"period":"2023-12-01","note":"本月无结对活动"}'

# 沙河村's reports of December: its PC cannot reach the collector
# (scripts/demo sends this directory's files to an address where nothing
# listens), so they stay in its spool, waiting.
mkdir -p "$out/unreachable"
rm -f "$out"/unreachable/*.jsonl
ev qutang-shahe cloud_meeting 2023-12-12 "" '{"participants":15,"topic":"“8+N”结对工作交流"}'
ev qutang-shahe governance_activity 2023-12-20 "" '{"participants":22}'
mv "$out/qutang-shahe.jsonl" "$out/unreachable/"
