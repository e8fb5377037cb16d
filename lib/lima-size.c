#include "lima-size.h"

#include <math.h>
#include <string.h>

/* The grammar of go-units' RAMInBytes, which Lima uses: NUMBER [ ] [kmgtp] [i] [b], where
 * every unit is a power of 1024 whatever the spelling. */
gboolean
lima_size_parse(const gchar *text, guint64 *bytes)
{
        const gchar *p = text;
        const gchar *units = "kmgtp";
        gchar *end = NULL;
        gdouble number;
        guint64 multiplier = 1;

        if (text == NULL || !g_ascii_isdigit(*p))
                return FALSE;
        while (g_ascii_isdigit(*p) || *p == '.')
                p++;
        {
                g_autofree gchar *digits = g_strndup(text, (gsize)(p - text));
                number = g_ascii_strtod(digits, &end);
                if (end == NULL || *end != '\0' || g_str_has_suffix(digits, "."))
                        return FALSE;
        }
        if (*p == ' ')
                p++;
        if (*p != '\0' && strchr(units, g_ascii_tolower(*p)) != NULL) {
                for (const gchar *u = units; *u != g_ascii_tolower(*p); u++)
                        multiplier *= 1024;
                multiplier *= 1024;
                p++;
                if (g_ascii_tolower(*p) == 'i')
                        p++;
        }
        if (g_ascii_tolower(*p) == 'b')
                p++;
        if (*p != '\0')
                return FALSE;
        if (number * (gdouble)multiplier >= 18446744073709551615.0)
                return FALSE;
        *bytes = (guint64)floor(number * (gdouble)multiplier);
        return TRUE;
}

gchar *
lima_size_format(guint64 bytes)
{
        const gchar *suffixes[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
        guint i = 0;
        gdouble value = (gdouble)bytes;
        while (value >= 1024 && i + 1 < G_N_ELEMENTS(suffixes)) {
                value /= 1024;
                i++;
        }
        if (value == floor(value))
                return g_strdup_printf("%.0f%s", value, suffixes[i]);
        return g_strdup_printf("%.1f%s", value, suffixes[i]);
}
