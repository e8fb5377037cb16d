/*
 * Go-template variables in config strings, as Lima expands them: "{{.Home}}/src",
 * "{{ .Param.Dir }}". Only the variable form is supported; anything else is an error.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* vars: name → value ("Home" → "/home/me"); params: name → value for {{.Param.NAME}}, may be
 * NULL. */
gchar *lima_template_expand(const gchar *text, GHashTable *vars, GHashTable *params,
                            GError **error);
gboolean lima_template_has_variables(const gchar *text);

G_END_DECLS
