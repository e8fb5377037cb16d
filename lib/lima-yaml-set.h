/*
 * `limactl --set EXPR`: the yq assignment forms Lima's documentation uses, applied to a YAML
 * tree without a yq binary:
 *
 *   .cpus = 4                 .mountType = "9p"            .mounts[0].writable = true
 *   .mounts += [{"location": "~/src", "writable": true}]   .a = 1 | .b = "x"  (several)
 *
 * A path is `.key`, `."quoted key"` and `[N]` steps; a value is a YAML/JSON literal (number,
 * true/false/null, a quoted string, [..] or {..}). Anything else is refused naming the
 * supported forms.
 */
#pragma once

#include <glib.h>

#include "lima-yaml.h"

G_BEGIN_DECLS

/* Applies EXPR (one or several joined by `|`) to root, a mapping, in place. */
gboolean lima_yaml_set_apply(LimaYamlNode *root, const gchar *expr, GError **error);

/* Applies every expression of exprs to the document text (named file in errors) and returns
 * the new text. Assignments of a scalar to an existing scalar are made in the text itself, so
 * the file's comments and layout stay; any other edit re-emits the document (comments lost). */
gchar *lima_yaml_set_apply_text(const gchar *text, const gchar *file, const gchar *const *exprs,
                                GError **error);

G_END_DECLS
