#include "lima-template.h"

#include <string.h>

#include "lima-error.h"

gboolean
lima_template_has_variables(const gchar *text)
{
        return text != NULL && strstr(text, "{{") != NULL;
}

static gint
lima_template_compare_names(gconstpointer a, gconstpointer b, gpointer data)
{
        return g_strcmp0(*(const gchar *const *)a, *(const gchar *const *)b);
}

static gchar *
lima_template_known_names(GHashTable *vars)
{
        g_autofree const gchar **keys = (const gchar **)g_hash_table_get_keys_as_array(vars, NULL);
        g_autoptr(GString) out = g_string_new(NULL);
        g_qsort_with_data(keys, (gint)g_hash_table_size(vars), sizeof(gchar *),
                          lima_template_compare_names, NULL);
        for (guint i = 0; keys[i] != NULL; i++)
                g_string_append_printf(out, "%s{{.%s}}", i > 0 ? " " : "", keys[i]);
        return g_string_free(g_steal_pointer(&out), FALSE);
}

gchar *
lima_template_expand(const gchar *text, GHashTable *vars, GHashTable *params, GError **error)
{
        g_autoptr(GString) out = g_string_new(NULL);
        const gchar *p = text;

        while (*p != '\0') {
                const gchar *open = strstr(p, "{{");
                const gchar *close;
                g_autofree gchar *inner = NULL;
                const gchar *value;

                if (open == NULL) {
                        g_string_append(out, p);
                        break;
                }
                g_string_append_len(out, p, open - p);
                close = strstr(open + 2, "}}");
                if (close == NULL) {
                        g_set_error(error, LIMA_ERROR, LIMA_ERROR_INVALID_CONFIG,
                                    "\"%s\" has \"{{\" without a closing \"}}\"", text);
                        return NULL;
                }
                inner = g_strstrip(g_strndup(open + 2, (gsize)(close - open - 2)));
                if (g_str_has_prefix(inner, ".Param.")) {
                        value = params != NULL ? g_hash_table_lookup(params, inner + 7) : NULL;
                        if (value == NULL) {
                                g_set_error(error, LIMA_ERROR, LIMA_ERROR_INVALID_CONFIG,
                                            "\"%s\" uses {{%s}}, but param has no key \"%s\"; "
                                            "add it under param:",
                                            text, inner, inner + 7);
                                return NULL;
                        }
                } else {
                        value = inner[0] == '.' ? g_hash_table_lookup(vars, inner + 1) : NULL;
                        if (value == NULL) {
                                g_autofree gchar *known = lima_template_known_names(vars);
                                g_set_error(error, LIMA_ERROR, LIMA_ERROR_INVALID_CONFIG,
                                            "\"%s\" uses {{%s}}, which is not a known variable "
                                            "here; known: %s {{.Param.NAME}}",
                                            text, inner, known);
                                return NULL;
                        }
                }
                g_string_append(out, value);
                p = close + 2;
        }
        return g_string_free(g_steal_pointer(&out), FALSE);
}
