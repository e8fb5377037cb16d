#include "lima-ssh-config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "lima-error.h"

gchar *
lima_ssh_config_host(const gchar *instance_name)
{
        return g_strconcat("lima-", instance_name, NULL);
}

/* ssh_config values may be quoted; a quote or newline inside cannot be written at all. */
static gboolean
lima_ssh_config_check(const gchar *what, const gchar *value, GError **error)
{
        if (strpbrk(value, "\"\n\r") == NULL)
                return TRUE;
        g_set_error(error, LIMA_ERROR, LIMA_ERROR_INVALID_CONFIG,
                    _("%s \"%s\" cannot be written into ssh_config (it holds a quote or a "
                      "newline)"),
                    what, value);
        return FALSE;
}

gchar *
lima_ssh_config_text(const LimaSshConfig *cfg, GError **error)
{
        g_autofree gchar *host = lima_ssh_config_host(cfg->instance_name);
        g_autoptr(GString) out = g_string_new(NULL);

        if (!lima_ssh_config_check(_("user name"), cfg->user, error) ||
            !lima_ssh_config_check(_("identity file"), cfg->identity_file, error) ||
            (cfg->control_path != NULL &&
             !lima_ssh_config_check(_("control path"), cfg->control_path, error)))
                return NULL;
        g_string_append_printf(out, "# Written by lima-hostagent; `limactl shell %s` uses it.\n",
                               cfg->instance_name);
        g_string_append_printf(out, "Host %s\n", host);
        g_string_append(out, "  HostName 127.0.0.1\n");
        g_string_append_printf(out, "  Port %u\n", cfg->port);
        g_string_append_printf(out, "  User \"%s\"\n", cfg->user);
        g_string_append_printf(out, "  IdentityFile \"%s\"\n", cfg->identity_file);
        g_string_append(out, "  IdentitiesOnly yes\n");
        /* The guest's host keys are new at each first boot, and only reachable here. */
        g_string_append(out, "  StrictHostKeyChecking no\n");
        g_string_append(out, "  UserKnownHostsFile /dev/null\n");
        g_string_append(out, "  NoHostAuthenticationForLocalhost yes\n");
        g_string_append(out, "  PreferredAuthentications publickey\n");
        g_string_append(out, "  LogLevel ERROR\n");
        g_string_append(out, "  ServerAliveInterval 15\n");
        if (cfg->control_path != NULL) {
                /* The host agent runs the one master (lima-agent-ssh.c); everyone else only
                 * rides it, and connects afresh while it is down. */
                g_string_append(out, "  ControlMaster no\n");
                g_string_append_printf(out, "  ControlPath \"%s\"\n", cfg->control_path);
        }
        return g_string_free(g_steal_pointer(&out), FALSE);
}

gboolean
lima_ssh_config_write(const LimaSshConfig *cfg, const gchar *path, GError **error)
{
        g_autofree gchar *text = lima_ssh_config_text(cfg, error);
        if (text == NULL)
                return FALSE;
        return g_file_set_contents_full(path, text, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600,
                                        error);
}

GPtrArray *
lima_ssh_argv(const gchar *config_path, const gchar *instance_name, const gchar *const *command)
{
        GPtrArray *argv = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(GString) remote = g_string_new(NULL);

        g_ptr_array_add(argv, g_strdup("ssh"));
        g_ptr_array_add(argv, g_strdup("-F"));
        g_ptr_array_add(argv, g_strdup(config_path));
        g_ptr_array_add(argv, g_strdup("-o"));
        g_ptr_array_add(argv, g_strdup("BatchMode=yes"));
        g_ptr_array_add(argv, g_strdup("-o"));
        g_ptr_array_add(argv, g_strdup("ConnectTimeout=5"));
        g_ptr_array_add(argv, lima_ssh_config_host(instance_name));
        g_ptr_array_add(argv, g_strdup("--"));
        /* ssh joins its arguments into one string for the remote shell: quote each. */
        for (guint i = 0; command != NULL && command[i] != NULL; i++) {
                g_autofree gchar *quoted = g_shell_quote(command[i]);
                g_string_append_printf(remote, "%s%s", i > 0 ? " " : "", quoted);
        }
        g_ptr_array_add(argv, g_string_free(g_steal_pointer(&remote), FALSE));
        g_ptr_array_add(argv, NULL);
        return argv;
}

gboolean
lima_ssh_run(const gchar *config_path, const gchar *instance_name, const gchar *const *command,
             gchar **out, GError **error)
{
        g_autoptr(GPtrArray) argv = lima_ssh_argv(config_path, instance_name, command);
        g_autofree gchar *stdout_text = NULL;
        g_autofree gchar *stderr_text = NULL;
        gint status = 0;

        if (!g_spawn_sync(NULL, (gchar **)argv->pdata, NULL,
                          G_SPAWN_SEARCH_PATH | G_SPAWN_STDIN_FROM_DEV_NULL, NULL, NULL,
                          &stdout_text, &stderr_text, &status, error))
                return FALSE;
        if (!g_spawn_check_wait_status(status, error)) {
                g_prefix_error(error, "%s: ", g_strstrip(stderr_text));
                return FALSE;
        }
        if (out != NULL)
                *out = g_steal_pointer(&stdout_text);
        return TRUE;
}
