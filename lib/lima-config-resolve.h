/* The whole road from a lima.yaml to the config an instance runs with: base: composition,
 * default.yaml < instance < override.yaml, builtin defaults, validation. */
#pragma once

#include "lima-config.h"
#include "lima-host.h"

G_BEGIN_DECLS

/* lima_home may be NULL (no _config layers). Returns NULL with error set only when a file
 * is not YAML or a base cannot be found; every config problem goes to diags. */
LimaConfig *lima_config_resolve(const gchar *text, gsize len, const gchar *file,
                                const LimaHost *host, const gchar *lima_home,
                                LimaDiagnostics *diags, GError **error);

G_END_DECLS
