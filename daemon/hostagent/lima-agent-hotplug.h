/* Mounts added and removed while the instance runs (HostAgent.AddMount/RemoveMount): one
 * change at a time, its slow part (QMP, ssh into the guest) on a worker. */
#pragma once

#include "lima-agent.h"

G_BEGIN_DECLS

/* Adds the mount at mount_point of config (the lima.yaml limad saves once this succeeded).
 * FALSE with error when refused at once; TRUE: call is answered when done, and on failure
 * nothing is left running. */
gboolean lima_agent_hotplug_add(LimaAgent *agent, sd_bus_message *call, const gchar *config,
                                const gchar *mount_point, GError **error);
/* Unmounts mount_point in the guest and ends what served it; answered like add. */
gboolean lima_agent_hotplug_remove(LimaAgent *agent, sd_bus_message *call, const gchar *mount_point,
                                   GError **error);
/* A change is in progress (its worker edits the mount list when it ends). */
gboolean lima_agent_hotplug_busy(LimaAgent *agent);
/* The instance stops: waits for a change in progress and answers it with an error. */
void lima_agent_hotplug_stop(LimaAgent *agent);

G_END_DECLS
