/* lima-userns and lima_virtiofsd_start(): the real C virtiofsd started as the host agent starts
 * it, checked from the host as an attacker would (the owner, and guest root behind the daemon):
 * its uid and gid maps, ids, groups and user namespace, the socket and bind point out of the
 * owner's reach, death with its agent, the log not followed, and the named error for a user
 * without a subuid range. Runs as root (to act as those users); skips, saying why, without. */
/* setresuid() */
#define _GNU_SOURCE
#include <glib.h>
#include <grp.h>
#include <pwd.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lima-mount-virtiofs.h"
#include "lima-userns.h"
#include "test-mount-util.h"

#define C_VIRTIOFSD "/usr/lib/qemu/virtiofsd"

/* ---- the real C virtiofsd in the owner's user namespace, as the agent starts it ---- */

/* The owner the tests act as: limad-test (the VM suite's user, whose range tools/install-deps
 * writes), else any other user with a subuid and a subgid range (useradd gives every new
 * user one once /etc/subuid exists). */
#define TEST_OWNER     "limad-test"
#define TEST_GUEST_UID 4242

static gboolean
test_has_ranges(const struct passwd *pw)
{
        guint32 first = 0;
        return pw != NULL && pw->pw_uid != 0 &&
               lima_userns_subid("/etc/subuid", pw->pw_name, pw->pw_uid, &first, NULL) &&
               lima_userns_subid("/etc/subgid", pw->pw_name, pw->pw_uid, &first, NULL);
}

static gboolean
test_userns_can_run(struct passwd *pw_out)
{
        g_autofree gchar *text = NULL;
        g_auto(GStrv) lines = NULL;
        struct passwd *pw;
        if (geteuid() != 0) {
                g_test_skip("needs root to act as an owner with a subuid range");
                return FALSE;
        }
        if (!g_file_test(C_VIRTIOFSD, G_FILE_TEST_IS_EXECUTABLE) ||
            !g_file_test("/usr/bin/newuidmap", G_FILE_TEST_IS_EXECUTABLE)) {
                g_test_skip(C_VIRTIOFSD " or newuidmap missing (tools/install-deps)");
                return FALSE;
        }
        pw = getpwnam(TEST_OWNER);
        if (!test_has_ranges(pw) && g_file_get_contents("/etc/subuid", &text, NULL, NULL)) {
                lines = g_strsplit(text, "\n", -1);
                pw = NULL;
                for (guint i = 0; lines[i] != NULL && pw == NULL; i++) {
                        g_auto(GStrv) f = g_strsplit(lines[i], ":", 2);
                        pw = f[0] != NULL ? getpwnam(f[0]) : NULL;
                        if (!test_has_ranges(pw))
                                pw = NULL;
                }
        }
        if (!test_has_ranges(pw)) {
                g_test_skip("no user with a subuid/subgid range (tools/install-deps writes "
                            "one for " TEST_OWNER ", which tools/run-tests creates)");
                return FALSE;
        }
        *pw_out = *pw;
        return TRUE;
}

/* What the subprocess works on and as. */
static void
test_set_env(const gchar *root, uid_t uid, gid_t gid)
{
        g_autofree gchar *u = g_strdup_printf("%u", uid);
        g_autofree gchar *g = g_strdup_printf("%u", gid);
        g_setenv("TEST_ROOT", root, TRUE);
        g_setenv("TEST_UID", u, TRUE);
        g_setenv("TEST_GID", g, TRUE);
}

/* In the test's subprocess: become uid/gid for good, as the agent does. */
static void
test_become(uid_t uid, gid_t gid)
{
        g_assert_cmpint(setgroups(1, &gid), ==, 0);
        g_assert_cmpint(setresgid(gid, gid, gid), ==, 0);
        g_assert_cmpint(setresuid(uid, uid, uid), ==, 0);
}

