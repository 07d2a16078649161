/*  i18n: see i18n.h.  */
#include "i18n.h"

#include <locale.h>
#include <stdlib.h>

#ifndef TX_LOCALEDIR
#define TX_LOCALEDIR "/usr/local/share/locale"
#endif

void
tx_i18n_init (void)
{
    //  Only the language of messages and the character set they are
    //  written in follow the locale.  Numbers (%.1f, strtod: the wire's
    //  decimals, the report's figures), times and byte classes keep the C
    //  rules whatever the locale, as scripts and the protocol expect.
    setlocale (LC_CTYPE, "");
    setlocale (LC_MESSAGES, "");
    const char *dir = getenv ("TONGXIN_LOCALEDIR");
    bindtextdomain (TX_TEXTDOMAIN, dir && *dir ? dir : TX_LOCALEDIR);
    textdomain (TX_TEXTDOMAIN);
}

void
tx_i18n_reset (void)
{
    setlocale (LC_MESSAGES, "C");
}
