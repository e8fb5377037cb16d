/* Lima version strings ("1.0.2", "v0.23.0-rc1") and their order. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

gboolean lima_version_parse(const gchar *text, guint *major, guint *minor, guint *patch,
                            gboolean *prerelease);
/* <0, 0, >0 like strcmp; an unparsable version sorts before every valid one. */
gint lima_version_compare(const gchar *a, const gchar *b);

G_END_DECLS
