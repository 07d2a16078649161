/*  reasons: what each reject and error code of the protocol means, in a
 *  sentence for people (docs/protocol.md 9.2 and 9.3).
 *
 *  The codes themselves are an interface (scripts, metrics, the database
 *  keep them) and are never translated; tools print the code and then its
 *  explanation in the language of the locale:
 *
 *      printf ("%s: %s\n", code, tx_reason_explain (code));
 */
#ifndef TX_REASONS_H_INCLUDED
#define TX_REASONS_H_INCLUDED

//  The translated one-line explanation of a reject code (per event) or an
//  error code (whole message); NULL for a code the protocol does not
//  define.  Borrowed, static.
const char *tx_reason_explain (const char *code);

#endif