/* A scratch folder the owner owns, with a share in it. */
static gchar *
test_owner_root(uid_t uid, gid_t gid)
{
        gchar *root = test_make_tmpdir();
        g_autofree gchar *share = g_build_filename(root, "share", NULL);
        g_assert_cmpint(g_mkdir(share, 0755), ==, 0);
        g_assert_cmpint(chown(root, uid, gid), ==, 0);
        g_assert_cmpint(chown(share, uid, gid), ==, 0);
        return root;
}

static gchar *
test_proc_text(pid_t pid, const gchar *name)
{
        g_autofree gchar *path = g_strdup_printf("/proc/%d/%s", pid, name);
        gchar *text = NULL;
        g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
        return text;
}

/* "a b c\n..." with runs of blanks squeezed, for comparing uid_map lines. */
static gchar *
test_squeeze(const gchar *text)
{
        g_auto(GStrv) words = g_strsplit_set(text, " \t", -1);
        g_autoptr(GString) out = g_string_new(NULL);
        for (guint i = 0; words[i] != NULL; i++) {
                if (*words[i] == '\0')
                        continue;
                if (out->len > 0 && out->str[out->len - 1] != '\n')
                        g_string_append_c(out, ' ');
                g_string_append(out, words[i]);
        }
        return g_string_free(g_steal_pointer(&out), FALSE);
}

/* The value of a "Key:\t..." line of /proc/PID/status. */
static gchar *
test_status_field(pid_t pid, const gchar *key)
{
        g_autofree gchar *text = test_proc_text(pid, "status");
        g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
        g_autofree gchar *prefix = g_strconcat(key, ":", NULL);
        for (guint i = 0; lines[i] != NULL; i++)
                if (g_str_has_prefix(lines[i], prefix))
                        return test_squeeze(g_strstrip(lines[i] + strlen(prefix)));
        return g_strdup("");
}

static gboolean
test_same_link(const gchar *a, const gchar *b)
{
        g_autofree gchar *ta = g_file_read_link(a, NULL);
        g_autofree gchar *tb = g_file_read_link(b, NULL);
        return ta != NULL && g_strcmp0(ta, tb) == 0;
}

/* The attacker is guest root speaking FUSE to this daemon, so what counts is whom the
 * daemon is on the host: the owner's subordinate uid in a user namespace of its own, the
 * guest user mapped to the owner and nothing else, no groups, no capability in the host's
 * namespace, the bind point only in its own mount table, the socket the owner's. */
