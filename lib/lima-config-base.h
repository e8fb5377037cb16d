/*
 * base: composition. A config names other configs (template:NAME, file paths) it builds on;
 * its own values win, lists grow, and mounts with the same mount point (or location) merge.
 */
#pragma once

#include "lima-config.h"

G_BEGIN_DECLS

#define LIMA_BASE_MAX_DEPTH 16

/* Folders searched for template:NAME: $LIMA_TEMPLATES_PATH (colon-separated), then the
 * installed templates, then the source tree's. */
gchar **lima_templates_dirs(void);
/* The file of template:NAME (NAME may be "_images/debian-12"). */
gchar *lima_template_locate(const gchar *name, GError **error);
/* NAME → first line of its comment, for every template found (sorted by name). */
GPtrArray *lima_templates_list(void);

typedef enum {
        /* cfg's own bases must be template:NAME: root composing a user's text (--system). */
        LIMA_BASE_TEMPLATES_ONLY = 1 << 0,
        /* cfg may name no base at all: a stored lima.yaml was composed at create time, and
         * root must not read what its owner names there afterwards (--system). */
        LIMA_BASE_REFUSE = 1 << 1,
} LimaBaseFlags;

/* Merges every base of cfg into it, recursively; cfg->base is empty afterwards. Every base
 * file is read with lima_safe_read_file(): non-blocking, regular files only, size-capped;
 * with flags, symlinks are not followed either. */
gboolean lima_config_resolve_base(LimaConfig *cfg, LimaDiagnostics *diags, GError **error);
gboolean lima_config_resolve_base_full(LimaConfig *cfg, LimaBaseFlags flags, LimaDiagnostics *diags,
                                       GError **error);

G_END_DECLS
