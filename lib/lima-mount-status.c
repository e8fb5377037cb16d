#include "lima-mount-status.h"

LimaMountStatus *
lima_mount_status_new(const gchar *location, const gchar *mount_point, const gchar *type,
                      gboolean writable, const gchar *state)
{
        LimaMountStatus *status = g_new0(LimaMountStatus, 1);
        status->location = g_strdup(location);
        status->mount_point = g_strdup(mount_point);
        status->type = g_strdup(type);
        status->writable = writable;
        status->state = g_strdup(state);
        return status;
}

void
lima_mount_status_free(LimaMountStatus *status)
{
        if (status == NULL)
                return;
        g_free(status->location);
        g_free(status->mount_point);
        g_free(status->type);
        g_free(status->state);
        g_free(status->tag);
        g_free(status->error);
        g_free(status);
}
