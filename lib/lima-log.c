#include "lima-log.h"

#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

gboolean
lima_log_stderr_is_journal(void)
{
        const gchar *env = g_getenv("JOURNAL_STREAM");
        guint64 dev = 0, ino = 0;
        struct stat st;
        if (env == NULL || sscanf(env, "%" G_GUINT64_FORMAT ":%" G_GUINT64_FORMAT, &dev, &ino) != 2)
                return FALSE;
        return fstat(STDERR_FILENO, &st) == 0 && (guint64)st.st_dev == dev &&
               (guint64)st.st_ino == ino;
}

const gchar *
lima_log_priority_prefix(GLogLevelFlags level)
{
        if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL))
                return "<3>";
        if (level & G_LOG_LEVEL_WARNING)
                return "<4>";
        if (level & G_LOG_LEVEL_MESSAGE)
                return "<5>";
        if (level & G_LOG_LEVEL_INFO)
                return "<6>";
        return "<7>";
}