static void
test_userns_owner_only_run(uid_t uid, gid_t gid, const gchar *root)
{
        g_autofree gchar *share = g_build_filename(root, "share", NULL);
        g_autofree gchar *sock = g_build_filename(root, "v.sock", NULL);
        g_autofree gchar *pid_text = NULL;
        g_autofree gchar *uid_map = NULL;
        g_autofree gchar *gid_map = NULL;
        g_autofree gchar *want_uid_map = NULL;
        g_autofree gchar *want_gid_map = NULL;
        g_autofree gchar *ns = NULL;
        g_autofree gchar *uids = NULL;
        g_autofree gchar *gids = NULL;
        g_autofree gchar *groups = NULL;
        g_autofree gchar *want_ids = NULL;
        g_autoptr(LimaMount) m = test_mount_new(share, "/mnt/share", FALSE);
        g_autoptr(LimaVirtiofsdBinary) bin = NULL;
        g_autoptr(LimaVirtiofsd) d = NULL;
        g_autoptr(GError) error = NULL;
        LimaVirtiofsdIds ids = { .guest_uid = TEST_GUEST_UID, .guest_gid = -1 };
        guint32 sub_uid = 0, sub_gid = 0;
        gboolean read_only = FALSE;
        struct stat st;
        pid_t pid;

        struct passwd *pw = getpwuid(uid);
        g_assert_nonnull(pw);
        g_assert_true(lima_userns_subid("/etc/subuid", pw->pw_name, uid, &sub_uid, NULL));
        g_assert_true(lima_userns_subid("/etc/subgid", pw->pw_name, uid, &sub_gid, NULL));
        bin = lima_virtiofsd_probe(C_VIRTIOFSD, &error);
        g_assert_no_error(error);
        d = lima_virtiofsd_start(bin, m, sock, root, &ids, &error);
        g_assert_no_error(error);
        pid = lima_virtiofsd_pid(d);
        g_assert_cmpint(pid, >, 0);
        pid_text = g_strdup_printf("%d", pid);

        uid_map = test_proc_text(pid, "uid_map");
        gid_map = test_proc_text(pid, "gid_map");
        want_uid_map = g_strdup_printf("0 %u 1\n%u %u 1\n", sub_uid, TEST_GUEST_UID, uid);
        want_gid_map = g_strdup_printf("0 %u 1\n%u %u 1\n", sub_gid, TEST_GUEST_UID, gid);
        {
                g_autofree gchar *u = test_squeeze(uid_map);
                g_autofree gchar *g = test_squeeze(gid_map);
                g_assert_cmpstr(u, ==, want_uid_map);
                g_assert_cmpstr(g, ==, want_gid_map);
        }
        /* Real, effective, saved and fs uid: the subordinate one, never root, never the
         * owner's (the owner's files it reaches as the namespace's root over mapped ids). */
        uids = test_status_field(pid, "Uid");
        gids = test_status_field(pid, "Gid");
        groups = test_status_field(pid, "Groups");
        want_ids = g_strdup_printf("%u %u %u %u", sub_uid, sub_uid, sub_uid, sub_uid);
        g_assert_cmpstr(uids, ==, want_ids);
        g_free(want_ids);
        want_ids = g_strdup_printf("%u %u %u %u", sub_gid, sub_gid, sub_gid, sub_gid);
        g_assert_cmpstr(gids, ==, want_ids);
        g_assert_cmpstr(groups, ==, "");
        /* Whatever CapEff says counts in its own user namespace only, not the host's. */
        ns = g_strdup_printf("/proc/%d/ns/user", pid);
        g_assert_false(test_same_link(ns, "/proc/1/ns/user"));
        g_assert_false(test_same_link(ns, "/proc/self/ns/user"));
        {
                g_autofree gchar *cap = test_status_field(pid, "CapEff");
                g_test_message("virtiofsd pid %d: Uid %s, CapEff %s (in its own namespace)", pid,
                               uids, cap);
        }

        /* The socket: made by the agent, the owner's, 0600; the daemon got its fd. */
        g_assert_cmpint(lstat(sock, &st), ==, 0);
        g_assert_true(S_ISSOCK(st.st_mode));
        g_assert_cmpuint(st.st_uid, ==, uid);
        g_assert_cmpuint(st.st_mode & 07777, ==, 0600);
        /* The bind point: only in the daemon's mount table, read-only, on its private tmpfs;
         * nothing in the owner's folder to swap. */
        g_assert_false(test_mountinfo_has("self", "/run/virtiofsd/source", NULL));
        g_assert_true(test_mountinfo_has(pid_text, "/run/virtiofsd/source", &read_only));
        g_assert_true(read_only);
        g_assert_true(test_mountinfo_has(pid_text, "/run", NULL));

        lima_virtiofsd_stop(d);
        g_assert_cmpint(kill(pid, 0), !=, 0);
        g_assert_false(g_file_test(sock, G_FILE_TEST_EXISTS));
}

