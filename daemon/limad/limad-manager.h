/* limad's state: the bus, the instance store, and each instance's object. */
#pragma once

#include <glib.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "lima-config.h"
#include "lima-mount-status.h"

G_BEGIN_DECLS

#define LIMAD_BUS_NAME        "io.lima.lima1"
#define LIMAD_MANAGER_PATH    "/io/lima/lima1"
#define LIMAD_MANAGER_IFACE   "io.lima.lima1.Manager"
#define LIMAD_INSTANCE_PREFIX "/io/lima/lima1/instance"
#define LIMAD_INSTANCE_IFACE  "io.lima.lima1.Instance"

typedef struct _LimadManager LimadManager;
typedef struct _LimadInstance LimadInstance;
typedef struct _LimadAgentLink LimadAgentLink;
typedef struct _LimadMountOp LimadMountOp;
typedef struct _LimadSystemd LimadSystemd;

struct _LimadManager {
        sd_event *event;
        sd_bus *bus;      /* NULL: served only to peers on a handed socket (limad-peer.c) */
        GPtrArray *peers; /* sd_bus*: peer-to-peer connections, each with the API exported */
        gchar *lima_home;
        gboolean system_mode;
        gchar *hostagent_path;
        LimadSystemd *systemd;       /* NULL: no systemd manager, limad spawns the agents */
        struct _LimadPolkit *polkit; /* --system only */
        GHashTable *instances;       /* name → LimadInstance* */
};

struct _LimadInstance {
        gint ref_count;
        LimadManager *manager; /* NULL once deleted */
        gchar *name;
        gchar *dir;
        gchar *path;
        guint owner_uid;
        LimaConfig *cfg; /* filled; NULL when lima.yaml is broken (Errors says why) */
        gchar *status;
        guint ssh_port;
        gchar *accel;
        GPtrArray *errors; /* gchar* */
        GPtrArray *mounts; /* LimaMountStatus* */
        LimadAgentLink *link;
        pid_t agent_pid;      /* when limad spawned the agent itself */
        gchar *unit_job;      /* the systemd start job of lima@NAME.service being followed */
        gboolean unit_killed; /* a forced stop sent SIGKILL to the unit */
        sd_event_source *agent_child;
        sd_event_source *connect_timer;
        gint64 connect_deadline;
        GPtrArray *pending_stops;   /* sd_bus_message*: replied when the agent is gone */
        GPtrArray *pending_deletes; /* sd_bus_message* */
        LimadMountOp *mount_op;     /* an AddMount/RemoveMount the agent is working on */
};

LimadManager *limad_manager_new(sd_event *event, sd_bus *bus, const gchar *lima_home,
                                gboolean system_mode, GError **error);
void limad_manager_free(LimadManager *manager);
/* Exports the API (Manager, instances, ObjectManager) on a bus or a peer connection. */
gboolean limad_manager_export(LimadManager *manager, sd_bus *bus, GError **error);
/* Signals go to the bus and to every peer connection. */
void limad_manager_emit_object_added(LimadManager *manager, const gchar *path);
void limad_manager_emit_object_removed(LimadManager *manager, const gchar *path);
void limad_manager_emit_properties_changed(LimadManager *manager, const gchar *path, gchar **names);
void limad_manager_emit_progress(LimadManager *manager, const gchar *path, const gchar *stage,
                                 gdouble fraction, const gchar *message);

/* Instances */
LimadInstance *limad_instance_load(LimadManager *manager, const gchar *name);
LimadInstance *limad_instance_ref(LimadInstance *inst);
void limad_instance_unref(LimadInstance *inst);
void limad_instance_set_status(LimadInstance *inst, const gchar *status);
void limad_instance_set_errors(LimadInstance *inst, GPtrArray *errors);
void limad_instance_add_error(LimadInstance *inst, const gchar *message);
/* Looks at pid files and sockets when no agent is linked; adopts a live agent. */
void limad_instance_refresh(LimadInstance *inst);
void limad_instance_emit_changed(LimadInstance *inst, const gchar *first,
                                 ...) G_GNUC_NULL_TERMINATED;
/* The agent is gone: settle Status, answer pending Stop/Delete calls. */
void limad_instance_agent_gone(LimadInstance *inst);
/* The last lines the agent wrote to ha.stderr.log, or NULL. */
gchar *limad_instance_agent_log_tail(LimadInstance *inst);
extern const sd_bus_vtable limad_instance_vtable[];

/* limad-instance-mounts.c: Instance.AddMount and RemoveMount. */
int limad_instance_method_add_mount(sd_bus_message *m, void *userdata, sd_bus_error *ret_error);
int limad_instance_method_remove_mount(sd_bus_message *m, void *userdata, sd_bus_error *ret_error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(LimadInstance, limad_instance_unref)

G_END_DECLS
