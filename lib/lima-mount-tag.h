/* The virtio tag of a 9p/virtiofs mount. Hashing location and mount point (not the index, as
 * Lima did) keeps tags stable when the mount list changes (Lima #3957). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* "lima-" + hex of the first 8 bytes of sha256(location ":" mountPoint); 21 characters, within
 * the 31 bytes virtio-fs allows for a tag. */
gchar *lima_mount_tag(const gchar *location, const gchar *mount_point);

G_END_DECLS
