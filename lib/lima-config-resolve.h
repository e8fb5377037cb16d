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

typedef enum {
        /* Root resolving a stored lima.yaml for its owner (limad --system and its agents):
         * the config may name no base (LIMA_BASE_REFUSE), and the _config layers count only
         * as root's own regular files, read without following links. */
        LIMA_RESOLVE_SYSTEM = 1 << 0,
} LimaResolveFlags;

LimaConfig *lima_config_resolve_full(const gchar *text, gsize len, const gchar *file,
                                     const LimaHost *host, const gchar *lima_home,
                                     LimaResolveFlags flags, LimaDiagnostics *diags,
                                     GError **error);

G_END_DECLS
