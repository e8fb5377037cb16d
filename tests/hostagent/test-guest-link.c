/* The host end of the guest agent channel against a fake ga.sock (a unix listener in the
 * test, standing in for QEMU): the session start, the exact INOTIFY lines, reconnecting, the
 * bounded queue, the keepalive, and host file events end to end. */
#define _GNU_SOURCE
#include <errno.h>
#include <glib/gstdio.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "lima-guest-link.h"
#include "lima-mount-inotify.h"

typedef struct {
        sd_event *event;
        gchar *dir;
        gchar *path;
        int listen_fd;
        int conn_fd;
        GString *input; /* what the fake server read and has not consumed */
        LimaGuestLink *link;
        guint up_calls;
        gchar *up_boot_id;
} Fixture;

static void
on_up(LimaGuestLink *link, const gchar *boot_id, gpointer user_data)
{
        Fixture *f = user_data;

        f->up_calls++;
        g_free(f->up_boot_id);
        f->up_boot_id = g_strdup(boot_id);
}

static int
listen_at(const gchar *path)
{
        struct sockaddr_un addr = { .sun_family = AF_UNIX };
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

        g_assert_cmpint(fd, >=, 0);
        g_strlcpy(addr.sun_path, path, sizeof(addr.sun_path));
        g_assert_cmpint(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), ==, 0);
        g_assert_cmpint(listen(fd, 4), ==, 0);
        return fd;
}

static void
fixture_setup(Fixture *f, gconstpointer data)
{
        g_autoptr(GError) error = NULL;

        g_assert_cmpint(sd_event_new(&f->event), >=, 0);
        f->dir = g_dir_make_tmp("limad-ga-XXXXXX", &error);
        g_assert_no_error(error);
        f->path = g_build_filename(f->dir, "ga.sock", NULL);
        f->listen_fd = listen_at(f->path);
        f->conn_fd = -1;
        f->input = g_string_new(NULL);
        f->link = lima_guest_link_new(f->event, f->path, on_up, f);
}

static void
fixture_teardown(Fixture *f, gconstpointer data)
{
        g_clear_pointer(&f->link, lima_guest_link_free);
        if (f->conn_fd >= 0)
                close(f->conn_fd);
        if (f->listen_fd >= 0)
                close(f->listen_fd);
        g_unlink(f->path);
        g_rmdir(f->dir);
        g_free(f->path);
        g_free(f->dir);
        g_free(f->up_boot_id);
        g_string_free(f->input, TRUE);
        sd_event_unref(f->event);
}

static void
run_once(Fixture *f)
{
        g_assert_cmpint(sd_event_run(f->event, 10 * 1000), >=, 0);
}

