/* The instance store on disk: $LIMA_HOME/NAME folders, created and removed whole. */
#pragma once

#include "lima-config-options.h"
#include "lima-host.h"
#include "lima-owner.h"
#include "limad-manager.h"

G_BEGIN_DECLS

/* The most mounts one config may have (io.lima.lima1.Error.InvalidConfig beyond). */
#define LIMAD_MAX_MOUNTS 128u

/* limad --system: makes the state folder (0755, root) or checks that only root can write
 * it, since everything in it is trusted by root. */
gboolean limad_store_prepare_system_dir(const gchar *dir, GError **error);
/* Reads a file of an instance. In --system mode its folder belongs to the owner: no symlink
 * is followed and only the owner's files (or limad's own) are read. */
gboolean limad_store_read_file(LimadManager *manager, const gchar *path, guint owner_uid,
                               gchar **contents, gsize *len, GError **error);
/* --system: whether owner_uid may mount location (read, and write when writable), asked as
 * them; always TRUE with --user. For Instance.AddMount; create and SetConfig check every
 * mount through limad_store_validate. Refusals are LIMA_ERROR_PERMISSION_DENIED
 * (io.lima.lima1.Error.MountNotPermitted). */
gboolean limad_store_check_mount(LimadManager *manager, guint owner_uid, const gchar *location,
                                 gboolean writable, GError **error);
/* Opens (truncating) a log file in inst's folder for a child, owned by the owner; never
 * through a symlink. Returns the fd or -1. */
int limad_store_open_log(LimadInstance *inst, const gchar *file, GError **error);

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
/* Composes and validates yaml like create, as owner_uid's config (their home for "~", and
 * in --system mode every mount location checked as them); returns the filled YAML. */
gchar *limad_store_validate(LimadManager *manager, const gchar *name, const gchar *yaml,
                            const LimaConfigOptions *opts, guint owner_uid, gchar ***warnings,
                            gchar **composed, GError **error);
/* The same with the owner's host facts and account looked up already (both may be NULL): a
 * worker thread must not call getpwuid(), which the main loop uses. */
gchar *limad_store_validate_full(LimadManager *manager, const gchar *name, const gchar *yaml,
                                 const LimaConfigOptions *opts, guint owner_uid,
                                 const LimaHost *host, const LimaOwner *owner, gchar ***warnings,
                                 gchar **composed, GError **error);

G_END_DECLS
