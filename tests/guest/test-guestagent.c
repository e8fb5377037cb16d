/* The real lima-guestagent binary (path in $LIMA_GUESTAGENT) against a unix socket the test
 * listens on, standing in for QEMU's end of the port, and against a pty standing in for a
 * character device: READY, PING/PONG, hostile input, INOTIFY touches, reconnecting. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lima-guest-protocol.h"

/* Generous: the sanitizer build is slow, and the agent retries once a second. */
#define TIMEOUT_MS 15000
/* 2001-09-09: far from any time a touch would set. */
#define OLD_TIME 1000000000

typedef struct {
        gchar *dir;
        gchar *socket_path;
        int listen_fd;
        int conn_fd;
        GPid pid;
        GString *input;
} Fixture;

static const gchar *
agent_path(void)
{
        const gchar *path = g_getenv("LIMA_GUESTAGENT");
        if (path == NULL)
                g_error("LIMA_GUESTAGENT is not set; run this through meson test");
        return path;
}

static GPid
agent_spawn(const gchar *port)
{
        /* The command line the cidata unit runs, so it stays accepted. */
        const gchar *argv[] = { agent_path(), "daemon", "--virtio-port", port, "--verbose", NULL };
        g_autoptr(GError) error = NULL;
        GPid pid = 0;

        g_spawn_async(NULL, (gchar **)argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL, &pid,
                      &error);
        g_assert_no_error(error);
        return pid;
}

/* Fails the test if the agent died (on hostile input, say); otherwise stops it. */
static void
agent_stop(GPid pid)
{
        int status = 0;

        g_assert_cmpint(waitpid(pid, &status, WNOHANG), ==, 0);
        g_assert_cmpint(kill(pid, SIGTERM), ==, 0);
        g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
        g_assert_true(WIFSIGNALED(status));
        g_assert_cmpint(WTERMSIG(status), ==, SIGTERM);
        g_spawn_close_pid(pid);
}

static int
listen_unix(const gchar *path)
{
        struct sockaddr_un addr = { .sun_family = AF_UNIX };
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

        g_assert_cmpint(fd, >=, 0);
        g_assert_cmpuint(strlen(path), <, sizeof(addr.sun_path));
        strcpy(addr.sun_path, path);
        g_assert_cmpint(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), ==, 0);
        g_assert_cmpint(listen(fd, 1), ==, 0);
        return fd;
}

static void
wait_readable(int fd)
{
        struct pollfd pfd = { .fd = fd, .events = POLLIN };
        int n;

        do
                n = poll(&pfd, 1, TIMEOUT_MS);
        while (n < 0 && errno == EINTR);
        if (n == 0)
                g_error("nothing from the agent in %d ms", TIMEOUT_MS);
        g_assert_cmpint(n, ==, 1);
}

static int
accept_agent(int listen_fd)
{
        int fd;

        wait_readable(listen_fd);
        fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
        g_assert_cmpint(fd, >=, 0);
        return fd;
}

/* The next line from the agent, without its '\n'; NULL at EOF. */
static gchar *
read_line(int fd, GString *input)
{
        for (;;) {
                const gchar *newline = memchr(input->str, '\n', input->len);
                gchar chunk[4096];
                gssize n;

                if (newline != NULL) {
                        gsize len = (gsize)(newline - input->str);
                        gchar *line = g_strndup(input->str, len);
                        g_string_erase(input, 0, (gssize)len + 1);
                        return line;
                }
                wait_readable(fd);
                n = read(fd, chunk, sizeof(chunk));
                if (n < 0 && (errno == EINTR || errno == EAGAIN))
                        continue;
                if (n <= 0)
                        return NULL;
                g_string_append_len(input, chunk, n);
        }
}

static void
send_bytes(int fd, const gchar *data, gsize len)
{
        while (len > 0) {
                gssize n = write(fd, data, len);
                if (n < 0 && errno == EINTR)
                        continue;
                g_assert_cmpint(n, >, 0);
                data += n;
                len -= (gsize)n;
        }
}

static void
send_str(int fd, const gchar *s)
{
        send_bytes(fd, s, strlen(s));
}

