/*  input: JSON lines from a file descriptor, of any length, each turned
    into an event (jsonl.c) and spooled (submit.c); the batch goes out
    whenever reading the next line would block, so that events trickling
    in through a pipe are not held back.
*/
#ifndef INPUT_H_INCLUDED
#define INPUT_H_INCLUDED

typedef struct send_t send_t;

#define MAX_LINE        (16 << 20)      //  bytes of one JSON line

//  Reads JSON lines from fd (borrowed) and spools their events.  0, or
//  the exit code that stopped it.
int input_read (send_t *self, int fd);

#endif
