#include "lima-config-mounts.h"

#include <string.h>

#include "lima-config-fill.h"

/* Only YAML that is not YAML at all fails here; type problems are for validation to name. */
static LimaConfig *
lima_config_mounts_load(const gchar *text, const gchar *file, GError **error)
{
        g_autoptr(LimaDiagnostics) diags = lima_diagnostics_new(file);
        return lima_config_load_data(text, strlen(text), file, diags, error);
}

gchar *
lima_config_mounts_add(const gchar *text, const gchar *file, const gchar *location,
                       const gchar *mount_point, gboolean writable, GError **error)
{
        g_autoptr(LimaConfig) cfg = lima_config_mounts_load(text, file, error);
        LimaMount *m;

        if (cfg == NULL)
                return NULL;
        m = lima_mount_new();
        lima_string_set(&m->location, location, NULL);
        if (mount_point != NULL)
                lima_string_set(&m->mount_point, mount_point, NULL);
        lima_bool_set(&m->writable, writable, NULL);
        g_ptr_array_add(cfg->mounts, m);
        return lima_config_to_yaml(cfg, error);
}

gchar *
lima_config_mounts_remove(const gchar *text, const gchar *file, LimaConfig *filled,
                          const LimaHost *host, const gchar *mount_point, guint *removed,
                          GError **error)
{
        g_autoptr(LimaConfig) cfg = lima_config_mounts_load(text, file, error);
        g_autofree gchar *target = NULL;
        guint count = 0;

        if (cfg == NULL)
                return NULL;
        target = g_canonicalize_filename(mount_point, "/");
        /* Backwards, so removing keeps the indexes still to visit. */
        for (guint i = cfg->mounts->len; i > 0; i--) {
                g_autofree gchar *mp = lima_config_fill_mount_point(
                    filled, g_ptr_array_index(cfg->mounts, i - 1), host);
                if (mp != NULL && g_str_equal(mp, target)) {
                        g_ptr_array_remove_index(cfg->mounts, i - 1);
                        count++;
                }
        }
        if (removed != NULL)
                *removed = count;
        return lima_config_to_yaml(cfg, error);
}
