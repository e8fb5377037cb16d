#include "lima-version.h"

#include <stdlib.h>

gboolean
lima_version_parse(const gchar *text, guint *major, guint *minor, guint *patch,
                   gboolean *prerelease)
{
        guint parts[3] = { 0, 0, 0 };
        const gchar *p = text;

        if (text == NULL)
                return FALSE;
        if (*p == 'v')
                p++;
        for (guint i = 0; i < 3; i++) {
                gchar *end = NULL;
                guint64 v;
                if (!g_ascii_isdigit(*p))
                        return FALSE;
                v = g_ascii_strtoull(p, &end, 10);
                if (v > G_MAXUINT)
                        return FALSE;
                parts[i] = (guint)v;
                p = end;
                if (i < 2 && *p == '.')
                        p++;
                else
                        break;
        }
        if (*p != '\0' && *p != '-' && *p != '+')
                return FALSE;
        *major = parts[0];
        *minor = parts[1];
        *patch = parts[2];
        *prerelease = *p == '-';
        return TRUE;
}

gint
lima_version_compare(const gchar *a, const gchar *b)
{
        guint av[3], bv[3];
        gboolean apre, bpre;
        gboolean aok = lima_version_parse(a, &av[0], &av[1], &av[2], &apre);
        gboolean bok = lima_version_parse(b, &bv[0], &bv[1], &bv[2], &bpre);

        if (!aok || !bok)
                return (gint)aok - (gint)bok;
        for (guint i = 0; i < 3; i++) {
                if (av[i] != bv[i])
                        return av[i] < bv[i] ? -1 : 1;
        }
        /* A prerelease comes before its release. */
        return (gint)bpre - (gint)apre;
}
