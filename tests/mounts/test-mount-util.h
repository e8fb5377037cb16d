/* Shared by the mount tests: mounts built by hand, temp dirs, scripts, mountinfo. */
#pragma once

#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>

#include "lima-config.h"
#include "lima-error.h"

static inline LimaMount *
test_mount_new(const gchar *location, const gchar *mount_point, gboolean writable)
{
        LimaMount *m = lima_mount_new();
        lima_string_set(&m->location, location, NULL);
        lima_string_set(&m->mount_point, mount_point, NULL);
        lima_bool_set(&m->writable, writable, NULL);
        m->tag = g_strdup("lima-0123456789abcdef");
        return m;
}

static inline gchar *
test_make_tmpdir(void)
{
        g_autoptr(GError) error = NULL;
        gchar *dir = g_dir_make_tmp("lima-mounts-XXXXXX", &error);
        g_assert_no_error(error);
        return dir;
}

static inline void
test_write_script(const gchar *path, const gchar *text)
{
        g_autoptr(GError) error = NULL;
        g_file_set_contents(path, text, -1, &error);
        g_assert_no_error(error);
        g_assert_cmpint(g_chmod(path, 0755), ==, 0);
}

/* Whether a mount point (field 5) of pid's mount table is path. */
static inline gboolean
test_mountinfo_has(const gchar *pid, const gchar *path, gboolean *read_only)
{
        g_autofree gchar *file = g_strdup_printf("/proc/%s/mountinfo", pid);
        g_autofree gchar *text = NULL;
        g_auto(GStrv) lines = NULL;
        if (!g_file_get_contents(file, &text, NULL, NULL))
                return FALSE;
        lines = g_strsplit(text, "\n", -1);
        for (guint i = 0; lines[i] != NULL; i++) {
                g_auto(GStrv) fields = g_strsplit(lines[i], " ", 7);
                if (g_strv_length(fields) < 6 || g_strcmp0(fields[4], path) != 0)
                        continue;
                if (read_only != NULL)
                        *read_only = g_str_has_prefix(fields[5], "ro");
                return TRUE;
        }
        return FALSE;
}

static inline void
test_rm_rf(const gchar *path)
{
        const gchar *argv[] = { "rm", "-rf", "--one-file-system", path, NULL };
        g_spawn_sync(NULL, (gchar **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL,
                     NULL);
}
