/* mountInotify end to end without a VM: the watcher and the guest link of the host agent,
 * the real lima-guestagent ($LIMA_GUESTAGENT), and a relay standing in for QEMU's
 * virtio-serial port between them. The "mount" maps a directory to itself, so the agent's
 * touches land in the watched tree and come back as host events, as they do through a real
 * mount: the test sees what a guest watcher sees, and that nothing bounces. */
#define _GNU_SOURCE
#include <errno.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lima-guest-link.h"
#include "lima-mount-inotify.h"

typedef struct _Relay Relay;

/* One side of the fake port: a listener and the connection it accepted. */
typedef struct {
        Relay *relay;
        int listen_fd;
        int fd;
        sd_event_source *accept_source;
        sd_event_source *io_source;
        GString *pending; /* bytes for this side that came before it connected */
} RelayEnd;

struct _Relay {
        RelayEnd host;
        RelayEnd guest;
};

typedef struct {
        sd_event *event;
        gchar *dir;
        gchar *tree;
        Relay relay;
        LimaGuestLink *link;
        LimaMountInotify *w;
        GPid agent_pid;
        int observer; /* an inotify watch on the tree: what a guest watcher would see */
        guint sent;   /* INOTIFY messages the host side sent */
        gboolean up;
} Fixture;

static void
write_all(int fd, const gchar *data, gsize len)
{
        while (len > 0) {
                ssize_t n = write(fd, data, len);
                if (n < 0 && errno == EINTR)
                        continue;
                g_assert_cmpint(n, >, 0);
                data += n;
                len -= (gsize)n;
        }
}

static RelayEnd *
relay_other(RelayEnd *end)
{
        return end == &end->relay->host ? &end->relay->guest : &end->relay->host;
}

static int
relay_on_data(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        RelayEnd *end = userdata;
        RelayEnd *other = relay_other(end);
        gchar buf[8192];
        ssize_t n = read(fd, buf, sizeof(buf));

        if (n <= 0) {
                end->io_source = sd_event_source_disable_unref(end->io_source);
                return 0;
        }
        if (other->fd >= 0)
                write_all(other->fd, buf, (gsize)n);
        else
                g_string_append_len(other->pending, buf, n);
        return 0;
}

static int
relay_on_accept(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        RelayEnd *end = userdata;
        int conn = accept4(fd, NULL, NULL, SOCK_CLOEXEC);

        if (conn < 0 || end->fd >= 0) {
                if (conn >= 0)
                        close(conn);
                return 0;
        }
        end->fd = conn;
        write_all(conn, end->pending->str, end->pending->len);
        g_string_truncate(end->pending, 0);
        sd_event_add_io(sd_event_source_get_event(s), &end->io_source, conn, EPOLLIN, relay_on_data,
                        end);
        return 0;
}

static gchar *
relay_end_listen(sd_event *event, RelayEnd *end, Relay *relay, const gchar *dir, const gchar *name)
{
        struct sockaddr_un addr = { .sun_family = AF_UNIX };
        gchar *path = g_build_filename(dir, name, NULL);

        end->relay = relay;
        end->fd = -1;
        end->pending = g_string_new(NULL);
        end->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        g_assert_cmpint(end->listen_fd, >=, 0);
        g_strlcpy(addr.sun_path, path, sizeof(addr.sun_path));
        g_assert_cmpint(bind(end->listen_fd, (struct sockaddr *)&addr, sizeof(addr)), ==, 0);
        g_assert_cmpint(listen(end->listen_fd, 2), ==, 0);
        sd_event_add_io(event, &end->accept_source, end->listen_fd, EPOLLIN, relay_on_accept, end);
        return path;
}

static void
relay_end_close(RelayEnd *end)
{
        end->accept_source = sd_event_source_disable_unref(end->accept_source);
        end->io_source = sd_event_source_disable_unref(end->io_source);
        if (end->fd >= 0)
                close(end->fd);
        close(end->listen_fd);
        g_string_free(end->pending, TRUE);
}

static void
on_up(LimaGuestLink *link, const gchar *boot_id, gpointer user_data)
{
        Fixture *f = user_data;

        f->up = TRUE;
}

static void
on_event(LimaGuestInotifyEvent event, const gchar *guest_path, gpointer user_data)
{
        Fixture *f = user_data;

        g_test_message("sent INOTIFY %s %s", lima_guest_inotify_event_to_string(event), guest_path);
        if (lima_guest_link_send_inotify(f->link, event, guest_path))
                f->sent++;
}

static void
on_warning(const gchar *location, const gchar *message, gpointer user_data)
{
        g_error("unexpected warning for %s: %s", location, message);
}

static void
run_for(Fixture *f, guint ms)
{
        gint64 end = g_get_monotonic_time() + (gint64)ms * 1000;

        while (g_get_monotonic_time() < end)
                g_assert_cmpint(sd_event_run(f->event, 10 * 1000), >=, 0);
}

/* An agent must not outlive a test that failed half way. */
static void
agent_child_setup(gpointer user_data)
{
        prctl(PR_SET_PDEATHSIG, SIGKILL);
}

