/* limactl: the command line of limad. validate works on its own; the instance commands are
 * clients of the limad D-Bus service. */
#include <glib/gi18n.h>
#include <locale.h>
#include <stdio.h>

#include "config.h"
#include "limactl-bus.h"
#include "limactl-format.h"
#include "limactl.h"

typedef struct {
        const gchar *name;
        int (*run)(int argc, char **argv);
        const gchar *summary;
} LimactlCommand;

static const LimactlCommand limactl_commands[] = {
        { "create", limactl_create, N_("Create an instance from a template or a lima.yaml") },
        { "start", limactl_start, N_("Start an instance and wait until it is running") },
        { "stop", limactl_stop, N_("Stop an instance") },
        { "restart", limactl_restart, N_("Stop an instance if it runs, then start it") },
        { "delete", limactl_delete, N_("Delete instances and their disks") },
        { "edit", limactl_edit, N_("Change a stopped instance's lima.yaml (editor or flags)") },
        { "list", limactl_list, N_("List instances (--json, --format, -q)") },
        { "info", limactl_info, N_("Show everything about an instance, mounts included") },
        { "shell", limactl_shell, N_("Run a shell or a command in an instance") },
        { "copy", limactl_copy, N_("Copy files between the host and an instance (NAME:PATH)") },
        { "mount", limactl_mount,
          N_("Add, remove or list the mounts of an instance, also while it runs") },
        { "validate", limactl_validate, N_("Check lima.yaml files; --fill prints them complete") },
};

/* Lima's other names for commands. */
static const struct {
        const gchar *alias;
        const gchar *command;
} limactl_aliases[] = {
        { "ls", "list" },
        { "rm", "delete" },
        { "remove", "delete" },
        { "cp", "copy" },
};

/* Named here so --help tells the truth about what is not built yet. */
static const gchar *const limactl_pending[] = { NULL };

void
limactl_print_error(const gchar *fmt, ...)
{
        va_list args;
        g_autofree gchar *msg = NULL;
        g_autofree gchar *clean = NULL;
        va_start(args, fmt);
        msg = g_strdup_vprintf(fmt, args);
        va_end(args);
        /* Messages carry limad's and agents' strings: no terminal escapes reach the tty. */
        clean = limactl_format_sanitize(msg);
        g_printerr("limactl: %s\n", clean);
}

int
limactl_report_error(const GError *error)
{
        limactl_print_error("%s", error->message);
        if (g_error_matches(error, LIMACTL_ERROR, LIMACTL_ERROR_INVALID_ARGUMENT))
                return 2;
        return 1;
}

static void
limactl_usage(FILE *out)
{
        fprintf(out, "%s", _("Usage: limactl [--system] COMMAND [OPTIONS…]\n\nCommands:\n"));
        for (guint i = 0; i < G_N_ELEMENTS(limactl_commands); i++)
                fprintf(out, "  %-10s %s\n", limactl_commands[i].name,
                        _(limactl_commands[i].summary));
        if (limactl_pending[0] != NULL) {
                fprintf(out, "\n%s",
                        _("Not yet available in this build (limad does not offer them yet):\n "));
                for (guint i = 0; limactl_pending[i] != NULL; i++)
                        fprintf(out, " %s", limactl_pending[i]);
                fprintf(out, "\n");
        }
        fprintf(out, "\n%s\n",
                _("Global options (before COMMAND):\n"
                  "  --system   Talk to the system-wide limad (instances under /var/lib/lima)\n"
                  "  --user     Talk to your own limad on the session bus (the default)"));
        fprintf(out, "\n%s\n",
                _("Every command but validate is a client of limad (D-Bus name io.lima.lima1),\n"
                  "started on demand by D-Bus activation or by hand with `limad --user &`.\n"
                  "Run `limactl COMMAND --help` for the options of a command."));
}

int
main(int argc, char **argv)
{
        setlocale(LC_ALL, "");
        /* LIMAD_LOCALEDIR: the catalogues of an uninstalled build (the tests). */
        bindtextdomain(GETTEXT_PACKAGE, g_getenv("LIMAD_LOCALEDIR") != NULL
                                            ? g_getenv("LIMAD_LOCALEDIR")
                                            : LOCALEDIR);
        bind_textdomain_codeset(GETTEXT_PACKAGE, "UTF-8");
        textdomain(GETTEXT_PACKAGE);

        /* Global flags come before the command, as in Lima. */
        while (argc > 1 && (g_str_equal(argv[1], "--system") || g_str_equal(argv[1], "--user"))) {
                limactl_bus_set_system(g_str_equal(argv[1], "--system"));
                argc--;
                argv++;
        }
        if (argc < 2 || g_str_equal(argv[1], "--help") || g_str_equal(argv[1], "-h") ||
            g_str_equal(argv[1], "help")) {
                limactl_usage(argc < 2 ? stderr : stdout);
                return argc < 2 ? 2 : 0;
        }
        if (g_str_equal(argv[1], "--version") || g_str_equal(argv[1], "version")) {
                g_print("limactl version %s (Lima %s compatible)\n", LIMAD_VERSION,
                        LIMA_COMPAT_VERSION);
                return 0;
        }
        for (guint i = 0; i < G_N_ELEMENTS(limactl_aliases); i++) {
                if (g_str_equal(argv[1], limactl_aliases[i].alias))
                        argv[1] = (char *)limactl_aliases[i].command;
        }
        for (guint i = 0; i < G_N_ELEMENTS(limactl_commands); i++) {
                if (!g_str_equal(argv[1], limactl_commands[i].name))
                        continue;
                /* So that each command's --help reads "Usage: limactl COMMAND …". */
                {
                        g_autofree gchar *prgname = g_strconcat("limactl ", argv[1], NULL);
                        g_set_prgname(prgname);
                }
                return limactl_commands[i].run(argc - 1, argv + 1);
        }
        if (g_strv_contains(limactl_pending, argv[1])) {
                limactl_print_error(_("\"%s\" is not available in this build yet: limad does "
                                      "not offer it"),
                                    argv[1]);
                return 2;
        }
        limactl_print_error(_("unknown command \"%s\"; see `limactl --help`"), argv[1]);
        return 2;
}
