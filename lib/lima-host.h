/* What the filled defaults depend on: the host user, CPUs, memory, architecture, tools, and
 * the instance being filled. Gathered once, so tests can pin every value. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
        gchar *instance_name;    /* "default" for a file validated on its own */
        gchar *instance_dir;     /* {{.Dir}} */
        gchar *existing_version; /* lima-version of an existing instance; NULL: a new one,
                                    "" for an existing instance without the file */
        gchar *user;             /* host user name ("lima" for root and odd names) */
        gchar *user_comment;     /* the user's full name */
        gchar *home;             /* host home directory */
        guint uid;               /* host uid (1000 with "lima") */
        gchar *arch;             /* x86_64, aarch64, … as Lima names them */
        guint cpus;
        guint64 memory;     /* bytes */
        gchar *tmpdir;      /* {{.TempDir}} */
        gchar *sftp_server; /* OpenSSH's sftp-server, or NULL when not installed */
        gchar *os;          /* "Linux", "Darwin", … (uname) */
} LimaHost;

LimaHost *lima_host_new_from_system(const gchar *instance_name, const gchar *instance_dir);
/* As the user uid (limad --system, for an instance's owner): their name and home. */
LimaHost *lima_host_new_for_uid(const gchar *instance_name, const gchar *instance_dir, guint uid);
void lima_host_free(LimaHost *host);
/* Whether a guest can have a user of this name (Lima's rule). */
gboolean lima_host_is_valid_user_name(const gchar *name);
const gchar *lima_host_find_sftp_server(void);
/* Lima's architecture names: x86_64, aarch64, armv7l, ppc64le, riscv64, s390x. */
const gchar *lima_host_arch_from_machine(const gchar *machine);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(LimaHost, lima_host_free)

G_END_DECLS
