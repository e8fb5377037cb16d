/*
 * Which QEMU accelerator an instance gets. KVM only when it really works: a /dev/kvm that
 * opens is not enough, since a software-nested provider (kvm_pvm) crawls under stock guest
 * kernels. LIMA_QEMU_ACCEL=kvm|tcg overrides the probe.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define LIMA_ACCEL_ENV "LIMA_QEMU_ACCEL"

typedef enum {
        LIMA_ACCEL_TCG,
        LIMA_ACCEL_KVM,
} LimaAccel;

/* "tcg" or "kvm", as QEMU spells them. */
const gchar *lima_accel_to_string(LimaAccel accel);
gboolean lima_accel_from_string(const gchar *text, LimaAccel *accel);

/* Decides for a guest of guest_arch (Lima's names) on this host. reason (may be NULL) gets a
 * line a person can read, e.g. "tcg: /dev/kvm is kvm_pvm (software nested), …". Fails only
 * when LIMA_QEMU_ACCEL holds something other than kvm or tcg. */
gboolean lima_accel_probe(const gchar *guest_arch, LimaAccel *accel, gchar **reason,
                          GError **error);

/* Where the probe looks; every field may be NULL for the real system. For tests. */
typedef struct {
        const gchar *env_override; /* as LIMA_QEMU_ACCEL; NULL: read it, "": probe */
        const gchar *host_arch;    /* NULL: uname */
        const gchar *dev_kvm;      /* NULL: /dev/kvm */
        const gchar *module_dir;   /* NULL: /sys/module */
} LimaAccelProbeEnv;

gboolean lima_accel_probe_with(const LimaAccelProbeEnv *env, const gchar *guest_arch,
                               LimaAccel *accel, gchar **reason, GError **error);

G_END_DECLS
