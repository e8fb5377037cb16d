#include "lima-userns.h"

#include <glib/gi18n.h>
#include <pwd.h>
#include <string.h>
#include <unistd.h>

#include "lima-error.h"

#define LIMA_USERNS_SUBUID    "/etc/subuid"
#define LIMA_USERNS_SUBGID    "/etc/subgid"
#define LIMA_USERNS_NEWUIDMAP "/usr/bin/newuidmap"
#define LIMA_USERNS_NEWGIDMAP "/usr/bin/newgidmap"

static void
lima_userns_set_no_range(GError **error, const gchar *path, const gchar *user)
{
        g_set_error(error, LIMA_ERROR, LIMA_ERROR_UNSUPPORTED,
                    _("user %s has no subordinate id range in %s, which virtiofsd needs to "
                      "serve with that user's rights only; as root run `usermod --add-subuids "
                      "100000-165535 --add-subgids 100000-165535 %s` (pick a range no other "
                      "user has), or use mountType 9p or reverse-sshfs"),
                    user, path, user);
}

gboolean
lima_userns_subid(const gchar *path, const gchar *user, guint32 uid, guint32 *first, GError **error)
{
        g_autofree gchar *text = NULL;
        g_autofree gchar *uid_text = g_strdup_printf("%u", uid);
        g_auto(GStrv) lines = NULL;

        /* A missing file is the same as no range: the fix is the same usermod. */
        if (!g_file_get_contents(path, &text, NULL, NULL)) {
                lima_userns_set_no_range(error, path, user);
                return FALSE;
        }
        lines = g_strsplit(text, "\n", -1);
        for (guint i = 0; lines[i] != NULL; i++) {
                g_auto(GStrv) f = g_strsplit(g_strstrip(lines[i]), ":", -1);
                guint64 start, count;
                if (g_strv_length(f) != 3 ||
                    (g_strcmp0(f[0], user) != 0 && g_strcmp0(f[0], uid_text) != 0) ||
                    !g_ascii_string_to_unsigned(f[1], 10, 1, G_MAXUINT32 - 1, &start, NULL) ||
                    !g_ascii_string_to_unsigned(f[2], 10, 1, G_MAXUINT32, &count, NULL))
                        continue;
                /* Never an id the owner or root already is: that would be no demotion. */
                if (start == uid)
                        continue;
                *first = (guint32)start;
                return TRUE;
        }
        lima_userns_set_no_range(error, path, user);
        return FALSE;
}

gboolean
lima_userns_map_for_self(guint32 inner_uid, guint32 inner_gid, LimaUsernsMap *map, GError **error)
{
        uid_t uid = geteuid();
        struct passwd *pw = getpwuid(uid);
        g_autofree gchar *name = pw != NULL ? g_strdup(pw->pw_name) : g_strdup_printf("%u", uid);
        guint32 sub_uid = 0, sub_gid = 0;

        if (!lima_userns_subid(LIMA_USERNS_SUBUID, name, uid, &sub_uid, error) ||
            !lima_userns_subid(LIMA_USERNS_SUBGID, name, uid, &sub_gid, error))
                return FALSE;
        if (!g_file_test(LIMA_USERNS_NEWUIDMAP, G_FILE_TEST_IS_EXECUTABLE) ||
            !g_file_test(LIMA_USERNS_NEWGIDMAP, G_FILE_TEST_IS_EXECUTABLE)) {
                g_set_error(error, LIMA_ERROR, LIMA_ERROR_UNSUPPORTED,
                            _("%s is missing; install it (apt-get install uidmap) so virtiofsd "
                              "can run in a user namespace, or use mountType 9p or "
                              "reverse-sshfs"),
                            LIMA_USERNS_NEWUIDMAP);
                return FALSE;
        }
        map->owner_uid = uid;
        map->owner_gid = getegid();
        map->sub_uid = sub_uid;
        map->sub_gid = sub_gid;
        map->inner_uid = inner_uid;
        map->inner_gid = inner_gid;
        return TRUE;
}

GPtrArray *
lima_userns_map_argv(const gchar *tool, pid_t pid, guint32 sub, guint32 inner, guint32 owner)
{
        GPtrArray *argv = g_ptr_array_new_with_free_func(g_free);
        g_ptr_array_add(argv, g_strdup(tool));
        g_ptr_array_add(argv, g_strdup_printf("%d", (int)pid));
        g_ptr_array_add(argv, g_strdup("0"));
        g_ptr_array_add(argv, g_strdup_printf("%u", sub));
        g_ptr_array_add(argv, g_strdup("1"));
        if (inner != 0) {
                g_ptr_array_add(argv, g_strdup_printf("%u", inner));
                g_ptr_array_add(argv, g_strdup_printf("%u", owner));
                g_ptr_array_add(argv, g_strdup("1"));
        }
        g_ptr_array_add(argv, NULL);
        return argv;
}

static gboolean
lima_userns_run(GPtrArray *argv, GError **error)
{
        g_autofree gchar *err = NULL;
        gint status = 0;
        if (!g_spawn_sync(NULL, (gchar **)argv->pdata, NULL,
                          G_SPAWN_STDIN_FROM_DEV_NULL | G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL,
                          NULL, &err, &status, error))
                return FALSE;
        if (!g_spawn_check_wait_status(status, NULL)) {
                g_set_error(error, LIMA_ERROR, LIMA_ERROR_FAILED,
                            _("%s failed: %s; check the ranges in /etc/subuid and /etc/subgid"),
                            (const gchar *)g_ptr_array_index(argv, 0), g_strstrip(err));
                return FALSE;
        }
        return TRUE;
}

gboolean
lima_userns_write_maps(pid_t pid, const LimaUsernsMap *map, GError **error)
{
        g_autoptr(GPtrArray) uid_argv = lima_userns_map_argv(
            LIMA_USERNS_NEWUIDMAP, pid, map->sub_uid, map->inner_uid, map->owner_uid);
        g_autoptr(GPtrArray) gid_argv = lima_userns_map_argv(
            LIMA_USERNS_NEWGIDMAP, pid, map->sub_gid, map->inner_gid, map->owner_gid);
        return lima_userns_run(uid_argv, error) && lima_userns_run(gid_argv, error);
}
