#include "lima-safe-path.h"

#include <glib/gi18n.h>

#include "lima-error.h"

gboolean
lima_safe_path_check(const gchar *what, const gchar *path, GError **error)
{
        if (path == NULL || !g_path_is_absolute(path)) {
                g_set_error(error, LIMA_ERROR, LIMA_ERROR_INVALID_CONFIG,
                            _("%s \"%s\" is not an absolute path"), what, path != NULL ? path : "");
                return FALSE;
        }
        for (const gchar *c = path; *c != '\0'; c++) {
                if ((guchar)*c < 0x20 || *c == 0x7f) {
                        g_set_error(error, LIMA_ERROR, LIMA_ERROR_INVALID_CONFIG,
                                    _("%s \"%s\" holds a newline or another control character; "
                                      "rename it"),
                                    what, path);
                        return FALSE;
                }
        }
        return TRUE;
}
