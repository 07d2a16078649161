/*  flags: the one event given by flags (--type, --at, --partner, --attr
    NAME[:KIND]=VALUE, --id, --nth), built and checked by libtongxin before
    anything is opened.
*/
#ifndef FLAGS_H_INCLUDED
#define FLAGS_H_INCLUDED

#include "tongxin.h"

typedef struct send_t send_t;

//  The event of self->args' flags, checked; the caller destroys it.  NULL
//  after reporting why.
tongxin_event_t *flags_event (send_t *self);

#endif
