/*  safetext: text a person registers and text a terminal shows (see safetext.h).  */

#include "safetext.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool
tx_safetext_forbidden (uint32_t cp)
{
    return (cp >= 0x01 && cp <= 0x1f) || (cp >= 0x7f && cp <= 0x9f)
        || cp == 0x2028 || cp == 0x2029
        || (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

//  Decodes one well-formed UTF-8 sequence (Unicode Table 3-7) at s; returns
//  its length, or 0 when the byte there does not start one.
static int
s_decode (const unsigned char *s, uint32_t *cp)
{
    unsigned char b = s [0];
    if (b < 0x80) {
        *cp = b;
        return 1;
    }
    int n;
    unsigned char lo = 0x80, hi = 0xbf;
    if (b >= 0xc2 && b <= 0xdf)
        n = 2;
    else
    if (b >= 0xe0 && b <= 0xef) {
        n = 3;
        if (b == 0xe0)
            lo = 0xa0;              //  no overlongs
        if (b == 0xed)
            hi = 0x9f;              //  no surrogates
    }
    else
    if (b >= 0xf0 && b <= 0xf4) {
        n = 4;
        if (b == 0xf0)
            lo = 0x90;
        if (b == 0xf4)
            hi = 0x8f;              //  nothing above U+10FFFF
    }
    else
        return 0;
    if (s [1] < lo || s [1] > hi)
        return 0;
    uint32_t v = b & (0xff >> (n + 1));
    for (int i = 1; i < n; i++) {
        if ((s [i] & 0xc0) != 0x80)     //  also stops at the NUL
            return 0;
        v = (v << 6) | (s [i] & 0x3f);
    }
    *cp = v;
    return n;
}

long
tx_safetext_find (const char *s, char *what, size_t whatlen)
{
    const unsigned char *p = (const unsigned char *) s;
    while (*p) {
        uint32_t cp;
        int n = s_decode (p, &cp);
        if (n == 0 || tx_safetext_forbidden (cp)) {
            if (what && whatlen) {
                if (n == 0)
                    snprintf (what, whatlen, "the byte 0x%02X (not UTF-8)", *p);
                else
                    snprintf (what, whatlen, "U+%04X (%s)", cp,
                              cp < 0x2000 ? "a control character" : "a line separator or "
                              "bidirectional control");
            }
            return (long) (p - (const unsigned char *) s);
        }
        p += n;
    }
    return -1;
}

char *
tx_safetext_escape (const char *s)
{
    //  Each input byte becomes at most 6 output bytes ("\u202e" for 3).
    size_t len = strlen (s);
    char *out = malloc (len * 6 + 1);
    if (!out)
        return NULL;
    char *o = out;
    const unsigned char *p = (const unsigned char *) s;
    while (*p) {
        uint32_t cp;
        int n = s_decode (p, &cp);
        if (n == 0) {
            o += sprintf (o, "\\x%02x", *p);
            p++;
            continue;
        }
        if (!tx_safetext_forbidden (cp)) {
            memcpy (o, p, (size_t) n);
            o += n;
        }
        else
        if (cp == '\t')
            o += sprintf (o, "\\t");
        else
        if (cp == '\n')
            o += sprintf (o, "\\n");
        else
        if (cp == '\r')
            o += sprintf (o, "\\r");
        else
        if (cp < 0x80)
            o += sprintf (o, "\\x%02x", cp);
        else
            o += sprintf (o, "\\u%04x", cp);
        p += n;
    }
    *o = 0;
    return out;
}
