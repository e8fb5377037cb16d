/* The instance store on disk: $LIMA_HOME/NAME folders, created and removed whole. */
#pragma once

#include "lima-config-options.h"
#include "limad-manager.h"

G_BEGIN_DECLS

/* Loads every instance folder under lima_home (names starting with '_' or '.' are not
 * instances) and exports each. */
void limad_store_load_all(LimadManager *manager);
/* Composes yaml (base: templates resolved) with opts, validates it, and writes the new
 * instance folder all at once: on failure nothing is left. */
LimadInstance *limad_store_create(LimadManager *manager, const gchar *name, const gchar *yaml,
                                  const LimaConfigOptions *opts, guint owner_uid, GError **error);
gboolean limad_store_delete(LimadManager *manager, LimadInstance *inst, GError **error);
gboolean limad_store_set_config(LimadManager *manager, LimadInstance *inst, const gchar *yaml,
                                GError **error);
/* Saves composed (validated already) as lima.yaml of a running instance: the config
 * follows, Mounts stays what the agent reports. */
gboolean limad_store_save_running_config(LimadManager *manager, LimadInstance *inst,
                                         const gchar *composed, GError **error);
/* Pid files and sockets a dead agent left behind. */
void limad_store_remove_runtime_files(LimadInstance *inst);
/* Composes and validates yaml like create; returns the filled YAML. */
gchar *limad_store_validate(LimadManager *manager, const gchar *name, const gchar *yaml,
                            const LimaConfigOptions *opts, gchar ***warnings, gchar **composed,
                            GError **error);

G_END_DECLS
