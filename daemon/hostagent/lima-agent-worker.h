/* Slow, blocking work (downloads, qemu-img, ssh probes) runs on a thread of its own and
 * reports back to the sd-event loop through this channel, so the bus never stalls. */
#pragma once

#include <gio/gio.h>
#include <systemd/sd-event.h>

G_BEGIN_DECLS

typedef struct _LimaWorker LimaWorker;

typedef struct {
        gchar *stage; /* a progress report; NULL for the final message */
        gdouble fraction;
        gchar *message;
        gboolean ok;   /* final message: did the work succeed */
        GError *error; /* final message: why not */
} LimaWorkerMessage;

typedef gboolean (*LimaWorkerFunc)(LimaWorker *worker, gpointer data, GError **error);
typedef void (*LimaWorkerReport)(const LimaWorkerMessage *msg, gpointer user_data);

/* Runs func(worker, data) on a thread; report is called on the loop for each progress
 * message and once at the end. */
LimaWorker *lima_worker_start(sd_event *event, const gchar *name, LimaWorkerFunc func,
                              gpointer data, LimaWorkerReport report, gpointer user_data);
/* From the thread: a progress report (worker may be NULL: then nothing is reported). */
void lima_worker_progress(LimaWorker *worker, const gchar *stage, gdouble fraction,
                          const gchar *fmt, ...) G_GNUC_PRINTF(4, 5);
/* Asks the thread to give up; it checks lima_worker_cancelled() between steps. */
void lima_worker_cancel(LimaWorker *worker);
gboolean lima_worker_cancelled(LimaWorker *worker);
GCancellable *lima_worker_get_cancellable(LimaWorker *worker);
/* Waits for the thread and frees the worker. */
void lima_worker_free(LimaWorker *worker);

G_END_DECLS
