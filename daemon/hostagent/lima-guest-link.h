/* The host end of the guest agent's channel (lima-guest-protocol.h): a client of QEMU's
 * ga.sock, on sd-event, never blocking the loop. */
#pragma once

#include <glib.h>
#include <systemd/sd-event.h>

#include "lima-guest-protocol.h"

G_BEGIN_DECLS

typedef struct _LimaGuestLink LimaGuestLink;

/* The guest agent answered on this connection (READY or PONG); boot_id is that of the last
 * READY, or "unknown" when the agent was already up before we connected. */
typedef void (*LimaGuestLinkUpFunc)(LimaGuestLink *link, const gchar *boot_id, gpointer user_data);

/* A BOOT or MOUNT report of the native boot, valid as parsed; boot_id is that of the last
 * READY, whose session the report belongs to. */
typedef void (*LimaGuestLinkReportFunc)(LimaGuestLink *link, const gchar *boot_id,
                                        const LimaGuestMessage *msg, gpointer user_data);

/* At most this many lines wait to be written; beyond it an INOTIFY line is dropped. */
#define LIMA_GUEST_LINK_QUEUE_MAX 1024

LimaGuestLink *lima_guest_link_new(sd_event *event, const gchar *socket_path,
                                   LimaGuestLinkUpFunc up, gpointer user_data);
void lima_guest_link_free(LimaGuestLink *link);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(LimaGuestLink, lima_guest_link_free)

/* Where BOOT and MOUNT reports go (none by default: they are dropped). */
void lima_guest_link_set_report_func(LimaGuestLink *link, LimaGuestLinkReportFunc func,
                                     gpointer user_data);

/* Connects now and whenever the connection is lost, every retry_ms until it succeeds. */
void lima_guest_link_start(LimaGuestLink *link, guint retry_ms);
/* Pings every interval_ms; an agent that misses a PONG counts as not up until it answers. */
void lima_guest_link_set_keepalive(LimaGuestLink *link, guint interval_ms);

gboolean lima_guest_link_is_connected(LimaGuestLink *link);
/* Connected and the agent has answered since its last missed PING. */
gboolean lima_guest_link_is_up(LimaGuestLink *link);
const gchar *lima_guest_link_boot_id(LimaGuestLink *link);
/* Lines dropped because the queue was full or no connection was open. */
guint64 lima_guest_link_dropped(LimaGuestLink *link);

/* Queues INOTIFY event path. FALSE (and the line is counted as dropped) when not connected,
 * when the queue is full, or when the line would be too long for the protocol. */
gboolean lima_guest_link_send_inotify(LimaGuestLink *link, LimaGuestInotifyEvent event,
                                      const gchar *guest_path);

G_END_DECLS
