/*  catalog: the desk's messages in a language chosen per request.
 *
 *  The page and the desk's own replies use one catalogue per language,
 *  po/LANG.po compiled to LANG/LC_MESSAGES/tongxin.mo (po/README.md), the
 *  same the C programs read through gettext.  The desk reads the .mo file
 *  itself: a request in Chinese gets Chinese whatever the process locale,
 *  and the system need not have the zh_CN locale.
 *
 *      desk_catalog_t *zh = desk_catalog_load ("zh_CN", err, sizeof err);
 *      const char *s = desk_catalog_get (zh, "Stored");   //  msgid if absent
 *
 *  A NULL catalogue is valid (English: every lookup returns the msgid).
 */
#ifndef DESK_CATALOG_H_INCLUDED
#define DESK_CATALOG_H_INCLUDED

#include <stddef.h>

typedef struct desk_catalog_t desk_catalog_t;

//  Loads DIR/LANG/LC_MESSAGES/tongxin.mo, DIR being $TONGXIN_LOCALEDIR when
//  set, else the installed locale directory.  NULL with a reason in err.
desk_catalog_t *desk_catalog_load (const char *lang, char *err, size_t errlen);
void desk_catalog_destroy (desk_catalog_t **self_p);

//  The translation of msgid, or msgid itself (borrowed).  self may be NULL.
const char *desk_catalog_get (const desk_catalog_t *self, const char *msgid);

#endif