static void
test_userns_owner_only(void)
{
        struct passwd pw;
        g_autofree gchar *root = NULL;
        if (g_test_subprocess()) {
                const gchar *r = g_getenv("TEST_ROOT");
                test_become((uid_t)atoi(g_getenv("TEST_UID")), (gid_t)atoi(g_getenv("TEST_GID")));
                test_userns_owner_only_run(getuid(), getgid(), r);
                return;
        }
        if (!test_userns_can_run(&pw))
                return;
        root = test_owner_root(pw.pw_uid, pw.pw_gid);
        test_set_env(root, pw.pw_uid, pw.pw_gid);
        g_test_trap_subprocess(NULL, 60 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_INHERIT_STDERR);
        test_rm_rf(root);
        g_test_trap_assert_passed();
}

/* Writable: the same namespace, no read-only bind. */
static void
test_userns_writable(void)
{
        struct passwd pw;
        g_autofree gchar *root = NULL;
        if (g_test_subprocess()) {
                const gchar *r = g_getenv("TEST_ROOT");
                g_autofree gchar *share = g_build_filename(r, "share", NULL);
                g_autofree gchar *sock = g_build_filename(r, "w.sock", NULL);
                g_autoptr(LimaMount) m = test_mount_new(share, "/mnt/share", TRUE);
                g_autoptr(LimaVirtiofsd) d = NULL;
                g_autoptr(GError) error = NULL;
                g_autofree gchar *pid_text = NULL;
                gboolean read_only = TRUE;
                test_become((uid_t)atoi(g_getenv("TEST_UID")), (gid_t)atoi(g_getenv("TEST_GID")));
                d = lima_virtiofsd_start(NULL, m, sock, r, NULL, &error);
                g_assert_no_error(error);
                pid_text = g_strdup_printf("%d", lima_virtiofsd_pid(d));
                g_assert_true(test_mountinfo_has(pid_text, "/run/virtiofsd/source", &read_only));
                g_assert_false(read_only);
                return;
        }
        if (!test_userns_can_run(&pw))
                return;
        root = test_owner_root(pw.pw_uid, pw.pw_gid);
        test_set_env(root, pw.pw_uid, pw.pw_gid);
        g_test_trap_subprocess(NULL, 60 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_INHERIT_STDERR);
        test_rm_rf(root);
        g_test_trap_assert_passed();
}

/* The agent is killed (SIGKILL: no cleanup runs): its daemon must not outlive it. */
static void
test_userns_dies_with_agent(void)
{
        struct passwd pw;
        g_autofree gchar *root = NULL;
        if (g_test_subprocess()) {
                const gchar *r = g_getenv("TEST_ROOT");
                int pipe_fds[2];
                pid_t agent, daemon_pid = 0;
                gint64 deadline;
                test_become((uid_t)atoi(g_getenv("TEST_UID")), (gid_t)atoi(g_getenv("TEST_GID")));
                g_assert_cmpint(pipe(pipe_fds), ==, 0);
                agent = fork();
                g_assert_cmpint(agent, >=, 0);
                if (agent == 0) {
                        g_autofree gchar *share = g_build_filename(r, "share", NULL);
                        g_autofree gchar *sock = g_build_filename(r, "d.sock", NULL);
                        g_autoptr(LimaMount) m = test_mount_new(share, "/mnt/share", FALSE);
                        LimaVirtiofsd *d = lima_virtiofsd_start(NULL, m, sock, r, NULL, NULL);
                        pid_t p = d != NULL ? lima_virtiofsd_pid(d) : -1;
                        if (write(pipe_fds[1], &p, sizeof(p)) != sizeof(p))
                                _exit(1);
                        pause();
                        _exit(0);
                }
                close(pipe_fds[1]);
                g_assert_cmpint(read(pipe_fds[0], &daemon_pid, sizeof(daemon_pid)), ==,
                                sizeof(daemon_pid));
                g_assert_cmpint(daemon_pid, >, 0);
                g_assert_cmpint(kill(daemon_pid, 0), ==, 0);
                kill(agent, SIGKILL);
                waitpid(agent, NULL, 0);
                deadline = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
                while (kill(daemon_pid, 0) == 0 && g_get_monotonic_time() < deadline)
                        g_usleep(20 * 1000);
                g_assert_cmpint(kill(daemon_pid, 0), !=, 0);
                return;
        }
        if (!test_userns_can_run(&pw))
                return;
        root = test_owner_root(pw.pw_uid, pw.pw_gid);
        test_set_env(root, pw.pw_uid, pw.pw_gid);
        g_test_trap_subprocess(NULL, 60 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_INHERIT_STDERR);
        test_rm_rf(root);
        g_test_trap_assert_passed();
}

