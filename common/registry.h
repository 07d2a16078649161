/*  registry: an immutable, reference-counted snapshot of the rules events
 *  are checked against — units, regions, event types with their attributes
 *  and labels, the organisation's time zone, the range of event ids the
 *  partitions can hold, and the registered unit keys.
 *
 *  One home for both sides.  The collector loads a snapshot from
 *  PostgreSQL (collector/regload.h); the registry holder (regholder.h)
 *  publishes it and the receiver takes a reference per batch.  Producers
 *  get the part of it that is theirs to know (types, attributes, labels,
 *  regions, time zone: not units, keys or the id window) from the
 *  collector, as the canonical msgpack body of a "registry" reply
 *  (docs/protocol.md 6.5), and decode it here (tx_registry_decode).  A
 *  snapshot is never changed after it is sealed (tx_registry_seal).
 *
 *  Ownership: tx_registry_new / _decode return a snapshot with one
 *  reference; tx_registry_unref drops one and NULLs the pointer.  Every
 *  string and array a lookup returns is borrowed: it lives as long as the
 *  snapshot.
 */
#ifndef TX_REGISTRY_H_INCLUDED
#define TX_REGISTRY_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <msgpack.h>

#define TX_REGISTRY_VERSION_LEN 32     //  hex characters of a registry version

//  What a producer accepts in a registry body (docs/protocol.md 10); the
//  collector refuses to serve a registry past them.
#define TX_REGISTRY_MAX_TYPES   1024   //  event types
#define TX_REGISTRY_MAX_ENUM    256    //  values of an enum attribute
#define TX_REGISTRY_MAX_REGIONS 8192   //  regions
#define TX_REGISTRY_MAX_TEXT    4096   //  bytes of a label or description

typedef enum {
    TX_KIND_INT = 1,
    TX_KIND_NUMERIC,
    TX_KIND_TEXT,
    TX_KIND_BOOL,
    TX_KIND_DATE,
    TX_KIND_ENUM
} tx_kind_t;

typedef struct {
    char *name;                 //  attribute name
    size_t name_len;            //  bytes
    tx_kind_t kind;             //  its kind
    bool required;              //  must be present
    bool has_min, has_max;      //  bounds present
    double min, max;            //  int/numeric bounds (max inclusive)
    bool min_exclusive;         //  value must be > min rather than >= min
    int max_len;                //  text: max bytes (0 = protocol limit)
    char **enum_values;         //  enum: n_enum values
    size_t n_enum;              //  count
    char *label_zh, *label_en;  //  the field's label in Chinese, English; NULL: none
    char *description;          //  help text in English; NULL: none
    char *description_zh;       //  and in Chinese; NULL: none
    char **enum_labels_zh;      //  enum: n_enum labels (in the order of enum_values), or NULL
    char **enum_labels_en;      //  the same in English, or NULL
} tx_attr_def_t;

typedef struct {
    char *code;                 //  type code
    bool partner_required;      //  a partner region must be given
    tx_attr_def_t *attrs;       //  n_attrs definitions
    size_t n_attrs;             //  count
    size_t n_required;          //  how many are required
    char *name_zh, *name_en;    //  the type's short name in Chinese, English; NULL: none
    char *description;          //  a sentence in English; NULL: none
    char *description_zh;       //  and in Chinese; NULL: none
} tx_type_def_t;

typedef struct {
    char *code;                 //  6 digits (GB/T 2260)
    char *name;                 //  Chinese name; NULL: none
    char *name_en;              //  English name; NULL: none
} tx_region_t;

typedef struct tx_registry_t tx_registry_t;

//  Building a snapshot (the collector's loader, tests and the fuzzer).
//  new returns an empty snapshot with one reference; the add functions
//  return 0 or -1 (out of memory).  A type holds at most max_attrs
//  attributes.  add_attr and add_type_labels copy every string (NULL
//  stays NULL).
tx_registry_t *tx_registry_new (void);
int tx_registry_add_unit (tx_registry_t *self, const char *code, bool active);
int tx_registry_add_region (tx_registry_t *self, const char *code);
int tx_registry_add_region_named (tx_registry_t *self, const char *code, const char *name,
                                  const char *name_en);
int tx_registry_set_type_labels (tx_registry_t *self, tx_type_def_t *type, const char *name_zh,
                                 const char *name_en, const char *description,
                                 const char *description_zh);
//  The organisation's time zone (an IANA name, "Asia/Shanghai"); 0 or -1.
int tx_registry_set_timezone (tx_registry_t *self, const char *tz);
tx_type_def_t *tx_registry_add_type (tx_registry_t *self, const char *code, bool partner_required,
                                     size_t max_attrs);
