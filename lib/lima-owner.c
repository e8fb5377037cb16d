/* setresuid(), setresgid() */
#define _GNU_SOURCE
#include "lima-owner.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lima-error.h"

/* Anything bigger in an instance folder is not a file limad wrote. */
#define LIMA_OWNER_MAX_FILE (16u * 1024 * 1024)

LimaOwner *
lima_owner_lookup(uid_t uid, GError **error)
{
        g_autoptr(LimaOwner) owner = g_new0(LimaOwner, 1);
        struct passwd *pw = getpwuid(uid);
        int n = 32;

        if (pw == NULL) {
                g_set_error(error, LIMA_ERROR, LIMA_ERROR_NOT_FOUND,
                            _("uid %u has no user account on this host"), (guint)uid);
                return NULL;
        }
        owner->uid = uid;
        owner->gid = pw->pw_gid;
        owner->name = g_strdup(pw->pw_name);
        owner->home = g_strdup(pw->pw_dir);
        owner->groups = g_new(gid_t, n);
        while (getgrouplist(owner->name, owner->gid, owner->groups, &n) < 0)
                owner->groups = g_renew(gid_t, owner->groups, n);
        owner->n_groups = n;
        return g_steal_pointer(&owner);
}

void
lima_owner_free(LimaOwner *owner)
{
        if (owner == NULL)
                return;
        g_free(owner->name);
        g_free(owner->home);
        g_free(owner->groups);
        g_free(owner);
}

gboolean
lima_owner_drop(const LimaOwner *owner, gboolean child, GError **error)
{
        uid_t r, e, s;
        if (setgroups(owner->n_groups, owner->groups) != 0 ||
            setresgid(owner->gid, owner->gid, owner->gid) != 0 ||
            setresuid(owner->uid, owner->uid, owner->uid) != 0) {
                int saved = errno;
                if (!child)
                        g_set_error(error, LIMA_ERROR, LIMA_ERROR_FAILED,
                                    _("cannot switch to user %s: %s"), owner->name,
                                    g_strerror(saved));
                return FALSE;
        }
        /* A drop that can be undone is no drop. */
        if (owner->uid != 0 && (setuid(0) == 0 || getresuid(&r, &e, &s) != 0 || r != owner->uid ||
                                e != owner->uid || s != owner->uid)) {
                if (!child)
                        g_set_error(error, LIMA_ERROR, LIMA_ERROR_FAILED,
                                    _("switching to user %s did not stick"), owner->name);
                return FALSE;
        }
        if (!child) {
                g_setenv("HOME", owner->home, TRUE);
                g_setenv("USER", owner->name, TRUE);
                g_setenv("LOGNAME", owner->name, TRUE);
        }
        return TRUE;
}

/* The deepest folder of path that exists ("/" at worst). */
static gchar *
lima_owner_existing_parent(const gchar *path)
{
        g_autofree gchar *dir = g_path_get_dirname(path);
        while (!g_file_test(dir, G_FILE_TEST_EXISTS) && !g_str_equal(dir, "/")) {
                gchar *up = g_path_get_dirname(dir);
                g_free(dir);
                dir = up;
        }
        return g_steal_pointer(&dir);
}

/* Runs access(path, mode) in a child dropped to owner; 0 or the errno it met. */
static int
lima_owner_access_as(const LimaOwner *owner, const gchar *path, int mode)
{
        int status = 0;
        pid_t pid;

        if (getuid() == owner->uid && geteuid() == owner->uid)
                return access(path, mode) == 0 ? 0 : errno;
        pid = fork();
        if (pid < 0)
                return errno;
        if (pid == 0) {
                if (!lima_owner_drop(owner, TRUE, NULL))
                        _exit(255);
                _exit(access(path, mode) == 0 ? 0 : (errno & 0xff));
        }
        while (waitpid(pid, &status, 0) < 0) {
                if (errno != EINTR)
                        return errno;
        }
        if (!WIFEXITED(status) || WEXITSTATUS(status) == 255)
                return EPERM;
        return WEXITSTATUS(status);
}

gboolean
lima_owner_check_location(const LimaOwner *owner, const gchar *location, gboolean writable,
                          GError **error)
{
        int err;

        if (!g_path_is_absolute(location)) {
                g_set_error(error, LIMA_ERROR, LIMA_ERROR_INVALID_CONFIG,
                            _("mount location \"%s\" is not an absolute path"), location);
                return FALSE;
        }
        err = lima_owner_access_as(owner, location, F_OK);
        if (err == ENOENT) {
                /* Made at start (as the owner): the owner must be able to make it. */
                g_autofree gchar *parent = lima_owner_existing_parent(location);
                err = lima_owner_access_as(owner, parent, W_OK | X_OK);
                if (err != 0 && err != EROFS) {
                        g_set_error(error, LIMA_ERROR, LIMA_ERROR_PERMISSION_DENIED,
                                    _("mount location %s does not exist and %s may not create "
                                      "it (no write and search permission on %s: %s); create "
                                      "it for them or pick a folder of theirs"),
                                    location, owner->name, parent, g_strerror(err));
                        return FALSE;
                }
                return TRUE;
        }
        err = lima_owner_access_as(owner, location, R_OK | X_OK);
        if (err != 0) {
                g_set_error(error, LIMA_ERROR, LIMA_ERROR_PERMISSION_DENIED,
                            _("%s may not mount %s: no read and search permission (%s); "
                              "mount a folder they can read"),
                            owner->name, location, g_strerror(err));
                return FALSE;
        }
        /* A read-only file system is not a missing permission, and limad.service sees the
         * host read-only (ProtectSystem=strict, ProtectHome=read-only): writes then fail in
         * the guest, or the agent, which runs unsandboxed, cannot create the folder. */
        if (writable && (err = lima_owner_access_as(owner, location, W_OK)) != 0 && err != EROFS) {
                g_set_error(error, LIMA_ERROR, LIMA_ERROR_PERMISSION_DENIED,
                            _("%s may not mount %s writable: no write permission (%s); "
                              "mount it read-only (writable: false)"),
                            owner->name, location, g_strerror(err));
                return FALSE;
        }
        return TRUE;
}

gboolean
lima_owner_read_file(const gchar *path, uid_t owner_uid, gchar **contents, gsize *len,
                     GError **error)
{
        g_autofree gchar *data = NULL;
        struct stat st;
        gsize got = 0;
        int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);

        if (fd < 0) {
                int saved = errno;
                g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(saved),
                            _("cannot open %s: %s"), path,
                            saved == ELOOP ? _("it is a symlink") : g_strerror(saved));
                return FALSE;
        }
        if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
            !(st.st_uid == owner_uid || (st.st_uid == 0 && st.st_nlink == 1)) ||
            (guint64)st.st_size > LIMA_OWNER_MAX_FILE) {
                close(fd);
                g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_PERM,
                            _("%s is not a regular file of the instance's owner; remove it"), path);
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