static void
fixture_setup(Fixture *f, gconstpointer data)
{
        const gchar *agent = g_getenv("LIMA_GUESTAGENT");
        g_autofree gchar *host_sock = NULL;
        g_autofree gchar *guest_sock = NULL;
        g_autoptr(GError) error = NULL;
        gint64 end;

        if (agent == NULL)
                g_error("LIMA_GUESTAGENT is not set; run this through meson test");
        g_assert_cmpint(sd_event_new(&f->event), >=, 0);
        f->dir = g_dir_make_tmp("limad-e2e-XXXXXX", &error);
        g_assert_no_error(error);
        f->tree = g_build_filename(f->dir, "shared", NULL);
        g_assert_cmpint(g_mkdir(f->tree, 0755), ==, 0);
        host_sock = relay_end_listen(f->event, &f->relay.host, &f->relay, f->dir, "ga.sock");
        guest_sock = relay_end_listen(f->event, &f->relay.guest, &f->relay, f->dir, "port");
        {
                const gchar *argv[] = { agent, "--port", guest_sock, "--verbose", NULL };
                g_spawn_async(NULL, (gchar **)argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD,
                              agent_child_setup, NULL, &f->agent_pid, &error);
                g_assert_no_error(error);
        }
        f->link = lima_guest_link_new(f->event, host_sock, on_up, f);
        lima_guest_link_start(f->link, 50);
        end = g_get_monotonic_time() + 15 * G_USEC_PER_SEC;
        while (!f->up && g_get_monotonic_time() < end)
                run_for(f, 10);
        g_assert_true(f->up);

        f->w = lima_mount_inotify_new(f->event, LIMA_MOUNT_INOTIFY_FOLD_MS, on_event, on_warning, f,
                                      &error);
        g_assert_no_error(error);
        g_assert_true(lima_mount_inotify_add(f->w, f->tree, f->tree, &error));
        g_assert_no_error(error);
        while (lima_mount_inotify_is_scanning(f->w))
                run_for(f, 10);
        f->observer = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        g_assert_cmpint(inotify_add_watch(f->observer, f->tree, IN_ALL_EVENTS), >=, 0);
}

static void
fixture_teardown(Fixture *f, gconstpointer data)
{
        const gchar *rm[] = { "rm", "-rf", f->dir, NULL };
        int status = 0;

        g_assert_cmpint(waitpid(f->agent_pid, &status, WNOHANG), ==, 0);
        kill(f->agent_pid, SIGTERM);
        waitpid(f->agent_pid, &status, 0);
        g_spawn_close_pid(f->agent_pid);
        close(f->observer);
        g_clear_pointer(&f->w, lima_mount_inotify_free);
        g_clear_pointer(&f->link, lima_guest_link_free);
        relay_end_close(&f->relay.host);
        relay_end_close(&f->relay.guest);
        g_spawn_sync(NULL, (gchar **)rm, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL,
                     NULL);
        g_free(f->tree);
        g_free(f->dir);
        sd_event_unref(f->event);
}

/* Adds up the observer's events for name since the last call. */
static void
observe(Fixture *f, const gchar *name, guint *attrib, guint *close_write)
{
        gchar buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
        ssize_t n;

        while ((n = read(f->observer, buf, sizeof(buf))) > 0) {
                for (gchar *p = buf; p < buf + n;) {
                        const struct inotify_event *ev = (const struct inotify_event *)p;
                        if (ev->len > 0 && g_str_equal(ev->name, name)) {
                                *attrib += (ev->mask & IN_ATTRIB) != 0;
                                *close_write += (ev->mask & IN_CLOSE_WRITE) != 0;
                        }
                        p += sizeof(*ev) + ev->len;
                }
        }
}

static void
test_host_write_reaches_watcher(Fixture *f, gconstpointer data)
{
        g_autofree gchar *file = g_build_filename(f->tree, "from host.txt", NULL);
        FILE *fp;
        guint attrib = 0, close_write = 0;
        guint sent_after_apply;

        /* The host's write: CREATE + MODIFY, so one OPEN/CLOSE_WRITE of its own. */
        fp = fopen(file, "w");
        g_assert_nonnull(fp);
        fputs("hello", fp);
        fclose(fp);
        run_for(f, 1500);
        observe(f, "from host.txt", &attrib, &close_write);
        g_assert_cmpuint(f->sent, ==, 2);
        /* The agent applied both: an ATTRIB and a CLOSE_WRITE for each, on top of the host's
         * own CLOSE_WRITE. */
        g_assert_cmpuint(attrib, ==, 2);
        g_assert_cmpuint(close_write, ==, 3);

        /* Those touches came back to the watcher as ATTRIBs and went no further. */
        sent_after_apply = f->sent;
        run_for(f, 2000);
        observe(f, "from host.txt", &attrib, &close_write);
        g_assert_cmpuint(f->sent, ==, sent_after_apply);
        g_assert_cmpuint(attrib, ==, 2);
        {
                g_autofree gchar *text = NULL;
                g_assert_true(g_file_get_contents(file, &text, NULL, NULL));
                g_assert_cmpstr(text, ==, "hello");
        }
        /* A real change after that still goes through. */
        fp = fopen(file, "a");
        g_assert_nonnull(fp);
        fputs(" again", fp);
        fclose(fp);
        run_for(f, 1500);
        g_assert_cmpuint(f->sent, ==, sent_after_apply + 1);
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add("/inotify-e2e/host-write-reaches-watcher", Fixture, NULL, fixture_setup,
                   test_host_write_reaches_watcher, fixture_teardown);
        return g_test_run();
}
