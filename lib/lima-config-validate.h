/* Lima's validation rules and messages for a filled config, plus the checks Lima leaves out
 * (9p enums, sftpDriver, host/driver compatibility). Problems go to diags. */
#pragma once

#include "lima-config.h"
#include "lima-host.h"

G_BEGIN_DECLS

void lima_config_validate(LimaConfig *cfg, const LimaHost *host, LimaDiagnostics *diags);

/* One mount on its own (for runtime mounts too): location on the host, mount point in the
 * guest, options, and whether the mount type can serve it here. */
void lima_mount_validate(LimaMount *m, const gchar *path, const gchar *mount_type,
                         const gchar *guest_home, LimaDiagnostics *diags);

G_END_DECLS
