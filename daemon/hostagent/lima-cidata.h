/*
 * The cidata (cloud-init NoCloud) seed of an instance, as Lima lays it out: meta-data and
 * user-data for cloud-init, and lima.env, boot.sh and boot/ scripts that a per-boot hook in
 * user-data runs from the ISO at every boot. Mounts, environment, provisioning and the guest
 * agent live in those scripts rather than in cloud-config, so a changed seed takes effect on the
 * next boot without cloud-init seeing a new instance, and mount points may contain spaces
 * (cloud-init's fstab entries cannot: Lima #5136, #2235).
 */
#pragma once

#include <glib.h>

#include "lima-config.h"

G_BEGIN_DECLS

#define LIMA_CIDATA_LABEL "cidata"
/* Where the per-boot hook mounts the seed in the guest. */
#define LIMA_CIDATA_GUEST_MOUNT "/mnt/lima-cidata"
/* In the guest: virtiofs mounts added while running, remounted by the boot script. */
#define LIMA_CIDATA_RUNTIME_MOUNTS "/var/lib/lima-runtime-mounts"
/* The virtio-serial port name QEMU gives the guest agent's channel. */
#define LIMA_CIDATA_GUESTAGENT_PORT "io.lima.guestagent"

typedef struct {
        const LimaConfig *config;            /* filled and validated */
        const gchar *instance_name;          /* validated */
        const gchar *const *ssh_public_keys; /* authorized_keys lines, at least one */
        const gchar *guestagent_path;        /* host path of lima-guestagent, or NULL */
        const gchar *host_home;              /* for LIMA_CIDATA_HOSTHOME_MOUNTPOINT, or NULL */
} LimaCidataPlan;

/* "lima-" + the name with '.' and '_' turned into '-', as Lima names guests. */
gchar *lima_cidata_hostname(const gchar *instance_name);

/* The #cloud-config document: the user, the per-boot hook, boot-mode provisioning. */
gchar *lima_cidata_user_data(const LimaCidataPlan *plan, GError **error);
/* instance-id (the name and a digest of user-data, so cloud-init runs its per-instance steps
 * again only when user-data changed) and local-hostname. */
gchar *lima_cidata_meta_data(const LimaCidataPlan *plan, GError **error);
/* LIMA_CIDATA_* variables, one KEY=VALUE a line, as Lima's lima.env. */
gchar *lima_cidata_lima_env(const LimaCidataPlan *plan, GError **error);
/* The boot script that creates mount points and mounts 9p/virtiofs shares; every path is
 * shell-quoted. */
gchar *lima_cidata_mount_script(const LimaCidataPlan *plan, GError **error);

/* The native route's plan (lima-boot-plan, read by lima-guestagent boot; format in
 * guest/lima-guest-boot.h): host name, user, keys, 9p/virtiofs mounts. */
gchar *lima_cidata_boot_plan(const LimaCidataPlan *plan, GError **error);

/* Everything that goes on the ISO, as LimaIsoFile* (lima-iso9660.h). */
GPtrArray *lima_cidata_files(const LimaCidataPlan *plan, GError **error);
/* Builds the seed ISO (label "cidata") at iso_path, atomically. */
gboolean lima_cidata_write(const LimaCidataPlan *plan, const gchar *iso_path, GError **error);

G_END_DECLS