int tx_registry_add_attr (tx_registry_t *self, tx_type_def_t *type, const tx_attr_def_t *def);
int tx_registry_add_key (tx_registry_t *self, const char *z85, const char *unit, bool revoked);
void tx_registry_set_id_window (tx_registry_t *self, int64_t lo_ms, int64_t hi_ms);

//  Seals the snapshot: packs its canonical body (what producers get) and
//  takes its version from it.  Call once, after the last add.  0, or -1
//  out of memory.
int tx_registry_seal (tx_registry_t *self);

//  The version: the first 16 bytes of the SHA-256 of the canonical body,
//  in lowercase hex (32 characters); "" before tx_registry_seal.  Two
//  snapshots with the same rules, labels, regions and time zone have the
//  same version, whatever units or keys they hold.
const char *tx_registry_version (const tx_registry_t *self);

//  The canonical body (sealed snapshots only; else NULL, *len 0).
const uint8_t *tx_registry_body (const tx_registry_t *self, size_t *len);

//  Packs the canonical body into pk: a map of "timezone", "types" (by
//  code; each type's attributes by name) and "regions" (by code), every
//  optional key left out when empty.  0, or -1 if a write failed.
int tx_registry_pack (const tx_registry_t *self, msgpack_packer *pk);

//  A snapshot from a canonical body received from a collector or read
//  from a cache: strictly checked (pre-scan, types, limits above, UTF-8,
//  no unknown key), sealed, with the version of exactly these bytes.
//  NULL with a reason in err if anything is wrong.
tx_registry_t *tx_registry_decode (const uint8_t *buf, size_t len, char *err, size_t errlen);

//  The producers' part of the snapshot as JSON text (jansson), for a web
//  page: {"version", "timezone", "types": [{"code", "partner_required",
//  "name_zh", "name_en", "description", "description_zh", "attrs": [{"name",
//  "kind", "required", "min", "min_exclusive", "max", "max_len", "enum":
//  [{"value", "label_zh", "label_en"}], "label_zh", "label_en",
//  "description", "description_zh"}]}], "regions": [{"code", "name",
//  "name_en", "level" ("province", "prefecture" or "county"), "province",
//  "prefecture"}]}.  Absent labels are null; the caller frees the text.
//  NULL if out of memory.
char *tx_registry_to_json (const tx_registry_t *self);

//  Takes / drops a reference.  The last drop frees; *self_p becomes NULL.
tx_registry_t *tx_registry_ref (tx_registry_t *self);
void tx_registry_unref (tx_registry_t **self_p);

//  Lookups.  Strings are not NUL-terminated.  Returned pointers live as long
//  as the snapshot.
//  unit: 1 active, 0 disabled, -1 unknown
int tx_registry_unit (const tx_registry_t *self, const char *code, size_t len);
bool tx_registry_region (const tx_registry_t *self, const char *code, size_t len);
const tx_region_t *tx_registry_region_get (const tx_registry_t *self, const char *code, size_t len);
const char *tx_registry_timezone (const tx_registry_t *self);      //  "" if not set
const tx_type_def_t *tx_registry_type (const tx_registry_t *self, const char *code, size_t len);

//  The registered type code nearest to code[0..len) by edit distance, if
//  close enough to be a slip (at most a third of its length, or 2), else
//  NULL: for "unknown type; did you mean ...?".
const char *tx_registry_nearest_type (const tx_registry_t *self, const char *code, size_t len);

//  The unit a CURVE public key (40-char Z85) belongs to, if registered and
//  not revoked; NULL otherwise.
const char *tx_registry_key_unit (const tx_registry_t *self, const char *z85);

//  True if the key was registered and has been revoked.
bool tx_registry_key_revoked (const tx_registry_t *self, const char *z85);

//  The range of UUIDv7 milliseconds the event partitions hold: [lo, hi).
void tx_registry_id_window (const tx_registry_t *self, int64_t *lo_ms, int64_t *hi_ms);

//  The kind's name ("int", ...), or "?"; and back (0 if none).
const char *tx_kind_name (tx_kind_t kind);
tx_kind_t tx_kind_from_name (const char *s);

//  The types in the order added, for listings: i in 0..tx_registry_types().
const tx_type_def_t *tx_registry_type_at (const tx_registry_t *self, size_t i);

//  Counts, for logs.
size_t tx_registry_units (const tx_registry_t *self);
size_t tx_registry_types (const tx_registry_t *self);
size_t tx_registry_keys (const tx_registry_t *self);
size_t tx_registry_regions (const tx_registry_t *self);

#endif
