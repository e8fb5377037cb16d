/* Instance names: ^[A-Za-z0-9]+(?:[._-][A-Za-z0-9]+)*$, at most 76 characters, as Lima. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define LIMA_INSTANCE_NAME_MAX 76

gboolean lima_instance_name_validate(const gchar *name, GError **error);

G_END_DECLS
