/*  i18n: messages for people, in the language of the locale (GNU gettext).
 *
 *      tx_i18n_init ();                        //  first thing in main()
 *      fprintf (stderr, _("cannot read %s\n"), path);
 *      static const char *title = N_("Outcomes");   //  marked, translated later
 *      fputs (_(title), out);
 *      printf (NG_("%ld pairing", "%ld pairings", n), n);
 *
 *  Every program uses one text domain, "tongxin"; the catalogues are
 *  po/LANG.po (po/README.md).  Only what a person reads is marked: --help,
 *  errors on the terminal, headings of human output.  What scripts and
 *  machines read stays as it is in every locale: reason codes, log lines'
 *  key=value (msg= too), CSV headers, config keys, the example config.
 *
 *  _() and NG_() call dgettext with the domain, so code in the libraries
 *  works whatever text domain the calling program set.  A file that marks
 *  strings must be listed in po/POTFILES (tests/i18n.t checks).
 */
#ifndef TX_I18N_H_INCLUDED
#define TX_I18N_H_INCLUDED

#include <libintl.h>

#define TX_TEXTDOMAIN "tongxin"

#define _(s)            dgettext (TX_TEXTDOMAIN, s)
#define N_(s)           (s)
#define NG_(s, p, n)    dngettext (TX_TEXTDOMAIN, s, p, n)

//  Sets LC_MESSAGES and LC_CTYPE from the environment (LC_ALL, then
//  LC_MESSAGES / LC_CTYPE, then LANG, as usual; numbers and times keep the
//  C rules) and binds the text domain to the catalogues: those in
//  $TONGXIN_LOCALEDIR when it is set (the build tree's, for the tests),
//  else the installed ones ($(PREFIX)/share/locale).  A locale the system
//  does not have leaves the messages in English.
void tx_i18n_init (void);

//  Back to the C locale's messages: English from here on, ours and the
//  libraries' (libpq's errors, strerror).  The collector calls it once its
//  configuration is read: what it prints after that are log lines.
void tx_i18n_reset (void);

#endif