static gchar *
read_boot_id(void)
{
        g_autofree gchar *contents = NULL;

        if (!g_file_get_contents("/proc/sys/kernel/random/boot_id", &contents, NULL, NULL))
                return g_strdup("unknown");
        return g_strdup(g_strstrip(contents));
}

static void
expect_ready(int fd, GString *input)
{
        g_autofree gchar *line = read_line(fd, input);
        g_autofree gchar *boot_id = read_boot_id();
        LimaGuestMessage msg;

        g_assert_nonnull(line);
        g_assert_cmpint(lima_guest_message_parse(line, &msg), ==, 0);
        g_assert_cmpint(msg.type, ==, LIMA_GUEST_MESSAGE_READY);
        g_assert_cmpuint(msg.version, ==, LIMA_GUEST_PROTOCOL_VERSION);
        g_assert_cmpstr(msg.boot_id, ==, boot_id);
}

/* PING, and the very next line must be its PONG: nothing else may have been sent. It also
 * means every message sent before has been handled. */
static void
expect_ping_pong(int fd, GString *input, const gchar *token)
{
        g_autofree gchar *ping = g_strdup_printf("PING %s\n", token);
        g_autofree gchar *pong = g_strdup_printf("PONG %s", token);
        g_autofree gchar *line = NULL;

        send_str(fd, ping);
        line = read_line(fd, input);
        g_assert_cmpstr(line, ==, pong);
}

static void
fixture_setup(Fixture *f, gconstpointer data)
{
        g_autoptr(GError) error = NULL;

        f->dir = g_dir_make_tmp("test-guestagent-XXXXXX", &error);
        g_assert_no_error(error);
        f->socket_path = g_build_filename(f->dir, LIMA_GUEST_HOST_SOCKET, NULL);
        f->listen_fd = listen_unix(f->socket_path);
        f->input = g_string_new(NULL);
        f->pid = agent_spawn(f->socket_path);
        f->conn_fd = accept_agent(f->listen_fd);
        expect_ready(f->conn_fd, f->input);
}

static void
remove_tree(const gchar *path)
{
        g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
        const gchar *name;

        while (dir != NULL && (name = g_dir_read_name(dir)) != NULL) {
                g_autofree gchar *child = g_build_filename(path, name, NULL);
                if (g_file_test(child, G_FILE_TEST_IS_DIR) &&
                    !g_file_test(child, G_FILE_TEST_IS_SYMLINK))
                        remove_tree(child);
                else
                        g_unlink(child);
        }
        g_rmdir(path);
}

static void
fixture_teardown(Fixture *f, gconstpointer data)
{
        agent_stop(f->pid);
        if (f->conn_fd >= 0)
                close(f->conn_fd);
        close(f->listen_fd);
        remove_tree(f->dir);
        g_free(f->socket_path);
        g_free(f->dir);
        g_string_free(f->input, TRUE);
}

static void
test_help(void)
{
        const gchar *help_argv[] = { agent_path(), "--help", NULL };
        const gchar *bad_argv[][3] = { { agent_path(), "--bogus", NULL },
                                       { agent_path(), "stray", NULL },
                                       { agent_path(), "--port=", NULL } };
        g_autofree gchar *out = NULL;
        g_autoptr(GError) error = NULL;
        gint status = 0;

        g_spawn_sync(NULL, (gchar **)help_argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, NULL,
                     &status, &error);
        g_assert_no_error(error);
        g_assert_true(g_spawn_check_wait_status(status, NULL));
        g_assert_nonnull(strstr(out, "Usage: lima-guestagent"));
        g_assert_nonnull(strstr(out, "--port PATH"));
        g_assert_nonnull(strstr(out, LIMA_GUEST_PORT_DEVICE));
        g_assert_nonnull(strstr(out, "unix socket"));

        for (guint i = 0; i < G_N_ELEMENTS(bad_argv); i++) {
                g_spawn_sync(NULL, (gchar **)bad_argv[i], NULL,
                             G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL,
                             NULL, NULL, &status, &error);
                g_assert_no_error(error);
                g_assert_true(WIFEXITED(status));
                g_assert_cmpint(WEXITSTATUS(status), ==, 2);
        }
}