/* A folder inside one only root may enter (a mount of /root/x, say) is out of the daemon's
 * reach: the location is resolved with the namespace's rights, not root's. */
static void
test_userns_root_only_location(void)
{
        struct passwd pw;
        g_autofree gchar *root = NULL;
        g_autofree gchar *secret = NULL;
        if (g_test_subprocess()) {
                const gchar *r = g_getenv("TEST_ROOT");
                g_autofree gchar *loc = g_build_filename(r, "root-only", "inside", NULL);
                g_autofree gchar *sock = g_build_filename(r, "r.sock", NULL);
                g_autoptr(LimaMount) m = test_mount_new(loc, "/mnt/secret", FALSE);
                g_autoptr(LimaVirtiofsd) d = NULL;
                g_autoptr(GError) error = NULL;
                test_become((uid_t)atoi(g_getenv("TEST_UID")), (gid_t)atoi(g_getenv("TEST_GID")));
                d = lima_virtiofsd_start(NULL, m, sock, r, NULL, &error);
                g_assert_null(d);
                g_assert_error(error, LIMA_ERROR, LIMA_ERROR_PERMISSION_DENIED);
                g_assert_nonnull(strstr(error->message, "Permission denied"));
                g_assert_false(g_file_test(sock, G_FILE_TEST_EXISTS));
                return;
        }
        if (!test_userns_can_run(&pw))
                return;
        root = test_owner_root(pw.pw_uid, pw.pw_gid);
        secret = g_build_filename(root, "root-only", NULL);
        g_assert_cmpint(g_mkdir(secret, 0700), ==, 0);
        {
                g_autofree gchar *inside = g_build_filename(secret, "inside", NULL);
                g_assert_cmpint(g_mkdir(inside, 0755), ==, 0);
        }
        test_set_env(root, pw.pw_uid, pw.pw_gid);
        g_test_trap_subprocess(NULL, 60 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_INHERIT_STDERR);
        test_rm_rf(root);
        g_test_trap_assert_passed();
}

/* The owner plants a FIFO (which would block the agent) and a link to someone else's file
 * where the daemon's log goes: refused, nothing followed, nothing written. */
static void
test_userns_log_not_followed(void)
{
        struct passwd pw;
        g_autofree gchar *root = NULL;
        if (g_test_subprocess()) {
                const gchar *r = g_getenv("TEST_ROOT");
                g_autoptr(LimaMount) m = NULL;
                g_autofree gchar *share = g_build_filename(r, "share", NULL);
                g_autofree gchar *sock = g_build_filename(r, "l.sock", NULL);
                g_autofree gchar *log = NULL;
                g_autofree gchar *target = g_build_filename(r, "victim", NULL);
                g_autofree gchar *victim = NULL;
                g_autoptr(LimaVirtiofsd) d = NULL;
                g_autoptr(GError) error = NULL;
                g_autoptr(GError) error2 = NULL;
                test_become((uid_t)atoi(g_getenv("TEST_UID")), (gid_t)atoi(g_getenv("TEST_GID")));
                m = test_mount_new(share, "/mnt/share", FALSE);
                log = g_strdup_printf("%s/virtiofsd-%s.stderr.log", r, m->tag);
                g_assert_cmpint(mkfifo(log, 0600), ==, 0);
                d = lima_virtiofsd_start(NULL, m, sock, r, NULL, &error);
                g_assert_null(d);
                g_assert_nonnull(strstr(error->message, "not a regular file"));
                g_assert_cmpint(g_unlink(log), ==, 0);
                g_assert_cmpint(symlink(target, log), ==, 0);
                d = lima_virtiofsd_start(NULL, m, sock, r, NULL, &error2);
                g_assert_null(d);
                g_assert_nonnull(strstr(error2->message, log));
                g_assert_true(g_file_get_contents(target, &victim, NULL, NULL));
                g_assert_cmpstr(victim, ==, "untouched");
                return;
        }
        if (!test_userns_can_run(&pw))
                return;
        root = test_owner_root(pw.pw_uid, pw.pw_gid);
        {
                g_autofree gchar *victim = g_build_filename(root, "victim", NULL);
                g_assert_true(g_file_set_contents(victim, "untouched", -1, NULL));
        }
        test_set_env(root, pw.pw_uid, pw.pw_gid);
        g_test_trap_subprocess(NULL, 20 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_INHERIT_STDERR);
        test_rm_rf(root);
        g_test_trap_assert_passed();
}

