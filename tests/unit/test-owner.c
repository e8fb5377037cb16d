/* Acting as an instance's owner: files in a folder they control are read without following
 * a planted symlink or blocking on a FIFO, and mount locations are judged by the kernel as
 * them (the latter needs root to switch users; skipped otherwise). */
#define _GNU_SOURCE
#include <glib/gstdio.h>
#include <pwd.h>
#include <sched.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lima-error.h"
#include "lima-owner.h"

static gchar *
make_dir(void)
{
        g_autoptr(GError) error = NULL;
        gchar *dir = g_dir_make_tmp("limad-owner-XXXXXX", &error);
        g_assert_no_error(error);
        return dir;
}

static void
test_owner_read_file_plain(void)
{
        g_autofree gchar *dir = make_dir();
        g_autofree gchar *path = g_build_filename(dir, "owner-uid", NULL);
        g_autofree gchar *text = NULL;
        g_autoptr(GError) error = NULL;
        gsize len = 0;

        g_assert_true(g_file_set_contents(path, "1000\n", -1, NULL));
        g_assert_true(lima_owner_read_file(path, getuid(), &text, &len, &error));
        g_assert_no_error(error);
        g_assert_cmpstr(text, ==, "1000\n");
        g_assert_cmpuint(len, ==, 5);
        g_unlink(path);
        g_rmdir(dir);
}

static void
test_owner_read_file_refuses_symlink_and_fifo(void)
{
        g_autofree gchar *dir = make_dir();
        g_autofree gchar *target = g_build_filename(dir, "secret", NULL);
        g_autofree gchar *link = g_build_filename(dir, "lima.yaml", NULL);
        g_autofree gchar *fifo = g_build_filename(dir, "ha.stderr.log", NULL);
        g_autofree gchar *text = NULL;
        g_autoptr(GError) error = NULL;

        g_assert_true(g_file_set_contents(target, "root's secret", -1, NULL));
        g_assert_cmpint(symlink(target, link), ==, 0);
        g_assert_false(lima_owner_read_file(link, getuid(), &text, NULL, &error));
        g_assert_nonnull(error);
        g_assert_nonnull(strstr(error->message, "symlink"));
        g_assert_null(text);
        g_clear_error(&error);
        /* A FIFO would block a reader forever; it must be refused at once. */
        g_assert_cmpint(mkfifo(fifo, 0600), ==, 0);
        g_assert_false(lima_owner_read_file(fifo, getuid(), &text, NULL, &error));
        g_assert_nonnull(strstr(error->message, "not a regular file"));
        g_unlink(fifo);
        g_unlink(link);
        g_unlink(target);
        g_rmdir(dir);
}

static void
test_owner_read_file_refuses_other_owner(void)
{
        g_autofree gchar *dir = make_dir();
        g_autofree gchar *path = g_build_filename(dir, "lima.yaml", NULL);
        g_autofree gchar *second = g_build_filename(dir, "elsewhere", NULL);
        g_autofree gchar *text = NULL;
        g_autoptr(GError) error = NULL;

        g_assert_true(g_file_set_contents(path, "cpus: 1\n", -1, NULL));
        /* Read as if for someone else: refused. Root's own file is trusted only with one
         * link (a second one could be a hard link to a file root keeps elsewhere). */
        g_assert_cmpint(link(path, second), ==, 0);
        g_assert_false(lima_owner_read_file(path, getuid() + 4242, &text, NULL, &error));
        g_assert_error(error, G_FILE_ERROR, G_FILE_ERROR_PERM);
        g_assert_null(text);
        g_unlink(second);
        g_unlink(path);
        g_rmdir(dir);
}

/* The first ordinary user with an account: the test switches to them. */
static struct passwd *
find_other_user(void)
{
        const gchar *const names[] = { "nobody", NULL };
        for (guint i = 0; names[i] != NULL; i++) {
                struct passwd *pw = getpwnam(names[i]);
                if (pw != NULL && pw->pw_uid != 0)
                        return pw;
        }
        return NULL;
}

