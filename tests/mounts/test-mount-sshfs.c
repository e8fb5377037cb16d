/* lima-mount-sshfs: the commands, and a whole session with real sshfs, FUSE and sftp-server,
 * where a stand-in ssh runs the guest's command on this host instead of in a VM. */
#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lima-host.h"
#include "lima-mount-sshfs.h"
#include "lima-sftp-server.h"
#include "lima-sftp-server.h"
#include "test-mount-util.h"

/* Stands in for `ssh … lima-NAME -- COMMAND`: runs COMMAND through a shell, as sshd would.
 * LIMA_TEST_DROP_RO plays a guest whose sshfs ignores -o ro, so only the host's
 * sftp-server -R stands between it and the files. */
static const gchar *const fake_ssh =
    "#!/bin/sh\n"
    "while [ $# -gt 0 ] && [ \"$1\" != -- ]; do shift; done\n"
    "[ $# -eq 2 ] || { echo 'fake ssh: one remote command after --' >&2; exit 255; }\n"
    "cmd=$2\n"
    "[ -n \"$LIMA_TEST_DROP_RO\" ] && cmd=$(printf '%s' \"$cmd\" | sed \"s/ '-o' 'ro'//\")\n"
    "printf '%s\\n' \"$cmd\" >> \"$(dirname \"$0\")/commands.log\"\n"
    "exec sh -c \"$cmd\"\n";
static const gchar *const fake_sudo = "#!/bin/sh\nexec \"$@\"\n";

static gchar *
test_join(GPtrArray *argv)
{
        g_assert_null(g_ptr_array_index(argv, argv->len - 1));
        return g_strjoinv("|", (gchar **)argv->pdata);
}

static void
test_guest_command(void)
{
        g_autoptr(LimaMount) rw = test_mount_new("/home/ana/my dir", "/mnt/my dir", TRUE);
        g_autoptr(LimaMount) ro = test_mount_new("/srv/zoë", "/mnt/zoë", FALSE);
        g_autoptr(LimaMount) nl = test_mount_new("/srv/a\nb", "/mnt/x", TRUE);
        g_autoptr(LimaMount) rel = test_mount_new("/srv/a", "mnt/x", TRUE);
        g_autoptr(GPtrArray) a = lima_sshfs_guest_command(rw, NULL);
        g_autoptr(GPtrArray) b = NULL;
        g_autoptr(GPtrArray) none = NULL;
        g_autofree gchar *ja = test_join(a);
        g_autofree gchar *jb = NULL;
        g_autoptr(GError) error = NULL;
        g_autoptr(GError) error2 = NULL;

        g_assert_cmpstr(ja, ==, "sudo|sshfs|:/home/ana/my dir|/mnt/my dir|-o|slave|-o|allow_other");
        lima_bool_set(&ro->sshfs_cache, FALSE, NULL);
        lima_bool_set(&ro->sshfs_follow_symlinks, TRUE, NULL);
        b = lima_sshfs_guest_command(ro, NULL);
        jb = test_join(b);
        g_assert_cmpstr(jb, ==,
                        "sudo|sshfs|:/srv/zoë|/mnt/zoë|-o|slave|-o|allow_other|-o|ro|-o|cache=no|"
                        "-o|follow_symlinks");
        none = lima_sshfs_guest_command(nl, &error);
        g_assert_null(none);
        g_assert_error(error, LIMA_ERROR, LIMA_ERROR_INVALID_CONFIG);
        none = lima_sshfs_guest_command(rel, &error2);
        g_assert_null(none);
        g_assert_error(error2, LIMA_ERROR, LIMA_ERROR_INVALID_CONFIG);
}

static void
test_server_argv(void)
{
        g_autoptr(LimaMount) rw = test_mount_new("/home/a b", "/mnt/x", TRUE);
        g_autoptr(LimaMount) ro = test_mount_new("/home/a b", "/mnt/x", FALSE);
        g_autoptr(GPtrArray) a = lima_sshfs_server_argv("/usr/lib/openssh/sftp-server", rw);
        g_autoptr(GPtrArray) b = lima_sshfs_server_argv("/usr/lib/openssh/sftp-server", ro);
        g_autofree gchar *ja = test_join(a);
        g_autofree gchar *jb = test_join(b);
        g_assert_cmpstr(ja, ==, "/usr/lib/openssh/sftp-server|-e|-d|/home/a b");
        g_assert_cmpstr(jb, ==, "/usr/lib/openssh/sftp-server|-e|-d|/home/a b|-R");
}

