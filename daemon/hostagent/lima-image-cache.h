/*
 * Getting an image's bytes onto this host. Local paths and file:// URLs are used where they
 * are; http(s) URLs are downloaded once into the cache, in Lima's layout
 * (CACHE/download/by-url-sha256/<sha256 of the URL>/{data,url,<algo>.digest}), so Lima and
 * limad share downloads.
 *
 * Digests: a download is hashed while it arrives and published only when it matches. GChecksum
 * hashes at ~100 MB/s, so re-hashing a cached 800 MB image would add ~8 s to every start;
 * instead "<algo>.digest" (Lima's file, holding "algo:hex") is written after a successful check
 * with the same mtime as "data", and trusted while the two mtimes are equal. A cached file
 * without a trusted digest file is hashed once, then trusted. Local files are hashed on every
 * use (there is nowhere of ours to remember them).
 *
 * A cached "data" is never replaced once it exists: instance disks may use it as their
 * backing file. A cached file that fails its digest is an error telling the user what to
 * remove.
 */
#pragma once

#include <gio/gio.h>
#include <glib.h>

#include "lima-config.h"

G_BEGIN_DECLS

/* Progress of a download or a digest check: total is 0 when unknown. Called at most ~10 times
 * a second, and once more when the step is complete (done == total). */
typedef void (*LimaImageProgressFunc)(guint64 done, guint64 total, const gchar *message,
                                      gpointer user_data);

/* The local path of file's data (absolute), downloading it into cache_home first when it is
 * an http(s) URL. progress may be NULL. Errors: LIMA_ERROR (NOT_FOUND for a missing local
 * file, INVALID_CONFIG for an unusable location or digest, UNSUPPORTED for other URL schemes,
 * FAILED for download and digest failures), G_IO_ERROR_CANCELLED, G_FILE_ERROR. */
gchar *lima_image_fetch(const gchar *cache_home, const LimaFile *file,
                        LimaImageProgressFunc progress, gpointer user_data,
                        GCancellable *cancellable, GError **error);

/* The first of images (LimaImage*) whose file is for arch; LIMA_ERROR_NOT_FOUND naming the
 * architectures there are when none is. */
const LimaImage *lima_image_select(GPtrArray *images, const gchar *arch, GError **error);

G_END_DECLS
