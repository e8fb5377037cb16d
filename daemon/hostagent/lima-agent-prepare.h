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
        /* The native route: lima-guestagent provisions the guest and reports over
         * virtio-serial; kernel_cmdline has cloud-init=disabled. FALSE: cloud-init's route. */
        gboolean native_boot;
} LimaAgentPrepare;

gboolean lima_agent_prepare_run(LimaWorker *worker, gpointer data, GError **error);
void lima_agent_prepare_clear(LimaAgentPrepare *prep);
/* The file beside a local image that says it carries the native route (tools/build-guest-image
 * writes it). */
#define LIMA_NATIVE_BOOT_MARKER "limad-native-boot"

/* TRUE when the image takes the native route: booted directly (kernel given), a local image
 * with LIMA_NATIVE_BOOT_MARKER beside it, a guest agent to put on the seed, and a kernel
 * command line that does not choose cloud-init itself (a "cloud-init=" word: a template that
 * says cloud-init=enabled takes cloud-init's route on the same image). */
gboolean lima_agent_native_boot_supported(const LimaImage *image, const gchar *guestagent);

/* lima-guestagent for the seed ISO: $LIMA_GUESTAGENT, beside this program, or in the build
 * tree's guest/. NULL when none is found. */
gchar *lima_agent_find_guestagent(void);

G_END_DECLS
