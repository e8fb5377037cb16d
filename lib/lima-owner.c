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
#include "lima-safe-path.h"

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

/* What the child found for one location: errnos (0: allowed) of each probe it ran. */
typedef struct {
        int exists; /* access(location, F_OK) */
        int create; /* access(existing parent, W_OK | X_OK), when it does not exist */
        int read;   /* access(location, R_OK | X_OK) */
        int write;  /* access(location, W_OK), when writable */
} LimaOwnerProbe;

static void
lima_owner_probe(const gchar *location, const gchar *parent, gboolean writable, LimaOwnerProbe *p)
{
        p->exists = access(location, F_OK) == 0 ? 0 : errno;
        if (p->exists == ENOENT) {
                p->create = access(parent, W_OK | X_OK) == 0 ? 0 : errno;
                return;
        }
        p->read = access(location, R_OK | X_OK) == 0 ? 0 : errno;
        if (p->read == 0 && writable)
                p->write = access(location, W_OK) == 0 ? 0 : errno;
}

/* Every probe in one child dropped to owner (not one per location): a config with many
 * mounts costs one fork. The child only calls access() and write(): async-signal-safe. */
static gboolean
lima_owner_probe_all(const LimaOwner *owner, const gchar *const *locations,
                     const gchar *const *parents, const gboolean *writable, guint n,
                     LimaOwnerProbe *probes)
{
        gsize want = n * sizeof(LimaOwnerProbe), got = 0;
        int fds[2], status = 0;
        pid_t pid;

        if (n == 0)
                return TRUE;
        if (getuid() == owner->uid && geteuid() == owner->uid) {
                for (guint i = 0; i < n; i++)
                        lima_owner_probe(locations[i], parents[i], writable[i], &probes[i]);
                return TRUE;
        }
        if (pipe2(fds, O_CLOEXEC) != 0)
                return FALSE;
        pid = fork();
        if (pid < 0) {
                close(fds[0]);
                close(fds[1]);
                return FALSE;
        }
        if (pid == 0) {
                const guint8 *out = (const guint8 *)probes;
                gsize done = 0;
                close(fds[0]);
                if (!lima_owner_drop(owner, TRUE, NULL))
                        _exit(255);
                for (guint i = 0; i < n; i++)
                        lima_owner_probe(locations[i], parents[i], writable[i], &probes[i]);
                while (done < want) {
                        ssize_t w = write(fds[1], out + done, want - done);
                        if (w < 0 && errno == EINTR)
                                continue;
                        if (w <= 0)
                                _exit(255);
                        done += w;
                }
                _exit(0);
        }
        close(fds[1]);
        while (got < want) {
                ssize_t r = read(fds[0], (guint8 *)probes + got, want - got);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r <= 0)
                        break;
                got += r;
        }
        close(fds[0]);
        while (waitpid(pid, &status, 0) < 0) {
                if (errno != EINTR)
                        return FALSE;
        }
        return got == want && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

gboolean
lima_owner_check_locations(const LimaOwner *owner, const gchar *const *locations,
                           const gboolean *writable, guint n, guint *failed, GError **error)
{
        g_autoptr(GPtrArray) parents = g_ptr_array_new_with_free_func(g_free);
        g_autofree LimaOwnerProbe *probes = g_new0(LimaOwnerProbe, MAX(n, 1));

        for (guint i = 0; i < n; i++) {
                if (!g_path_is_absolute(locations[i])) {
                        if (failed != NULL)
                                *failed = i;
                        g_set_error(error, LIMA_ERROR, LIMA_ERROR_INVALID_CONFIG,
                                    _("mount location \"%s\" is not an absolute path"),
                                    locations[i]);
                        return FALSE;
                }
                /* Used only when the owner finds no such location: then every folder above
                 * it, up to the first missing one, is one they can search, so what root sees
                 * there is what they see. */
                g_ptr_array_add(parents, lima_owner_existing_parent(locations[i]));
        }
        if (!lima_owner_probe_all(owner, locations, (const gchar *const *)parents->pdata, writable,
                                  n, probes)) {
                g_set_error(error, LIMA_ERROR, LIMA_ERROR_FAILED,
                            _("cannot check the mount locations as %s: %s"), owner->name,
                            g_strerror(errno != 0 ? errno : EIO));
                return FALSE;
        }
        for (guint i = 0; i < n; i++) {
                const LimaOwnerProbe *p = &probes[i];
                const gchar *location = locations[i];
                if (failed != NULL)
                        *failed = i;
                if (p->exists == ENOENT) {
                        /* Made at start (as the owner): the owner must be able to make it. */
                        if (p->create != 0 && p->create != EROFS) {
                                g_set_error(error, LIMA_ERROR, LIMA_ERROR_PERMISSION_DENIED,
                                            _("mount location %s does not exist and %s may not "
                                              "create it (no write and search permission on "
                                              "%s: %s); create it for them or pick a folder of "
                                              "theirs"),
                                            location, owner->name,
                                            (const gchar *)g_ptr_array_index(parents, i),
                                            g_strerror(p->create));
                                return FALSE;
                        }
                        continue;
                }
                if (p->read != 0) {
                        g_set_error(error, LIMA_ERROR, LIMA_ERROR_PERMISSION_DENIED,
                                    _("%s may not mount %s: no read and search permission (%s); "
                                      "mount a folder they can read"),
                                    owner->name, location, g_strerror(p->read));
                        return FALSE;
                }
                /* A read-only file system is not a missing permission, and limad.service sees
                 * the host read-only (ProtectSystem=strict, ProtectHome=read-only): writes
                 * then fail in the guest, or the agent, which runs unsandboxed, cannot create
                 * the folder. */
                if (writable[i] && p->write != 0 && p->write != EROFS) {
                        g_set_error(error, LIMA_ERROR, LIMA_ERROR_PERMISSION_DENIED,
                                    _("%s may not mount %s writable: no write permission (%s); "
                                      "mount it read-only (writable: false)"),
                                    owner->name, location, g_strerror(p->write));
                        return FALSE;
                }
        }
        return TRUE;
}

gboolean
lima_owner_check_location(const LimaOwner *owner, const gchar *location, gboolean writable,
                          GError **error)
{
        const gchar *const locations[] = { location };
        return lima_owner_check_locations(owner, locations, &writable, 1, NULL, error);
}

gboolean
lima_owner_read_file(const gchar *path, uid_t owner_uid, gchar **contents, gsize *len,
                     GError **error)
{
        return lima_safe_read_file(path, LIMA_SAFE_READ_OWNED, owner_uid, contents, len, error);
}
