#include "lima-pidfile.h"

#include <errno.h>
#include <signal.h>
#include <string.h>

pid_t
lima_pidfile_alive(const gchar *path, const gchar *expect)
{
        g_autofree gchar *text = NULL;
        g_autofree gchar *cmdline_path = NULL;
        g_autofree gchar *cmdline = NULL;
        gsize len = 0;
        gint64 pid;

        if (!g_file_get_contents(path, &text, NULL, NULL))
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
