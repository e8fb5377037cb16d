#include "lima-config-options.h"

#include <glib/gi18n.h>

#include "lima-error.h"

static void
lima_mount_spec_free(LimaMountSpec *spec)
{
        g_free(spec->location);
        g_free(spec->mount_point);
        g_free(spec);
}

LimaConfigOptions *
lima_config_options_new(void)
{
        LimaConfigOptions *opts = g_new0(LimaConfigOptions, 1);
        opts->mounts = g_ptr_array_new_with_free_func((GDestroyNotify)lima_mount_spec_free);
        return opts;
}

void
lima_config_options_free(LimaConfigOptions *opts)
{
        if (opts == NULL)
                return;
        g_free(opts->memory);
        g_free(opts->disk);
        g_free(opts->vm_type);
        g_free(opts->mount_type);
        g_ptr_array_unref(opts->mounts);
        g_free(opts);
}

void
lima_config_options_add_mount(LimaConfigOptions *opts, const gchar *location,
                              const gchar *mount_point, gboolean writable)
{
        LimaMountSpec *spec = g_new0(LimaMountSpec, 1);
        spec->location = g_strdup(location);
        spec->mount_point =
            mount_point != NULL && *mount_point != '\0' ? g_strdup(mount_point) : NULL;
        spec->writable = writable;
        g_ptr_array_add(opts->mounts, spec);
}

gboolean
lima_config_options_apply(const LimaConfigOptions *opts, LimaConfig *cfg, GError **error)
{
        if (opts->mount_none && (opts->mount_only || opts->mounts->len > 0)) {
                g_set_error_literal(error, LIMA_ERROR, LIMA_ERROR_INVALID_CONFIG,
                                    _("--mount-none cannot be combined with --mount or "
                                      "--mount-only"));
                return FALSE;
        }
        if (opts->cpus > 0)
                lima_int_set(&cfg->cpus, opts->cpus, NULL);
        if (opts->memory != NULL)
                lima_string_set(&cfg->memory, opts->memory, NULL);
        if (opts->disk != NULL)
                lima_string_set(&cfg->disk, opts->disk, NULL);
        if (opts->vm_type != NULL)
                lima_string_set(&cfg->vm_type, opts->vm_type, NULL);
        if (opts->mount_type != NULL)
                lima_string_set(&cfg->mount_type, opts->mount_type, NULL);
        if (opts->mount_inotify)
                lima_bool_set(&cfg->mount_inotify, TRUE, NULL);
        if (opts->mount_none || opts->mount_only)
                g_ptr_array_set_size(cfg->mounts, 0);
        for (guint i = 0; i < opts->mounts->len; i++) {
                LimaMountSpec *spec = g_ptr_array_index(opts->mounts, i);
                LimaMount *m = lima_mount_new();
                lima_string_set(&m->location, spec->location, NULL);
                if (spec->mount_point != NULL)
                        lima_string_set(&m->mount_point, spec->mount_point, NULL);
                if (spec->writable)
                        lima_bool_set(&m->writable, TRUE, NULL);
                g_ptr_array_add(cfg->mounts, m);
        }
        if (opts->mount_writable) {
                for (guint i = 0; i < cfg->mounts->len; i++) {
                        LimaMount *m = g_ptr_array_index(cfg->mounts, i);
                        lima_bool_set(&m->writable, TRUE, NULL);
                }
        }
        return TRUE;
}