static void
test_ping_pong(Fixture *f, gconstpointer data)
{
        g_autofree gchar *x = NULL;
        g_autofree gchar *y = NULL;
        g_autofree gchar *z = NULL;

        expect_ping_pong(f->conn_fd, f->input, "1");
        expect_ping_pong(f->conn_fd, f->input, "a-B.c_9");
        /* Two in one write, and one split across writes: answered in order. */
        send_str(f->conn_fd, "PING x\nPING y\nPI");
        x = read_line(f->conn_fd, f->input);
        y = read_line(f->conn_fd, f->input);
        g_assert_cmpstr(x, ==, "PONG x");
        g_assert_cmpstr(y, ==, "PONG y");
        g_usleep(100 * G_TIME_SPAN_MILLISECOND);
        send_str(f->conn_fd, "NG z\n");
        z = read_line(f->conn_fd, f->input);
        g_assert_cmpstr(z, ==, "PONG z");
}

static void
test_hostile_input(Fixture *f, gconstpointer data)
{
        g_autofree gchar *overlong = g_strnfill(3 * LIMA_GUEST_LINE_MAX, 'A');
        static const gchar nul_line[] = "PI\0NG x\nPING a\0b\n";
        const gchar *junk[] = {
                "\n",
                "garbage\n",
                "PING\n",
                "PING a b\n",
                "PING tok\r\n",
                "READY 1 fake\n",
                "PONG 1\n",
                "INOTIFY MODIFY relative\n",
                "INOTIFY MODIFY /a%zz\n",
                "INOTIFY MODIFY /a%00b\n",
                "INOTIFY BOGUS /tmp\n",
                "\xff\xfe\x01\x02\n",
        };

        for (guint i = 0; i < G_N_ELEMENTS(junk); i++)
                send_str(f->conn_fd, junk[i]);
        send_bytes(f->conn_fd, nul_line, sizeof(nul_line) - 1);
        /* An overlong line, even one that starts like a PING, is dropped up to its newline. */
        send_str(f->conn_fd, "PING ");
        send_str(f->conn_fd, overlong);
        send_str(f->conn_fd, "\n");
        expect_ping_pong(f->conn_fd, f->input, "after-junk");

        /* Overlong with no newline yet: the PING inside it is part of the dropped line. */
        send_str(f->conn_fd, overlong);
        send_str(f->conn_fd, "PING swallowed\n");
        expect_ping_pong(f->conn_fd, f->input, "still-alive");
}

static void
set_old_times(const gchar *path)
{
        struct timespec times[2] = { { .tv_sec = OLD_TIME }, { .tv_sec = OLD_TIME } };
        g_assert_cmpint(utimensat(AT_FDCWD, path, times, AT_SYMLINK_NOFOLLOW), ==, 0);
}

static time_t
mtime_of(const gchar *path)
{
        struct stat st;
        g_assert_cmpint(lstat(path, &st), ==, 0);
        return st.st_mtime;
}

static void
send_inotify(int fd, LimaGuestInotifyEvent event, const gchar *path)
{
        LimaGuestMessage msg = { .type = LIMA_GUEST_MESSAGE_INOTIFY, .event = event };
        gchar line[LIMA_GUEST_LINE_MAX + 1];

        g_strlcpy(msg.path, path, sizeof(msg.path));
        g_assert_cmpint(lima_guest_message_format(&msg, line, sizeof(line)), >, 0);
        send_str(fd, line);
}

