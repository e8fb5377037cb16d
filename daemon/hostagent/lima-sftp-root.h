/*
 * The directory the builtin SFTP server serves, and every path the client names resolved
 * inside it as if it were "/": "..", absolute paths and symlinks cannot leave it. openat2(2)
 * with RESOLVE_IN_ROOT does it where the kernel has it; elsewhere a component-by-component
 * walk of O_NOFOLLOW openat() calls does.
 */
#pragma once

#include <gio/gio.h>
#include <sys/types.h>

G_BEGIN_DECLS

typedef struct {
        gchar *path; /* canonical, to turn /proc/self/fd links back into client paths */
        int fd;      /* O_PATH */
        gboolean use_openat2;
} LimaSftpRoot;

/* Opens path (which must be a directory) and probes for openat2. */
gboolean lima_sftp_root_init(LimaSftpRoot *root, const gchar *path, GError **error);
void lima_sftp_root_clear(LimaSftpRoot *root);

/* Opens path as if root were "/"; flags may hold O_NOFOLLOW for the last component. -1 and
 * errno on failure. */
int lima_sftp_root_open(const LimaSftpRoot *root, const gchar *path, int flags, mode_t mode);
/* For requests that act on a name itself rather than on what a symlink there points to: a
 * directory inside root (an O_PATH fd) and one component to hand to an *at() call. */
int lima_sftp_root_open_parent(const LimaSftpRoot *root, const gchar *path, gchar **name);
/* The client's name ("/"-rooted) for a file open inside root; NULL and errno if the kernel
 * places it outside, e.g. after a rename moved it out. */
gchar *lima_sftp_root_client_path(const LimaSftpRoot *root, int fd);

G_END_DECLS
