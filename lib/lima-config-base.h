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

/* Merges every base of cfg into it, recursively; cfg->base is empty afterwards. */
gboolean lima_config_resolve_base(LimaConfig *cfg, LimaDiagnostics *diags, GError **error);

G_END_DECLS
