/* limad's side of a host agent: launching it, and the peer-to-peer link on its ha.sock. */
#pragma once

#include "lima-pidfile.h"
#include "limad-manager.h"

G_BEGIN_DECLS

#define LIMAD_AGENT_PATH  "/io/lima/lima1/hostagent"
#define LIMAD_AGENT_IFACE "io.lima.lima1.HostAgent"

/* Starts lima-hostagent for inst (through systemd when a manager answers, else as a detached
 * child) and begins trying to link to it. */
gboolean limad_agent_launch(LimadInstance *inst, GError **error);
/* Links to the agent serving inst's ha.sock now; FALSE when nothing answers there. */
gboolean limad_agent_link(LimadInstance *inst, GError **error);
/* Keeps trying limad_agent_link until timeout_sec, then marks the instance Broken. */
void limad_agent_link_retry(LimadInstance *inst, guint timeout_sec);
void limad_agent_link_free(LimadAgentLink *link);
/* Asks the agent to stop; the instance learns it stopped when the link drops. */
gboolean limad_agent_request_stop(LimadInstance *inst, gboolean force, GError **error);

/* Stop waits on a clean power-off: the agent's ACPI wait (90 s, then it kills QEMU), all
 * within lima@.service's TimeoutStopSec=150; plus a margin. $LIMAD_AGENT_STOP_TIMEOUT_SEC
 * overrides it (tests; hosts slower still). */
#define LIMAD_AGENT_STOP_TIMEOUT_USEC (180 * G_USEC_PER_SEC)
/* Hotplug under TCG: a guest that takes its time to mount, or releases a device slowly. */
#define LIMAD_AGENT_MOUNT_TIMEOUT_USEC (180 * G_USEC_PER_SEC)

/* HostAgent.AddMount(config, mount_point), or RemoveMount(mount_point) when config is NULL.
 * callback gets the reply (an error reply too); destroy(userdata) runs once the call is over,
 * answered or not (the link went away). */
gboolean limad_agent_call_mount(LimadInstance *inst, const gchar *config, const gchar *mount_point,
                                sd_bus_message_handler_t callback, gpointer userdata,
                                sd_bus_destroy_t destroy, GError **error);

G_END_DECLS
