-- The registry document tongxin-desk makes its forms from (desk --registry),
-- read from the database: what the collector's registry reply carries.
SELECT json_build_object(
  'version', 1,
  'timezone', (SELECT value FROM tongxin.settings WHERE key = 'timezone'),
  'types', (SELECT json_agg(json_build_object(
      'code', t.code, 'name_zh', t.name_zh, 'name_en', t.name_en,
      'description', t.description, 'description_zh', t.description_zh,
      'partner_required', t.partner_required,
      'attrs', (SELECT coalesce(json_agg(json_build_object(
          'name', a.name, 'kind', a.kind, 'required', a.required,
          'min', a.min_value, 'min_exclusive', a.min_exclusive, 'max', a.max_value,
          'max_len', a.max_len, 'enum', a.enum_values,
          'enum_labels_zh', a.enum_labels_zh, 'enum_labels_en', a.enum_labels_en,
          'label_zh', a.label_zh, 'label_en', a.label_en, 'description_zh', a.description_zh)
          ORDER BY a.required DESC, a.name), '[]'::json)
        FROM tongxin.event_type_attrs a WHERE a.type_code = t.code)) ORDER BY t.code)
    FROM tongxin.event_types t),
  'regions', (SELECT json_agg(json_build_object('code', r.code, 'name', r.name, 'name_en', r.name_en)
                ORDER BY r.code) FROM tongxin.regions r));
