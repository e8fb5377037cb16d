/* The one rule for a path handed to a helper program (QEMU, virtiofsd, ssh, sshfs): absolute,
 * and free of the control bytes (newlines above all) that option parsers, remote shells and
 * log lines would split or mangle. */
#pragma once

#include <glib.h>
#include <sys/types.h>

G_BEGIN_DECLS

/* what names the path in the message, e.g. "mount location". */
gboolean lima_safe_path_check(const gchar *what, const gchar *path, GError **error);

/* The largest file read on someone else's behalf: configs are a few KiB. */
#define LIMA_SAFE_READ_MAX (16u * 1024 * 1024)

typedef enum {
        LIMA_SAFE_READ_FOLLOW = 1 << 0, /* follow a symlink in the last component */
        LIMA_SAFE_READ_OWNED = 1 << 1,  /* only owner_uid's file (or root's, with one link) */
} LimaSafeReadFlags;

/* The one way a file is read on someone else's behalf (root reading a user's config, a base
 * template, a _config layer): opened non-blocking (a FIFO cannot stall the reader), without
 * following a symlink unless LIMA_SAFE_READ_FOLLOW, only a regular file, at most
 * LIMA_SAFE_READ_MAX bytes. Errors name the path, never the contents. */
gboolean lima_safe_read_file(const gchar *path, LimaSafeReadFlags flags, uid_t owner_uid,
                             gchar **contents, gsize *len, GError **error);

G_END_DECLS
