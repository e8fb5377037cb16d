#include "lima-diagnostics.h"

#include "lima-error.h"

static void
lima_diagnostic_free(LimaDiagnostic *d)
{
        g_free(d->text);
        g_free(d);
}

LimaDiagnostics *
lima_diagnostics_new(const gchar *fallback_file)
{
        LimaDiagnostics *diags = g_new0(LimaDiagnostics, 1);
        diags->items = g_ptr_array_new_with_free_func((GDestroyNotify)lima_diagnostic_free);
        diags->fallback_file = g_intern_string(fallback_file != NULL ? fallback_file : "<input>");
        return diags;
}

void
lima_diagnostics_free(LimaDiagnostics *diags)
{
        if (diags == NULL)
                return;
        g_ptr_array_unref(diags->items);
        g_free(diags);
}

void
lima_diagnostics_add(LimaDiagnostics *diags, LimaDiagnosticSeverity severity, LimaYamlNode *where,
                     const gchar *path, const gchar *fmt, ...)
{
        LimaDiagnostic *d = g_new0(LimaDiagnostic, 1);
        g_autoptr(GString) text = g_string_new(NULL);
        va_list args;

        if (where != NULL && where->file != NULL && where->line > 0)
                g_string_append_printf(text, "%s:%u:%u: ", where->file, where->line, where->column);
        else
                g_string_append_printf(text, "%s: ", diags->fallback_file);
        if (path != NULL && *path != '\0')
                g_string_append_printf(text, "%s: ", path);
        va_start(args, fmt);
        g_string_append_vprintf(text, fmt, args);
        va_end(args);
        d->severity = severity;
        d->text = g_string_free(g_steal_pointer(&text), FALSE);
        g_ptr_array_add(diags->items, d);
}

guint
lima_diagnostics_count(LimaDiagnostics *diags, LimaDiagnosticSeverity severity)
{
        guint n = 0;
        for (guint i = 0; i < diags->items->len; i++) {
                LimaDiagnostic *d = g_ptr_array_index(diags->items, i);
                n += d->severity == severity;
        }
        return n;
}

static gchar **
lima_diagnostics_texts(LimaDiagnostics *diags, LimaDiagnosticSeverity severity)
{
        g_autoptr(GStrvBuilder) builder = g_strv_builder_new();
        for (guint i = 0; i < diags->items->len; i++) {
                LimaDiagnostic *d = g_ptr_array_index(diags->items, i);
                if (d->severity == severity)
                        g_strv_builder_add(builder, d->text);
        }
        return g_strv_builder_end(builder);
}

gboolean
lima_diagnostics_check(LimaDiagnostics *diags, GError **error)
{
        g_auto(GStrv) errors = NULL;
        g_autofree gchar *joined = NULL;

        if (lima_diagnostics_count(diags, LIMA_DIAGNOSTIC_ERROR) == 0)
                return TRUE;
        errors = lima_diagnostics_texts(diags, LIMA_DIAGNOSTIC_ERROR);
        joined = g_strjoinv("\n", errors);
        g_set_error_literal(error, LIMA_ERROR, LIMA_ERROR_INVALID_CONFIG, joined);
        return FALSE;
}

gchar **
lima_diagnostics_warnings(LimaDiagnostics *diags)
{
        return lima_diagnostics_texts(diags, LIMA_DIAGNOSTIC_WARNING);
}
