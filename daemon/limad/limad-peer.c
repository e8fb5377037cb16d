/* Peer-to-peer D-Bus for a bus-less user: limad accepts connections on a listening socket
 * it was handed and serves each one the same API it serves on the session bus. Only our own
 * uid (and root) may connect: sd-bus's EXTERNAL check only proves the peer's own uid, so the
 * kernel's SO_PEERCRED is checked first. */
#define _GNU_SOURCE /* accept4 */
#include "limad-peer.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-id128.h>
#include <unistd.h>

#include "limad-error.h"

struct _LimadPeerServer {
        LimadManager *manager;
        int listen_fd;
        sd_event_source *accept_source;
        sd_id128_t server_id;
};

int
limad_peer_listen_fd(GError **error)
{
        int n = sd_listen_fds(1);
        if (n == 0)
                return -1;
        if (n < 0) {
                g_set_error(error, LIMAD_ERROR, LIMAD_ERROR_FAILED,
                            _("cannot take the sockets passed in LISTEN_FDS: %s"), g_strerror(-n));
                return -2;
        }
        if (n > 1 || sd_is_socket_unix(SD_LISTEN_FDS_START, SOCK_STREAM, 1, NULL, 0) <= 0) {
                g_set_error(error, LIMAD_ERROR, LIMAD_ERROR_FAILED,
                            _("limad takes one listening AF_UNIX stream socket, was handed %d "
                              "file descriptors; check limad.socket (ListenStream=, "
                              "Accept=no)"),
                            n);
                return -2;
        }
        return SD_LISTEN_FDS_START;
}

static int
limad_peer_on_disconnect(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        LimadPeerServer *server = userdata;
        sd_bus *bus = sd_bus_message_get_bus(m);
        g_debug("a peer disconnected");
        /* sd-bus holds its own reference while it dispatches this message. */
        if (g_ptr_array_remove(server->manager->peers, bus)) {
                sd_bus_detach_event(bus);
                sd_bus_close_unref(bus);
        }
        return 0;
}

/* The connection of one peer: the API exported, authenticated, attached to the loop. */
static sd_bus *
limad_peer_connection_new(LimadPeerServer *server, int fd, GError **error)
{
        sd_bus *bus = NULL;
        int r = sd_bus_new(&bus);
        if (r < 0) {
                close(fd);
                g_set_error(error, LIMAD_ERROR, LIMAD_ERROR_FAILED,
                            "cannot serve a peer connection: %s", g_strerror(-r));
                return NULL;
        }
        r = sd_bus_set_fd(bus, fd, fd);
        if (r < 0)
                close(fd);
        if (r >= 0)
                r = sd_bus_set_server(bus, 1, server->server_id);
        /* Clients match limad's signals by sender, as on a bus; say who sends them. */
        if (r >= 0)
                r = sd_bus_set_sender(bus, LIMAD_BUS_NAME);
        if (r >= 0)
                r = sd_bus_negotiate_creds(bus, 1,
                                           SD_BUS_CREDS_PID | SD_BUS_CREDS_UID | SD_BUS_CREDS_EUID);
        if (r >= 0)
                r = sd_bus_attach_event(bus, server->manager->event, SD_EVENT_PRIORITY_NORMAL);
        if (r >= 0)
                r = sd_bus_match_signal(bus, NULL, NULL, "/org/freedesktop/DBus/Local",
                                        "org.freedesktop.DBus.Local", "Disconnected",
                                        limad_peer_on_disconnect, server);
        if (r < 0) {
                g_set_error(error, LIMAD_ERROR, LIMAD_ERROR_FAILED,
                            "cannot serve a peer connection: %s", g_strerror(-r));
                sd_bus_close_unref(bus);
                return NULL;
        }
        if (!limad_manager_export(server->manager, bus, error)) {
                sd_bus_close_unref(bus);
                return NULL;
        }
        r = sd_bus_start(bus);
        if (r < 0) {
                g_set_error(error, LIMAD_ERROR, LIMAD_ERROR_FAILED,
                            "cannot start a peer connection: %s", g_strerror(-r));
                sd_bus_close_unref(bus);
                return NULL;
        }
        return bus;
}

/* The socket's mode should already keep others out; this holds even when it does not. */
static gboolean
limad_peer_is_trusted(int fd)
{
        struct ucred cred;
        socklen_t len = sizeof(cred);
        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
                g_warning("refusing a peer whose credentials cannot be read: %s",
                          g_strerror(errno));
                return FALSE;
        }
        if (cred.uid != getuid() && cred.uid != 0) {
                g_warning("refusing a peer of uid %u (pid %d): this limad serves uid %u only",
                          (guint)cred.uid, (gint)cred.pid, (guint)getuid());
                return FALSE;
        }
        return TRUE;
}

static int
limad_peer_on_accept(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        LimadPeerServer *server = userdata;
        g_autoptr(GError) error = NULL;
        sd_bus *bus;
        int cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (cfd < 0) {
                if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
                        g_warning("accepting a peer: %s", g_strerror(errno));
                return 0;
        }
        if (!limad_peer_is_trusted(cfd)) {
                close(cfd);
                return 0;
        }
        bus = limad_peer_connection_new(server, cfd, &error);
        if (bus == NULL) {
                g_warning("%s", error->message);
                return 0;
        }
        g_ptr_array_add(server->manager->peers, bus);
        g_debug("a peer connected (%u now)", server->manager->peers->len);
        return 0;
}

LimadPeerServer *
limad_peer_server_new(LimadManager *manager, int listen_fd, GError **error)
{
        g_autoptr(LimadPeerServer) server = g_new0(LimadPeerServer, 1);
        int r;

        server->manager = manager;
        server->listen_fd = listen_fd;
        r = sd_id128_randomize(&server->server_id);
        if (r >= 0)
                r = sd_event_add_io(manager->event, &server->accept_source, listen_fd, EPOLLIN,
                                    limad_peer_on_accept, server);
        if (r < 0) {
                g_set_error(error, LIMAD_ERROR, LIMAD_ERROR_FAILED,
                            "cannot listen on the handed socket: %s", g_strerror(-r));
                return NULL;
        }
        return g_steal_pointer(&server);
}

void
limad_peer_server_free(LimadPeerServer *server)
{
        if (server == NULL)
                return;
        sd_event_source_disable_unref(server->accept_source);
        while (server->manager->peers->len > 0) {
                sd_bus *bus = g_ptr_array_steal_index(server->manager->peers, 0);
                sd_bus_flush_close_unref(bus);
        }
        g_free(server);
}
