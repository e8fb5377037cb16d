/* limactl shell: a shell or a command in a running instance, over the ssh config its host
 * agent wrote, in the guest folder that matches where we are on the host. */
#include <errno.h>
#include <glib/gi18n.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "limactl-bus.h"
#include "limactl-format.h"
#include "limactl-create.h"
#include "limactl-instance.h"
#include "limactl-ssh.h"
#include "limactl.h"

/* Mounts as limad reports them, with each location's symlinks resolved on this host. */
static GPtrArray *
limactl_shell_resolved_mounts(GPtrArray *mounts)
{
        GPtrArray *resolved =
            g_ptr_array_new_with_free_func((GDestroyNotify)lima_mount_status_free);
        for (guint i = 0; i < mounts->len; i++) {
                const LimaMountStatus *mount = g_ptr_array_index(mounts, i);
                g_autofree gchar *real = NULL;
                LimaMountStatus *copy;
                if (mount->location != NULL)
                        real = realpath(mount->location, NULL);
                copy =
                    lima_mount_status_new(real != NULL ? real : mount->location, mount->mount_point,
                                          mount->type, mount->writable, mount->state);
                g_ptr_array_add(resolved, copy);
        }
        return resolved;
}

/* Where the current host folder is in the guest, or NULL (then the guest home). $PWD may
 * name it through a symlink and a mount location may be one, so both spellings are tried. */
static gchar *
limactl_shell_default_workdir(const LimactlInstance *inst)
{
        g_autofree gchar *cwd = g_get_current_dir();
        g_autofree gchar *real_cwd = realpath(".", NULL);
        g_autoptr(GPtrArray) resolved = NULL;
        gchar *workdir = limactl_workdir_translate(cwd, inst->mounts);

        if (workdir != NULL || real_cwd == NULL)
                return workdir;
        resolved = limactl_shell_resolved_mounts(inst->mounts);
        return limactl_workdir_translate(real_cwd, resolved);
}

typedef struct {
        gchar *workdir;
        gchar *shell;
        gchar *instance;
        gboolean start;
        gboolean reconnect;
        gboolean preserve_env;
} LimactlShellFlags;

static void
limactl_shell_flags_clear(LimactlShellFlags *flags)
{
        g_free(flags->workdir);
        g_free(flags->shell);
        g_free(flags->instance);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(LimactlShellFlags, limactl_shell_flags_clear)

static int
limactl_shell_exec(sd_bus *bus, const LimactlInstance *inst, const LimactlShellFlags *flags,
                   gchar **command)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(LimactlSshTarget) target = NULL;
        g_autofree gchar *workdir = NULL;
        g_autofree gchar *script = NULL;
        g_auto(GStrv) env = NULL;
        g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);

        /* --reconnect: a connection of its own, not the agent's master. */
        target = limactl_ssh_target_new(bus, inst, !flags->reconnect, &error);
        if (target == NULL)
                return limactl_report_error(error);
        workdir =
            flags->workdir != NULL ? g_strdup(flags->workdir) : limactl_shell_default_workdir(inst);
        if (flags->preserve_env) {
                g_auto(GStrv) host_env = g_get_environ();
                env = limactl_format_preserved_env((const gchar *const *)host_env);
        }
        script = limactl_format_shell_script_full(workdir, flags->workdir != NULL, flags->shell,
                                                  (const gchar *const *)env, command);
        g_ptr_array_add(argv, g_strdup("ssh"));
        limactl_ssh_add_options(argv, target);
        /* A remote command gets no terminal unless asked; a person at one wants it. */
        g_ptr_array_add(argv, g_strdup(isatty(STDIN_FILENO) && isatty(STDOUT_FILENO) &&
                                               limactl_use_tty(STDIN_FILENO)
                                           ? "-t"
                                           : "-T"));
        g_ptr_array_add(argv, g_strdup("127.0.0.1"));
        g_ptr_array_add(argv, g_steal_pointer(&script));
        g_ptr_array_add(argv, NULL);
        fflush(stdout);
        fflush(stderr);
        execvp("ssh", (char **)argv->pdata);
        limactl_print_error(_("cannot run ssh: %s; install openssh-client"), g_strerror(errno));
        return 1;
}

static gboolean
limactl_shell_ask_start(const gchar *name)
{
        gchar answer[16] = "";
        g_printerr(_("Instance \"%s\" is stopped. Do you want to start it now? [Y/n] "), name);
        if (fgets(answer, sizeof answer, stdin) == NULL)
                return FALSE;
        return answer[0] == '\n' || answer[0] == 'y' || answer[0] == 'Y';
}

