#include "lima-ssh-keys.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lima-error.h"

#define LIMA_SSH_KEYS_DIR     "_config"
#define LIMA_SSH_KEYS_NAME    "user"
#define LIMA_SSH_KEYS_COMMENT "lima"

gchar *
lima_ssh_keys_private_path(const gchar *lima_home)
{
        return g_build_filename(lima_home, LIMA_SSH_KEYS_DIR, LIMA_SSH_KEYS_NAME, NULL);
}

static gboolean
lima_ssh_keys_set_errno(GError **error, gint saved_errno, const gchar *what, const gchar *path)
{
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(saved_errno), "%s %s: %s", what,
                    path, g_strerror(saved_errno));
        return FALSE;
}

/* Runs ssh-keygen with argv; its stdout goes to out (when not NULL). */
static gboolean
lima_ssh_keys_run(const gchar *const *argv, gchar **out, GError **error)
{
        g_autofree gchar *stdout_buf = NULL;
        g_autofree gchar *stderr_buf = NULL;
        g_autoptr(GError) local = NULL;
        gint status = 0;

        if (!g_spawn_sync(NULL, (gchar **)argv, NULL,
                          G_SPAWN_SEARCH_PATH | G_SPAWN_STDIN_FROM_DEV_NULL, NULL, NULL,
                          &stdout_buf, &stderr_buf, &status, &local)) {
                g_set_error(error, LIMA_ERROR, LIMA_ERROR_UNSUPPORTED,
                            _("cannot run %s: %s; install OpenSSH's client tools "
                              "(apt-get install openssh-client)"),
                            argv[0], local->message);
                return FALSE;
        }
        if (!g_spawn_check_wait_status(status, &local)) {
                g_set_error(error, LIMA_ERROR, LIMA_ERROR_FAILED, _("%s failed: %s"), argv[0],
                            stderr_buf != NULL && *g_strstrip(stderr_buf) != '\0' ? stderr_buf
                                                                                  : local->message);
                return FALSE;
        }
        if (out != NULL)
                *out = g_steal_pointer(&stdout_buf);
        return TRUE;
}

/* Data and directory entries reach the disk before anyone relies on them. */
static gboolean
lima_ssh_keys_fsync(const gchar *path, GError **error)
{
        gint fd = open(path, O_RDONLY | O_CLOEXEC);
        gint saved_errno;

        if (fd < 0)
                return lima_ssh_keys_set_errno(error, errno, _("cannot open"), path);
        if (fsync(fd) == 0) {
                close(fd);
                return TRUE;
        }
        saved_errno = errno;
        close(fd);
        return lima_ssh_keys_set_errno(error, saved_errno, _("cannot sync"), path);
}

static gboolean
lima_ssh_keys_rename(const gchar *from, const gchar *to, GError **error)
{
        if (g_rename(from, to) != 0)
                return lima_ssh_keys_set_errno(error, errno, _("cannot rename to"), to);
        return TRUE;
}

/* ssh-keygen writes into a private temp directory beside the final names, so the renames stay
 * on one filesystem and a crash never leaves a half-written key under the real name. */
static gboolean
lima_ssh_keys_generate(const gchar *dir, const gchar *priv, const gchar *pub, GError **error)
{
        g_autofree gchar *tmpdir = g_build_filename(dir, ".user-keygen-XXXXXX", NULL);
        g_autofree gchar *tmp_priv = NULL;
        g_autofree gchar *tmp_pub = NULL;
        gboolean ok;

        if (g_mkdtemp_full(tmpdir, 0700) == NULL)
                return lima_ssh_keys_set_errno(error, errno, _("cannot create"), tmpdir);
        tmp_priv = g_build_filename(tmpdir, LIMA_SSH_KEYS_NAME, NULL);
        tmp_pub = g_strconcat(tmp_priv, ".pub", NULL);
        {
                const gchar *argv[] = { "ssh-keygen", "-q",     "-t", "ed25519",
                                        "-N",         "",       "-C", LIMA_SSH_KEYS_COMMENT,
                                        "-f",         tmp_priv, NULL };
                ok = lima_ssh_keys_run(argv, NULL, error);
        }
        if (ok && g_chmod(tmp_priv, 0600) != 0)
                ok =
                    lima_ssh_keys_set_errno(error, errno, _("cannot change the mode of"), tmp_priv);
        ok = ok && lima_ssh_keys_fsync(tmp_priv, error) && lima_ssh_keys_fsync(tmp_pub, error);
        /* The public key first: a lone user.pub is regenerated, a lone private key is kept. */
        ok = ok && lima_ssh_keys_rename(tmp_pub, pub, error) &&
             lima_ssh_keys_rename(tmp_priv, priv, error) && lima_ssh_keys_fsync(dir, error);
        g_unlink(tmp_priv);
        g_unlink(tmp_pub);
        g_rmdir(tmpdir);
        return ok;
}

