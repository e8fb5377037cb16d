/* Waiting for a booting guest, on the worker thread: sshd answering with the instance key,
 * then every 9p/virtiofs mount in place. */
#pragma once

#include "lima-agent-worker.h"
#include "lima-config.h"

G_BEGIN_DECLS

typedef struct {
        /* in */
        const LimaConfig *cfg;
        const gchar *name;
        gchar *ssh_config;
        gint64 deadline; /* monotonic µs */
        /* out: one per cfg->mounts, "mounted" or "failed" with the reason */
        GPtrArray *states; /* gchar* */
        GPtrArray *errors; /* gchar* or NULL */
        gdouble boot_seconds;
} LimaAgentReady;

gboolean lima_agent_ready_run(LimaWorker *worker, gpointer data, GError **error);
void lima_agent_ready_clear(LimaAgentReady *ready);

G_END_DECLS