int
limactl_shell(int argc, char **argv)
{
        g_auto(LimactlShellFlags) flags = { 0 };
        const GOptionEntry entries[] = {
                { "workdir", 0, 0, G_OPTION_ARG_FILENAME, &flags.workdir,
                  N_("Guest folder to run in (default: the host's current folder when it is "
                     "under a mount, else the guest home)"),
                  N_("DIR") },
                { "shell", 0, 0, G_OPTION_ARG_FILENAME, &flags.shell,
                  N_("Shell interpreter, e.g. /bin/bash"), N_("SHELL") },
                { "start", 0, 0, G_OPTION_ARG_NONE, &flags.start,
                  N_("Start the instance if it is not already running"), NULL },
                { "reconnect", 0, 0, G_OPTION_ARG_NONE, &flags.reconnect,
                  N_("Reconnect: a new SSH session instead of the instance's shared one"), NULL },
                { "preserve-env", 0, 0, G_OPTION_ARG_NONE, &flags.preserve_env,
                  N_("Propagate environment variables to the shell (not PATH, HOME, SSH_*, "
                     "XDG_*, …)"),
                  NULL },
                { "tty", 0, G_OPTION_FLAG_OPTIONAL_ARG, G_OPTION_ARG_CALLBACK,
                  (gpointer)limactl_tty_flag_parse,
                  N_("Behave as on a terminal (=false: no prompt, no remote terminal)"),
                  N_("BOOL") },
                { "instance", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_STRING, &flags.instance,
                  N_("Instance name (used by the lima wrapper)"), N_("NAME") },
                { NULL },
        };
        g_autoptr(GOptionContext) ctx =
            g_option_context_new(_("NAME [COMMAND…] - run a shell or a command in an instance"));
        g_autoptr(GError) error = NULL;
        g_autoptr(sd_bus) bus = NULL;
        g_autoptr(LimactlInstance) inst = NULL;
        const gchar *name;
        gchar **rest;
        int rc;

        g_option_context_set_summary(
            ctx, _("Run COMMAND, or a login shell, in instance NAME over ssh. Options go "
                   "before NAME; everything after NAME is the command. ssh gets every option "
                   "from limactl itself, never from a config file.\nExit status: the "
                   "command's, or 1 when the instance is not running or cannot be reached, 2 "
                   "on bad usage."));
        g_option_context_add_main_entries(ctx, entries, GETTEXT_PACKAGE);
        /* Stop at NAME, so that `shell dev ls -la` leaves -la to ls. */
        g_option_context_set_strict_posix(ctx, TRUE);
        if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
                limactl_print_error("%s", error->message);
                return 2;
        }
        rest = argv + 1;
        if (rest[0] != NULL && g_str_equal(rest[0], "--"))
                rest++;
        if (flags.instance != NULL) {
                name = flags.instance;
        } else if (rest[0] == NULL) {
                limactl_print_error(_("shell needs an instance NAME; see `limactl shell "
                                      "--help`"));
                return 2;
        } else {
                name = *rest++;
        }
        bus = limactl_bus_open(&error);
        if (bus == NULL)
                return limactl_report_error(error);
        inst = limactl_instance_get(bus, name, &error);
        if (inst == NULL) {
                if (g_error_matches(error, LIMACTL_ERROR, LIMACTL_ERROR_NO_SUCH_INSTANCE))
                        limactl_print_error(_("instance \"%s\" does not exist, run `limactl "
                                              "create %s` to create a new instance"),
                                            name, name);
                else
                        return limactl_report_error(error);
                return 1;
        }
        if (!limactl_instance_is_up(inst)) {
                gboolean start_now = flags.start;
                if (!start_now && limactl_use_tty(STDIN_FILENO) && isatty(STDIN_FILENO))
                        start_now = limactl_shell_ask_start(inst->name);
                if (!start_now) {
                        limactl_print_error(_("instance \"%s\" is %s, run `limactl start %s` to "
                                              "start the instance (or pass --start)"),
                                            inst->name, inst->status != NULL ? inst->status : "?",
                                            inst->name);
                        return 1;
                }
                {
                        gchar *start_argv[] = { (gchar *)"start", (gchar *)name, NULL };
                        rc = limactl_start(2, start_argv);
                }
                if (rc != 0)
                        return rc;
                g_clear_pointer(&inst, limactl_instance_free);
                inst = limactl_instance_get(bus, name, &error);
                if (inst == NULL)
                        return limactl_report_error(error);
        }
        return limactl_shell_exec(bus, inst, &flags, rest);
}
