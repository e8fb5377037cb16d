#include "lima-config-resolve.h"

#include "lima-config-base.h"
#include "lima-config-fill.h"
#include "lima-config-validate.h"
#include "lima-error.h"

/* A missing layer file is an empty layer; a broken one is an error. */
static gboolean
lima_config_load_layer(const gchar *lima_home, const gchar *name, LimaDiagnostics *diags,
                       LimaConfig **out, GError **error)
{
        g_autofree gchar *path = NULL;
        g_autoptr(GError) local = NULL;

        *out = NULL;
        if (lima_home == NULL)
                return TRUE;
        path = g_build_filename(lima_home, "_config", name, NULL);
        *out = lima_config_load_file(path, diags, &local);
        if (*out == NULL && !g_error_matches(local, LIMA_ERROR, LIMA_ERROR_NOT_FOUND)) {
                g_propagate_error(error, g_steal_pointer(&local));
                return FALSE;
        }
        return TRUE;
}

LimaConfig *
lima_config_resolve(const gchar *text, gsize len, const gchar *file, const LimaHost *host,
                    const gchar *lima_home, LimaDiagnostics *diags, GError **error)
{
        g_autoptr(LimaConfig) y = lima_config_load_data(text, len, file, diags, error);
        g_autoptr(LimaConfig) d = NULL;
        g_autoptr(LimaConfig) o = NULL;

        if (y == NULL)
                return NULL;
        if (!lima_config_resolve_base(y, diags, error))
                return NULL;
        if (!lima_config_load_layer(lima_home, "default.yaml", diags, &d, error) ||
            !lima_config_load_layer(lima_home, "override.yaml", diags, &o, error))
                return NULL;
        if (d != NULL && !lima_config_resolve_base(d, diags, error))
                return NULL;
        if (o != NULL && !lima_config_resolve_base(o, diags, error))
                return NULL;
        lima_config_fill(y, d, o, host, diags);
        lima_config_validate(y, host, diags);
        return g_steal_pointer(&y);
}
