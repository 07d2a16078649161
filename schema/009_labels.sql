-- 009_labels: the registry speaks the clerks' language.
--
-- Until 008 the registry held codes and one English description per type
-- and attribute: a form, a spreadsheet template or a report could only show
-- "cadre_secondment.days".  From here on every type, attribute and enum
-- value has a short label in Chinese and in English, and types and
-- attributes a Chinese description, so the desk's forms, the producers'
-- messages and the report name things as people do (issue 16, 17).
--
--   event_types       name_zh, name_en         short names ("干部挂职锻炼")
--                     description_zh           one sentence, as description
--   event_type_attrs  label_zh, label_en       field labels ("人数")
--                     description_zh           help text under the field
--                     enum_labels_zh/_en       one label per enum value, in
--                                              the order of enum_values
--   targets           description_zh
--
-- Labels are data: they are not part of an event's validity (the collector
-- checks codes, never labels) and may be changed at any time.  A type or
-- attribute registered later without labels shows its code; every seeded
-- one has both (tests/labels.t).

SET LOCAL ROLE tongxin_admin;

ALTER TABLE tongxin.event_types
    ADD COLUMN name_zh        text CHECK (length(name_zh) BETWEEN 1 AND 100),
    ADD COLUMN name_en        text CHECK (length(name_en) BETWEEN 1 AND 100),
    ADD COLUMN description_zh text CHECK (length(description_zh) BETWEEN 1 AND 1000);

ALTER TABLE tongxin.event_type_attrs
    ADD COLUMN label_zh       text CHECK (length(label_zh) BETWEEN 1 AND 100),
    ADD COLUMN label_en       text CHECK (length(label_en) BETWEEN 1 AND 100),
    ADD COLUMN description_zh text CHECK (length(description_zh) BETWEEN 1 AND 1000),
    ADD COLUMN enum_labels_zh text[],
    ADD COLUMN enum_labels_en text[],
    ADD CONSTRAINT event_type_attrs_enum_labels CHECK (
        (enum_labels_zh IS NULL OR (kind = 'enum' AND cardinality(enum_labels_zh) = cardinality(enum_values)))
        AND (enum_labels_en IS NULL OR (kind = 'enum' AND cardinality(enum_labels_en) = cardinality(enum_values))));

ALTER TABLE tongxin.targets ADD COLUMN description_zh text CHECK (length(description_zh) BETWEEN 1 AND 1000);

-- The labels reach browsers and terminals: no control or bidirectional
-- characters (as the other registry texts, 006).
ALTER TABLE tongxin.event_types
    ADD CONSTRAINT event_types_labels_clean CHECK (tongxin.text_is_clean(name_zh) AND tongxin.text_is_clean(name_en)
                                                   AND tongxin.text_is_clean(description_zh));
ALTER TABLE tongxin.event_type_attrs
    ADD CONSTRAINT event_type_attrs_labels_clean CHECK (tongxin.text_is_clean(label_zh) AND tongxin.text_is_clean(label_en)
                                                        AND tongxin.text_is_clean(description_zh)
                                                        AND tongxin.text_is_clean(enum_labels_zh)
                                                        AND tongxin.text_is_clean(enum_labels_en));
ALTER TABLE tongxin.targets
    ADD CONSTRAINT targets_description_zh_clean CHECK (tongxin.text_is_clean(description_zh));

