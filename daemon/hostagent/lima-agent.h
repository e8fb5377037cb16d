/* The state of one running instance's host agent, shared by its parts: the bus server on
 * ha.sock, the preparation worker, and the QEMU lifecycle in lima-hostagent.c. */
#pragma once

#include <glib.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "lima-accel.h"
#include "lima-config.h"
#include "lima-mount-sshfs.h"
#include "lima-mount-virtiofs.h"
#include "lima-owner.h"

G_BEGIN_DECLS

#define LIMA_AGENT_PATH  "/io/lima/lima1/hostagent"
#define LIMA_AGENT_IFACE "io.lima.lima1.HostAgent"

typedef struct _LimaAgent LimaAgent;

typedef struct {
        LimaAgent *agent;
        const LimaMount *mount;
        gchar *state; /* pending, mounted, failed */
        gchar *error;
        /* virtiofs: its daemon */
        LimaVirtiofsd *virtiofsd;
        sd_event_source *virtiofsd_child;
        /* reverse-sshfs: its session (ssh + SFTP server) */
        LimaSshfsSession *sshfs;
        sd_event_source *ssh_child;
        sd_event_source *server_child;
} LimaAgentMount;

struct _LimaAgent {
        sd_event *event;
        gchar *name;
        gchar *lima_home;
        gchar *dir;
        gchar *keys_home; /* where the owner's SSH key pair is (lima_paths_keys_home) */
        gboolean system_mode;
        LimaOwner *owner; /* --system: whom the agent runs as; NULL with --user */
        LimaConfig *cfg;  /* filled and validated */
        gchar *status;    /* Starting, Running, Degraded, Stopping */
        guint16 ssh_port;
        LimaAccel accel;
        gchar *accel_name; /* "" until probed */
        pid_t qemu_pid;
        GPtrArray *errors;        /* gchar* */
        GPtrArray *mounts;        /* LimaAgentMount* */
        GPtrArray *peers;         /* sd_bus*: limad and anyone else on ha.sock */
        GPtrArray *pending_stops; /* sd_bus_message* answered when QEMU is gone */
        gboolean stop_requested;
        int listen_fd;
        sd_event_source *listen_source;
        sd_event_source *qemu_child;
        sd_event_source *stop_timer;
        int exit_code;
        LimaVirtiofsdBinary *virtiofsd_bin;
        gboolean sshfs_checking; /* a worker is checking the reverse-sshfs mounts */
};

/* lima-agent-server.c: the HostAgent interface on ha.sock. */
gboolean lima_agent_server_listen(LimaAgent *agent, const gchar *path, GError **error);
void lima_agent_server_close(LimaAgent *agent);
void lima_agent_emit_changed(LimaAgent *agent, const gchar *first, ...) G_GNUC_NULL_TERMINATED;
void lima_agent_emit_progress(LimaAgent *agent, const gchar *stage, gdouble fraction,
                              const gchar *message);

/* lima-hostagent.c */
void lima_agent_set_status(LimaAgent *agent, const gchar *status);
void lima_agent_add_error(LimaAgent *agent, const gchar *message);
/* Powers the guest off (or kills it when force); call is answered when QEMU is gone. */
void lima_agent_stop(LimaAgent *agent, gboolean force, sd_bus_message *call);

G_END_DECLS
