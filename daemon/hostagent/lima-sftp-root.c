/* O_PATH, AT_EMPTY_PATH. */
#define _GNU_SOURCE
#include "lima-sftp-root.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Symlinks the fallback resolver follows in one lookup, as the kernel's MAXSYMLINKS. */
#define SFTP_MAX_SYMLINKS 40

gboolean
lima_sftp_root_init(LimaSftpRoot *root, const gchar *path, GError **error)
{
        g_autofree gchar *canonical = realpath(path, NULL);
        struct open_how how = { .flags = O_PATH | O_CLOEXEC, .resolve = RESOLVE_IN_ROOT };
        long probe;

        root->fd = -1;
        if (canonical == NULL) {
                int err = errno;
                g_set_error(error, G_IO_ERROR, g_io_error_from_errno(err),
                            _("Cannot serve %s over SFTP: %s"), path, g_strerror(err));
                return FALSE;
        }
        root->path = g_steal_pointer(&canonical);
        root->fd = open(root->path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (root->fd < 0) {
                int err = errno;
                g_set_error(error, G_IO_ERROR, g_io_error_from_errno(err),
                            _("Cannot serve %s over SFTP: %s; it must be a directory"), path,
                            g_strerror(err));
                return FALSE;
        }
        /* Older kernels (< 5.6) and some seccomp filters lack openat2: walk by hand there. */
        probe = syscall(SYS_openat2, root->fd, ".", &how, sizeof(how));
        root->use_openat2 = probe >= 0;
        if (probe >= 0)
                close((int)probe);
        return TRUE;
}

void
lima_sftp_root_clear(LimaSftpRoot *root)
{
        if (root->fd >= 0)
                close(root->fd);
        root->fd = -1;
        g_clear_pointer(&root->path, g_free);
}

static int
sftp_open_openat2(const LimaSftpRoot *root, const gchar *path, int flags, mode_t mode)
{
        struct open_how how = { 0 };

        how.flags = (guint64)(flags | O_CLOEXEC);
        how.mode = (flags & O_CREAT) ? mode : 0;
        how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
        /* RESOLVE_IN_ROOT answers EAGAIN when a concurrent rename could have let ".." escape. */
        for (guint i = 0; i < 16; i++) {
                long fd = syscall(SYS_openat2, root->fd, path, &how, sizeof(how));
                if (fd >= 0 || errno != EAGAIN)
                        return (int)fd;
        }
        return -1;
}

/* Pushes the components of path onto a stack whose top is the next one to walk. */
static void
walk_push(GPtrArray *pending, const gchar *path)
{
        g_auto(GStrv) parts = g_strsplit(path, "/", -1);

        for (guint i = g_strv_length(parts); i > 0; i--)
                g_ptr_array_add(pending, g_strdup(parts[i - 1]));
}

static void
walk_pop_to(GArray *dirs, guint len)
{
        while (dirs->len > len) {
                close(g_array_index(dirs, int, dirs->len - 1));
                g_array_set_size(dirs, dirs->len - 1);
        }
}

/* For kernels without openat2: every step is an O_NOFOLLOW openat from a directory already
 * inside root; ".." pops a stack of those directories instead of asking the kernel, and
 * symlink text is expanded here, an absolute target restarting at root. A directory moved out
 * of root while a lookup walks through it is the one race this cannot close. */
static int
sftp_open_walk(const LimaSftpRoot *root, const gchar *path, int flags, mode_t mode)
{
        g_autoptr(GPtrArray) pending = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(GArray) dirs = g_array_new(FALSE, FALSE, sizeof(int));
        gboolean follow_last = !(flags & O_NOFOLLOW);
        gboolean done = FALSE;
        guint links = 0;
        int fd = -1;
        int err = 0;

        g_array_append_val(dirs, root->fd);
        walk_push(pending, path);
        while (pending->len > 0 && !done) {
                g_autofree gchar *name = g_ptr_array_steal_index(pending, pending->len - 1);
                gboolean last = pending->len == 0;
                int top = g_array_index(dirs, int, dirs->len - 1);
                int next;

                if (*name == '\0' || strcmp(name, ".") == 0)
                        continue;
                if (strcmp(name, "..") == 0) {
                        walk_pop_to(dirs, MAX(dirs->len - 1, 1));
                        continue;
                }
                if (!last || follow_last) {
                        gchar target[PATH_MAX];
                        ssize_t n = readlinkat(top, name, target, sizeof(target) - 1);

                        if (n >= 0) {
                                if (++links > SFTP_MAX_SYMLINKS) {
                                        err = ELOOP;
                                        done = TRUE;
                                        continue;
                                }
                                target[n] = '\0';
                                if (target[0] == '/')
                                        walk_pop_to(dirs, 1);
                                walk_push(pending, target);
                                continue;
                        }
                        /* EINVAL: not a symlink; a missing last name may be about to be made. */
                        if (errno != EINVAL && !(last && errno == ENOENT)) {
                                err = errno;
                                done = TRUE;
                                continue;
                        }
                }
                if (last) {
                        /* O_NOFOLLOW: a symlink swapped in since readlinkat fails, not escapes. */
                        fd = openat(top, name, flags | O_NOFOLLOW | O_CLOEXEC, mode);
                        err = fd < 0 ? errno : 0;
                        done = TRUE;
                        continue;
                }
                next = openat(top, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (next < 0) {
                        err = errno;
                        done = TRUE;
                        continue;
                }
                g_array_append_val(dirs, next);
        }
        if (!done) {
                /* The path ended in a directory ("", ".", "..", a trailing slash). */
                fd = openat(g_array_index(dirs, int, dirs->len - 1), ".",
                            (flags & ~O_NOFOLLOW) | O_CLOEXEC, mode);
                err = fd < 0 ? errno : 0;
        }
        walk_pop_to(dirs, 1);
        errno = err;
        return fd;
}

/* Opens path as if root were "/"; flags may hold O_NOFOLLOW for the last component. -1 and
 * errno on failure. */
int
lima_sftp_root_open(const LimaSftpRoot *root, const gchar *path, int flags, mode_t mode)
{
        if (*path == '\0')
                path = ".";
        if (root->use_openat2)
                return sftp_open_openat2(root, path, flags, mode);
        return sftp_open_walk(root, path, flags, mode);
}

/* For requests that act on a name itself rather than on what a symlink there points to: a
 * directory inside root and one component to hand to an *at() call. A path that ends in ".",
 * ".." or is root gets the directory itself and ".", so no ".." ever reaches the kernel. */
int
lima_sftp_root_open_parent(const LimaSftpRoot *root, const gchar *path, gchar **name)
{
        g_autofree gchar *copy = g_strdup(*path != '\0' ? path : ".");
        gsize len = strlen(copy);
        gchar *slash;
        const gchar *last;

        while (len > 1 && copy[len - 1] == '/')
                copy[--len] = '\0';
        slash = strrchr(copy, '/');
        last = slash != NULL ? slash + 1 : copy;
        if (*last == '\0' || strcmp(last, ".") == 0 || strcmp(last, "..") == 0) {
                *name = g_strdup(".");
                return lima_sftp_root_open(root, copy, O_PATH | O_DIRECTORY, 0);
        }
        *name = g_strdup(last);
        if (slash == NULL)
                return lima_sftp_root_open(root, ".", O_PATH | O_DIRECTORY, 0);
        if (slash == copy)
                return lima_sftp_root_open(root, "/", O_PATH | O_DIRECTORY, 0);
        *slash = '\0';
        return lima_sftp_root_open(root, copy, O_PATH | O_DIRECTORY, 0);
}

/* The client's name ("/"-rooted) for a file open inside root; NULL and errno if the kernel
 * places it outside, e.g. after a rename moved it out. */
gchar *
lima_sftp_root_client_path(const LimaSftpRoot *root, int fd)
{
        g_autofree gchar *proc = g_strdup_printf("/proc/self/fd/%d", fd);
        g_autofree gchar *host = g_file_read_link(proc, NULL);
        gsize root_len = strlen(root->path);

        if (host == NULL) {
                errno = ENOENT;
                return NULL;
        }
        if (strcmp(root->path, "/") == 0)
                return g_steal_pointer(&host);
        if (strncmp(host, root->path, root_len) != 0 ||
            (host[root_len] != '\0' && host[root_len] != '/')) {
                errno = ENOENT;
                return NULL;
        }
        return g_strdup(host[root_len] != '\0' ? host + root_len : "/");
}