static void
test_ssh_argv(void)
{
        g_autoptr(LimaMount) m = test_mount_new("/home/a", "/mnt/it's ü", TRUE);
        LimaSshfsOptions o = { .ssh_config = "/i/ssh config",
                               .instance_name = "dev",
                               .mount = m,
                               .ssh_binary = "/usr/bin/ssh" };
        const gchar *mkdir_cmd[] = { "sudo", "mkdir", "-p", "/mnt/it's ü", NULL };
        const gchar *lazy_cmd[] = { "sudo", "umount", "-l", "/mnt/$(x)", NULL };
        const gchar *const *one[] = { mkdir_cmd, NULL };
        const gchar *const *two[] = { mkdir_cmd, lazy_cmd, NULL };
        g_autoptr(GPtrArray) a = lima_sshfs_ssh_argv(&o, one);
        g_autoptr(GPtrArray) b = lima_sshfs_ssh_argv(&o, two);
        g_autoptr(GPtrArray) c = NULL;
        g_autofree gchar *ja = test_join(a);
        g_auto(GStrv) words = NULL;

        g_assert_cmpstr(ja, ==,
                        "/usr/bin/ssh|-F|/i/ssh config|-T|-o|BatchMode=yes|-o|ConnectTimeout=5|"
                        "-o|ControlMaster=no|lima-dev|--|"
                        "'sudo' 'mkdir' '-p' '/mnt/it'\\''s ü'");
        /* What the guest's shell makes of it: the very words, nothing expanded. */
        g_assert_true(g_shell_parse_argv(g_ptr_array_index(b, b->len - 2), NULL, &words, NULL));
        g_assert_cmpuint(g_strv_length(words), ==, 9);
        g_assert_cmpstr(words[3], ==, "/mnt/it's ü");
        g_assert_cmpstr(words[4], ==, "||");
        g_assert_cmpstr(words[8], ==, "/mnt/$(x)");
        /* A session that skips the master connection says so to ssh. */
        o.direct = TRUE;
        {
                g_autoptr(GPtrArray) d = lima_sshfs_ssh_argv(&o, one);
                g_autofree gchar *jd = test_join(d);
                g_assert_nonnull(strstr(jd, "|-o|ControlMaster=no|-o|ControlPath=none|lima-dev|"));
        }
        o.direct = FALSE;
        /* LIMA_SSH replaces ssh when the caller names none. */
        o.ssh_binary = NULL;
        g_setenv("LIMA_SSH", "/opt/test/ssh", TRUE);
        c = lima_sshfs_ssh_argv(&o, one);
        g_unsetenv("LIMA_SSH");
        g_assert_cmpstr(g_ptr_array_index(c, 0), ==, "/opt/test/ssh");
}

static void
test_driver(void)
{
        g_autoptr(LimaMount) m = test_mount_new("/a", "/b", TRUE);
        g_autoptr(GError) error = NULL;
        g_autoptr(GError) error2 = NULL;
        LimaSftpDriver driver = LIMA_SFTP_DRIVER_BUILTIN;

        g_assert_true(lima_sshfs_driver(m, "/usr/lib/openssh/sftp-server", TRUE, &driver, NULL));
        g_assert_cmpint(driver, ==, LIMA_SFTP_DRIVER_OPENSSH);
        g_assert_true(lima_sshfs_driver(m, NULL, TRUE, &driver, NULL));
        g_assert_cmpint(driver, ==, LIMA_SFTP_DRIVER_BUILTIN);
        g_assert_false(lima_sshfs_driver(m, NULL, FALSE, &driver, &error));
        g_assert_error(error, LIMA_ERROR, LIMA_ERROR_UNSUPPORTED);
        lima_string_set(&m->sshfs_sftp_driver, "builtin", NULL);
        g_assert_true(lima_sshfs_driver(m, "/usr/lib/openssh/sftp-server", TRUE, &driver, NULL));
        g_assert_cmpint(driver, ==, LIMA_SFTP_DRIVER_BUILTIN);
        lima_string_set(&m->sshfs_sftp_driver, "sftp", NULL);
        g_assert_false(
            lima_sshfs_driver(m, "/usr/lib/openssh/sftp-server", TRUE, &driver, &error2));
        g_assert_error(error2, LIMA_ERROR, LIMA_ERROR_INVALID_CONFIG);
}

static void
test_write_in(const gchar *dir, const gchar *name, const gchar *text)
{
        g_autofree gchar *path = g_build_filename(dir, name, NULL);
        g_autoptr(GError) error = NULL;
        g_file_set_contents(path, text, -1, &error);
        g_assert_no_error(error);
}