static void
test_inotify_touches(Fixture *f, gconstpointer data)
{
        /* Spaces, a newline, a '%' and non-ASCII: all must survive the encoding. */
        g_autofree gchar *file = g_build_filename(f->dir, "a b\nc %41 caf\xc3\xa9.txt", NULL);
        g_autofree gchar *created = g_build_filename(f->dir, "created", NULL);
        g_autofree gchar *subdir = g_build_filename(f->dir, "sub dir", NULL);
        g_autofree gchar *gone = g_build_filename(subdir, "gone", NULL);
        g_autofree gchar *target = g_build_filename(f->dir, "target", NULL);
        g_autofree gchar *link = g_build_filename(f->dir, "link", NULL);
        g_autofree gchar *missing = g_build_filename(f->dir, "missing", NULL);
        time_t before = time(NULL);

        g_assert_true(g_file_set_contents(file, "x", -1, NULL));
        g_assert_true(g_file_set_contents(created, "x", -1, NULL));
        g_assert_true(g_file_set_contents(target, "x", -1, NULL));
        g_assert_cmpint(g_mkdir(subdir, 0755), ==, 0);
        g_assert_cmpint(symlink(target, link), ==, 0);
        set_old_times(file);
        set_old_times(created);
        set_old_times(subdir);
        set_old_times(target);
        set_old_times(link);

        send_inotify(f->conn_fd, LIMA_GUEST_INOTIFY_MODIFY, file);
        send_inotify(f->conn_fd, LIMA_GUEST_INOTIFY_CREATE, created);
        /* DELETE touches the directory the file was in. */
        send_inotify(f->conn_fd, LIMA_GUEST_INOTIFY_DELETE, gone);
        /* ATTRIB on a symlink touches the link, not what it points to. */
        send_inotify(f->conn_fd, LIMA_GUEST_INOTIFY_ATTRIB, link);
        /* A path that is already gone is skipped. */
        send_inotify(f->conn_fd, LIMA_GUEST_INOTIFY_MODIFY, missing);
        expect_ping_pong(f->conn_fd, f->input, "applied");

        g_assert_cmpint(mtime_of(file), >=, before - 1);
        g_assert_cmpint(mtime_of(created), >=, before - 1);
        g_assert_cmpint(mtime_of(subdir), >=, before - 1);
        g_assert_cmpint(mtime_of(link), >=, before - 1);
        g_assert_cmpint(mtime_of(target), ==, OLD_TIME);
        g_assert_false(g_file_test(missing, G_FILE_TEST_EXISTS));
}

/* The inotify events name in f->dir reported to a watcher there, or'ed together. */
static guint32
events_for(const gchar *buf, gssize len, const gchar *name)
{
        guint32 mask = 0;

        for (const gchar *p = buf; p < buf + len;) {
                const struct inotify_event *ev = (const struct inotify_event *)p;
                if (g_strcmp0(ev->len > 0 ? ev->name : "", name) == 0)
                        mask |= ev->mask;
                p += sizeof(*ev) + ev->len;
        }
        return mask;
}

/* What a program watching the directory in the guest sees: IN_ATTRIB for every event, and
 * IN_CLOSE_WRITE for a changed or new file; never IN_MODIFY (its echo would look like a real
 * write on the host). */
static void
test_inotify_events(Fixture *f, gconstpointer data)
{
        g_autofree gchar *file = g_build_filename(f->dir, "changed", NULL);
        g_autofree gchar *created = g_build_filename(f->dir, "created", NULL);
        g_autofree gchar *subdir = g_build_filename(f->dir, "sub", NULL);
        g_autofree gchar *gone = g_build_filename(subdir, "gone", NULL);
        g_autofree gchar *fifo = g_build_filename(f->dir, "fifo", NULL);
        gchar buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
        int ifd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
        gssize len;

        g_assert_true(g_file_set_contents(file, "data", -1, NULL));
        g_assert_true(g_file_set_contents(created, "", -1, NULL));
        g_assert_cmpint(g_mkdir(subdir, 0755), ==, 0);
        g_assert_cmpint(mkfifo(fifo, 0644), ==, 0);
        g_assert_cmpint(inotify_add_watch(ifd, f->dir, IN_ALL_EVENTS), >=, 0);

        send_inotify(f->conn_fd, LIMA_GUEST_INOTIFY_MODIFY, file);
        send_inotify(f->conn_fd, LIMA_GUEST_INOTIFY_CREATE, created);
        send_inotify(f->conn_fd, LIMA_GUEST_INOTIFY_DELETE, gone);
        /* A FIFO is touched, never opened: that would block the agent. */
        send_inotify(f->conn_fd, LIMA_GUEST_INOTIFY_MODIFY, fifo);
        expect_ping_pong(f->conn_fd, f->input, "applied");

        len = read(ifd, buf, sizeof(buf));
        g_assert_cmpint(len, >, 0);
        g_assert_cmphex(events_for(buf, len, "changed"), ==, IN_ATTRIB | IN_OPEN | IN_CLOSE_WRITE);
        g_assert_cmphex(events_for(buf, len, "created"), ==, IN_ATTRIB | IN_OPEN | IN_CLOSE_WRITE);
        g_assert_cmphex(events_for(buf, len, "sub"), ==, IN_ATTRIB | IN_ISDIR);
        g_assert_cmphex(events_for(buf, len, "fifo"), ==, IN_ATTRIB);
        /* Nothing was written. */
        {
                g_autofree gchar *text = NULL;
                g_assert_true(g_file_get_contents(file, &text, NULL, NULL));
                g_assert_cmpstr(text, ==, "data");
        }
        close(ifd);
}

