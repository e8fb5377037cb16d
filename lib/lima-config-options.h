/* limactl create's flags (--cpus, --mount DIR:w, --mount-only, …), applied to a composed
 * config before it is stored. Unset fields leave the config alone. */
#pragma once

#include "lima-config.h"

G_BEGIN_DECLS

typedef struct {
        gchar *location;
        gchar *mount_point; /* NULL: same as location */
        gboolean writable;
} LimaMountSpec;

typedef struct {
        gint64 cpus; /* 0: unset */
        gchar *memory;
        gchar *disk;
        gchar *vm_type;
        gchar *mount_type;
        gboolean mount_writable; /* every mount writable */
        gboolean mount_inotify;
        gboolean mount_only; /* the mounts below replace the config's */
        gboolean mount_none; /* no mounts at all */
        GPtrArray *mounts;   /* LimaMountSpec*, added */
} LimaConfigOptions;

LimaConfigOptions *lima_config_options_new(void);
void lima_config_options_free(LimaConfigOptions *opts);
void lima_config_options_add_mount(LimaConfigOptions *opts, const gchar *location,
                                   const gchar *mount_point, gboolean writable);
/* FALSE (error set) when the options contradict each other. */
gboolean lima_config_options_apply(const LimaConfigOptions *opts, LimaConfig *cfg, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(LimaConfigOptions, lima_config_options_free)

G_END_DECLS
