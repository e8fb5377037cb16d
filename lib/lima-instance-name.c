#include "lima-instance-name.h"

#include <glib/gi18n.h>
#include <string.h>

#include "lima-error.h"

static gboolean
is_alnum(gchar c)
{
        return g_ascii_isalnum(c);
}

gboolean
lima_instance_name_validate(const gchar *name, GError **error)
{
        gsize len = name != NULL ? strlen(name) : 0;
        g_autofree gchar *shown = NULL;

        if (len == 0) {
                g_set_error_literal(error, LIMA_ERROR, LIMA_ERROR_INVALID_NAME,
                                    _("instance name is empty; use letters and digits, "
                                      "e.g. \"dev\""));
                return FALSE;
        }
        shown = g_utf8_make_valid(name, (gssize)MIN(len, 80));
        if (len > LIMA_INSTANCE_NAME_MAX) {
                g_set_error(error, LIMA_ERROR, LIMA_ERROR_INVALID_NAME,
                            _("instance name \"%s…\" is %zu characters long; the limit is %d"),
                            shown, len, LIMA_INSTANCE_NAME_MAX);
                return FALSE;
        }
        /* Runs of letters and digits, joined by single '.', '_' or '-'. */
        for (gsize i = 0; i < len; i++) {
                gboolean separator = name[i] == '.' || name[i] == '_' || name[i] == '-';
                if (is_alnum(name[i]))
                        continue;
                if (separator && i > 0 && i + 1 < len && is_alnum(name[i - 1]) &&
                    is_alnum(name[i + 1]))
                        continue;
                g_set_error(error, LIMA_ERROR, LIMA_ERROR_INVALID_NAME,
                            _("instance name \"%s\" is invalid: it must match "
                              "^[A-Za-z0-9]+(?:[._-][A-Za-z0-9]+)*$ (letters and digits, "
                              "joined by single '.', '_' or '-')"),
                            shown);
                return FALSE;
        }
        return TRUE;
}
