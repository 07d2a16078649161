/*  registry: an immutable, reference-counted snapshot of what the collector
 *  validates against — units, regions, event types with their attributes,
 *  the range of event ids the partitions can hold, and the registered unit
 *  keys — loaded from PostgreSQL in one read-only transaction.
 *
 *  The registry holder (regholder.h) loads a new snapshot (on SIGHUP, for
 *  ZAP, every registry-refresh seconds) and publishes it; the receiver
 *  takes a reference per batch.  A snapshot is never changed after load.
 */
#ifndef TX_REGISTRY_H_INCLUDED
#define TX_REGISTRY_H_INCLUDED

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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
} tx_attr_def_t;

typedef struct {
    char *code;                 //  type code
    bool partner_required;      //  a partner region must be given
    tx_attr_def_t *attrs;       //  n_attrs definitions
    size_t n_attrs;             //  count
    size_t n_required;          //  how many are required
} tx_type_def_t;

typedef struct tx_registry_t tx_registry_t;

//  Loads a snapshot over DB (which must be idle).  Returns it with one
//  reference, or NULL with a reason in err.
tx_registry_t *tx_registry_load (PGconn *db, char *err, size_t errlen);

//  Building a snapshot by hand (tests and the fuzzer; the collector loads
//  one from the database).  new returns an empty snapshot with one
//  reference; the add functions return 0 or -1 (out of memory).  A type
//  holds at most max_attrs attributes.
tx_registry_t *tx_registry_new (void);
int tx_registry_add_unit (tx_registry_t *self, const char *code, bool active);
int tx_registry_add_region (tx_registry_t *self, const char *code);
tx_type_def_t *tx_registry_add_type (tx_registry_t *self, const char *code, bool partner_required,
                                     size_t max_attrs);
int tx_registry_add_attr (tx_registry_t *self, tx_type_def_t *type, const tx_attr_def_t *def);
int tx_registry_add_key (tx_registry_t *self, const char *z85, const char *unit, bool revoked);
void tx_registry_set_id_window (tx_registry_t *self, int64_t lo_ms, int64_t hi_ms);

//  Takes / drops a reference.  The last drop frees; *self_p becomes NULL.
tx_registry_t *tx_registry_ref (tx_registry_t *self);
void tx_registry_unref (tx_registry_t **self_p);

//  Lookups.  Strings are not NUL-terminated.  Returned pointers live as long
//  as the snapshot.
//  unit: 1 active, 0 disabled, -1 unknown
int tx_registry_unit (const tx_registry_t *self, const char *code, size_t len);
bool tx_registry_region (const tx_registry_t *self, const char *code, size_t len);
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

//  Counts, for logs.
size_t tx_registry_units (const tx_registry_t *self);
size_t tx_registry_types (const tx_registry_t *self);
size_t tx_registry_keys (const tx_registry_t *self);

#endif
