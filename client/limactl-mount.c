/* limactl mount add/remove/list: the mounts of one instance, changed while it runs
 * (Instance.AddMount, Instance.RemoveMount) or listed with their state (Mounts). */
#include <glib/gi18n.h>
#include <stdio.h>

#include "limactl-bus.h"
#include "limactl-format.h"
#include "limactl-instance.h"
#include "limactl.h"

static const gchar limactl_mount_usage[] =
    N_("Usage: limactl mount COMMAND …\n"
       "\n"
       "Commands:\n"
       "  add NAME LOCATION[:MOUNTPOINT] [--writable] [--type TYPE]\n"
       "             Mount host folder LOCATION in instance NAME and save it in lima.yaml\n"
       "  remove NAME MOUNTPOINT\n"
       "             Unmount MOUNTPOINT and take it out of lima.yaml\n"
       "  list NAME  Show the mounts of NAME and the state of each\n"
       "\n"
       "Run `limactl mount COMMAND --help` for the details of a command.\n");

static GOptionContext *
limactl_mount_context(const gchar *command, const gchar *parameters, const gchar *summary,
                      const GOptionEntry *entries)
{
        g_autofree gchar *prgname = g_strconcat("limactl mount ", command, NULL);
        GOptionContext *ctx = g_option_context_new(parameters);
        g_set_prgname(prgname);
        g_option_context_set_summary(ctx, summary);
        g_option_context_add_main_entries(ctx, entries, GETTEXT_PACKAGE);
        return ctx;
}

static gboolean
limactl_mount_call(sd_bus *bus, const gchar *name, const gchar *method, sd_bus_message **call,
                   GError **error)
{
        g_autofree gchar *path = limactl_bus_get_instance_path(bus, name, error);
        if (path == NULL)
                return FALSE;
        *call = limactl_bus_new_call(bus, path, LIMACTL_INSTANCE_IFACE, method, error);
        return *call != NULL;
}

static gboolean
limactl_mount_is_up(sd_bus *bus, const gchar *name, GError **error)
{
        g_autoptr(LimactlInstance) inst = limactl_instance_get(bus, name, error);
        return inst != NULL && limactl_instance_is_up(inst);
}

static int
limactl_mount_add(int argc, char **argv)
{
        gboolean writable = FALSE;
        g_autofree gchar *type = NULL;
        g_auto(GStrv) args = NULL;
        const GOptionEntry entries[] = {
                { "writable", 'w', 0, G_OPTION_ARG_NONE, &writable,
                  N_("Let the guest write to the folder (default: read-only)"), NULL },
                { "type", 0, 0, G_OPTION_ARG_STRING, &type,
                  N_("reverse-sshfs or virtiofs; must be the instance's mountType, which is "
                     "used when left out"),
                  N_("TYPE") },
                { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_STRING_ARRAY, &args, NULL,
                  N_("NAME LOCATION[:MOUNTPOINT]") },
                { NULL },
        };
        g_autoptr(GOptionContext) ctx = limactl_mount_context(
            "add", _("- add a mount"),
            _("Mount host folder LOCATION in instance NAME at MOUNTPOINT (default: the same "
              "path as LOCATION) and save it in NAME's lima.yaml. LOCATION may be relative or "
              "start with ~; it must exist and be readable by you (writable with --writable), "
              "under the same rules as a mount written in lima.yaml.\n"
              "\n"
              "Running instance: the folder is mounted at once, without a reboot, and "
              "lima.yaml is saved only once it is mounted; if it fails nothing is saved and "
              "nothing is left running. virtiofs is hot-plugged (a virtiofsd, a PCIe device "
              "on one of the spare ports QEMU got at start, a mount over ssh); "
              "reverse-sshfs starts a session of its own. 9p cannot be hot-plugged into "
              "QEMU: that is refused; add the mount while the instance is stopped.\n"
              "Stopped instance: only lima.yaml changes, and the folder is mounted at the "
              "next start.\n"
              "\n"
              "An instance has one mountType for all its mounts (lima.yaml has one), so "
              "--type only confirms it. A virtiofs instance has 4 spare ports for mounts "
              "added while it runs; more wait for the next start. The C virtiofsd of "
              "qemu-system-common runs only as root.\n"
              "Exit status: 0 when added, 1 when refused or failed, 2 on bad usage."),
            entries);
        g_autoptr(GError) error = NULL;
        g_autoptr(sd_bus) bus = NULL;
        g_autoptr(sd_bus_message) call = NULL;
        g_autoptr(sd_bus_message) reply = NULL;
        g_autofree gchar *location = NULL;
        g_autofree gchar *mount_point = NULL;
        g_autofree gchar *cwd = g_get_current_dir();
        gboolean up;
        int r;

        if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
                limactl_print_error("%s", error->message);
                return 2;
        }
        if (args == NULL || g_strv_length(args) != 2) {
                limactl_print_error(_("mount add needs NAME and LOCATION[:MOUNTPOINT]; see "
                                      "`limactl mount add --help`"));
                return 2;
        }
        if (!limactl_mount_arg_parse(args[1], cwd, g_get_home_dir(), &location, &mount_point,
                                     &error))
                return limactl_report_error(error);
        bus = limactl_bus_open(&error);
        if (bus == NULL || !limactl_mount_call(bus, args[0], "AddMount", &call, &error))
                return limactl_report_error(error);
        up = limactl_mount_is_up(bus, args[0], NULL);
        r = sd_bus_message_append(call, "ssb", location, mount_point, writable);
        if (r >= 0 && type != NULL)
                r = sd_bus_message_append(call, "a{sv}", 1, "type", "s", type);
        else if (r >= 0)
                r = sd_bus_message_append(call, "a{sv}", 0);
        if (r < 0) {
                limactl_bus_set_error(&error, r, NULL);
                return limactl_report_error(error);
        }
        reply = limactl_bus_call(bus, call, LIMACTL_BUS_LONG_TIMEOUT, &error);
        if (reply == NULL)
                return limactl_report_error(error);
        if (up)
                g_printerr(_("Mounted %s at %s in \"%s\" (%s); saved in its lima.yaml.\n"),
                           location, *mount_point != '\0' ? mount_point : location, args[0],
                           writable ? _("writable") : _("read-only"));
        else
                g_printerr(_("Added %s at %s to the lima.yaml of \"%s\"; it is mounted at the "
                             "next start.\n"),
                           location, *mount_point != '\0' ? mount_point : location, args[0]);
        return 0;
}

