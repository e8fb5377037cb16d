/*
 * Defaults, as Lima fills them: $LIMA_HOME/_config/default.yaml (d) < the instance (y) <
 * _config/override.yaml (o) < nothing; then the builtin defaults for whatever is still unset.
 */
#pragma once

#include "lima-config.h"
#include "lima-host.h"

G_BEGIN_DECLS

#define LIMA_DEFAULT_DISK                "100GiB"
#define LIMA_DEFAULT_9P_SECURITY_MODEL   "none"
#define LIMA_DEFAULT_9P_PROTOCOL_VERSION "9p2000.L"
#define LIMA_DEFAULT_9P_MSIZE            "128KiB"
#define LIMA_DEFAULT_9P_CACHE_RO         "fscache"
#define LIMA_DEFAULT_9P_CACHE_RW         "mmap"
#define LIMA_DEFAULT_VIRTIOFS_QUEUE_SIZE 1024

/* Fills y in place. d and o may be NULL. Template and path problems go to diags. */
void lima_config_fill(LimaConfig *y, LimaConfig *d, LimaConfig *o, const LimaHost *host,
                      LimaDiagnostics *diags);

/* The mount type an instance gets when mountType is unset, per the spec's version table. */
const gchar *lima_config_default_mount_type(const gchar *vm_type, GPtrArray *unsupported,
                                            const gchar *existing_version);

/* The mount point m (a mount as written) gets in the guest once filled: templates expanded
 * with filled's variables, the location when unset; NULL when it cannot be expanded. */
gchar *lima_config_fill_mount_point(LimaConfig *filled, const LimaMount *m, const LimaHost *host);

/* "~" and "~/x" → the host home; "~user" cannot be expanded (NULL, error set). */
gchar *lima_expand_home(const gchar *path, const gchar *home, GError **error);

G_END_DECLS