UPDATE tongxin.event_types t SET name_zh = v.zh, name_en = v.en, description_zh = v.dzh
  FROM (VALUES
    ('pairing_signed',        '签订结对共建协议', 'Pairing agreement signed',  '与结对地区签订结对共建协议，写明合作领域'),
    ('cloud_meeting',         '云座谈/云交流',     'Cloud meeting',             '线上召开的座谈会或交流活动'),
    ('visit',                 '走访互访',         'Visit',                     '线下走访，外出或来访'),
    ('cadre_secondment',      '干部挂职锻炼',     'Cadre secondment',          '选派干部短期挂职锻炼、互学'),
    ('people_paired',         '百千万结对',       'People paired',             '“百千万工程”中跨省结对的干部、学生或居民'),
    ('investment',            '招商引资',         'Investment attracted',      '引进的投资项目：金额、就业岗位、预计年产值'),
    ('donation',              '捐赠',             'Donation',                  '向结对地区捐款捐物'),
    ('student_aid',           '一对一助学',       'Student aid',               '一对一帮扶学生'),
    ('lecture',               '宣讲辅导培训',     'Lecture or training',       '宣讲、辅导或培训活动'),
    ('research_project',      '联合课题研究',     'Joint research project',    '与结对单位共同开展的课题研究'),
    ('party_day',             '结对共建主题党日', 'Joint party day',           '两地联合举行的主题党日活动'),
    ('investment_fair',       '招商推介会',       'Investment fair',           '招商推介活动'),
    ('product_promotion',     '特色产品推介',     'Product promotion',         '两地特色产品相互推介'),
    ('youth_exchange',        '青少年交流',       'Youth exchange',            '青少年书信交流、“家乡小导游”培训、推广视频或云参观'),
    ('mutual_tourism',        '市民互游',         'Mutual tourism',            '两地市民互游'),
    ('station_opened',        '服务驿站开设',     'Station opened',            '开设健康驿站、骑手之家或户外劳动者驿站'),
    ('workers_served',        '服务新就业群体',   'Gig workers served',        '为快递员、外卖骑手、网约车司机等提供服务的人数'),
    ('instructor_dispatched', '选派党建指导员',   'Instructors dispatched',    '选派的党建指导员'),
    ('party_org_founded',     '成立新业态党组织', 'Party organisation founded', '新业态、新就业群体中成立的党组织'),
    ('lane_adviser_enrolled', '聘任小巷顾问',     'Lane advisers enrolled',    '快递员、网约车司机等担任“小巷顾问”“应急防范员”'),
    ('governance_activity',   '参加基层治理活动', 'Governance activity',       '参加的基层治理活动'),
    ('governance_report',     '随手拍/随时报',    'Governance reports',        '“小巷顾问”通过“随手拍”“随时报”上报的基层治理情况'),
    ('retraction',            '撤回',             'Retraction',                '撤回本单位此前上报的一条记录（supersedes 指明该记录）')
  ) AS v (code, zh, en, dzh)
 WHERE t.code = v.code;

