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
typedef struct _LimaGuestLink LimaGuestLink;
typedef struct _LimaMountInotify LimaMountInotify;

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
        sd_event_source *sshfs_timer; /* the next restart (backoff) or mount check */
        guint sshfs_failures;         /* sessions in a row that ended before mounting */
        gint64 sshfs_started;         /* monotonic µs */
        pid_t check_pid;              /* ssh … mountpoint -q, while one runs */
        sd_event_source *check_child;
        gint port;    /* virtiofs: the index of the root port its device sits on */
        gboolean hot; /* added while running, not from the config at start */
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
        /* the ssh master connection (lima-agent-ssh.c) */
        gchar *ssh_control_path; /* NULL: none */
        pid_t ssh_master_pid;
        sd_event_source *ssh_master_child;
        sd_event_source *ssh_master_timer;
        guint ssh_master_failures;
        gint64 ssh_master_started;
        gboolean ssh_master_wanted;
        gboolean ssh_master_up;
        gboolean guest_reached;    /* the guest answered ssh once */
        gboolean guest_lost;       /* its connection ended; waiting for it to come back */
        LimaGuestLink *guest_link; /* ga.sock, once QEMU runs */
        LimaMountInotify *inotify; /* mountInotify, once Running */
        guint pcie_ports;          /* root ports QEMU has for virtiofs devices */
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
