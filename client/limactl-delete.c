/* limactl delete: removes instances and their disks (Instance.Delete). */
#include <glib/gi18n.h>

#include "limactl-bus.h"
#include "limactl.h"

static gboolean
limactl_delete_one(sd_bus *bus, const gchar *name, gboolean force)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(sd_bus_message) call = NULL;
        g_autoptr(sd_bus_message) reply = NULL;
        g_autofree gchar *path = limactl_bus_get_instance_path(bus, name, &error);

        if (path == NULL && force &&
            g_error_matches(error, LIMACTL_ERROR, LIMACTL_ERROR_NO_SUCH_INSTANCE)) {
                /* As Lima: --force makes deleting what is not there a warning, not a failure. */
                limactl_print_error(_("warning: ignoring instance \"%s\", which does not exist"),
                                    name);
                return TRUE;
        }
        if (path != NULL)
                call = limactl_bus_new_call(bus, path, LIMACTL_INSTANCE_IFACE, "Delete", &error);
        if (call != NULL && sd_bus_message_append(call, "b", (int)force) < 0) {
                limactl_print_error(_("cannot build the Delete call (out of memory?)"));
                return FALSE;
        }
        if (call != NULL)
                reply = limactl_bus_call(bus, call, LIMACTL_BUS_LONG_TIMEOUT, &error);
        if (reply == NULL) {
                limactl_print_error(_("cannot delete \"%s\": %s"), name, error->message);
                return FALSE;
        }
        g_printerr(_("Deleted \"%s\".\n"), name);
        return TRUE;
}

int
limactl_delete(int argc, char **argv)
{
        gboolean force = FALSE;
        g_auto(GStrv) names = NULL;
        const GOptionEntry entries[] = {
                { "force", 'f', 0, G_OPTION_ARG_NONE, &force,
                  N_("Stop a running instance first, and ignore names that do not exist"),
                  NULL },
                { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_STRING_ARRAY, &names, NULL,
                  N_("NAME…") },
                { NULL },
        };
        g_autoptr(GOptionContext) ctx = g_option_context_new(_("NAME… - delete instances"));
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
        for (guint i = 0; names[i] != NULL; i++)
                ok &= limactl_delete_one(bus, names[i], force);
        return ok ? 0 : 1;
}