/* The attacker: the owner, polling the agent's children and taking the secret descriptor out
 * of any child that lets her (pidfd_getfd needs what ptrace needs: same uid and dumpable). */
static void G_GNUC_NORETURN
test_steal_loop(pid_t agent, int secret_fd, int report_fd, gint64 until)
{
        g_autofree gchar *children = g_strdup_printf("/proc/%d/task/%d/children", agent, agent);
        const gchar *want = "root-secret";
        pid_t self = getpid();
        while (g_get_monotonic_time() < until) {
                char buf[256];
                int cfd = open(children, O_RDONLY | O_CLOEXEC);
                ssize_t n = cfd >= 0 ? read(cfd, buf, sizeof(buf) - 1) : -1;
                if (cfd >= 0)
                        close(cfd);
                if (n <= 0)
                        continue;
                buf[n] = '\0';
                for (gchar *tok = strtok(buf, " "); tok != NULL; tok = strtok(NULL, " ")) {
                        pid_t child = (pid_t)atoi(tok);
                        int pidfd, stolen;
                        char got[32] = { 0 };
                        if (child <= 0 || child == self)
                                continue;
                        pidfd = (int)syscall(SYS_pidfd_open, child, 0);
                        if (pidfd < 0)
                                continue;
                        stolen = (int)syscall(SYS_pidfd_getfd, pidfd, secret_fd, 0);
                        close(pidfd);
                        if (stolen < 0)
                                continue;
                        if (pread(stolen, got, strlen(want), 0) == (ssize_t)strlen(want) &&
                            memcmp(got, want, strlen(want)) == 0) {
                                if (write(report_fd, "L", 1) != 1)
                                        _exit(1);
                                _exit(0);
                        }
                        close(stolen);
                }
        }
        _exit(0);
}

/* Between fork and exec the child is made dumpable (newuidmap needs that) and so is open to
 * its owner: nothing the agent holds (say, a descriptor root opened before the agent dropped
 * to the owner) may still be open in it then. */
