/* The agent's ssh master connection to the guest (see lima-agent-ssh.c). */
#pragma once

#include "lima-agent.h"

G_BEGIN_DECLS

/* The ControlPath for ssh.config: NULL when the instance dir is too deep for a unix socket
 * path (ssh then connects afresh every time, which only costs speed). */
gchar *lima_agent_ssh_control_path(const gchar *dir);

/* Once the guest's sshd answers: runs the master and keeps it running, restarting it (with a
 * backoff that never gives up) when it ends. lima_agent_guest_reachable() is called once the
 * master is up, or when it could not come up within a few seconds (the callers then use
 * ssh without it). */
void lima_agent_ssh_start(LimaAgent *agent);
/* Ends the master (the agent is stopping). */
void lima_agent_ssh_stop(LimaAgent *agent);

/* lima-hostagent.c: the guest answers ssh (first boot, or back after its connection was
 * lost, e.g. a reboot inside the guest). */
void lima_agent_guest_reachable(LimaAgent *agent);
/* lima-hostagent.c: the master's connection ended while the instance runs. */
void lima_agent_guest_lost(LimaAgent *agent);
/* lima-hostagent.c: the guest and its mounts are being checked (at boot, after a reboot). */
gboolean lima_agent_guest_checking(LimaAgent *agent);
/* lima-hostagent.c: a recheck held back while a mount change ran starts now. */
void lima_agent_guest_recheck_pending(LimaAgent *agent);

G_END_DECLS
