/* Shared by the unit tests: a host with pinned values and a one-call resolve. */
#pragma once

#include <glib.h>
#include <glib/gstdio.h>

#include "lima-config-resolve.h"
#include "lima-diagnostics.h"
#include "test-host.h"

static inline LimaHost *
test_host_new(void)
{
        return test_host_new_at(g_getenv("TEST_HOME") != NULL ? g_getenv("TEST_HOME")
                                                              : "/home/alice");
}

/* Resolves yaml as file "dev.yaml"; lima_home may be NULL. */
static inline LimaConfig *
test_resolve(const gchar *yaml, LimaHost *host, const gchar *lima_home, LimaDiagnostics **diags,
             GError **error)
{
        *diags = lima_diagnostics_new("dev.yaml");
        return lima_config_resolve(yaml, strlen(yaml), "dev.yaml", host, lima_home, *diags, error);
}

static inline gboolean
test_diags_contain(LimaDiagnostics *diags, LimaDiagnosticSeverity severity, const gchar *text)
{
        for (guint i = 0; i < diags->items->len; i++) {
                LimaDiagnostic *d = g_ptr_array_index(diags->items, i);
                if (d->severity == severity && strstr(d->text, text) != NULL)
                        return TRUE;
        }
        return FALSE;
}

static inline void
test_print_diags(LimaDiagnostics *diags)
{
        for (guint i = 0; i < diags->items->len; i++) {
                LimaDiagnostic *d = g_ptr_array_index(diags->items, i);
                g_test_message("%s: %s", d->severity == LIMA_DIAGNOSTIC_ERROR ? "error" : "warning",
                               d->text);
        }
}

#define test_assert_error(diags, text)                                                             \
        G_STMT_START                                                                               \
        {                                                                                          \
                if (!test_diags_contain(diags, LIMA_DIAGNOSTIC_ERROR, text)) {                     \
                        test_print_diags(diags);                                                   \
                        g_error("expected an error containing: %s", text);                         \
                }                                                                                  \
        }                                                                                          \
        G_STMT_END

#define test_assert_warning(diags, text)                                                           \
        G_STMT_START                                                                               \
        {                                                                                          \
                if (!test_diags_contain(diags, LIMA_DIAGNOSTIC_WARNING, text)) {                   \
                        test_print_diags(diags);                                                   \
                        g_error("expected a warning containing: %s", text);                        \
                }                                                                                  \
        }                                                                                          \
        G_STMT_END

#define test_assert_no_errors(diags)                                                               \
        G_STMT_START                                                                               \
        {                                                                                          \
                if (lima_diagnostics_count(diags, LIMA_DIAGNOSTIC_ERROR) != 0) {                   \
                        test_print_diags(diags);                                                   \
                        g_error("expected no errors");                                             \
                }                                                                                  \
        }                                                                                          \
        G_STMT_END

#define TEST_IMAGES "images:\n- location: https://example.org/debian.qcow2\n  arch: x86_64\n"
