/* Getting an instance ready to boot, on the worker thread: keys, image, disk, seed ISO. */
#pragma once

#include "lima-agent-worker.h"
#include "lima-config.h"

G_BEGIN_DECLS

typedef struct {
        /* in */
        const LimaConfig *cfg;
        const gchar *name;
        const gchar *dir;
        const gchar *keys_home; /* where the SSH key pair is (lima_paths_keys_home) */
        const gchar *host_home;
        /* out */
        gchar *kernel;
        gchar *initrd;
        gchar *kernel_cmdline;
} LimaAgentPrepare;

gboolean lima_agent_prepare_run(LimaWorker *worker, gpointer data, GError **error);
void lima_agent_prepare_clear(LimaAgentPrepare *prep);
/* lima-guestagent for the seed ISO: $LIMA_GUESTAGENT, beside this program, or in the build
 * tree's guest/. NULL when none is found. */
gchar *lima_agent_find_guestagent(void);

G_END_DECLS