static void
test_reconnect(Fixture *f, gconstpointer data)
{
        /* The host going away and coming back gets a fresh READY. */
        for (guint i = 0; i < 2; i++) {
                close(f->conn_fd);
                g_string_truncate(f->input, 0);
                f->conn_fd = accept_agent(f->listen_fd);
                expect_ready(f->conn_fd, f->input);
                expect_ping_pong(f->conn_fd, f->input, "again");
        }
        /* Leaving in the middle of a line: the next session does not see its rest. */
        send_str(f->conn_fd, "PING half");
        close(f->conn_fd);
        g_string_truncate(f->input, 0);
        f->conn_fd = accept_agent(f->listen_fd);
        expect_ready(f->conn_fd, f->input);
        send_str(f->conn_fd, "\n");
        expect_ping_pong(f->conn_fd, f->input, "fresh");
}

static void
test_waits_for_port(void)
{
        g_autoptr(GError) error = NULL;
        g_autofree gchar *dir = g_dir_make_tmp("test-guestagent-XXXXXX", &error);
        g_autofree gchar *path = g_build_filename(dir, LIMA_GUEST_HOST_SOCKET, NULL);
        g_autoptr(GString) input = g_string_new(NULL);
        GPid pid;
        int listen_fd, fd;

        g_assert_no_error(error);
        /* Started before the port exists, as at boot before the host connects. */
        pid = agent_spawn(path);
        g_usleep(1500 * G_TIME_SPAN_MILLISECOND);
        listen_fd = listen_unix(path);
        fd = accept_agent(listen_fd);
        expect_ready(fd, input);
        expect_ping_pong(fd, input, "late");

        agent_stop(pid);
        close(fd);
        close(listen_fd);
        g_unlink(path);
        g_rmdir(dir);
}

/* The next report line, skipping "BOOT sshd ok": whether this machine runs an sshd on port
 * 22 is not the test's business. */
static gchar *
read_report(int fd, GString *input)
{
        for (;;) {
                gchar *line = read_line(fd, input);
                if (line == NULL || !g_str_equal(line, "BOOT sshd ok"))
                        return line;
                g_free(line);
        }
}

/* The native route with a seed whose plan is bad: the agent reports "plan failed", replays it
 * to a host that reconnects, and keeps answering as the daemon does; nothing else is done. */
