/* The host end of the guest agent's channel. QEMU is the server of ga.sock and keeps it for
 * its whole life, whatever the guest does; so the guest agent restarting or the guest
 * rebooting shows as a new READY on the same connection, and a lost connection (QEMU gone or
 * restarted) is retried. Everything is non-blocking: lines wait in a bounded queue for the
 * socket to take them. */
#include "lima-guest-link.h"

#include <errno.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

struct _LimaGuestLink {
        sd_event *event;
        gchar *path;
        LimaGuestLinkUpFunc up_func;
        gpointer user_data;
        LimaGuestLinkReportFunc report_func;
        gpointer report_data;
        int fd;
        sd_event_source *io;
        sd_event_source *retry_timer;
        sd_event_source *keepalive_timer;
        guint retry_ms;
        guint keepalive_ms;
        GQueue queue;      /* GBytes*, each one whole line */
        gsize head_offset; /* bytes of the queue's head already written */
        LimaGuestLineBuffer lines;
        gboolean up;
        gchar *boot_id;
        /* PINGs carry "p<seq>"; any PONG newer than the last answered one answers. */
        guint64 ping_sent;
        guint64 ping_answered;
        guint64 dropped;
        guint64 dropped_logged;
        gboolean connect_failure_logged;
};

static void lima_guest_link_connect(LimaGuestLink *link);

static void
lima_guest_link_clear_queue(LimaGuestLink *link)
{
        g_queue_clear_full(&link->queue, (GDestroyNotify)g_bytes_unref);
        link->head_offset = 0;
}

static int
lima_guest_link_on_retry(sd_event_source *s, uint64_t usec, void *userdata)
{
        LimaGuestLink *link = userdata;

        link->retry_timer = sd_event_source_disable_unref(link->retry_timer);
        lima_guest_link_connect(link);
        return 0;
}

static void
lima_guest_link_schedule_retry(LimaGuestLink *link)
{
        if (link->retry_timer != NULL)
                return;
        sd_event_add_time_relative(link->event, &link->retry_timer, CLOCK_MONOTONIC,
                                   (uint64_t)link->retry_ms * 1000, 0, lima_guest_link_on_retry,
                                   link);
}

static void
lima_guest_link_disconnect(LimaGuestLink *link, const gchar *why)
{
        if (link->fd < 0)
                return;
        g_message("guest agent link: %s; reconnecting", why);
        link->io = sd_event_source_disable_unref(link->io);
        close(link->fd);
        link->fd = -1;
        link->dropped += g_queue_get_length(&link->queue);
        lima_guest_link_clear_queue(link);
        link->up = FALSE;
        link->ping_answered = link->ping_sent;
        lima_guest_link_schedule_retry(link);
}

static void
lima_guest_link_update_events(LimaGuestLink *link)
{
        if (link->io != NULL)
                sd_event_source_set_io_events(
                    link->io, g_queue_is_empty(&link->queue) ? EPOLLIN : EPOLLIN | EPOLLOUT);
}

/* Writes what the socket takes now; the rest waits for EPOLLOUT. */
static void
lima_guest_link_flush(LimaGuestLink *link)
{
        while (link->fd >= 0 && !g_queue_is_empty(&link->queue)) {
                GBytes *head = g_queue_peek_head(&link->queue);
                gsize len = 0;
                const gchar *data = g_bytes_get_data(head, &len);
                ssize_t n =
                    send(link->fd, data + link->head_offset, len - link->head_offset, MSG_NOSIGNAL);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EAGAIN)
                        break;
                if (n < 0) {
                        g_autofree gchar *why =
                            g_strdup_printf("write failed: %s", g_strerror(errno));
                        lima_guest_link_disconnect(link, why);
                        return;
                }
                link->head_offset += (gsize)n;
                if (link->head_offset == len) {
                        g_bytes_unref(g_queue_pop_head(&link->queue));
                        link->head_offset = 0;
                }
        }
        if (g_queue_is_empty(&link->queue) && link->dropped > link->dropped_logged) {
                g_warning("guest agent link: %" G_GUINT64_FORMAT " line(s) dropped so far "
                          "(queue full or no connection)",
                          link->dropped);
                link->dropped_logged = link->dropped;
        }
        lima_guest_link_update_events(link);
}

/* Queues one formatted line. FALSE (counted as dropped) when it cannot be sent. */
static gboolean
lima_guest_link_enqueue(LimaGuestLink *link, const LimaGuestMessage *msg)
{
        gchar line[LIMA_GUEST_LINE_MAX + 1];
        int len;

        if (link->fd < 0 || g_queue_get_length(&link->queue) >= LIMA_GUEST_LINK_QUEUE_MAX) {
                link->dropped++;
                return FALSE;
        }
        len = lima_guest_message_format(msg, line, sizeof(line));
        if (len < 0) {
                g_warning("guest agent link: dropped a message longer than one protocol line "
                          "(%d bytes)",
                          LIMA_GUEST_LINE_MAX);
                link->dropped++;
                return FALSE;
        }
        g_queue_push_tail(&link->queue, g_bytes_new(line, (gsize)len));
        lima_guest_link_flush(link);
        return TRUE;
}