UPDATE tongxin.event_type_attrs a SET label_zh = v.zh, label_en = v.en, description_zh = v.dzh
  FROM (VALUES
    ('pairing_signed',        'counterpart',        '结对单位',     'Counterpart',        '对方单位的全称'),
    ('pairing_signed',        'fields',             '合作领域',     'Fields',             '如：民族团结、干部交流、文化旅游、产业发展、教育、青少年'),
    ('pairing_signed',        'agreement',          '协议名称',     'Agreement',          NULL),
    ('cloud_meeting',         'participants',       '参加人数',     'Participants',       NULL),
    ('cloud_meeting',         'topic',              '主题',         'Topic',              NULL),
    ('visit',                 'direction',          '方向',         'Direction',          '外出走访或对方来访'),
    ('visit',                 'delegates',          '代表团人数',   'Delegates',          NULL),
    ('visit',                 'purpose',            '事由',         'Purpose',            NULL),
    ('cadre_secondment',      'cadres',             '干部人数',     'Cadres',             NULL),
    ('cadre_secondment',      'days',               '天数',         'Days',               '挂职锻炼的天数'),
    ('people_paired',         'category',           '类别',         'Category',           '结对对象：干部、学生或居民'),
    ('people_paired',         'count',              '人数',         'Count',              NULL),
    ('investment',            'amount_yuan',        '投资金额（元）', 'Amount (yuan)',    '以元为单位，如 600000000'),
    ('investment',            'jobs',               '就业岗位',     'Jobs',               NULL),
    ('investment',            'annual_output_yuan', '预计年产值（元）', 'Annual output (yuan)', '以元为单位'),
    ('investment',            'investor',           '投资方',       'Investor',           NULL),
    ('investment',            'project',            '项目名称',     'Project',            NULL),
    ('donation',              'amount_yuan',        '捐赠金额（元）', 'Amount (yuan)',    '以元为单位，大于 0'),
    ('donation',              'purpose',            '用途',         'Purpose',            NULL),
    ('student_aid',           'students',           '学生人数',     'Students',           NULL),
    ('lecture',               'kind',               '形式',         'Kind',               NULL),
    ('lecture',               'attendees',          '参加人数',     'Attendees',          NULL),
    ('lecture',               'topic',              '主题',         'Topic',              NULL),
    ('research_project',      'title',              '课题名称',     'Title',              NULL),
    ('party_day',             'participants',       '参加人数',     'Participants',       NULL),
    ('party_day',             'theme',              '主题',         'Theme',              NULL),
    ('investment_fair',       'participants',       '参加人数',     'Participants',       NULL),
    ('investment_fair',       'deals',              '签约项目数',   'Deals',              NULL),
    ('product_promotion',     'products',           '推介产品',     'Products',           NULL),
    ('youth_exchange',        'kind',               '形式',         'Kind',               NULL),
    ('youth_exchange',        'participants',       '参加人数',     'Participants',       NULL),
    ('mutual_tourism',        'visitors',           '游客人数',     'Visitors',           NULL),
    ('station_opened',        'kind',               '驿站类型',     'Kind',               NULL),
    ('station_opened',        'name',               '驿站名称',     'Name',               NULL),
    ('workers_served',        'workers',            '服务人数',     'Workers',            NULL),
    ('instructor_dispatched', 'instructors',        '指导员人数',   'Instructors',        NULL),
    ('party_org_founded',     'name',               '党组织名称',   'Name',               NULL),
    ('party_org_founded',     'sector',             '所属领域',     'Sector',             NULL),
    ('lane_adviser_enrolled', 'advisers',           '聘任人数',     'Advisers',           NULL),
    ('governance_activity',   'participants',       '参加人数',     'Participants',       NULL),
    ('governance_report',     'reports',            '上报件数',     'Reports',            NULL),
    ('governance_report',     'category',           '类别',         'Category',           NULL)
  ) AS v (type_code, name, zh, en, dzh)
 WHERE a.type_code = v.type_code AND a.name = v.name;

UPDATE tongxin.event_type_attrs a SET enum_labels_zh = v.zh, enum_labels_en = v.en
  FROM (VALUES
    ('visit',          'direction', ARRAY['外出走访', '来访'], ARRAY['Outbound', 'Inbound']),
    ('people_paired',  'category',  ARRAY['干部', '学生', '居民'], ARRAY['Cadres', 'Students', 'Residents']),
    ('lecture',        'kind',      ARRAY['宣讲', '辅导', '培训'], ARRAY['Lecture', 'Counselling', 'Training']),
    ('youth_exchange', 'kind',      ARRAY['书信交流', '家乡小导游', '推广视频', '云参观'],
                                    ARRAY['Letters', 'Hometown guides', 'Video', 'Cloud visit']),
    ('station_opened', 'kind',      ARRAY['健康驿站', '骑手之家', '户外劳动者驿站'],
                                    ARRAY['Health station', 'Rider home', 'Outdoor workers'' station'])
  ) AS v (type_code, name, zh, en)
 WHERE a.type_code = v.type_code AND a.name = v.name
   AND cardinality(a.enum_values) = cardinality(v.zh);   -- a registry edited since 002 keeps its codes shown

UPDATE tongxin.targets t SET description_zh = v.zh
  FROM (VALUES ('cadre', '跨省结对干部（百千万工程之“百”）'),
               ('student', '跨省结对学生（百千万工程之“千”）'),
               ('resident', '跨省结对居民（百千万工程之“万”）')) AS v (category, zh)
 WHERE t.category = v.category;

-- The analysts' registry views carry the labels.
CREATE OR REPLACE VIEW analytics.event_types AS
SELECT code AS type_code, description, partner_required, name_zh, name_en, description_zh
  FROM tongxin.event_types;

CREATE OR REPLACE VIEW analytics.targets AS
SELECT category, target, description, description_zh FROM tongxin.targets;