static void
test_boot_bad_plan(void)
{
        g_autoptr(GError) error = NULL;
        g_autofree gchar *dir = g_dir_make_tmp("test-guestagent-XXXXXX", &error);
        g_autofree gchar *path = g_build_filename(dir, LIMA_GUEST_HOST_SOCKET, NULL);
        g_autofree gchar *plan = g_build_filename(dir, "lima-boot-plan", NULL);
        g_autoptr(GString) input = g_string_new(NULL);
        const gchar *argv[] = { agent_path(), "boot", "--seed", dir, "--port", path, NULL };
        GPid pid = 0;
        int listen_fd, fd;

        g_assert_no_error(error);
        g_file_set_contents(plan, "LIMAD-BOOT-PLAN 1\nUSER a 1 /h /bin/sh\nRUN rm -rf /\n", -1,
                            &error);
        g_assert_no_error(error);
        listen_fd = listen_unix(path);
        g_spawn_async(NULL, (gchar **)argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL, &pid,
                      &error);
        g_assert_no_error(error);
        for (guint i = 0; i < 2; i++) {
                g_autofree gchar *line = NULL;
                LimaGuestMessage msg;

                fd = accept_agent(listen_fd);
                g_string_truncate(input, 0);
                expect_ready(fd, input);
                line = read_report(fd, input);
                g_assert_nonnull(line);
                g_assert_cmpint(lima_guest_message_parse(line, &msg), ==, 0);
                g_assert_cmpint(msg.type, ==, LIMA_GUEST_MESSAGE_BOOT);
                g_assert_cmpint(msg.phase, ==, LIMA_GUEST_BOOT_PLAN);
                g_assert_false(msg.ok);
                g_assert_nonnull(strstr(msg.reason, "line 3"));
                expect_ping_pong(fd, input, "after-plan");
                close(fd);
        }
        agent_stop(pid);
        close(listen_fd);
        g_unlink(path);
        g_unlink(plan);
        g_rmdir(dir);
}

static void
test_boot_needs_seed(void)
{
        const gchar *argv[] = { agent_path(), "boot", NULL };
        const gchar *argv2[] = { agent_path(), "--seed", "/x", NULL };
        g_autofree gchar *err = NULL;
        gint status = 0;

        g_spawn_sync(NULL, (gchar **)argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, NULL, &err, &status,
                     NULL);
        g_assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 2);
        g_assert_nonnull(strstr(err, "--seed"));
        g_spawn_sync(NULL, (gchar **)argv2, NULL, G_SPAWN_DEFAULT, NULL, NULL, NULL, NULL, &status,
                     NULL);
        g_assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 2);
}

/* A pty is a character device like the virtio port; the agent puts it in raw mode, or the
 * line discipline would echo the host's lines back. */
static void
test_character_device(void)
{
        g_autoptr(GString) input = g_string_new(NULL);
        int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
        const gchar *slave;
        GPid pid;

        g_assert_cmpint(master, >=, 0);
        g_assert_cmpint(grantpt(master), ==, 0);
        g_assert_cmpint(unlockpt(master), ==, 0);
        slave = ptsname(master);
        g_assert_nonnull(slave);

        pid = agent_spawn(slave);
        expect_ready(master, input);
        expect_ping_pong(master, input, "tty");
        send_str(master, "INOTIFY MODIFY /nonexistent%0Apath\n");
        expect_ping_pong(master, input, "tty-2");

        agent_stop(pid);
        close(master);
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        /* A dead peer must fail a write, not kill the test. */
        signal(SIGPIPE, SIG_IGN);

        g_test_add_func("/guestagent/help", test_help);
        g_test_add("/guestagent/socket/ping-pong", Fixture, NULL, fixture_setup, test_ping_pong,
                   fixture_teardown);
        g_test_add("/guestagent/socket/hostile-input", Fixture, NULL, fixture_setup,
                   test_hostile_input, fixture_teardown);
        g_test_add("/guestagent/socket/inotify", Fixture, NULL, fixture_setup, test_inotify_touches,
                   fixture_teardown);
        g_test_add("/guestagent/socket/inotify-events", Fixture, NULL, fixture_setup,
                   test_inotify_events, fixture_teardown);
        g_test_add("/guestagent/socket/reconnect", Fixture, NULL, fixture_setup, test_reconnect,
                   fixture_teardown);
        g_test_add_func("/guestagent/socket/waits-for-port", test_waits_for_port);
        g_test_add_func("/guestagent/character-device", test_character_device);
        g_test_add_func("/guestagent/boot/bad-plan", test_boot_bad_plan);
        g_test_add_func("/guestagent/boot/needs-seed", test_boot_needs_seed);
        return g_test_run();
}