static gchar *
test_read_in(const gchar *dir, const gchar *name)
{
        g_autofree gchar *path = g_build_filename(dir, name, NULL);
        gchar *text = NULL;
        if (!g_file_get_contents(path, &text, NULL, NULL))
                return NULL;
        return text;
}

typedef struct {
        gchar *root;
        gchar *share;
        gchar *mnt;
        gchar *bin;
        gchar *ssh;
        gchar *log;
} SessionFixture;

/* NULL when the whole pipeline can run here; otherwise why not. */
static const gchar *
session_skip_reason(void)
{
        g_autofree gchar *sshfs = g_find_program_in_path("sshfs");
        int fd;
        if (geteuid() != 0)
                return "needs root: sshfs -o allow_other, and umount of its mount";
        if (sshfs == NULL)
                return "sshfs is not installed";
        if (lima_host_find_sftp_server() == NULL)
                return "OpenSSH's sftp-server is not installed";
        fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);
        if (fd < 0)
                return "/dev/fuse is not usable here";
        close(fd);
        return NULL;
}

static void
session_setup(SessionFixture *f, gconstpointer data)
{
        g_autofree gchar *sudo = NULL;
        g_autofree gchar *path = NULL;

        f->root = test_make_tmpdir();
        f->share = g_build_filename(f->root, "share dir ü", NULL);
        f->mnt = g_build_filename(f->root, "mnt", NULL);
        f->bin = g_build_filename(f->root, "bin", NULL);
        f->ssh = g_build_filename(f->bin, "ssh", NULL);
        f->log = g_build_filename(f->root, "sshfs.log", NULL);
        g_mkdir(f->share, 0755);
        g_mkdir(f->bin, 0755);
        test_write_script(f->ssh, fake_ssh);
        sudo = g_build_filename(f->bin, "sudo", NULL);
        test_write_script(sudo, fake_sudo);
        path = g_strconcat(f->bin, ":", g_getenv("PATH"), NULL);
        g_setenv("PATH", path, TRUE);
        test_write_in(f->share, "host.txt", "from the host\n");
}

static void
session_teardown(SessionFixture *f, gconstpointer data)
{
        /* A failed assertion may leave the mount: never delete through it. */
        if (test_mountinfo_has("self", f->mnt, NULL)) {
                const gchar *argv[] = { "umount", "-l", f->mnt, NULL };
                g_spawn_sync(NULL, (gchar **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL,
                             NULL, NULL, NULL);
        }
        test_rm_rf(f->root);
        g_free(f->root);
        g_free(f->share);
        g_free(f->mnt);
        g_free(f->bin);
        g_free(f->ssh);
        g_free(f->log);
}

static LimaSshfsSession *
session_start(SessionFixture *f, const LimaMount *m, LimaSftpServeFunc serve, gpointer data)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(LimaSshfsSession) s = NULL;
        LimaSshfsOptions o = { .ssh_config = "/nonexistent/ssh.config",
                               .instance_name = "test",
                               .mount = m,
                               .ssh_binary = f->ssh,
                               .builtin_serve = serve,
                               .builtin_data = data,
                               .log_path = f->log };

        s = lima_sshfs_session_start(&o, &error);
        g_assert_no_error(error);
        lima_sshfs_session_wait_mounted(s, 10000, &error);
        g_assert_no_error(error);
        g_assert_true(test_mountinfo_has("self", f->mnt, NULL));
        g_assert_true(lima_sshfs_session_is_alive(s));
        g_assert_cmpint(lima_sshfs_session_ssh_pid(s), >, 0);
        return g_steal_pointer(&s);
}

static void
session_stop(SessionFixture *f, LimaSshfsSession *s)
{
        lima_sshfs_session_stop(s);
        g_assert_false(test_mountinfo_has("self", f->mnt, NULL));
        g_assert_cmpint(lima_sshfs_session_ssh_pid(s), ==, 0);
        g_assert_cmpint(lima_sshfs_session_server_pid(s), ==, 0);
        g_assert_false(lima_sshfs_session_is_alive(s));
}