/* A private key without its .pub (a crash, or a user deleted it): the public half is derived,
 * never a new pair, since running instances trust the existing key. */
static gboolean
lima_ssh_keys_derive_public(const gchar *priv, const gchar *pub, GError **error)
{
        const gchar *argv[] = { "ssh-keygen", "-y", "-f", priv, NULL };
        g_autofree gchar *text = NULL;

        if (!lima_ssh_keys_run(argv, &text, error))
                return FALSE;
        return g_file_set_contents_full(
            pub, text, -1, G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE, 0644,
            error);
}

static gchar *
lima_ssh_keys_read_public(const gchar *priv, const gchar *pub, GError **error)
{
        g_autofree gchar *text = NULL;

        if (!g_file_get_contents(pub, &text, NULL, error))
                return NULL;
        g_strstrip(text);
        if (*text == '\0' || strchr(text, '\n') != NULL || strchr(text, ' ') == NULL) {
                g_set_error(error, LIMA_ERROR, LIMA_ERROR_FAILED,
                            _("%s is not an SSH public key; make it again from the private key "
                              "with: ssh-keygen -y -f %s > %s"),
                            pub, priv, pub);
                return NULL;
        }
        return g_steal_pointer(&text);
}

static gchar *
lima_ssh_keys_ensure_locked(const gchar *dir, GError **error)
{
        g_autofree gchar *priv = g_build_filename(dir, LIMA_SSH_KEYS_NAME, NULL);
        g_autofree gchar *pub = g_strconcat(priv, ".pub", NULL);
        GStatBuf st;

        if (g_lstat(priv, &st) != 0) {
                if (errno != ENOENT) {
                        lima_ssh_keys_set_errno(error, errno, _("cannot read"), priv);
                        return NULL;
                }
                if (!lima_ssh_keys_generate(dir, priv, pub, error))
                        return NULL;
                return lima_ssh_keys_read_public(priv, pub, error);
        }
        /* ssh refuses a private key others can read. */
        if ((st.st_mode & 077) != 0 && g_chmod(priv, 0600) != 0) {
                lima_ssh_keys_set_errno(error, errno, _("cannot change the mode of"), priv);
                return NULL;
        }
        if (!g_file_test(pub, G_FILE_TEST_EXISTS) && !lima_ssh_keys_derive_public(priv, pub, error))
                return NULL;
        return lima_ssh_keys_read_public(priv, pub, error);
}

gchar *
lima_ssh_keys_ensure(const gchar *lima_home, GError **error)
{
        g_autofree gchar *dir = g_build_filename(lima_home, LIMA_SSH_KEYS_DIR, NULL);
        g_autofree gchar *lock_path = g_build_filename(dir, ".user.lock", NULL);
        gchar *result;
        gint fd;

        if (g_mkdir_with_parents(dir, 0700) != 0) {
                lima_ssh_keys_set_errno(error, errno, _("cannot create"), dir);
                return NULL;
        }
        /* limad and every host agent may get here at once; two generators renaming over each
         * other could leave a private key and a public key from different pairs. */
        fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (fd < 0) {
                lima_ssh_keys_set_errno(error, errno, _("cannot open"), lock_path);
                return NULL;
        }
        while (flock(fd, LOCK_EX) != 0) {
                if (errno != EINTR) {
                        lima_ssh_keys_set_errno(error, errno, _("cannot lock"), lock_path);
                        close(fd);
                        return NULL;
                }
        }
        result = lima_ssh_keys_ensure_locked(dir, error);
        close(fd);
        if (result == NULL)
                g_prefix_error(error, _("cannot set up the SSH key in %s: "), dir);
        return result;
}
