/*  safetext: text a person registers and text a terminal shows.

    Names and descriptions (units, regions, pairings, event types...) are
    one line of printable text: tongxin-admin refuses, and migration 006's
    CHECK constraints (tongxin.text_is_clean) refuse, the characters below,
    which could forge lines or columns, drive the terminal, or reorder what a
    reader sees:
      - C0 controls U+0001..U+001F (TAB, LF, CR, ESC...) and DEL U+007F,
      - C1 controls U+0080..U+009F,
      - the line and paragraph separators U+2028, U+2029,
      - the bidirectional embeddings, overrides and isolates U+202A..U+202E
        and U+2066..U+2069.
    Text shown on a terminal (tongxin-admin's lists, tongxin-report) goes
    through tx_safetext_escape, which writes each of them, and every byte
    that is not valid UTF-8, visibly: \t \n \r, \xHH for the other C0
    controls, DEL and bad bytes, \uHHHH for the rest.  Backslashes are left
    as they are.  Everything else (CJK, accents, emoji) is unchanged.

    Ownership: tx_safetext_escape returns a string the caller frees; the
    other functions allocate nothing.  All are thread-safe.
*/
#ifndef TX_SAFETEXT_H_INCLUDED
#define TX_SAFETEXT_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

//  Is code point cp one of the characters above?
bool tx_safetext_forbidden (uint32_t cp);

//  The byte offset of the first forbidden character or invalid UTF-8 byte
//  in the NUL-terminated s, or -1 if there is none.  If found and what is
//  not NULL, what gets a short description for a message, e.g.
//  "U+001B (a control character)" or "the byte 0xFF (not UTF-8)".
long tx_safetext_find (const char *s, char *what, size_t whatlen);

//  s with every forbidden character and invalid byte written visibly (see
//  above).  NULL when memory runs out.
char *tx_safetext_escape (const char *s);

#endif
