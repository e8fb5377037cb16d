#include "lima-mount-tag.h"

#include <string.h>

gchar *
lima_mount_tag(const gchar *location, const gchar *mount_point)
{
        g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);
        g_autofree gchar *hex = NULL;

        g_checksum_update(sum, (const guchar *)location, (gssize)strlen(location));
        g_checksum_update(sum, (const guchar *)":", 1);
        g_checksum_update(sum, (const guchar *)mount_point, (gssize)strlen(mount_point));
        hex = g_strdup(g_checksum_get_string(sum));
        hex[16] = '\0';
        return g_strconcat("lima-", hex, NULL);
}
