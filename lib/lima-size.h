/* Sizes as Lima writes them ("4GiB", "128k", "100 GiB"): binary multiples, any case. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

gboolean lima_size_parse(const gchar *text, guint64 *bytes);
gchar *lima_size_format(guint64 bytes);

G_END_DECLS
