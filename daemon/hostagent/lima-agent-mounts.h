/* The host side of a running instance's mounts (see lima-agent-mounts.c). */
#pragma once

#include "lima-agent.h"

G_BEGIN_DECLS

/* Before QEMU: one virtiofsd per virtiofs mount. FALSE when one cannot be served. */
gboolean lima_agent_mounts_start_virtiofsd(LimaAgent *agent, GError **error);
/* Once sshd answers: a reverse-sshfs session per mount, each checked until the guest has
 * it, ending in lima_agent_mounts_settled(). A session that ends is started again (at once,
 * then with a bounded backoff), for as long as the instance runs. FALSE when the mount type
 * is not reverse-sshfs (nothing started). */
gboolean lima_agent_mounts_start_sshfs(LimaAgent *agent);
/* The ssh master is up: sessions waiting out a backoff (or for it) start now. */
void lima_agent_mounts_kick_sshfs(LimaAgent *agent);
/* The guest went away (its ssh connection ended): mounts it makes itself become pending. */
void lima_agent_mounts_guest_lost(LimaAgent *agent);
/* After a recheck of the guest: the states of the mounts it makes itself (9p, virtiofs). */
void lima_agent_mounts_set_guest_states(LimaAgent *agent, GPtrArray *states, GPtrArray *errors);
/* Ends every session (umounting in the guest) and every virtiofsd. */
void lima_agent_mounts_stop(LimaAgent *agent);

/* One mount's parts, for mounts added and removed while running (lima-agent-hotplug.c). */
void lima_agent_mount_set(LimaAgentMount *m, const gchar *state, const gchar *error);
/* A reverse-sshfs session for m, its helpers not watched yet. */
gboolean lima_agent_mount_start_sshfs(LimaAgentMount *m, GError **error);
/* Watches m's virtiofsd or session helpers: one that dies fails or reconnects the mount. */
void lima_agent_mount_watch(LimaAgentMount *m);
void lima_agent_mount_unwatch(LimaAgentMount *m);
/* Ends m's session (umounting in the guest) or virtiofsd, and frees it. */
void lima_agent_mount_free(LimaAgentMount *m);

/* lima-hostagent.c: every mount's state is known; report Running or Degraded. */
void lima_agent_mounts_settled(LimaAgent *agent);

G_END_DECLS
