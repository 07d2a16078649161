/*  assets: the web page (desk/web/), compiled in by tools/deskembed.  */
#ifndef DESK_ASSETS_H_INCLUDED
#define DESK_ASSETS_H_INCLUDED

#include <stddef.h>

typedef struct {
    const char *path;           //  "/app.js"
    const char *type;           //  its Content-Type
    const char *data;           //  its bytes
    size_t len;                 //  how many
} desk_asset_t;

//  Ends with a NULL path.
extern const desk_asset_t desk_assets [];

//  Every msgid the page's script asks for (t("...")), NULL-terminated.
extern const char *const desk_page_msgids [];

#endif