static void
test_session_writable(SessionFixture *f, gconstpointer data)
{
        const gchar *skip = session_skip_reason();
        g_autoptr(LimaMount) m = NULL;
        g_autoptr(LimaSshfsSession) s = NULL;
        g_autofree gchar *seen = NULL;
        g_autofree gchar *written = NULL;
        g_autofree gchar *commands = NULL;

        if (skip != NULL) {
                g_test_skip(skip);
                return;
        }
        m = test_mount_new(f->share, f->mnt, TRUE);
        s = session_start(f, m, NULL, NULL);
        g_assert_cmpint(lima_sshfs_session_server_pid(s), >, 0);
        seen = test_read_in(f->mnt, "host.txt");
        g_assert_cmpstr(seen, ==, "from the host\n");
        test_write_in(f->mnt, "guest.txt", "from the guest\n");
        written = test_read_in(f->share, "guest.txt");
        g_assert_cmpstr(written, ==, "from the guest\n");
        session_stop(f, s);
        /* One ssh made the mount point (it did not exist) and mounted; one unmounted. */
        commands = test_read_in(f->bin, "commands.log");
        g_assert_nonnull(strstr(commands, "'sudo' 'sh' '-c' "));
        g_assert_nonnull(strstr(commands, "'lima-sshfs' "));
        g_assert_nonnull(strstr(commands, " 'sshfs' "));
        g_assert_nonnull(strstr(commands, "\n'sudo' 'umount' "));
        g_assert_null(strstr(commands, "'mkdir'"));
}

/* writable: false holds even against a guest sshfs that drops -o ro; a killed server ends
 * the session, and a new one mounts again quickly. */
static void
test_session_readonly_restart(SessionFixture *f, gconstpointer data)
{
        const gchar *skip = session_skip_reason();
        g_autoptr(LimaMount) m = NULL;
        g_autoptr(LimaSshfsSession) s = NULL;
        g_autofree gchar *path = NULL;
        g_autofree gchar *target = NULL;
        g_autofree gchar *seen = NULL;
        gint64 deadline, started;
        FILE *fp;
        int saved;

        if (skip != NULL) {
                g_test_skip(skip);
                return;
        }
        m = test_mount_new(f->share, f->mnt, FALSE);
        g_setenv("LIMA_TEST_DROP_RO", "1", TRUE);
        s = session_start(f, m, NULL, NULL);
        g_unsetenv("LIMA_TEST_DROP_RO");
        /* The FUSE mount itself is writable now: only sftp-server -R refuses. */
        path = g_build_filename(f->mnt, "refused.txt", NULL);
        fp = fopen(path, "w");
        saved = errno;
        if (fp != NULL)
                fclose(fp);
        g_assert_null(fp);
        g_assert_true(saved == EACCES || saved == EPERM || saved == EROFS);
        target = g_build_filename(f->share, "refused.txt", NULL);
        g_assert_false(g_file_test(target, G_FILE_TEST_EXISTS));
        seen = test_read_in(f->mnt, "host.txt");
        g_assert_cmpstr(seen, ==, "from the host\n");

        /* The server dies: the session is dead at once. */
        g_assert_cmpint(kill(lima_sshfs_session_server_pid(s), SIGKILL), ==, 0);
        deadline = g_get_monotonic_time() + 2 * G_USEC_PER_SEC;
        while (lima_sshfs_session_is_alive(s) && g_get_monotonic_time() < deadline)
                g_usleep(10 * 1000);
        g_assert_false(lima_sshfs_session_is_alive(s));

        /* What the agent does: forget the dead mount without a round trip, start again;
         * the new session's one command detaches what is left. Back in 5 s. */
        started = g_get_monotonic_time();
        lima_sshfs_session_forget_mount(s);
        g_clear_pointer(&s, lima_sshfs_session_free);
        /* The old sshfs (here a grandchild of the stand-in ssh, not reaped with it) unmounts
         * by path as it exits; let it, as the guest's would long before a new session is
         * through ssh. A mount it leaves behind is the new command's to detach. */
        deadline = g_get_monotonic_time() + 2 * G_USEC_PER_SEC;
        while (test_mountinfo_has("self", f->mnt, NULL) && g_get_monotonic_time() < deadline)
                g_usleep(10 * 1000);
        s = session_start(f, m, NULL, NULL);
        g_assert_cmpint(g_get_monotonic_time() - started, <, 5 * G_USEC_PER_SEC);
        g_clear_pointer(&seen, g_free);
        seen = test_read_in(f->mnt, "host.txt");
        g_assert_cmpstr(seen, ==, "from the host\n");
        session_stop(f, s);
}

/* The agent's builtin driver: our own SFTP server, rooted at the location. */
static void
test_builtin_serve(int in_fd, int out_fd, gpointer data)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(LimaSftpServer) server = lima_sftp_server_new(data, FALSE, &error);
        g_assert_no_error(error);
        lima_sftp_server_run(server, in_fd, out_fd, NULL, &error);
}

