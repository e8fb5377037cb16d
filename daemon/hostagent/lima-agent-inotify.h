/* mountInotify in the running agent: host events of the writable mounts go to the guest
 * agent over the guest link (see lima-agent-inotify.c). */
#pragma once

#include "lima-agent.h"

G_BEGIN_DECLS

/* Once QEMU runs: connects to the guest agent's port (and keeps reconnecting). */
void lima_agent_guest_link_start(LimaAgent *agent);
/* Once the instance is Running (or Degraded): watches every writable mount when the config
 * has mountInotify. Does nothing when it already runs. Problems become instance errors,
 * never a failed start. */
void lima_agent_inotify_start(LimaAgent *agent);
/* Watches one more mount (also for mounts added while running). */
void lima_agent_inotify_watch_mount(LimaAgent *agent, const LimaMount *mount);
/* Stops watching the mount at mount_point (removed while running). */
void lima_agent_inotify_unwatch_mount(LimaAgent *agent, const gchar *mount_point);
/* Ends the watch and the guest link. */
void lima_agent_inotify_stop(LimaAgent *agent);

G_END_DECLS
