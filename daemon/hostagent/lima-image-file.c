#include "lima-image-file.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

/* A temp file older than this is left over from a crash, not a download in progress. */
#define LIMA_IMAGE_FILE_STALE_SECONDS (24 * 60 * 60)
#define LIMA_IMAGE_FILE_COPY_CHUNK    (1024 * 1024)

gboolean
lima_image_file_set_errno(GError **error, gint saved_errno, const gchar *what, const gchar *path)
{
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(saved_errno), "%s %s: %s", what,
                    path, g_strerror(saved_errno));
        return FALSE;
}

gboolean
lima_image_file_fsync(const gchar *path, GError **error)
{
        gint fd = open(path, O_RDONLY | O_CLOEXEC);
        gint saved_errno;

        if (fd < 0)
                return lima_image_file_set_errno(error, errno, _("cannot open"), path);
        if (fsync(fd) == 0) {
                close(fd);
                return TRUE;
        }
        saved_errno = errno;
        close(fd);
        return lima_image_file_set_errno(error, saved_errno, _("cannot sync"), path);
}

gint
lima_image_file_open_tmp(const gchar *final_path, gint mode, gchar **tmp_path, GError **error)
{
        g_autofree gchar *tmpl = g_strdup_printf("%s.tmp.XXXXXX", final_path);
        gint fd = g_mkstemp_full(tmpl, O_RDWR | O_CLOEXEC, mode);

        if (fd < 0) {
                lima_image_file_set_errno(error, errno, _("cannot create"), tmpl);
                return -1;
        }
        *tmp_path = g_steal_pointer(&tmpl);
        return fd;
}

static gboolean
lima_image_file_no_hard_links(gint saved_errno)
{
        return saved_errno == EPERM || saved_errno == EOPNOTSUPP || saved_errno == ENOSYS;
}

gboolean
lima_image_file_publish(const gchar *tmp_path, const gchar *final_path, gboolean *existed,
                        GError **error)
{
        g_autofree gchar *dir = g_path_get_dirname(final_path);
        gint saved_errno;
        GStatBuf st;

        *existed = FALSE;
        /* link(2) fails with EEXIST instead of replacing, so a file that appeared meanwhile
         * (another agent finishing the same download) is never swapped under its users. */
        if (link(tmp_path, final_path) == 0) {
                g_unlink(tmp_path);
                return lima_image_file_fsync(dir, error);
        }
        saved_errno = errno;
        if (lima_image_file_no_hard_links(saved_errno) && g_lstat(final_path, &st) != 0) {
                /* A file system without hard links: rename, with a small race. */
                if (g_rename(tmp_path, final_path) == 0)
                        return lima_image_file_fsync(dir, error);
                saved_errno = errno;
        } else if (saved_errno == EEXIST || lima_image_file_no_hard_links(saved_errno)) {
                *existed = TRUE;
                g_unlink(tmp_path);
                return TRUE;
        }
        g_unlink(tmp_path);
        return lima_image_file_set_errno(error, saved_errno, _("cannot create"), final_path);
}

static gboolean
lima_image_file_write_all(gint fd, const gchar *data, gsize len, const gchar *path, GError **error)
{
        while (len > 0) {
                gssize n = write(fd, data, len);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return lima_image_file_set_errno(error, errno, _("cannot write"), path);
                data += n;
                len -= (gsize)n;
        }
        return TRUE;
}

gboolean
lima_image_file_write(const gchar *path, const gchar *contents, const struct timespec *mtime,
                      GError **error)
{
        g_autofree gchar *tmp_path = NULL;
        g_autofree gchar *dir = g_path_get_dirname(path);
        gint fd = lima_image_file_open_tmp(path, 0644, &tmp_path, error);
        gboolean ok;

        if (fd < 0)
                return FALSE;
        ok = lima_image_file_write_all(fd, contents, strlen(contents), tmp_path, error);
        if (ok && mtime != NULL) {
                const struct timespec times[2] = { { .tv_nsec = UTIME_OMIT }, *mtime };
                if (futimens(fd, times) != 0)
                        ok = lima_image_file_set_errno(error, errno, _("cannot set the time of"),
                                                       tmp_path);
        }
        if (ok && fsync(fd) != 0)
                ok = lima_image_file_set_errno(error, errno, _("cannot sync"), tmp_path);
        close(fd);
        if (ok && g_rename(tmp_path, path) != 0)
                ok = lima_image_file_set_errno(error, errno, _("cannot rename to"), path);
        if (!ok) {
                g_unlink(tmp_path);
                return FALSE;
        }
        return lima_image_file_fsync(dir, error);
}

gboolean
lima_image_file_copy_to_fd(const gchar *src_path, gint fd, const gchar *dest_path, GError **error)
{
        g_autofree gchar *buf = g_malloc(LIMA_IMAGE_FILE_COPY_CHUNK);
        gint src = open(src_path, O_RDONLY | O_CLOEXEC);
        gboolean ok = TRUE;

        if (src < 0)
                return lima_image_file_set_errno(error, errno, _("cannot open"), src_path);
        while (ok) {
                gssize n = read(src, buf, LIMA_IMAGE_FILE_COPY_CHUNK);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        ok = lima_image_file_set_errno(error, errno, _("cannot read"), src_path);
                else if (n == 0)
                        break;
                else
                        ok = lima_image_file_write_all(fd, buf, (gsize)n, dest_path, error);
        }
        close(src);
        return ok;
}

void
lima_image_file_remove_stale_tmp(const gchar *dir)
{
        g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
        gint64 now = g_get_real_time() / G_USEC_PER_SEC;
        const gchar *name;

        if (d == NULL)
                return;
        while ((name = g_dir_read_name(d)) != NULL) {
                g_autofree gchar *path = NULL;
                GStatBuf st;

                if (strstr(name, ".tmp.") == NULL)
                        continue;
                path = g_build_filename(dir, name, NULL);
                if (g_lstat(path, &st) == 0 && S_ISREG(st.st_mode) &&
                    now - st.st_mtime > LIMA_IMAGE_FILE_STALE_SECONDS)
                        g_unlink(path);
        }
}