static void
test_owner_check_location_as_user(void)
{
        g_autofree gchar *dir = NULL;
        g_autofree gchar *private_dir = NULL;
        g_autofree gchar *readable = NULL;
        g_autofree gchar *missing = NULL;
        g_autoptr(LimaOwner) owner = NULL;
        g_autoptr(GError) error = NULL;
        struct passwd *pw;

        if (getuid() != 0) {
                g_test_skip("needs root to act as another user");
                return;
        }
        pw = find_other_user();
        if (pw == NULL) {
                g_test_skip("no user \"nobody\"");
                return;
        }
        owner = lima_owner_lookup(pw->pw_uid, &error);
        g_assert_no_error(error);
        dir = make_dir();
        g_assert_cmpint(chmod(dir, 0755), ==, 0);
        private_dir = g_build_filename(dir, "private", NULL);
        readable = g_build_filename(dir, "readable", NULL);
        missing = g_build_filename(private_dir, "new", NULL);
        g_assert_cmpint(g_mkdir(private_dir, 0700), ==, 0);
        g_assert_cmpint(g_mkdir(readable, 0755), ==, 0);

        g_assert_true(lima_owner_check_location(owner, readable, FALSE, &error));
        g_assert_no_error(error);
        g_assert_false(lima_owner_check_location(owner, readable, TRUE, &error));
        g_assert_error(error, LIMA_ERROR, LIMA_ERROR_PERMISSION_DENIED);
        g_assert_nonnull(strstr(error->message, "writable"));
        g_clear_error(&error);
        g_assert_false(lima_owner_check_location(owner, private_dir, FALSE, &error));
        g_assert_error(error, LIMA_ERROR, LIMA_ERROR_PERMISSION_DENIED);
        g_assert_nonnull(strstr(error->message, private_dir));
        g_clear_error(&error);
        g_assert_false(lima_owner_check_location(owner, missing, FALSE, &error));
        g_assert_error(error, LIMA_ERROR, LIMA_ERROR_PERMISSION_DENIED);
        g_clear_error(&error);
        /* Giving them the folder makes it theirs to mount writable. */
        g_assert_cmpint(chown(readable, owner->uid, owner->gid), ==, 0);
        g_assert_true(lima_owner_check_location(owner, readable, TRUE, &error));
        g_assert_no_error(error);
        /* Read-only in this mount namespace (as limad.service's ProtectHome=read-only makes
         * /home): no permission is missing, so it is not refused. */
        {
                pid_t pid = fork();
                int status = 0;
                if (pid == 0) {
                        gboolean allowed;
                        if (unshare(CLONE_NEWNS) != 0 ||
                            mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0 ||
                            mount(readable, readable, NULL, MS_BIND, NULL) != 0 ||
                            mount(NULL, readable, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL) !=
                                0)
                                _exit(77);
                        allowed = lima_owner_check_location(owner, readable, TRUE, NULL);
                        _exit(allowed ? 0 : 1);
                }
                g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
                g_assert_true(WIFEXITED(status));
                if (WEXITSTATUS(status) != 77)
                        g_assert_cmpint(WEXITSTATUS(status), ==, 0);
        }
        g_assert_false(lima_owner_check_location(owner, "relative/dir", FALSE, &error));
        g_assert_error(error, LIMA_ERROR, LIMA_ERROR_INVALID_CONFIG);
        g_rmdir(readable);
        g_rmdir(private_dir);
        g_rmdir(dir);
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/owner/read-file/plain", test_owner_read_file_plain);
        g_test_add_func("/owner/read-file/refuses-symlink-and-fifo",
                        test_owner_read_file_refuses_symlink_and_fifo);
        g_test_add_func("/owner/read-file/refuses-other-owner",
                        test_owner_read_file_refuses_other_owner);
        g_test_add_func("/owner/check-location", test_owner_check_location_as_user);
        return g_test_run();
}