static void
lima_guest_link_send_ping(LimaGuestLink *link)
{
        LimaGuestMessage msg = { .type = LIMA_GUEST_MESSAGE_PING };

        g_snprintf(msg.token, sizeof(msg.token), "p%" G_GUINT64_FORMAT, link->ping_sent + 1);
        if (lima_guest_link_enqueue(link, &msg))
                link->ping_sent++;
}

/* The sequence number of a PONG to one of our PINGs not answered yet, or 0. */
static guint64
lima_guest_link_pong_seq(LimaGuestLink *link, const gchar *token)
{
        guint64 seq = 0;

        if (token[0] != 'p' ||
            !g_ascii_string_to_unsigned(token + 1, 10, 1, G_MAXUINT64, &seq, NULL) ||
            seq <= link->ping_answered || seq > link->ping_sent)
                return 0;
        return seq;
}

static void
lima_guest_link_set_up(LimaGuestLink *link)
{
        if (link->up)
                return;
        link->up = TRUE;
        if (link->up_func != NULL)
                link->up_func(link, link->boot_id, link->user_data);
}

static void
lima_guest_link_on_line(const char *line, size_t len, void *user_data)
{
        LimaGuestLink *link = user_data;
        LimaGuestMessage msg;

        if (len == 0)
                return;
        if (lima_guest_message_parse_n(line, len, &msg) < 0) {
                g_warning("guest agent link: ignoring a malformed line of %zu bytes", len);
                return;
        }
        switch (msg.type) {
        case LIMA_GUEST_MESSAGE_READY:
                g_message("guest agent ready (protocol %u, boot %s)", msg.version, msg.boot_id);
                if (msg.version != LIMA_GUEST_PROTOCOL_VERSION)
                        g_warning("guest agent speaks protocol %u, this host agent %d", msg.version,
                                  LIMA_GUEST_PROTOCOL_VERSION);
                g_free(link->boot_id);
                link->boot_id = g_strdup(msg.boot_id);
                /* A new session: tell the owner even when the old one looked up. */
                link->up = FALSE;
                lima_guest_link_set_up(link);
                break;
        case LIMA_GUEST_MESSAGE_PONG: {
                guint64 seq = lima_guest_link_pong_seq(link, msg.token);
                if (seq == 0)
                        break;
                link->ping_answered = seq;
                lima_guest_link_set_up(link);
                break;
        }
        case LIMA_GUEST_MESSAGE_BOOT:
        case LIMA_GUEST_MESSAGE_MOUNT:
                if (link->report_func != NULL)
                        link->report_func(link, link->boot_id, &msg, link->report_data);
                break;
        case LIMA_GUEST_MESSAGE_PING:
        case LIMA_GUEST_MESSAGE_INOTIFY:
                g_warning("guest agent link: ignoring a host-to-guest message from the guest");
                break;
        }
}

static int
lima_guest_link_on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        LimaGuestLink *link = userdata;

        if (revents & EPOLLIN) {
                gchar buf[LIMA_GUEST_LINE_MAX];
                /* Bounded, so a chatty guest cannot starve the rest of the loop. */
                for (guint i = 0; i < 16 && link->fd >= 0; i++) {
                        ssize_t n = recv(link->fd, buf, sizeof(buf), 0);
                        if (n < 0 && errno == EINTR)
                                continue;
                        if (n < 0 && errno == EAGAIN)
                                break;
                        if (n <= 0) {
                                g_autofree gchar *why =
                                    g_strdup_printf("connection lost: %s",
                                                    n == 0 ? "end of file" : g_strerror(errno));
                                lima_guest_link_disconnect(link, why);
                                return 0;
                        }
                        if (lima_guest_line_buffer_feed(&link->lines, buf, (size_t)n,
                                                        lima_guest_link_on_line, link) > 0)
                                g_warning("guest agent link: discarded an overlong line");
                }
        } else if (revents & (EPOLLHUP | EPOLLERR)) {
                lima_guest_link_disconnect(link, "connection closed");
                return 0;
        }
        if (link->fd >= 0 && (revents & EPOLLOUT))
                lima_guest_link_flush(link);
        return 0;
}