static void
test_userns_no_fd_in_window(void)
{
        struct passwd pw;
        g_autofree gchar *root = NULL;
        g_autofree gchar *secret = NULL;
        if (g_test_subprocess()) {
                const gchar *r = g_getenv("TEST_ROOT");
                g_autofree gchar *share = g_build_filename(r, "share", NULL);
                g_autofree gchar *sock = g_build_filename(r, "f.sock", NULL);
                g_autofree gchar *path = g_build_filename(r, "root-secret", NULL);
                g_autoptr(LimaMount) m = test_mount_new(share, "/mnt/share", FALSE);
                int report[2];
                int secret_fd = open(path, O_RDONLY | O_CLOEXEC);
                char leaked = 0;
                pid_t attacker;
                g_assert_cmpint(secret_fd, >=, 0);
                test_become((uid_t)atoi(g_getenv("TEST_UID")), (gid_t)atoi(g_getenv("TEST_GID")));
                g_assert_cmpint(pipe2(report, O_CLOEXEC), ==, 0);
                attacker = fork();
                g_assert_cmpint(attacker, >=, 0);
                if (attacker == 0) {
                        pid_t agent = getppid();
                        close(secret_fd);
                        close(report[0]);
                        test_steal_loop(agent, secret_fd, report[1],
                                        g_get_monotonic_time() + 30 * G_USEC_PER_SEC);
                }
                close(report[1]);
                for (guint i = 0; i < 15; i++) {
                        g_autoptr(GError) error = NULL;
                        LimaVirtiofsd *d = lima_virtiofsd_start(NULL, m, sock, r, NULL, &error);
                        g_assert_no_error(error);
                        lima_virtiofsd_free(d);
                }
                kill(attacker, SIGKILL);
                waitpid(attacker, NULL, 0);
                g_assert_cmpint(read(report[0], &leaked, 1), ==, 0);
                return;
        }
        if (!test_userns_can_run(&pw))
                return;
        root = test_owner_root(pw.pw_uid, pw.pw_gid);
        secret = g_build_filename(root, "root-secret", NULL);
        g_assert_true(g_file_set_contents(secret, "root-secret", -1, NULL));
        g_assert_cmpint(chmod(secret, 0600), ==, 0);
        test_set_env(root, pw.pw_uid, pw.pw_gid);
        g_test_trap_subprocess(NULL, 60 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_INHERIT_STDERR);
        test_rm_rf(root);
        g_test_trap_assert_passed();
}

/* user.uid is the owner's to write: one past 32 bits is refused by name, not cut to 4242. */
static void
test_userns_guest_uid_range(void)
{
        g_autofree gchar *root = test_make_tmpdir();
        g_autofree gchar *sock = g_build_filename(root, "u.sock", NULL);
        g_autoptr(LimaMount) m = test_mount_new(root, "/mnt/share", TRUE);
        g_autoptr(LimaVirtiofsdBinary) bin = NULL;
        g_autoptr(LimaVirtiofsd) d = NULL;
        g_autoptr(GError) error = NULL;
        LimaVirtiofsdIds ids = { .guest_uid = G_GINT64_CONSTANT(4294967296) + TEST_GUEST_UID,
                                 .guest_gid = -1 };
        if (!g_file_test(C_VIRTIOFSD, G_FILE_TEST_IS_EXECUTABLE)) {
                g_test_skip(C_VIRTIOFSD " missing (tools/install-deps)");
                test_rm_rf(root);
                return;
        }
        bin = lima_virtiofsd_probe(C_VIRTIOFSD, &error);
        g_assert_no_error(error);
        d = lima_virtiofsd_start(bin, m, sock, root, &ids, &error);
        g_assert_null(d);
        g_assert_error(error, LIMA_ERROR, LIMA_ERROR_INVALID_CONFIG);
        g_assert_nonnull(strstr(error->message, "user.uid 4294971538"));
        g_assert_false(g_file_test(sock, G_FILE_TEST_EXISTS));
        test_rm_rf(root);
}

