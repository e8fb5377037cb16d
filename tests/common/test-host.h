/* The pinned host every config test resolves against: user alice (uid 1234), 16 CPUs,
 * 32 GiB, instance "dev" under HOME/.lima, so expectations never depend on this machine. */
#pragma once

#include <glib.h>

#include "lima-host.h"

static inline LimaHost *
test_host_new_at(const gchar *home)
{
        LimaHost *host = g_new0(LimaHost, 1);
        host->instance_name = g_strdup("dev");
        host->instance_dir = g_build_filename(home, ".lima", "dev", NULL);
        host->user = g_strdup("alice");
        /* Quotes, so writers that must escape the comment (cloud-init's gecos) are tested. */
        host->user_comment = g_strdup("Alice \"Al\" Liddell");
        host->home = g_strdup(home);
        host->uid = 1234;
        host->arch = g_strdup("x86_64");
        host->cpus = 16;
        host->memory = 32ull << 30;
        host->tmpdir = g_strdup("/tmp");
        host->sftp_server = g_strdup("/usr/lib/openssh/sftp-server");
        host->os = g_strdup("Linux");
        return host;
}
