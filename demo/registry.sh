# demo/registry.sh: the units and pairings of the "8+N" programme
# (shared/seed/DOMAIN.md), registered with tongxin-admin.  Sourced by
# scripts/demo with $ADMIN set; safe to run twice (existing rows are kept).

add_unit() { $ADMIN unit add "$@" >/dev/null 2>&1 || $ADMIN unit list --all | grep -q "^$1	"; }
add_pairing() { $ADMIN pairing add "$@" >/dev/null 2>&1 || true; }

add_unit shuangqing        --name 双清区              --kind district
add_unit procuratorate     --name 区检察院            --kind department --parent shuangqing
add_unit party-school      --name 区委党校            --kind department --parent shuangqing
add_unit tax-bureau        --name 区税务局            --kind department --parent shuangqing
add_unit cppcc             --name 区政协              --kind department --parent shuangqing
add_unit youth-league      --name 团区委              --kind department --parent shuangqing
add_unit gig-party-committee --name 区新就业群体党委  --kind party_org  --parent shuangqing

add_pairing shuangqing    150125 --counterpart 武川县           --fields ethnic_unity,development,culture_tourism
add_pairing procuratorate 540522 --counterpart 贡嘎县检察院     --fields team_building
add_pairing party-school  532800 --counterpart 西双版纳州委党校 --fields team_building,education
add_pairing tax-bureau    659004 --counterpart 五家渠市税务局   --fields team_building
add_pairing shuangqing    341221 --counterpart 临泉县           --fields development
add_pairing cppcc         513432 --counterpart 喜德县           --fields education
add_pairing youth-league  620723 --counterpart 临泽县团委       --fields youth
add_pairing shuangqing    430100 --counterpart 湖南湘江新区     --fields development
