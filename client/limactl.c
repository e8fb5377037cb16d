/* limactl: the command line of limad. validate works on its own; the instance commands are
 * clients of the limad D-Bus service. */
#include <glib/gi18n.h>
#include <locale.h>
#include <stdio.h>

#include "config.h"
#include "limactl.h"

typedef struct {
        const gchar *name;
        int (*run)(int argc, char **argv);
        const gchar *summary;
} LimactlCommand;

static const LimactlCommand limactl_commands[] = {
        { "validate", limactl_validate, N_("Check lima.yaml files; --fill prints them complete") },
};

/* Named here so --help tells the truth about what is not built yet. */
static const gchar *const limactl_pending[] = { "create", "start", "stop", "delete", "list",
                                                "shell",  "info",  "edit", "mount", NULL };

void
limactl_print_error(const gchar *fmt, ...)
{
        va_list args;
        g_autofree gchar *msg = NULL;
        va_start(args, fmt);
        msg = g_strdup_vprintf(fmt, args);
        va_end(args);
        g_printerr("limactl: %s\n", msg);
}

static void
limactl_usage(FILE *out)
{
        fprintf(out, "%s", _("Usage: limactl COMMAND [OPTIONS…]\n\nCommands:\n"));
        for (guint i = 0; i < G_N_ELEMENTS(limactl_commands); i++)
                fprintf(out, "  %-10s %s\n", limactl_commands[i].name,
                        _(limactl_commands[i].summary));
        fprintf(out, "\n%s", _("Not yet available in this build (they need the limad "
                               "service, which is being built):\n "));
        for (guint i = 0; limactl_pending[i] != NULL; i++)
                fprintf(out, " %s", limactl_pending[i]);
        fprintf(out, "\n\n%s\n",
                _("Run `limactl COMMAND --help` for the options of a command."));
}

int
main(int argc, char **argv)
{
        setlocale(LC_ALL, "");
        bindtextdomain(GETTEXT_PACKAGE, LOCALEDIR);
        bind_textdomain_codeset(GETTEXT_PACKAGE, "UTF-8");
        textdomain(GETTEXT_PACKAGE);

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
        for (guint i = 0; i < G_N_ELEMENTS(limactl_commands); i++) {
                if (g_str_equal(argv[1], limactl_commands[i].name))
                        return limactl_commands[i].run(argc - 1, argv + 1);
        }
        if (g_strv_contains(limactl_pending, argv[1])) {
                limactl_print_error(_("\"%s\" is not available in this build yet: it needs the "
                                      "limad service"),
                                    argv[1]);
                return 2;
        }
        limactl_print_error(_("unknown command \"%s\"; see `limactl --help`"), argv[1]);
        return 2;
}
