/*
 * The QEMU command line of an instance, as an argv array built from validated values (never a
 * shell string). Everything QEMU needs is in a LimaQemuPlan: the filled config, the instance's
 * files, the accelerator and the SSH port.
 */
#pragma once

#include <glib.h>

#include "lima-accel.h"
#include "lima-config.h"

G_BEGIN_DECLS

/* The instance directory's files, named as Lima names them. */
#define LIMA_QEMU_DIFFDISK   "diffdisk"
#define LIMA_QEMU_CIDATA_ISO "cidata.iso"
#define LIMA_QEMU_QMP_SOCK   "qmp.sock"
#define LIMA_QEMU_SERIAL_LOG "serial.log"
#define LIMA_QEMU_PIDFILE    "qemu.pid"

/* Lima's user-mode network: the guest is 192.168.5.15, the host 192.168.5.2. */
#define LIMA_QEMU_SLIRP_NETWORK  "192.168.5.0/24"
#define LIMA_QEMU_SLIRP_GUEST_IP "192.168.5.15"

typedef struct {
        const LimaConfig *config; /* filled (lima_config_fill); borrowed */
        gchar *instance_dir;
        gchar *qemu_binary; /* NULL: qemu-system-<arch>, found on PATH */
        gchar *diffdisk;    /* qcow2 */
        gchar *cidata_iso;
        gchar *qmp_sock;
        gchar *serial_log;
        gchar *pidfile;
        gchar *ga_sock;  /* the guest agent's port, see lima-guest-protocol.h */
        gchar *firmware; /* NULL: QEMU's default (SeaBIOS on x86_64); aarch64 needs UEFI code */
        LimaAccel accel;
        guint16 ssh_local_port; /* resolved: never 0 */
        /* Direct kernel boot, all optional. */
        gchar *kernel;
        gchar *initrd;
        gchar *kernel_cmdline;
} LimaQemuPlan;

/* A plan with the instance directory's files at their usual names; accel and port still
 * to be set. */
LimaQemuPlan *lima_qemu_plan_new(const LimaConfig *config, const gchar *instance_dir);
void lima_qemu_plan_free(LimaQemuPlan *plan);

/* <instance_dir>/virtiofsd-<tag>.sock: where QEMU expects that mount's virtiofsd. */
gchar *lima_qemu_virtiofsd_socket(const LimaQemuPlan *plan, const LimaMount *mount);

/* "qemu-system-x86_64" or "qemu-system-aarch64"; NULL for an arch this agent cannot run. */
const gchar *lima_qemu_binary_for_arch(const gchar *arch);

/* Doubles every comma, QEMU's escape inside "key=value,…" option strings. */
gchar *lima_qemu_opt_escape(const gchar *value);

/* The full argv (argv[0] is the binary), NULL-terminated for g_spawn; NULL with error when a
 * value cannot be passed safely (a control character, a relative path, a socket path too
 * long for a unix socket, …). */
GPtrArray *lima_qemu_argv_build(const LimaQemuPlan *plan, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(LimaQemuPlan, lima_qemu_plan_free)

G_END_DECLS
