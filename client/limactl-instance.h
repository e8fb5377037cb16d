/* One instance as limad describes it (the io.lima.lima1.Instance properties), read from the
 * bus. */
#pragma once

#include <glib.h>
#include <systemd/sd-bus.h>

#include "lima-mount-status.h"

G_BEGIN_DECLS

typedef struct {
        gchar *path; /* the D-Bus object */
        gchar *name;
        gchar *status;
        guint32 owner_uid;
        gchar *vm_type;
        gchar *arch;
        guint32 cpus;
        guint64 memory;
        guint64 disk;
        gchar *dir;
        guint32 ssh_port;
        gchar *accelerator;
        GPtrArray *mounts; /* LimaMountStatus */
        GStrv errors;
} LimactlInstance;

LimactlInstance *limactl_instance_new(const gchar *path);
void limactl_instance_free(LimactlInstance *inst);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(LimactlInstance, limactl_instance_free)

/* Running or Degraded: the guest is up and reachable over ssh. */
gboolean limactl_instance_is_up(const LimactlInstance *inst);

/* Reads an a{sv} of Instance properties from m into inst; unknown or mistyped ones are
 * skipped, so a newer limad still works. */
gboolean limactl_instance_read_properties(LimactlInstance *inst, sd_bus_message *m, GError **error);

/* Instance NAME with all its properties. */
LimactlInstance *limactl_instance_get(sd_bus *bus, const gchar *name, GError **error);

/* Every instance (ObjectManager.GetManagedObjects), sorted by name. */
GPtrArray *limactl_instance_list(sd_bus *bus, GError **error);

G_END_DECLS
