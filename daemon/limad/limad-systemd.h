/* The systemd route: under a systemd manager each running instance is the unit
 * lima@NAME.service, started and stopped through the manager's D-Bus API. */
#pragma once

#include "limad-manager.h"

G_BEGIN_DECLS

typedef struct _LimadSystemd LimadSystemd;

/* The route, when the manager on limad's own bus (PID 1 on the system bus, the user manager
 * on the session bus) answers, has lima@.service installed and would run the agent on the
 * same instance store; NULL (and the spawn route) otherwise. Follows jobs on lima@*.service
 * from then on, so instances started or stopped with systemctl are seen too. */
LimadSystemd *limad_systemd_new(LimadManager *manager);
void limad_systemd_free(LimadSystemd *systemd);

/* "lima@NAME.service" */
gchar *limad_systemd_unit_name(const gchar *instance);
/* The instance name in a unit name of ours, or NULL. */
gchar *limad_systemd_instance_from_unit(const gchar *unit);

gboolean limad_systemd_start(LimadSystemd *systemd, LimadInstance *inst, GError **error);
/* TRUE when inst's unit is active, activating or deactivating. */
gboolean limad_systemd_unit_running(LimadSystemd *systemd, LimadInstance *inst);
/* StopUnit, or KillUnit with SIGKILL when forced (the unit is then reset, not left failed). */
gboolean limad_systemd_stop(LimadSystemd *systemd, LimadInstance *inst, gboolean force,
                            GError **error);
/* After a forced stop: forget the unit's failed state. */
void limad_systemd_reset_failed(LimadSystemd *systemd, LimadInstance *inst);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(LimadSystemd, limad_systemd_free)

G_END_DECLS
