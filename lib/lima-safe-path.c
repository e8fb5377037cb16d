#include "lima-safe-path.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lima-error.h"

gboolean
lima_safe_path_check(const gchar *what, const gchar *path, GError **error)
{
        if (path == NULL || !g_path_is_absolute(path)) {
                g_set_error(error, LIMA_ERROR, LIMA_ERROR_INVALID_CONFIG,
                            _("%s \"%s\" is not an absolute path"), what, path != NULL ? path : "");
                return FALSE;
        }
        for (const gchar *c = path; *c != '\0'; c++) {
                if ((guchar)*c < 0x20 || *c == 0x7f) {
                        g_set_error(error, LIMA_ERROR, LIMA_ERROR_INVALID_CONFIG,
                                    _("%s \"%s\" holds a newline or another control character; "
                                      "rename it"),
                                    what, path);
                        return FALSE;
                }
        }
        return TRUE;
}

gboolean
lima_safe_read_file(const gchar *path, LimaSafeReadFlags flags, uid_t owner_uid, gchar **contents,
                    gsize *len, GError **error)
{
        g_autofree gchar *data = NULL;
        struct stat st;
        gsize got = 0;
        int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC |
                                (flags & LIMA_SAFE_READ_FOLLOW ? 0 : O_NOFOLLOW));

        if (fd < 0) {
                int saved = errno;
                g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(saved),
                            _("cannot open %s: %s"), path,
                            saved == ELOOP ? _("it is a symlink") : g_strerror(saved));
                return FALSE;
        }
        if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
                close(fd);
                g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_PERM,
                            _("%s is not a regular file; remove it"), path);
                return FALSE;
        }
        if ((flags & LIMA_SAFE_READ_OWNED) &&
            !(st.st_uid == owner_uid || (st.st_uid == 0 && st.st_nlink == 1))) {
                close(fd);
                g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_PERM,
                            _("%s is not a regular file of the instance's owner; remove it"), path);
                return FALSE;
        }
        if ((guint64)st.st_size > LIMA_SAFE_READ_MAX) {
                close(fd);
                g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED,
                            _("%s is larger than %u MiB; it cannot be a config"), path,
                            LIMA_SAFE_READ_MAX / (1024 * 1024));
                return FALSE;
        }
        data = g_malloc(st.st_size + 1);
        while (got < (gsize)st.st_size) {
                ssize_t n = read(fd, data + got, st.st_size - got);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                got += n;
        }
        close(fd);
        data[got] = '\0';
        if (len != NULL)
                *len = got;
        *contents = g_steal_pointer(&data);
        return TRUE;
}
