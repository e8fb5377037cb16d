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
#include "limactl-instance.h"
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

static int
limactl_shell_exec(const LimactlInstance *inst, const gchar *workdir_flag, gchar **command)
{
        g_autofree gchar *ssh_config = g_build_filename(inst->dir, "ssh.config", NULL);
        g_autofree gchar *host = g_strconcat("lima-", inst->name, NULL);
        g_autofree gchar *workdir = NULL;
        g_autofree gchar *script = NULL;
        g_autoptr(GPtrArray) argv = g_ptr_array_new();

        if (access(ssh_config, R_OK) != 0 && errno == EACCES) {
                /* limad --system: the instance folder, and its ssh key, are the owner's. */
                limactl_print_error(_("%s belongs to another user: only its owner can open a "
                                      "shell in it (you cannot read %s)"),
                                    inst->name, ssh_config);
                return 1;
        }
        if (!g_file_test(ssh_config, G_FILE_TEST_IS_REGULAR)) {
                limactl_print_error(_("%s is missing; the host agent writes it when %s starts: "
                                      "try `limactl stop %s && limactl start %s`"),
                                    ssh_config, inst->name, inst->name, inst->name);
                return 1;
        }
        workdir =
            workdir_flag != NULL ? g_strdup(workdir_flag) : limactl_shell_default_workdir(inst);
        script = limactl_format_shell_script(workdir, workdir_flag != NULL, command);
        g_ptr_array_add(argv, (gpointer) "ssh");
        g_ptr_array_add(argv, (gpointer) "-F");
        g_ptr_array_add(argv, ssh_config);
        /* A remote command gets no terminal unless asked; a person at one wants it. */
        g_ptr_array_add(argv,
                        (gpointer)(isatty(STDIN_FILENO) && isatty(STDOUT_FILENO) ? "-t" : "-T"));
        g_ptr_array_add(argv, host);
        g_ptr_array_add(argv, script);
        g_ptr_array_add(argv, NULL);
        fflush(stdout);
        fflush(stderr);
        execvp("ssh", (char **)argv->pdata);
        limactl_print_error(_("cannot run ssh: %s; install openssh-client"), g_strerror(errno));
        return 1;
}

int
limactl_shell(int argc, char **argv)
{
        g_autofree gchar *workdir = NULL;
        const GOptionEntry entries[] = {
                { "workdir", 0, 0, G_OPTION_ARG_FILENAME, &workdir,
                  N_("Guest folder to run in (default: the host's current folder when it is "
                     "under a mount, else the guest home)"),
                  N_("DIR") },
                { NULL },
        };
        g_autoptr(GOptionContext) ctx =
            g_option_context_new(_("NAME [COMMAND…] - run a shell or a command in an instance"));
        g_autoptr(GError) error = NULL;
        g_autoptr(sd_bus) bus = NULL;
        g_autoptr(LimactlInstance) inst = NULL;
        gchar **rest;

        g_option_context_set_summary(
            ctx, _("Run COMMAND, or a login shell, in running instance NAME over ssh. Options "
                   "go before NAME; everything after NAME is the command.\nExit status: the "
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
        if (rest[0] == NULL) {
                limactl_print_error(_("shell needs an instance NAME; see `limactl shell "
                                      "--help`"));
                return 2;
        }
        bus = limactl_bus_open(&error);
        if (bus == NULL)
                return limactl_report_error(error);
        inst = limactl_instance_get(bus, rest[0], &error);
        if (inst == NULL)
                return limactl_report_error(error);
        if (!limactl_instance_is_up(inst)) {
                limactl_print_error(_("%s is %s, not running; start it with `limactl start %s`"),
                                    inst->name, inst->status != NULL ? inst->status : "?",
                                    inst->name);
                return 1;
        }
        if (inst->dir == NULL || *inst->dir == '\0') {
                limactl_print_error(_("limad did not say where %s lives (no Dir property)"),
                                    inst->name);
                return 1;
        }
        /* The bus is not needed by ssh; do not leak its socket into it. */
        g_clear_pointer(&bus, sd_bus_flush_close_unref);
        return limactl_shell_exec(inst, workdir, rest + 1);
}
