/*  send.h: tongxin-send's run: its exit codes, limits and the state that
    the modules share (send_t).  One send_t per run, on main's stack.

    Threads: the main thread reads, builds and spools events; verdicts
    arrive on libtongxin's sender thread (out_result), so the id map, the
    reports in line order and the counters sit under send_t.lock.
*/
#ifndef SEND_H_INCLUDED
#define SEND_H_INCLUDED

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "tongxin.h"
#include "idmap.h"
#include "jsonl.h"
#include "options.h"
#include "report.h"
#include "submit.h"

//  Exit status; when several apply, the highest wins.
enum {
    RC_OK = 0,                  //  every event stored or already stored
    RC_REJECTED = 1,            //  some event rejected, here or by the collector
    RC_USAGE = 2,               //  bad command line; nothing was sent
    RC_TIMEOUT = 3,             //  --wait ran out with events unacknowledged
    RC_FULL = 4,                //  the spool is full: the rest of the input was not read
    RC_RUNTIME = 5              //  spool unusable, input unreadable, collector said stop,
                                //  key refused or no handshake (tongxin_stats_t.link)
};

#define PROGRESS_LINES  1000            //  inputs longer than this show progress
#define PROGRESS_MS     250             //  redraw at most 4 times a second

//  Verdicts counted, for the summary: this run's events, or those an
//  earlier run left in the spool.
typedef struct {
    uint64_t stored;
    uint64_t duplicate;
    uint64_t rejected;          //  by the collector
    uint64_t dated;             //  duplicates whose original's time of receipt is known
    int64_t first_us, last_us;  //  the earliest and latest of those times (unix µs)
} tally_t;

struct send_t {
    const args_t *args;
    tongxin_t *tx;              //  the producer
    tongxin_registry_t *registry;   //  the collector's registry (fetched or cached), or NULL
    char *spool;                //  the spool directory in use
    bool flag_form;             //  one event from flags: its line prints as "-"
    bool null_input;            //  FILE is /dev/null: deliver the spool only
    bool tty;                   //  stderr is a terminal
    bool stopped;               //  the collector said stop (reported once)
    int64_t start_ms;           //  when reading began
    int64_t drawn_ms;           //  last progress line
    uint64_t lines;             //  input lines read (main thread only)
    batch_t batch;              //  events to spool next (main thread only)
    numbers_t numbers;          //  the current line's numbers (main thread only)
    pthread_mutex_t lock;       //  guards the rest; verdicts arrive on the sender thread
    idmap_t pending;            //  this run's events without a verdict
    reports_t reports;          //  the lines' outcomes, released in line order
    report_t *dups;             //  the duplicates released, in line order (listed last)
    size_t n_dups, cap_dups;
    bool same_content;          //  a duplicate had another id: hint at --nth
    uint64_t events;            //  non-blank input lines
    tally_t mine;               //  verdicts on them, by kind
    uint64_t invalid;           //  refused here, never spooled
    tally_t earlier;            //  verdicts on events of earlier runs
    bool progress_shown;        //  a progress line is on the screen (no newline yet)
};

//  The signal that asked us to stop (SIGINT, SIGTERM), 0 if none.
extern volatile sig_atomic_t send_interrupted;

#endif
