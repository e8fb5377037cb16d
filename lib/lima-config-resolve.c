#include "lima-config-resolve.h"

#include "lima-config-base.h"
#include "lima-config-fill.h"
#include "lima-config-validate.h"
#include "lima-error.h"
#include "lima-safe-path.h"

/* A missing layer file is an empty layer; a broken one is an error. */
static gboolean
lima_config_load_layer(const gchar *lima_home, const gchar *name, LimaResolveFlags flags,
                       LimaDiagnostics *diags, LimaConfig **out, GError **error)
{
        g_autofree gchar *path = NULL;
        g_autofree gchar *text = NULL;
        g_autoptr(GError) local = NULL;
        gboolean system = (flags & LIMA_RESOLVE_SYSTEM) != 0;
        gsize len = 0;

        *out = NULL;
        if (lima_home == NULL)
                return TRUE;
        path = g_build_filename(lima_home, "_config", name, NULL);
        /* --system: root's own file only, so nothing a user planted is merged for anyone. */
        if (!lima_safe_read_file(path, system ? LIMA_SAFE_READ_OWNED : LIMA_SAFE_READ_FOLLOW, 0,
                                 &text, &len, &local)) {
                if (g_error_matches(local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
                        return TRUE;
                g_set_error(error, LIMA_ERROR, LIMA_ERROR_INVALID_CONFIG, "%s", local->message);
                return FALSE;
        }
        *out = lima_config_load_data(text, len, path, diags, error);
        if (*out == NULL)
                return FALSE;
        return lima_config_resolve_base_full(*out, system ? LIMA_BASE_TEMPLATES_ONLY : 0, diags,
                                             error);
}

LimaConfig *
lima_config_resolve(const gchar *text, gsize len, const gchar *file, const LimaHost *host,
                    const gchar *lima_home, LimaDiagnostics *diags, GError **error)
{
        return lima_config_resolve_full(text, len, file, host, lima_home, 0, diags, error);
}

LimaConfig *
lima_config_resolve_full(const gchar *text, gsize len, const gchar *file, const LimaHost *host,
                         const gchar *lima_home, LimaResolveFlags flags, LimaDiagnostics *diags,
                         GError **error)
{
        g_autoptr(LimaConfig) y = lima_config_load_data(text, len, file, diags, error);
        g_autoptr(LimaConfig) d = NULL;
        g_autoptr(LimaConfig) o = NULL;

        if (y == NULL)
                return NULL;
        if (!lima_config_resolve_base_full(y, (flags & LIMA_RESOLVE_SYSTEM) ? LIMA_BASE_REFUSE : 0,
                                           diags, error))
                return NULL;
        if (!lima_config_load_layer(lima_home, "default.yaml", flags, diags, &d, error) ||
            !lima_config_load_layer(lima_home, "override.yaml", flags, diags, &o, error))
                return NULL;
        lima_config_fill(y, d, o, host, diags);
        lima_config_validate(y, host, diags);
        return g_steal_pointer(&y);
}