static void
test_session_builtin(SessionFixture *f, gconstpointer data)
{
        const gchar *skip = session_skip_reason();
        g_autoptr(LimaMount) m = NULL;
        g_autoptr(LimaSshfsSession) s = NULL;
        g_autofree gchar *seen = NULL;

        if (skip != NULL) {
                g_test_skip(skip);
                return;
        }
        m = test_mount_new(f->share, f->mnt, TRUE);
        lima_string_set(&m->sshfs_sftp_driver, "builtin", NULL);
        s = session_start(f, m, test_builtin_serve, f->share);
        g_assert_cmpint(lima_sshfs_session_server_pid(s), ==, 0);
        seen = test_read_in(f->mnt, "host.txt");
        g_assert_cmpstr(seen, ==, "from the host\n");
        session_stop(f, s);
}

static void
test_session_no_guest(SessionFixture *f, gconstpointer data)
{
        g_autoptr(LimaMount) m = test_mount_new(f->share, f->mnt, TRUE);
        g_autoptr(GError) error = NULL;
        g_autoptr(LimaSshfsSession) s = NULL;
        g_autofree gchar *failing = g_build_filename(f->bin, "ssh-down", NULL);
        g_autofree gchar *log = NULL;
        LimaSshfsOptions o = { .ssh_config = "/nonexistent/ssh.config",
                               .instance_name = "test",
                               .mount = m,
                               .ssh_binary = failing,
                               .sftp_server = "/bin/true",
                               .log_path = f->log };
        pid_t ssh;

        /* ssh fails (the guest is not up): start does not wait on ssh, the session ends at
         * once, and ssh's message is in the log the error names. */
        test_write_script(failing, "#!/bin/sh\necho 'ssh: connect: Connection refused' >&2\n"
                                   "exit 255\n");
        s = lima_sshfs_session_start(&o, &error);
        g_assert_no_error(error);
        g_assert_false(lima_sshfs_session_wait_mounted(s, 10000, &error));
        g_assert_error(error, LIMA_ERROR, LIMA_ERROR_FAILED);
        g_assert_nonnull(strstr(error->message, f->log));
        g_assert_false(lima_sshfs_session_is_alive(s));
        ssh = lima_sshfs_session_ssh_pid(s);
        if (ssh > 0) {
                waitpid(ssh, NULL, 0);
                lima_sshfs_session_child_exited(s, ssh);
        }
        lima_sshfs_session_forget_mount(s);
        log = test_read_in(f->root, "sshfs.log");
        g_assert_nonnull(log);
        g_assert_nonnull(strstr(log, "Connection refused"));
}

static void
test_prepare_command(void)
{
        g_autoptr(LimaMount) m = test_mount_new("/home/a", "/mnt/it's $(x)", TRUE);
        g_autoptr(GPtrArray) argv =
            lima_sshfs_guest_prepare_command(lima_sshfs_guest_command(m, NULL), "/mnt/it's $(x)");
        g_autofree gchar *joined = test_join(argv);

        /* The script is constant; the mount point is a positional parameter, then sshfs's
         * own argv without a second sudo. */
        g_assert_true(g_str_has_prefix(joined, "sudo|sh|-c|m=$1; shift; umount -l "));
        g_assert_true(g_str_has_suffix(
            joined, "|lima-sshfs|/mnt/it's $(x)|sshfs|:/home/a|/mnt/it's $(x)|-o|slave|-o|"
                    "allow_other"));
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/sshfs/guest-command", test_guest_command);
        g_test_add_func("/sshfs/server-argv", test_server_argv);
        g_test_add_func("/sshfs/ssh-argv", test_ssh_argv);
        g_test_add_func("/sshfs/driver", test_driver);
        g_test_add_func("/sshfs/prepare-command", test_prepare_command);
        g_test_add("/sshfs/session/no-guest", SessionFixture, NULL, session_setup,
                   test_session_no_guest, session_teardown);
        g_test_add("/sshfs/session/writable", SessionFixture, NULL, session_setup,
                   test_session_writable, session_teardown);
        g_test_add("/sshfs/session/readonly-restart", SessionFixture, NULL, session_setup,
                   test_session_readonly_restart, session_teardown);
        g_test_add("/sshfs/session/builtin", SessionFixture, NULL, session_setup,
                   test_session_builtin, session_teardown);
        return g_test_run();
}
