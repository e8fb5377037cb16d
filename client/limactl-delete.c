/* limactl delete: removes instances and their disks (Instance.Delete). */
#include <glib/gi18n.h>

#include "limactl-bus.h"
#include "limactl.h"

static gboolean
limactl_delete_one(sd_bus *bus, const gchar *name, gboolean force, GError **error)
{
        g_autoptr(sd_bus_message) call = NULL;
        g_autoptr(sd_bus_message) reply = NULL;
        g_autofree gchar *path = limactl_bus_get_instance_path(bus, name, error);

        if (path == NULL)
                return FALSE;
        call = limactl_bus_new_call(bus, path, LIMACTL_INSTANCE_IFACE, "Delete", error);
        if (call == NULL)
                return FALSE;
        if (sd_bus_message_append(call, "b", (int)force) < 0) {
                g_set_error_literal(error, LIMACTL_ERROR, LIMACTL_ERROR_FAILED,
                                    _("cannot build the Delete call (out of memory?)"));
                return FALSE;
        }
        reply = limactl_bus_call(bus, call, LIMACTL_BUS_LONG_TIMEOUT, error);
        return reply != NULL;
}

int
limactl_delete(int argc, char **argv)
{
        gboolean force = FALSE;
        g_auto(GStrv) names = NULL;
        const GOptionEntry entries[] = {
                { "force", 'f', 0, G_OPTION_ARG_NONE, &force,
                  N_("Stop a running instance first, and ignore names that do not exist"), NULL },
                { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_STRING_ARRAY, &names, NULL, N_("NAME…") },
                { NULL },
        };
        g_autoptr(GOptionContext) ctx = g_option_context_new(_("- delete instances"));
        g_autoptr(GError) error = NULL;
        g_autoptr(sd_bus) bus = NULL;
        gboolean ok = TRUE;

        g_option_context_set_summary(
            ctx, _("Delete stopped instances with their disks; --force stops running ones "
                   "first. Host folders that were mounted are not touched.\nExit status: 0 when "
                   "every instance was deleted, 1 when one was not, 2 on bad usage."));
        g_option_context_add_main_entries(ctx, entries, GETTEXT_PACKAGE);
        if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
                limactl_print_error("%s", error->message);
                return 2;
        }
        if (names == NULL || names[0] == NULL) {
                limactl_print_error(_("delete needs at least one instance NAME; see `limactl "
                                      "delete --help`"));
                return 2;
        }
        bus = limactl_bus_open(&error);
        if (bus == NULL)
                return limactl_report_error(error);
        for (guint i = 0; names[i] != NULL; i++) {
                g_autoptr(GError) local = NULL;
                if (limactl_delete_one(bus, names[i], force, &local)) {
                        g_printerr(_("Deleted \"%s\".\n"), names[i]);
                        continue;
                }
                if (force &&
                    g_error_matches(local, LIMACTL_ERROR, LIMACTL_ERROR_NO_SUCH_INSTANCE)) {
                        /* As Lima: with --force, what is not there is a warning. */
                        limactl_print_error(_("warning: ignoring instance \"%s\", which does "
                                              "not exist"),
                                            names[i]);
                        continue;
                }
                /* Without limad or a bus, the next names would fail the same way. */
                if (g_error_matches(local, LIMACTL_ERROR, LIMACTL_ERROR_NOT_RUNNING) ||
                    g_error_matches(local, LIMACTL_ERROR, LIMACTL_ERROR_NO_BUS))
                        return limactl_report_error(local);
                limactl_print_error(_("cannot delete \"%s\": %s"), names[i], local->message);
                ok = FALSE;
        }
        return ok ? 0 : 1;
}