static void
lima_guest_link_connect(LimaGuestLink *link)
{
        struct sockaddr_un addr = { .sun_family = AF_UNIX };
        int fd;

        if (link->fd >= 0)
                return;
        if (strlen(link->path) >= sizeof(addr.sun_path)) {
                g_warning("guest agent link: %s is too long for a socket path", link->path);
                return;
        }
        strcpy(addr.sun_path, link->path);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
                int saved = errno;
                if (fd >= 0)
                        close(fd);
                if (!link->connect_failure_logged)
                        g_message("guest agent link: cannot connect to %s yet (%s); retrying",
                                  link->path, g_strerror(saved));
                link->connect_failure_logged = TRUE;
                lima_guest_link_schedule_retry(link);
                return;
        }
        link->fd = fd;
        link->connect_failure_logged = FALSE;
        memset(&link->lines, 0, sizeof(link->lines));
        sd_event_add_io(link->event, &link->io, fd, EPOLLIN, lima_guest_link_on_io, link);
        g_message("guest agent link: connected to %s", link->path);
        /* The empty line ends a partial line an earlier connection may have left; the PING
         * finds an agent that was up before we came (it owes us no READY). */
        {
                static const gchar newline[] = "\n";
                g_queue_push_tail(&link->queue, g_bytes_new_static(newline, 1));
        }
        lima_guest_link_send_ping(link);
}

static int
lima_guest_link_on_keepalive(sd_event_source *s, uint64_t usec, void *userdata)
{
        LimaGuestLink *link = userdata;

        if (link->fd >= 0) {
                if (link->ping_answered < link->ping_sent && link->up) {
                        g_message("guest agent link: the guest agent does not answer");
                        link->up = FALSE;
                }
                lima_guest_link_send_ping(link);
        }
        sd_event_source_set_time_relative(s, (uint64_t)link->keepalive_ms * 1000);
        sd_event_source_set_enabled(s, SD_EVENT_ON);
        return 0;
}

LimaGuestLink *
lima_guest_link_new(sd_event *event, const gchar *socket_path, LimaGuestLinkUpFunc up,
                    gpointer user_data)
{
        LimaGuestLink *link = g_new0(LimaGuestLink, 1);

        link->event = sd_event_ref(event);
        link->path = g_strdup(socket_path);
        link->up_func = up;
        link->user_data = user_data;
        link->fd = -1;
        link->retry_ms = 1000;
        link->boot_id = g_strdup("unknown");
        g_queue_init(&link->queue);
        return link;
}

void
lima_guest_link_free(LimaGuestLink *link)
{
        if (link == NULL)
                return;
        link->io = sd_event_source_disable_unref(link->io);
        link->retry_timer = sd_event_source_disable_unref(link->retry_timer);
        link->keepalive_timer = sd_event_source_disable_unref(link->keepalive_timer);
        if (link->fd >= 0)
                close(link->fd);
        lima_guest_link_clear_queue(link);
        sd_event_unref(link->event);
        g_free(link->path);
        g_free(link->boot_id);
        g_free(link);
}

void
lima_guest_link_set_report_func(LimaGuestLink *link, LimaGuestLinkReportFunc func,
                                gpointer user_data)
{
        link->report_func = func;
        link->report_data = user_data;
}

void
lima_guest_link_start(LimaGuestLink *link, guint retry_ms)
{
        link->retry_ms = MAX(retry_ms, 1);
        lima_guest_link_connect(link);
}

void
lima_guest_link_set_keepalive(LimaGuestLink *link, guint interval_ms)
{
        link->keepalive_ms = interval_ms;
        link->keepalive_timer = sd_event_source_disable_unref(link->keepalive_timer);
        if (interval_ms > 0)
                sd_event_add_time_relative(link->event, &link->keepalive_timer, CLOCK_MONOTONIC,
                                           (uint64_t)interval_ms * 1000, 0,
                                           lima_guest_link_on_keepalive, link);
}

gboolean
lima_guest_link_is_connected(LimaGuestLink *link)
{
        return link->fd >= 0;
}

gboolean
lima_guest_link_is_up(LimaGuestLink *link)
{
        return link->fd >= 0 && link->up;
}

const gchar *
lima_guest_link_boot_id(LimaGuestLink *link)
{
        return link->boot_id;
}

guint64
lima_guest_link_dropped(LimaGuestLink *link)
{
        return link->dropped;
}

gboolean
lima_guest_link_send_inotify(LimaGuestLink *link, LimaGuestInotifyEvent event,
                             const gchar *guest_path)
{
        LimaGuestMessage msg = { .type = LIMA_GUEST_MESSAGE_INOTIFY, .event = event };

        if (strlen(guest_path) >= sizeof(msg.path)) {
                g_warning("guest agent link: dropped an event for a path of %zu bytes, longer "
                          "than one protocol line",
                          strlen(guest_path));
                link->dropped++;
                return FALSE;
        }
        g_strlcpy(msg.path, guest_path, sizeof(msg.path));
        return lima_guest_link_enqueue(link, &msg);
}