/* A user without a range (nobody): the named error with the fix, before anything is made. */
static void
test_userns_no_subuid_range(void)
{
        g_autofree gchar *root = NULL;
        struct passwd *pw;
        if (g_test_subprocess()) {
                const gchar *r = g_getenv("TEST_ROOT");
                g_autofree gchar *sock = g_build_filename(r, "n.sock", NULL);
                g_autoptr(LimaMount) m = test_mount_new(r, "/mnt/share", TRUE);
                g_autoptr(LimaVirtiofsd) d = NULL;
                g_autoptr(GError) error = NULL;
                test_become((uid_t)atoi(g_getenv("TEST_UID")), (gid_t)atoi(g_getenv("TEST_GID")));
                d = lima_virtiofsd_start(NULL, m, sock, r, NULL, &error);
                g_assert_null(d);
                g_assert_error(error, LIMA_ERROR, LIMA_ERROR_UNSUPPORTED);
                g_assert_nonnull(strstr(error->message, "/etc/subuid"));
                g_assert_nonnull(strstr(error->message, "usermod --add-subuids"));
                g_assert_nonnull(strstr(error->message, "--add-subgids"));
                g_assert_false(g_file_test(sock, G_FILE_TEST_EXISTS));
                return;
        }
        if (geteuid() != 0 || (pw = getpwnam("nobody")) == NULL ||
            !g_file_test(C_VIRTIOFSD, G_FILE_TEST_IS_EXECUTABLE)) {
                g_test_skip("needs root, the user nobody and " C_VIRTIOFSD);
                return;
        }
        if (lima_userns_subid("/etc/subuid", "nobody", pw->pw_uid, &(guint32){ 0 }, NULL)) {
                g_test_skip("nobody has a subuid range here");
                return;
        }
        root = test_make_tmpdir();
        g_assert_cmpint(chown(root, pw->pw_uid, pw->pw_gid), ==, 0);
        test_set_env(root, pw->pw_uid, pw->pw_gid);
        g_test_trap_subprocess(NULL, 20 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_INHERIT_STDERR);
        test_rm_rf(root);
        g_test_trap_assert_passed();
}

/* The subuid file: by name or uid, the first usable range; none: the named error. */
static void
test_subid_file(void)
{
        g_autofree gchar *dir = test_make_tmpdir();
        g_autofree gchar *path = g_build_filename(dir, "subuid", NULL);
        g_autofree gchar *missing = g_build_filename(dir, "none", NULL);
        g_autoptr(GError) error = NULL;
        g_autoptr(GError) error2 = NULL;
        guint32 first = 0;

        g_assert_true(g_file_set_contents(path,
                                          "# comment\nana:100000:65536\nbad line\n"
                                          "1002:165536:65536\nzoe:abc:1\nzoe:1003:1\n"
                                          "zoe:300000:0\n",
                                          -1, NULL));
        g_assert_true(lima_userns_subid(path, "ana", 1001, &first, NULL));
        g_assert_cmpuint(first, ==, 100000);
        g_assert_true(lima_userns_subid(path, "bo", 1002, &first, NULL));
        g_assert_cmpuint(first, ==, 165536);
        /* Its own uid as "range", a zero count, a bad number: no range at all. */
        g_assert_false(lima_userns_subid(path, "zoe", 1003, &first, &error));
        g_assert_error(error, LIMA_ERROR, LIMA_ERROR_UNSUPPORTED);
        g_assert_nonnull(strstr(error->message, path));
        g_assert_nonnull(strstr(error->message, "usermod --add-subuids"));
        g_assert_false(lima_userns_subid(missing, "ana", 1001, &first, &error2));
        g_assert_error(error2, LIMA_ERROR, LIMA_ERROR_UNSUPPORTED);
        test_rm_rf(dir);
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/virtiofs/subid-file", test_subid_file);
        g_test_add_func("/virtiofs/userns/owner-only", test_userns_owner_only);
        g_test_add_func("/virtiofs/userns/writable", test_userns_writable);
        g_test_add_func("/virtiofs/userns/dies-with-agent", test_userns_dies_with_agent);
        g_test_add_func("/virtiofs/userns/root-only-location", test_userns_root_only_location);
        g_test_add_func("/virtiofs/userns/log-not-followed", test_userns_log_not_followed);
        g_test_add_func("/virtiofs/userns/no-subuid-range", test_userns_no_subuid_range);
        g_test_add_func("/virtiofs/userns/no-fd-in-window", test_userns_no_fd_in_window);
        g_test_add_func("/virtiofs/userns/guest-uid-range", test_userns_guest_uid_range);
        return g_test_run();
}
