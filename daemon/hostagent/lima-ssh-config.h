/* The instance's ssh.config (Host lima-NAME), which limactl shell and the agent itself use,
 * and running a command in the guest through it. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
        const gchar *instance_name;
        const gchar *user;
        guint16 port;
        const gchar *identity_file;
        const gchar *control_path; /* a master connection's socket, for fast repeated runs */
} LimaSshConfig;

gchar *lima_ssh_config_host(const gchar *instance_name);
gchar *lima_ssh_config_text(const LimaSshConfig *cfg, GError **error);
gboolean lima_ssh_config_write(const LimaSshConfig *cfg, const gchar *path, GError **error);
/* ssh -F CONFIG lima-NAME -- COMMAND, where COMMAND is one shell-quoted remote command. */
GPtrArray *lima_ssh_argv(const gchar *config_path, const gchar *instance_name,
                         const gchar *const *command);
/* Runs command in the guest; TRUE when it exited 0. Output on *out when out is not NULL. */
gboolean lima_ssh_run(const gchar *config_path, const gchar *instance_name,
                      const gchar *const *command, gchar **out, GError **error);

G_END_DECLS
