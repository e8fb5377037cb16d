/* limactl copy [-r] SRC… DST: scp between the host and a running instance, NAME:PATH naming
 * a file in instance NAME, with limactl's own ssh options (limactl-ssh.h). */
#include <errno.h>
#include <glib/gi18n.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "limactl-bus.h"
#include "limactl-instance.h"
#include "limactl-ssh.h"
#include "limactl.h"

/* NAME:PATH → NAME and PATH; a local path gives FALSE. A path with a colon of its own is
 * refused, as Lima does (write ./a:b for a local one). */
static gboolean
limactl_copy_split(const gchar *arg, gchar **name, const gchar **path, GError **error)
{
        const gchar *colon = strchr(arg, ':');

        *name = NULL;
        *path = arg;
        if (colon == NULL || g_str_has_prefix(arg, "./") || g_str_has_prefix(arg, "/"))
                return TRUE;
        if (strchr(colon + 1, ':') != NULL) {
                g_set_error(error, LIMACTL_ERROR, LIMACTL_ERROR_INVALID_ARGUMENT,
                            _("path \"%s\" contains multiple colons; write ./%s for a host "
                              "path"),
                            arg, arg);
                return FALSE;
        }
        *name = g_strndup(arg, colon - arg);
        *path = colon + 1;
        return TRUE;
}

int
limactl_copy(int argc, char **argv)
{
        gboolean recursive = FALSE;
        gboolean verbose = FALSE;
        g_autofree gchar *backend = NULL;
        g_auto(GStrv) args = NULL;
        const GOptionEntry entries[] = {
                { "recursive", 'r', 0, G_OPTION_ARG_NONE, &recursive,
                  N_("Copy directories recursively"), NULL },
                { "verbose", 'v', 0, G_OPTION_ARG_NONE, &verbose, N_("Enable verbose output"),
                  NULL },
                { "backend", 0, 0, G_OPTION_ARG_STRING, &backend,
                  N_("Copy backend (scp|auto; rsync is not offered here)"), N_("BACKEND") },
                { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &args, NULL,
                  N_("SOURCE… TARGET") },
                { NULL },
        };
        g_autoptr(GOptionContext) ctx =
            g_option_context_new(_("- copy files between the host and an instance"));
        g_autoptr(GError) error = NULL;
        g_autoptr(sd_bus) bus = NULL;
        g_autoptr(LimactlInstance) inst = NULL;
        g_autoptr(LimactlSshTarget) target = NULL;
        g_autoptr(GPtrArray) scp = g_ptr_array_new_with_free_func(g_free);
        g_autofree gchar *instance = NULL;
        guint n;

        g_option_context_set_summary(
            ctx, _("Copy files with scp. Prefix a path with NAME: for a path in instance NAME "
                   "(relative to the guest home), e.g. `limactl copy default:/etc/os-release "
                   ".` or `limactl copy -r ./dir default:/tmp/`. The instance must be "
                   "running.\nExit status: scp's, 1 when the instance cannot be reached, 2 on "
                   "bad usage."));
        g_option_context_add_main_entries(ctx, entries, GETTEXT_PACKAGE);
        if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
                limactl_print_error("%s", error->message);
                return 2;
        }
        if (backend != NULL && !g_str_equal(backend, "scp") && !g_str_equal(backend, "auto")) {
                limactl_print_error(_("invalid backend \"%s\", must be one of: scp, auto (rsync "
                                      "is not available in this build)"),
                                    backend);
                return 2;
        }
        n = args != NULL ? g_strv_length(args) : 0;
        if (n < 2) {
                limactl_print_error(_("copy needs SOURCE… and TARGET; see `limactl copy "
                                      "--help`"));
                return 2;
        }
        for (guint i = 0; i < n; i++) {
                g_autofree gchar *name = NULL;
                const gchar *path;
                if (!limactl_copy_split(args[i], &name, &path, &error))
                        return limactl_report_error(error);
                if (name == NULL)
                        continue;
                if (instance != NULL && !g_str_equal(instance, name)) {
                        limactl_print_error(_("more than one instance is involved (%s and %s); "
                                              "copy through the host in two steps"),
                                            instance, name);
                        return 2;
                }
                if (instance == NULL)
                        instance = g_steal_pointer(&name);
        }
        if (instance == NULL) {
                limactl_print_error(_("no path names an instance; write NAME:PATH for one "
                                      "(use cp for host-to-host copies)"));
                return 2;
        }
        bus = limactl_bus_open(&error);
        if (bus == NULL)
                return limactl_report_error(error);
        inst = limactl_instance_get(bus, instance, &error);
        if (inst == NULL) {
                if (g_error_matches(error, LIMACTL_ERROR, LIMACTL_ERROR_NO_SUCH_INSTANCE)) {
                        limactl_print_error(_("instance \"%s\" does not exist, run `limactl "
                                              "create %s` to create a new instance"),
                                            instance, instance);
                        return 1;
                }
                return limactl_report_error(error);
        }
        if (!limactl_instance_is_up(inst)) {
                limactl_print_error(_("instance \"%s\" is stopped, run `limactl start %s` to "
                                      "start the instance"),
                                    instance, instance);
                return 1;
        }
        target = limactl_ssh_target_new(bus, inst, TRUE, &error);
        if (target == NULL)
                return limactl_report_error(error);
        g_ptr_array_add(scp, g_strdup("scp"));
        limactl_ssh_add_options(scp, target);
        if (recursive)
                g_ptr_array_add(scp, g_strdup("-r"));
        g_ptr_array_add(scp, g_strdup(verbose ? "-v" : "-q"));
        g_ptr_array_add(scp, g_strdup("--"));
        for (guint i = 0; i < n; i++) {
                g_autofree gchar *name = NULL;
                const gchar *path;
                (void)limactl_copy_split(args[i], &name, &path, NULL);
                if (name == NULL)
                        g_ptr_array_add(scp, g_strdup(path));
                else
                        g_ptr_array_add(scp, g_strconcat("127.0.0.1:", path, NULL));
        }
        g_ptr_array_add(scp, NULL);
        fflush(stdout);
        fflush(stderr);
        execvp("scp", (char **)scp->pdata);
        limactl_print_error(_("cannot run scp: %s; install openssh-client"), g_strerror(errno));
        return 1;
}
