#!/bin/sh
# The registry's labels (migration 009): every seeded type, attribute and
# enum value has a Chinese and an English label, the labels cannot carry
# control characters, and enum labels match the values one for one.
. tests/lib.sh
plan 7

db=$(newdb labels) || { echo "Bail out! no database"; exit 1; }
$B/tongxin-admin --db "$db" migrate >/dev/null || { echo "Bail out! migrate"; exit 1; }

is "$(sql "$db" "SELECT string_agg(code, ',') FROM tongxin.event_types WHERE name_zh IS NULL OR name_en IS NULL OR description_zh IS NULL")" "" \
   "every seeded type has a Chinese and an English name and a Chinese description"
is "$(sql "$db" "SELECT string_agg(type_code || '.' || name, ',') FROM tongxin.event_type_attrs WHERE label_zh IS NULL OR label_en IS NULL")" "" \
   "every seeded attribute has both labels"
is "$(sql "$db" "SELECT string_agg(type_code || '.' || name, ',') FROM tongxin.event_type_attrs
                  WHERE kind = 'enum' AND (enum_labels_zh IS NULL OR enum_labels_en IS NULL)")" "" \
   "every seeded enum has a label per value"
is "$(sql "$db" "SELECT name_zh FROM analytics.event_types WHERE type_code = 'cadre_secondment'")" "干部挂职锻炼" \
   "analysts see the labels in analytics.event_types"
like "$(sql_as tongxin_admin "$db" "UPDATE tongxin.event_type_attrs SET enum_labels_zh = ARRAY['外出'] WHERE type_code = 'visit' AND name = 'direction'")" \
   'event_type_attrs_enum_labels' "an enum label list of another length is refused"
like "$(sql_as tongxin_admin "$db" "UPDATE tongxin.event_types SET name_zh = E'撤\\u202e回' WHERE code = 'retraction'")" \
   'labels_clean' "a label with a bidirectional override is refused"
is "$(sql "$db" "SELECT count(*) FROM tongxin.targets WHERE description_zh IS NULL")" 0 "targets have Chinese descriptions"
