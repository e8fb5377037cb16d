/*
 * Errors and warnings about a config, each pointing at where it was written:
 * "dev.yaml:12:14: mounts[1].9p.msize: "12XB" is not a size". Checks report every problem
 * they find instead of stopping at the first.
 */
#pragma once

#include <glib.h>

#include "lima-yaml.h"

G_BEGIN_DECLS

typedef enum {
        LIMA_DIAGNOSTIC_WARNING,
        LIMA_DIAGNOSTIC_ERROR,
} LimaDiagnosticSeverity;

typedef struct {
        LimaDiagnosticSeverity severity;
        gchar *text; /* "file:line:column: path: message" */
} LimaDiagnostic;

typedef struct {
        GPtrArray *items;           /* LimaDiagnostic */
        const gchar *fallback_file; /* named when the value has no position (a default) */
} LimaDiagnostics;

LimaDiagnostics *lima_diagnostics_new(const gchar *fallback_file);
void lima_diagnostics_free(LimaDiagnostics *diags);

void lima_diagnostics_add(LimaDiagnostics *diags, LimaDiagnosticSeverity severity,
                          LimaYamlNode *where, const gchar *path, const gchar *fmt, ...)
    G_GNUC_PRINTF(5, 6);
#define lima_diagnostics_error(d, n, p, ...)                                                       \
        lima_diagnostics_add(d, LIMA_DIAGNOSTIC_ERROR, n, p, __VA_ARGS__)
#define lima_diagnostics_warning(d, n, p, ...)                                                     \
        lima_diagnostics_add(d, LIMA_DIAGNOSTIC_WARNING, n, p, __VA_ARGS__)

guint lima_diagnostics_count(LimaDiagnostics *diags, LimaDiagnosticSeverity severity);
/* When there are errors: sets error (INVALID_CONFIG) to all of them, one a line. */
gboolean lima_diagnostics_check(LimaDiagnostics *diags, GError **error);
/* Every warning, one a line, or NULL. */
gchar **lima_diagnostics_warnings(LimaDiagnostics *diags);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(LimaDiagnostics, lima_diagnostics_free)

G_END_DECLS
