/* One mount added to or removed from a lima.yaml text, everything else kept: the edit behind
 * `limactl mount add/remove`. The result still has to be validated like any lima.yaml. */
#pragma once

#include "lima-config.h"
#include "lima-host.h"

G_BEGIN_DECLS

/* text with one more entry at the end of mounts: location as given, mountPoint only when
 * not NULL (Lima's default is the location), writable. */
gchar *lima_config_mounts_add(const gchar *text, const gchar *file, const gchar *location,
                              const gchar *mount_point, gboolean writable, GError **error);

/* text without every entry whose mount point, expanded as a fill expands it (filled gives
 * the variables), is mount_point; *removed counts them (0: text comes back unchanged in
 * meaning). */
gchar *lima_config_mounts_remove(const gchar *text, const gchar *file, LimaConfig *filled,
                                 const LimaHost *host, const gchar *mount_point, guint *removed,
                                 GError **error);

G_END_DECLS
