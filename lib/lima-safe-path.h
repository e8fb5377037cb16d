/* The one rule for a path handed to a helper program (QEMU, virtiofsd, ssh, sshfs): absolute,
 * and free of the control bytes (newlines above all) that option parsers, remote shells and
 * log lines would split or mangle. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* what names the path in the message, e.g. "mount location". */
gboolean lima_safe_path_check(const gchar *what, const gchar *path, GError **error);

G_END_DECLS
