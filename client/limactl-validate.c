/* limactl validate [--fill] FILE...: the same checks limad makes, without limad. */
#include <glib/gi18n.h>
#include <stdio.h>
#include <string.h>

#include "lima-config-base.h"
#include "lima-config-resolve.h"
#include "lima-instance-name.h"
#include "lima-paths.h"
#include "limactl.h"

/* Lima names the instance after the file: dev.yaml → dev. */
static gchar *
limactl_instance_name_for(const gchar *path)
{
        g_autofree gchar *base = g_path_get_basename(path);
        gchar *dot = strrchr(base, '.');
        if (dot != NULL && (g_str_equal(dot, ".yaml") || g_str_equal(dot, ".yml")))
                *dot = '\0';
        if (!lima_instance_name_validate(base, NULL))
                return g_strdup("default");
        return g_steal_pointer(&base);
}

static gboolean
limactl_validate_one(const gchar *arg, gboolean fill, const gchar *lima_home)
{
        g_autofree gchar *path = NULL;
        g_autofree gchar *text = NULL;
        g_autofree gchar *name = NULL;
        g_autofree gchar *dir = NULL;
        g_autoptr(LimaHost) host = NULL;
        g_autoptr(LimaDiagnostics) diags = NULL;
        g_autoptr(LimaConfig) cfg = NULL;
        g_autoptr(GError) error = NULL;
        gsize len = 0;
        guint errors;

        if (g_str_has_prefix(arg, "template:")) {
                const gchar *tname = arg + strlen("template:");
                if (g_str_has_prefix(tname, "//"))
                        tname += 2;
                path = lima_template_locate(tname, &error);
                if (path == NULL) {
                        limactl_print_error("%s", error->message);
                        return FALSE;
                }
        } else {
                path = g_strdup(arg);
        }
        if (!g_file_get_contents(path, &text, &len, &error)) {
                limactl_print_error("%s", error->message);
                return FALSE;
        }
        name = limactl_instance_name_for(path);
        dir = g_build_filename(lima_home, name, NULL);
        host = lima_host_new_from_system(name, dir);
        diags = lima_diagnostics_new(path);
        cfg = lima_config_resolve(text, len, path, host, lima_home, diags, &error);
        for (guint i = 0; i < diags->items->len; i++) {
                LimaDiagnostic *d = g_ptr_array_index(diags->items, i);
                g_printerr("%s: %s\n",
                           d->severity == LIMA_DIAGNOSTIC_ERROR ? _("error") : _("warning"),
                           d->text);
        }
        if (cfg == NULL) {
                g_printerr("%s: %s\n", _("error"), error->message);
                return FALSE;
        }
        errors = lima_diagnostics_count(diags, LIMA_DIAGNOSTIC_ERROR);
        if (errors > 0) {
                g_printerr(g_dngettext(NULL, "%s: %u error\n", "%s: %u errors\n", errors), path,
                           errors);
                return FALSE;
        }
        if (fill) {
                g_autofree gchar *yaml = lima_config_to_yaml(cfg, &error);
                if (yaml == NULL) {
                        limactl_print_error("%s", error->message);
                        return FALSE;
                }
                fputs(yaml, stdout);
        }
        g_printerr(_("%s: valid\n"), path);
        return TRUE;
}

int
limactl_validate(int argc, char **argv)
{
        gboolean fill = FALSE;
        g_auto(GStrv) files = NULL;
        const GOptionEntry entries[] = {
                { "fill", 0, 0, G_OPTION_ARG_NONE, &fill,
                  N_("Print each config with every default filled in (YAML, on stdout)"), NULL },
                { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &files, NULL,
                  N_("FILE…") },
                { NULL },
        };
        g_autoptr(GOptionContext) ctx = g_option_context_new(_("FILE|template:NAME…"));
        g_autoptr(GError) error = NULL;
        g_autofree gchar *lima_home = lima_paths_home();
        gboolean ok = TRUE;

        g_option_context_set_summary(
            ctx, _("Check instance configs (lima.yaml) without starting anything: YAML syntax, "
                   "every field and mount option, with Lima's defaults and the layers in "
                   "$LIMA_HOME/_config (default.yaml, override.yaml).\nExit status: 0 when "
                   "every file is valid, 1 when one is not, 2 on bad usage. Errors and "
                   "warnings go to stderr."));
        g_option_context_add_main_entries(ctx, entries, GETTEXT_PACKAGE);
        if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
                limactl_print_error("%s", error->message);
                return 2;
        }
        if (files == NULL || files[0] == NULL) {
                limactl_print_error(_("validate needs at least one FILE; see `limactl validate "
                                      "--help`"));
                return 2;
        }
        for (guint i = 0; files[i] != NULL; i++)
                ok &= limactl_validate_one(files[i], fill, lima_home);
        return ok ? 0 : 1;
}