static int
limactl_mount_remove(int argc, char **argv)
{
        g_auto(GStrv) args = NULL;
        const GOptionEntry entries[] = {
                { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_STRING_ARRAY, &args, NULL,
                  N_("NAME MOUNTPOINT") },
                { NULL },
        };
        g_autoptr(GOptionContext) ctx = limactl_mount_context(
            "remove", _("- remove a mount"),
            _("Take the mount at MOUNTPOINT (as `limactl mount list` shows it) out of "
              "instance NAME and its lima.yaml.\n"
              "\n"
              "Running instance: it is unmounted in the guest first (refused while something "
              "there uses it), then its virtiofs device is unplugged or its reverse-sshfs "
              "session ended; lima.yaml is saved only once that worked. 9p mounts cannot be "
              "unplugged from QEMU: stop the instance first. Stopped instance: only lima.yaml "
              "changes.\n"
              "Exit status: 0 when removed, 1 when refused or failed, 2 on bad usage."),
            entries);
        g_autoptr(GError) error = NULL;
        g_autoptr(sd_bus) bus = NULL;
        g_autoptr(sd_bus_message) call = NULL;
        g_autoptr(sd_bus_message) reply = NULL;
        int r;

        if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
                limactl_print_error("%s", error->message);
                return 2;
        }
        if (args == NULL || g_strv_length(args) != 2) {
                limactl_print_error(_("mount remove needs NAME and MOUNTPOINT; see `limactl "
                                      "mount remove --help`"));
                return 2;
        }
        bus = limactl_bus_open(&error);
        if (bus == NULL || !limactl_mount_call(bus, args[0], "RemoveMount", &call, &error))
                return limactl_report_error(error);
        r = sd_bus_message_append(call, "s", args[1]);
        if (r < 0) {
                limactl_bus_set_error(&error, r, NULL);
                return limactl_report_error(error);
        }
        reply = limactl_bus_call(bus, call, LIMACTL_BUS_LONG_TIMEOUT, &error);
        if (reply == NULL)
                return limactl_report_error(error);
        g_printerr(_("Removed the mount at %s from \"%s\".\n"), args[1], args[0]);
        return 0;
}

static int
limactl_mount_list(int argc, char **argv)
{
        g_auto(GStrv) args = NULL;
        const GOptionEntry entries[] = {
                { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_STRING_ARRAY, &args, NULL, N_("NAME") },
                { NULL },
        };
        g_autoptr(GOptionContext) ctx = limactl_mount_context(
            "list", _("- list the mounts of an instance"),
            _("Show each mount of instance NAME: where it is in the guest, its type, rw or "
              "ro, its state (pending, mounted or failed, with the reason) and the host "
              "folder."),
            entries);
        g_autoptr(GError) error = NULL;
        g_autoptr(sd_bus) bus = NULL;
        g_autoptr(LimactlInstance) inst = NULL;

        if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
                limactl_print_error("%s", error->message);
                return 2;
        }
        if (args == NULL || g_strv_length(args) != 1) {
                limactl_print_error(_("mount list needs one instance NAME"));
                return 2;
        }
        bus = limactl_bus_open(&error);
        if (bus == NULL || (inst = limactl_instance_get(bus, args[0], &error)) == NULL)
                return limactl_report_error(error);
        g_print("%-30s %-14s %-3s %-8s %s\n", _("MOUNTPOINT"), _("TYPE"), _("RW"), _("STATE"),
                _("LOCATION"));
        for (guint i = 0; i < inst->mounts->len; i++) {
                const LimaMountStatus *m = g_ptr_array_index(inst->mounts, i);
                g_print("%-30s %-14s %-3s %-8s %s\n", m->mount_point, m->type,
                        m->writable ? "rw" : "ro", m->state, m->location);
                if (m->error != NULL && *m->error != '\0')
                        g_print("  %s\n", m->error);
        }
        return 0;
}

int
limactl_mount(int argc, char **argv)
{
        if (argc < 2 || g_str_equal(argv[1], "--help") || g_str_equal(argv[1], "-h")) {
                fprintf(argc < 2 ? stderr : stdout, "%s", _(limactl_mount_usage));
                return argc < 2 ? 2 : 0;
        }
        if (g_str_equal(argv[1], "add"))
                return limactl_mount_add(argc - 1, argv + 1);
        if (g_str_equal(argv[1], "remove") || g_str_equal(argv[1], "rm"))
                return limactl_mount_remove(argc - 1, argv + 1);
        if (g_str_equal(argv[1], "list") || g_str_equal(argv[1], "ls"))
                return limactl_mount_list(argc - 1, argv + 1);
        limactl_print_error(_("unknown mount command \"%s\"; see `limactl mount --help`"), argv[1]);
        return 2;
}
