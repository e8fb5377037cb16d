/* One mount as a running instance reports it: the record behind the Mounts property of the
 * D-Bus API (location, mountPoint, type, writable, state, options), shared by limad and its
 * clients. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
        gchar *location;
        gchar *mount_point;
        gchar *type;
        gboolean writable;
        gchar *state; /* pending, mounted or failed */
        gchar *tag;
        gchar *error; /* why it failed, or NULL */
} LimaMountStatus;

LimaMountStatus *lima_mount_status_new(const gchar *location, const gchar *mount_point,
                                       const gchar *type, gboolean writable, const gchar *state);
void lima_mount_status_free(LimaMountStatus *status);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(LimaMountStatus, lima_mount_status_free)

G_END_DECLS
