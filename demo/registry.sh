# demo/registry.sh: the units and pairings of the "8+N" programme
# (shared/seed/DOMAIN.md and the article beside it), registered with
# tongxin-admin.  Sourced by scripts/demo with $ADMIN set; safe to run
# twice (existing rows are kept).
#
# The article names eight pairings; it says 20 units have one.  The other
# twelve below are illustrative: townships and departments paired with
# provinces of the "8" and the "N".

add_unit() { $ADMIN unit add "$@" >/dev/null 2>&1 || $ADMIN unit list --all | grep -q "^$1	"; }
add_pairing() { $ADMIN pairing add "$@" >/dev/null 2>&1 || true; }

add_unit shuangqing          --name 双清区               --kind district
add_unit procuratorate       --name 区检察院             --kind department --parent shuangqing
add_unit party-school        --name 区委党校             --kind department --parent shuangqing
add_unit tax-bureau          --name 区税务局             --kind department --parent shuangqing
add_unit cppcc               --name 区政协               --kind department --parent shuangqing
add_unit youth-league        --name 团区委               --kind department --parent shuangqing
add_unit education-bureau    --name 区教育局             --kind department --parent shuangqing
add_unit culture-tourism     --name 区文旅广体局         --kind department --parent shuangqing
add_unit commerce-bureau     --name 区商务局             --kind department --parent shuangqing
add_unit ethnic-affairs      --name 区民宗局             --kind department --parent shuangqing
add_unit health-bureau       --name 区卫健局             --kind department --parent shuangqing
add_unit gig-party-committee --name 区新业态新就业群体党委 --kind party_org --parent shuangqing
add_unit xiaojiang           --name 小江湖街道           --kind subdistrict --parent shuangqing
add_unit longxumen           --name 龙须塘街道           --kind subdistrict --parent shuangqing
add_unit gaochong            --name 高崇山镇             --kind township   --parent shuangqing
add_unit qutang              --name 渡头桥镇             --kind township   --parent shuangqing
add_unit huoche              --name 火车南站街道         --kind subdistrict --parent shuangqing
add_unit dongfeng            --name 东风路街道           --kind subdistrict --parent shuangqing
add_unit gaochong-village    --name 高崇山镇高崇村       --kind village    --parent gaochong
add_unit xiaojiang-community --name 小江湖街道和平社区   --kind community  --parent xiaojiang
add_unit bubugao-branch      --name 步步高新天地商圈党支部 --kind party_org --parent gig-party-committee

# The article: 34 district departments and 12 townships and sub-districts
# take part.  The twenty-four departments and six townships/sub-districts
# below complete the count; their names are illustrative.  Each reports
# one activity (demo/events.sh), which is what "taking part" counts.
while read -r code name; do
    add_unit "$code" --name "$name" --kind department --parent shuangqing
done <<'DEPTS'
general-office 区委办
government-office 区政府办
congress-office 区人大办
discipline 区纪委监委
organisation-dept 区委组织部
publicity-dept 区委宣传部
united-front 区委统战部
political-legal 区委政法委
court 区法院
development-reform 区发改局
finance-bureau 区财政局
hr-social-security 区人社局
housing-bureau 区住建局
agriculture-bureau 区农业农村局
emergency-bureau 区应急管理局
market-regulation 区市场监管局
civil-affairs 区民政局
justice-bureau 区司法局
veterans-bureau 区退役军人事务局
medical-insurance 区医保局
urban-management 区城管局
womens-federation 区妇联
trade-union 区总工会
science-association 区科协
DEPTS
add_unit qichezhan   --name 汽车站街道 --kind subdistrict --parent shuangqing
add_unit xinglong    --name 兴隆街道   --kind subdistrict --parent shuangqing
add_unit qiaotou     --name 桥头街道   --kind subdistrict --parent shuangqing
add_unit ailian      --name 爱莲街道   --kind subdistrict --parent shuangqing
add_unit shiqiao     --name 石桥街道   --kind subdistrict --parent shuangqing
add_unit huochezhan  --name 火车站乡   --kind township    --parent shuangqing

# The eight pairings the article names (the district's with Changsha is
# reported by the education bureau, which runs it).
add_pairing shuangqing       150125 --counterpart 武川县             --fields ethnic_unity,culture_tourism,team_building --since 2023-03-01
add_pairing procuratorate    540522 --counterpart 贡嘎县检察院       --fields team_building       --since 2023-04-10
add_pairing party-school     532800 --counterpart 西双版纳州委党校   --fields team_building,education --since 2023-05-06
add_pairing tax-bureau       659004 --counterpart 五家渠市税务局     --fields team_building       --since 2023-05-20
add_pairing shuangqing       341221 --counterpart 临泉县             --fields development,ethnic_unity --since 2023-06-01
add_pairing cppcc            513432 --counterpart 喜德县             --fields development,education --since 2023-06-15
add_pairing youth-league     620723 --counterpart 临泽县团委         --fields youth,education     --since 2023-07-01
add_pairing education-bureau 430100 --counterpart 湖南湘江新区（长沙） --fields education,development --since 2023-08-01
# Thirteen more (illustrative), so that 20 units have a pairing.
add_pairing culture-tourism  150000 --counterpart 内蒙古自治区文旅厅 --fields culture_tourism   --since 2023-04-01
add_pairing commerce-bureau  330000 --counterpart 浙江省商务厅       --fields development       --since 2023-05-01
add_pairing ethnic-affairs   640000 --counterpart 宁夏回族自治区民委 --fields ethnic_unity      --since 2023-05-12
add_pairing health-bureau    450000 --counterpart 广西壮族自治区卫健委 --fields team_building   --since 2023-06-08
add_pairing gig-party-committee 520000 --counterpart 贵州省新就业群体党委 --fields team_building --since 2023-06-20
add_pairing xiaojiang        630000 --counterpart 青海省西宁市城中区 --fields ethnic_unity      --since 2023-07-03
add_pairing longxumen        340000 --counterpart 安徽省临泉县城关街道 --fields development    --since 2023-07-15
add_pairing gaochong         510000 --counterpart 四川省喜德县光明镇 --fields development,education --since 2023-08-02
add_pairing qutang           620000 --counterpart 甘肃省临泽县沙河镇 --fields culture_tourism   --since 2023-08-20
add_pairing huoche           650000 --counterpart 新疆五家渠市军户街道 --fields ethnic_unity    --since 2023-09-05
add_pairing dongfeng         540000 --counterpart 西藏贡嘎县吉雄镇   --fields ethnic_unity      --since 2023-09-18
add_pairing gaochong-village 530000 --counterpart 云南勐海县勐遮镇曼根村 --fields development   --since 2023-10-10
add_pairing xiaojiang-community 450000 --counterpart 广西南宁市兴宁区民生社区 --fields ethnic_unity --since 2023-11-02

# Completeness (docs/analysts.md, "Completeness"): units that take part but
# report nothing in 2023, so that the report's first section has someone to
# name.  Two stay silent; 金星村 files nil returns (零报告) for November and
# December; 沙河村's PC cannot reach the collector, so its reports wait in
# its spool (scripts/demo sends them to an address where nothing listens).
add_unit huochezhan-dongtang --name 火车站乡东塘村     --kind village   --parent huochezhan
add_unit qiaotou-xinqiao     --name 桥头街道新桥社区   --kind community --parent qiaotou
add_unit gaochong-jinxing    --name 高崇山镇金星村     --kind village   --parent gaochong
add_unit qutang-shahe        --name 渡头桥镇沙河村     --kind village   --parent qutang
