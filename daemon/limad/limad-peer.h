/* limad --user on a listening socket it is handed (systemd socket activation, launchd
 * Sockets): each client that connects gets a peer-to-peer D-Bus connection with the API. */
#pragma once

#include <glib.h>

#include "limad-manager.h"

G_BEGIN_DECLS

typedef struct _LimadPeerServer LimadPeerServer;

/* The socket systemd handed over (LISTEN_FDS): -1 when none, -2 (error set) when unusable. */
int limad_peer_listen_fd(GError **error);
LimadPeerServer *limad_peer_server_new(LimadManager *manager, int listen_fd, GError **error);
void limad_peer_server_free(LimadPeerServer *server);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(LimadPeerServer, limad_peer_server_free)

G_END_DECLS