/* Runs the loop until the fake server has a connection. */
static void
accept_link(Fixture *f)
{
        gint64 end = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;

        if (f->conn_fd >= 0)
                close(f->conn_fd);
        g_string_truncate(f->input, 0);
        do {
                run_once(f);
                f->conn_fd = accept4(f->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        } while (f->conn_fd < 0 && errno == EAGAIN && g_get_monotonic_time() < end);
        g_assert_cmpint(f->conn_fd, >=, 0);
}

/* Runs the loop until the fake server has read one whole line; returns it with its '\n'. */
static gchar *
read_line(Fixture *f)
{
        gint64 end = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
        const gchar *newline;
        gchar *line;

        while ((newline = strchr(f->input->str, '\n')) == NULL) {
                gchar buf[8192];
                ssize_t n;

                g_assert_cmpint(g_get_monotonic_time(), <, end);
                run_once(f);
                n = recv(f->conn_fd, buf, sizeof(buf), 0);
                if (n < 0 && errno == EAGAIN)
                        continue;
                g_assert_cmpint(n, >, 0);
                g_string_append_len(f->input, buf, n);
        }
        line = g_strndup(f->input->str, (gsize)(newline - f->input->str) + 1);
        g_string_erase(f->input, 0, newline - f->input->str + 1);
        return line;
}

static void
expect_line(Fixture *f, const gchar *want)
{
        g_autofree gchar *line = read_line(f);

        g_assert_cmpstr(line, ==, want);
}

static void
server_send(Fixture *f, const gchar *text)
{
        g_assert_cmpint(send(f->conn_fd, text, strlen(text), MSG_NOSIGNAL), ==,
                        (ssize_t)strlen(text));
}

static void
run_until_up_calls(Fixture *f, guint n)
{
        gint64 end = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;

        while (f->up_calls < n && g_get_monotonic_time() < end)
                run_once(f);
        g_assert_cmpuint(f->up_calls, ==, n);
}

/* A session begins with an empty line and a PING; READY makes the link up. */
static void
start_session(Fixture *f, const gchar *ping)
{
        accept_link(f);
        expect_line(f, "\n");
        expect_line(f, ping);
}

static void
test_session(Fixture *f, gconstpointer data)
{
        lima_guest_link_start(f->link, 50);
        start_session(f, "PING p1\n");
        g_assert_true(lima_guest_link_is_connected(f->link));
        g_assert_false(lima_guest_link_is_up(f->link));
        server_send(f, "READY 1 boot-1\n");
        run_until_up_calls(f, 1);
        g_assert_cmpstr(f->up_boot_id, ==, "boot-1");
        g_assert_true(lima_guest_link_is_up(f->link));

        g_assert_true(
            lima_guest_link_send_inotify(f->link, LIMA_GUEST_INOTIFY_MODIFY, "/mnt/a b/c%d"));
        g_assert_true(
            lima_guest_link_send_inotify(f->link, LIMA_GUEST_INOTIFY_CREATE, "/mnt/caf\xc3\xa9"));
        g_assert_true(
            lima_guest_link_send_inotify(f->link, LIMA_GUEST_INOTIFY_DELETE, "/mnt/x\ny"));
        g_assert_true(lima_guest_link_send_inotify(f->link, LIMA_GUEST_INOTIFY_ATTRIB, "/"));
        expect_line(f, "INOTIFY MODIFY /mnt/a%20b/c%25d\n");
        expect_line(f, "INOTIFY CREATE /mnt/caf%C3%A9\n");
        expect_line(f, "INOTIFY DELETE /mnt/x%0Ay\n");
        expect_line(f, "INOTIFY ATTRIB /\n");

        /* Junk and stray PONGs change nothing; a guest reboot is a new READY. */
        g_test_expect_message("limad", G_LOG_LEVEL_WARNING, "*malformed line of 7 bytes*");
        g_test_expect_message("limad", G_LOG_LEVEL_WARNING, "*host-to-guest message*");
        server_send(f, "PONG nobody-asked\nGARBAGE\nINOTIFY MODIFY /x\n");
        server_send(f, "READY 1 boot-2\n");
        run_until_up_calls(f, 2);
        g_test_assert_expected_messages();
        g_assert_cmpstr(lima_guest_link_boot_id(f->link), ==, "boot-2");
        g_assert_cmpuint(lima_guest_link_dropped(f->link), ==, 0);
}

static void
test_reconnect(Fixture *f, gconstpointer data)
{
        lima_guest_link_start(f->link, 50);
        start_session(f, "PING p1\n");
        /* An agent already up owes no READY: its PONG is enough. */
        server_send(f, "PONG p1\n");
        run_until_up_calls(f, 1);
        g_assert_cmpstr(f->up_boot_id, ==, "unknown");

        /* QEMU closes the connection: the link comes back by itself. */
        close(f->conn_fd);
        f->conn_fd = -1;
        start_session(f, "PING p2\n");
        g_assert_false(lima_guest_link_is_up(f->link));
        server_send(f, "READY 1 boot-9\n");
        run_until_up_calls(f, 2);

        /* The socket gone altogether (QEMU restarted): retried until it is back. */
        close(f->conn_fd);
        f->conn_fd = -1;
        close(f->listen_fd);
        g_unlink(f->path);
        for (guint i = 0; i < 20; i++)
                run_once(f);
        g_assert_false(lima_guest_link_is_connected(f->link));
        g_assert_false(lima_guest_link_send_inotify(f->link, LIMA_GUEST_INOTIFY_MODIFY, "/a"));
        g_assert_cmpuint(lima_guest_link_dropped(f->link), ==, 1);
        f->listen_fd = listen_at(f->path);
        g_test_expect_message("limad", G_LOG_LEVEL_MESSAGE, "*connected to*");
        g_test_expect_message("limad", G_LOG_LEVEL_WARNING, "*1 line(s) dropped so far*");
        start_session(f, "PING p3\n");
        g_test_assert_expected_messages();
        g_assert_true(lima_guest_link_send_inotify(f->link, LIMA_GUEST_INOTIFY_MODIFY, "/b"));
        expect_line(f, "INOTIFY MODIFY /b\n");
}

static void
test_bounded_queue(Fixture *f, gconstpointer data)
{
        g_autofree gchar *path = g_strnfill(3000, 'p');
        gint64 start;
        guint accepted = 0, received = 0;

        path[0] = '/';
        lima_guest_link_start(f->link, 50);
        accept_link(f);
        /* The fake QEMU reads nothing: the socket fills, then the queue, then lines drop;
         * the loop never blocks. */
        start = g_get_monotonic_time();
        for (guint i = 0; i < 5000; i++)
                if (lima_guest_link_send_inotify(f->link, LIMA_GUEST_INOTIFY_MODIFY, path))
                        accepted++;
        g_assert_cmpint(g_get_monotonic_time() - start, <, 5 * G_USEC_PER_SEC);
        g_assert_cmpuint(accepted, <, 5000);
        g_assert_cmpuint(accepted, >=, LIMA_GUEST_LINK_QUEUE_MAX);
        g_assert_cmpuint(lima_guest_link_dropped(f->link), ==, 5000 - accepted);
        /* Everything accepted arrives, whole, once the reader catches up; the drops are
         * logged once the queue is empty again. */
        g_test_expect_message("limad", G_LOG_LEVEL_WARNING, "*line(s) dropped so far*");
        expect_line(f, "\n");
        expect_line(f, "PING p1\n");
        while (received < accepted) {
                g_autofree gchar *line = read_line(f);
                g_assert_true(g_str_has_prefix(line, "INOTIFY MODIFY /ppp"));
                g_assert_cmpuint(strlen(line), ==, strlen("INOTIFY MODIFY ") + 3000 + 1);
                received++;
        }
        g_assert_cmpuint(f->input->len, ==, 0);
        g_test_assert_expected_messages();
}

static void
test_keepalive(Fixture *f, gconstpointer data)
{
        gint64 end;

        lima_guest_link_start(f->link, 50);
        start_session(f, "PING p1\n");
        server_send(f, "PONG p1\n");
        run_until_up_calls(f, 1);
        lima_guest_link_set_keepalive(f->link, 100);
        /* Unanswered PINGs: the agent counts as down, though the socket stays. */
        expect_line(f, "PING p2\n");
        expect_line(f, "PING p3\n");
        end = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
        while (lima_guest_link_is_up(f->link) && g_get_monotonic_time() < end)
                run_once(f);
        g_assert_false(lima_guest_link_is_up(f->link));
        g_assert_true(lima_guest_link_is_connected(f->link));
        /* An answer to a later PING brings it back. */
        {
                g_autofree gchar *ping = read_line(f);
                g_autofree gchar *pong = NULL;
                g_assert_true(g_str_has_prefix(ping, "PING p"));
                pong = g_strconcat("PONG", ping + 4, NULL);
                server_send(f, pong);
        }
        run_until_up_calls(f, 2);
}

static void
on_watch_event(LimaGuestInotifyEvent event, const gchar *guest_path, gpointer user_data)
{
        Fixture *f = user_data;

        lima_guest_link_send_inotify(f->link, event, guest_path);
}

static void
on_watch_warning(const gchar *location, const gchar *message, gpointer user_data)
{
        g_error("unexpected warning for %s: %s", location, message);
}

/* What the host agent does with mountInotify: a host write becomes INOTIFY lines on ga.sock,
 * under the guest's path. */
static void
test_watcher_to_socket(Fixture *f, gconstpointer data)
{
        g_autoptr(GError) error = NULL;
        g_autofree gchar *tree = g_dir_make_tmp("limad-ga-tree-XXXXXX", &error);
        g_autofree gchar *file = NULL;
        g_autofree gchar *sub = NULL;
        g_autoptr(LimaMountInotify) w = NULL;

        g_assert_no_error(error);
        w = lima_mount_inotify_new(f->event, LIMA_MOUNT_INOTIFY_FOLD_MS, on_watch_event,
                                   on_watch_warning, f, &error);
        g_assert_no_error(error);
        g_assert_true(lima_mount_inotify_add(w, tree, "/home/user.linux/proj", &error));
        g_assert_no_error(error);
        lima_guest_link_start(f->link, 50);
        start_session(f, "PING p1\n");
        while (lima_mount_inotify_is_scanning(w))
                run_once(f);

        file = g_build_filename(tree, "new file.txt", NULL);
        g_assert_true(g_file_set_contents(file, "hello", -1, NULL));
        /* g_file_set_contents writes a temporary file and renames it into place. */
        {
                gboolean seen = FALSE;
                while (!seen) {
                        g_autofree gchar *line = read_line(f);
                        g_assert_true(g_str_has_prefix(line, "INOTIFY "));
                        g_assert_true(strstr(line, " /home/user.linux/proj/") != NULL);
                        seen = g_str_equal(line,
                                           "INOTIFY CREATE /home/user.linux/proj/new%20file.txt\n");
                }
        }
        sub = g_build_filename(tree, "sub", NULL);
        g_assert_cmpint(g_mkdir(sub, 0755), ==, 0);
        expect_line(f, "INOTIFY CREATE /home/user.linux/proj/sub\n");
        g_assert_cmpint(g_unlink(file), ==, 0);
        expect_line(f, "INOTIFY DELETE /home/user.linux/proj/new%20file.txt\n");
        g_assert_cmpint(g_rmdir(sub), ==, 0);
        expect_line(f, "INOTIFY DELETE /home/user.linux/proj/sub\n");
        g_clear_pointer(&w, lima_mount_inotify_free);
        g_assert_cmpint(g_rmdir(tree), ==, 0);
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add("/guest-link/session", Fixture, NULL, fixture_setup, test_session,
                   fixture_teardown);
        g_test_add("/guest-link/reconnect", Fixture, NULL, fixture_setup, test_reconnect,
                   fixture_teardown);
        g_test_add("/guest-link/bounded-queue", Fixture, NULL, fixture_setup, test_bounded_queue,
                   fixture_teardown);
        g_test_add("/guest-link/keepalive", Fixture, NULL, fixture_setup, test_keepalive,
                   fixture_teardown);
        g_test_add("/guest-link/watcher-to-socket", Fixture, NULL, fixture_setup,
                   test_watcher_to_socket, fixture_teardown);
        return g_test_run();
}
