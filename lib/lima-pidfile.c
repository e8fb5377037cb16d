#include "lima-pidfile.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The first bytes of a regular file. Pid files may sit in a folder another user owns
 * (limad --system): a symlink or a FIFO planted there must neither be followed nor block. */
static gboolean
lima_pidfile_read(const gchar *path, gchar *buf, gsize size)
{
        struct stat st;
        ssize_t n = -1;
        int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0)
                return FALSE;
        if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
                n = read(fd, buf, size - 1);
        close(fd);
        if (n < 0)
                return FALSE;
        buf[n] = '\0';
        return TRUE;
}

pid_t
lima_pidfile_alive(const gchar *path, const gchar *expect)
{
        gchar text[32];
        g_autofree gchar *cmdline_path = NULL;
        g_autofree gchar *cmdline = NULL;
        gsize len = 0;
        gint64 pid;

        if (!lima_pidfile_read(path, text, sizeof(text)))
                return 0;
        if (!g_ascii_string_to_signed(g_strstrip(text), 10, 1, G_MAXINT32, &pid, NULL))
                return 0;
        if (kill((pid_t)pid, 0) != 0 && errno != EPERM)
                return 0;
        /* A recycled pid runs something else: read its command line to be sure. */
        cmdline_path = g_strdup_printf("/proc/%" G_GINT64_FORMAT "/cmdline", pid);
        if (!g_file_get_contents(cmdline_path, &cmdline, &len, NULL))
                return 0;
        for (gsize i = 0; i + 1 < len; i++) {
                if (cmdline[i] == '\0')
                        cmdline[i] = ' ';
        }
        return strstr(cmdline, expect) != NULL ? (pid_t)pid : 0;
}
