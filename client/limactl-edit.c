/* limactl edit: changes a stopped instance's lima.yaml, in an editor or with flags, through
 * Instance.GetConfig and Instance.SetConfig (limad validates; nothing changes on error). */
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lima-config-options.h"
#include "lima-config.h"
#include "lima-diagnostics.h"
#include "lima-yaml-set.h"
#include "limactl-bus.h"
#include "limactl-create.h"
#include "limactl-format.h"
#include "limactl.h"

typedef struct {
        gint cpus;
        gchar *memory;
        gchar *disk;
        GStrv mounts;
        gchar *mount_type;
        gboolean mount_writable;
        gboolean mount_inotify;
        GStrv mounts_only;
        gboolean mount_none;
        gchar *vm_type;
        GStrv sets;
        gboolean start;
        GStrv args;
} LimactlEditFlags;

static void
limactl_edit_flags_clear(LimactlEditFlags *flags)
{
        g_free(flags->memory);
        g_free(flags->disk);
        g_strfreev(flags->mounts);
        g_free(flags->mount_type);
        g_strfreev(flags->mounts_only);
        g_free(flags->vm_type);
        g_strfreev(flags->sets);
        g_strfreev(flags->args);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(LimactlEditFlags, limactl_edit_flags_clear)

static gboolean
limactl_edit_has_flags(const LimactlEditFlags *flags)
{
        return flags->cpus != -1 || flags->memory != NULL || flags->disk != NULL ||
               flags->mounts != NULL || flags->mount_type != NULL || flags->mount_writable ||
               flags->mount_inotify || flags->mounts_only != NULL || flags->mount_none ||
               flags->vm_type != NULL;
}

/* The flags as create's options, checked before limad is asked anything. */
static LimaConfigOptions *
limactl_edit_options(const LimactlEditFlags *flags, GError **error)
{
        g_autoptr(LimaConfigOptions) opts = lima_config_options_new();
        g_autofree gchar *cwd = g_get_current_dir();
        g_autoptr(GPtrArray) specs =
            g_ptr_array_new_with_free_func((GDestroyNotify)limactl_mount_spec_free);

        if (flags->cpus != -1 && flags->cpus < 1) {
                g_set_error_literal(error, LIMACTL_ERROR, LIMACTL_ERROR_INVALID_ARGUMENT,
                                    _("--cpus must be at least 1"));
                return NULL;
        }
        opts->cpus = flags->cpus > 0 ? flags->cpus : 0;
        if (flags->memory != NULL &&
            (opts->memory = limactl_size_flag_parse("memory", flags->memory, error)) == NULL)
                return NULL;
        if (flags->disk != NULL &&
            (opts->disk = limactl_size_flag_parse("disk", flags->disk, error)) == NULL)
                return NULL;
        if (flags->mounts != NULL && flags->mounts_only != NULL) {
                g_set_error_literal(error, LIMACTL_ERROR, LIMACTL_ERROR_INVALID_ARGUMENT,
                                    _("flag `--mount` conflicts with `--mount-only`: "
                                      "--mount-only replaces the mounts, --mount adds to them"));
                return NULL;
        }
        if (flags->mount_none && (flags->mounts != NULL || flags->mounts_only != NULL)) {
                g_set_error_literal(error, LIMACTL_ERROR, LIMACTL_ERROR_INVALID_ARGUMENT,
                                    _("flag `--mount-none` conflicts with `--mount` and "
                                      "`--mount-only`"));
                return NULL;
        }
        for (GStrv v = flags->mounts != NULL ? flags->mounts : flags->mounts_only;
             v != NULL && *v != NULL; v++) {
                if (!limactl_mount_flag_parse(*v, cwd, g_get_home_dir(), specs, error))
                        return NULL;
        }
        opts->mount_only = flags->mounts_only != NULL;
        opts->mount_none = flags->mount_none;
        opts->vm_type = g_strdup(flags->vm_type);
        for (guint i = 0; i < specs->len; i++) {
                const LimaMountStatusSpec *spec = g_ptr_array_index(specs, i);
                lima_config_options_add_mount(opts, spec->location, spec->mount_point,
                                              spec->writable);
        }
        opts->mount_type = g_strdup(flags->mount_type);
        opts->mount_writable = flags->mount_writable;
        opts->mount_inotify = flags->mount_inotify;
        return g_steal_pointer(&opts);
}

/* The flags applied to the stored text; the loader keeps every key it does not type. */
static gchar *
limactl_edit_apply_flags(const gchar *name, const gchar *yaml, const LimactlEditFlags *flags,
                         GError **error)
{
        g_autofree gchar *file = g_strdup_printf("%s.yaml", name);
        g_autoptr(LimaDiagnostics) diags = lima_diagnostics_new(file);
        g_autoptr(LimaConfigOptions) opts = limactl_edit_options(flags, error);
        g_autoptr(LimaConfig) cfg = NULL;

        if (opts == NULL)
                return NULL;
        cfg = lima_config_load_data(yaml, strlen(yaml), file, diags, error);
        if (cfg == NULL || !lima_diagnostics_check(diags, error)) {
                g_prefix_error(error,
                               _("the stored config does not load, so flags cannot be "
                                 "applied; run `limactl edit %s` without flags: "),
                               name);
                return NULL;
        }
        if (!lima_config_options_apply(opts, cfg, error))
                return NULL;
        return lima_config_to_yaml(cfg, error);
}

static gchar *
limactl_edit_get_config(sd_bus *bus, const gchar *path, GError **error)
{
        g_autoptr(sd_bus_message) call =
            limactl_bus_new_call(bus, path, LIMACTL_INSTANCE_IFACE, "GetConfig", error);
        g_autoptr(sd_bus_message) reply = NULL;
        const char *yaml = NULL;

        if (call == NULL)
                return NULL;
        reply = limactl_bus_call(bus, call, LIMACTL_BUS_DEFAULT_TIMEOUT, error);
        if (reply == NULL)
                return NULL;
        if (sd_bus_message_read(reply, "s", &yaml) < 0) {
                g_set_error_literal(error, LIMACTL_ERROR, LIMACTL_ERROR_FAILED,
                                    _("limad sent a malformed GetConfig reply"));
                return NULL;
        }
        return g_strdup(yaml);
}

static gboolean
limactl_edit_set_config(sd_bus *bus, const gchar *path, const gchar *yaml, GError **error)
{
        g_autoptr(sd_bus_message) call =
            limactl_bus_new_call(bus, path, LIMACTL_INSTANCE_IFACE, "SetConfig", error);
        g_autoptr(sd_bus_message) reply = NULL;

        if (call == NULL)
                return FALSE;
        if (sd_bus_message_append(call, "s", yaml) < 0) {
                g_set_error_literal(error, LIMACTL_ERROR, LIMACTL_ERROR_FAILED,
                                    _("cannot build the SetConfig call (out of memory?)"));
                return FALSE;
        }
        reply = limactl_bus_call(bus, call, LIMACTL_BUS_DEFAULT_TIMEOUT, error);
        return reply != NULL;
}

/* limad refuses SetConfig on a running instance; saying so before the editor opens saves
 * the user's edits. */
static gboolean
limactl_edit_check_stopped(sd_bus *bus, const gchar *name, const gchar *path, GError **error)
{
        g_auto(sd_bus_error) e = SD_BUS_ERROR_NULL;
        g_autofree char *status = NULL;
        int r = sd_bus_get_property_string(bus, LIMACTL_BUS_NAME, path, LIMACTL_INSTANCE_IFACE,
                                           "Status", &e, &status);

        if (r < 0) {
                limactl_bus_set_error(error, r, &e);
                return FALSE;
        }
        if (g_str_equal(status, "Stopped") || g_str_equal(status, "Broken"))
                return TRUE;
        g_set_error(error, LIMACTL_ERROR, LIMACTL_ERROR_ALREADY_RUNNING,
                    _("instance \"%s\" is %s; stop it first with `limactl stop %s`, then edit"),
                    name, status, name);
        return FALSE;
}

/* Only comments and blank lines: Lima's way of saying "abort the edit". */
static gboolean
limactl_edit_is_empty(const gchar *text)
{
        g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
        for (guint i = 0; lines[i] != NULL; i++) {
                const gchar *line = lines[i] + strspn(lines[i], " \t\r");
                if (*line != '\0' && *line != '#')
                        return FALSE;
        }
        return TRUE;
}

static gboolean
limactl_edit_run_editor(const gchar *file, GError **error)
{
        const gchar *editor = g_getenv("VISUAL");
        g_auto(GStrv) argv = NULL;
        g_autoptr(GStrvBuilder) full = g_strv_builder_new();
        gint status = 0;

        if (editor == NULL || *editor == '\0')
                editor = g_getenv("EDITOR");
        if (editor == NULL || *editor == '\0')
                editor = "vi";
        /* $EDITOR may carry its own arguments ("code --wait"); it is the user's own setting. */
        if (!g_shell_parse_argv(editor, NULL, &argv, error)) {
                g_prefix_error(error, _("cannot read $VISUAL/$EDITOR \"%s\": "), editor);
                return FALSE;
        }
        g_strv_builder_addv(full, (const char **)argv);
        g_strv_builder_add(full, file);
        g_strfreev(argv);
        argv = g_strv_builder_end(full);
        if (!g_spawn_sync(NULL, argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_CHILD_INHERITS_STDIN,
                          NULL, NULL, NULL, NULL, &status, error)) {
                g_prefix_error(error, _("cannot run the editor; set $EDITOR: "));
                return FALSE;
        }
        if (!g_spawn_check_wait_status(status, error)) {
                g_prefix_error(error, _("the editor %s failed, so nothing was changed: "), argv[0]);
                return FALSE;
        }
        return TRUE;
}

static gboolean
limactl_edit_ask_again(void)
{
        gchar answer[16] = "";
        if (!limactl_use_tty(STDIN_FILENO) || !isatty(STDIN_FILENO))
                return FALSE;
        g_printerr(_("Edit again? [Y/n] "));
        if (fgets(answer, sizeof answer, stdin) == NULL)
                return FALSE;
        return answer[0] == '\n' || answer[0] == 'y' || answer[0] == 'Y';
}

/* Editor rounds until limad takes the text, the user gives up, or the file is emptied. An
 * invalid file is kept and named, so no edit is lost. */
static int
limactl_edit_interactive(sd_bus *bus, const gchar *name, const gchar *path, const gchar *yaml)
{
        g_autoptr(GError) error = NULL;
        g_autofree gchar *file = NULL;
        g_autofree gchar *text = g_strdup(yaml);
        g_autofree gchar *template = g_strdup_printf("limactl-edit-%s-XXXXXX.yaml", name);
        int fd;

        fd = g_file_open_tmp(template, &file, &error);
        if (fd < 0)
                return limactl_report_error(error);
        close(fd);
        /* Said here, not as a comment in the file: limad stores the file as written. */
        g_printerr(_("Editing the lima.yaml of \"%s\"; save an empty file to abort.\n"), name);
        for (;;) {
                g_autofree gchar *edited = NULL;
                if (!g_file_set_contents_full(file, text, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600,
                                              &error) ||
                    !limactl_edit_run_editor(file, &error) ||
                    !g_file_get_contents(file, &edited, NULL, &error)) {
                        g_unlink(file);
                        return limactl_report_error(error);
                }
                if (limactl_edit_is_empty(edited)) {
                        g_unlink(file);
                        g_printerr(_("The file is empty: edit aborted, nothing changed.\n"));
                        return 0;
                }
                if (g_str_equal(edited, yaml)) {
                        g_unlink(file);
                        g_printerr(_("No changes made.\n"));
                        return 0;
                }
                if (limactl_edit_set_config(bus, path, edited, &error)) {
                        g_unlink(file);
                        g_printerr(_("Updated \"%s\".\n"), name);
                        return 0;
                }
                limactl_print_error("%s", error->message);
                g_clear_error(&error);
                g_free(text);
                text = g_steal_pointer(&edited);
                if (!limactl_edit_ask_again()) {
                        limactl_print_error(_("nothing was changed; your edits are kept in %s"),
                                            file);
                        return 1;
                }
        }
}

/* --start: the edited instance is started, as `limactl start NAME` would. */
static int
limactl_edit_maybe_start(const LimactlEditFlags *flags, sd_bus *bus, const gchar *name)
{
        gchar *argv[] = { (gchar *)"start", (gchar *)name, NULL };
        if (!flags->start)
                return 0;
        (void)sd_bus_flush(bus);
        return limactl_start(2, argv);
}

static int
limactl_edit_run(const LimactlEditFlags *flags)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(sd_bus) bus = NULL;
        g_autofree gchar *path = NULL;
        g_autofree gchar *yaml = NULL;
        g_autofree gchar *changed = NULL;
        const gchar *name;

        if (flags->args == NULL || flags->args[0] == NULL || flags->args[1] != NULL) {
                limactl_print_error(_("edit takes one instance NAME; see `limactl edit "
                                      "--help`"));
                return 2;
        }
        name = flags->args[0];
        /* Bad flags are found before limad is asked anything. */
        if (limactl_edit_has_flags(flags)) {
                g_autoptr(LimaConfigOptions) opts = limactl_edit_options(flags, &error);
                if (opts == NULL)
                        return limactl_report_error(error);
        }
        bus = limactl_bus_open(&error);
        if (bus == NULL)
                return limactl_report_error(error);
        path = limactl_bus_get_instance_path(bus, name, &error);
        if (path == NULL || !limactl_edit_check_stopped(bus, name, path, &error))
                return limactl_report_error(error);
        yaml = limactl_edit_get_config(bus, path, &error);
        if (yaml == NULL)
                return limactl_report_error(error);
        if (!limactl_edit_has_flags(flags) && flags->sets == NULL) {
                int rc;
                if (limactl_tty_flag == 0) {
                        limactl_print_error(_("--tty=false opens no editor: pass flags such as "
                                              "--set '.cpus = 4' or --cpus, or run on a "
                                              "terminal"));
                        return 2;
                }
                rc = limactl_edit_interactive(bus, name, path, yaml);
                return rc == 0 ? limactl_edit_maybe_start(flags, bus, name) : rc;
        }
        changed = limactl_edit_has_flags(flags)
                      ? limactl_edit_apply_flags(name, yaml, flags, &error)
                      : g_strdup(yaml);
        if (changed != NULL && flags->sets != NULL) {
                g_autofree gchar *file = g_strdup_printf("%s/lima.yaml", name);
                g_autofree gchar *set = lima_yaml_set_apply_text(
                    changed, file, (const gchar *const *)flags->sets, &error);
                g_free(changed);
                changed = g_steal_pointer(&set);
        }
        if (changed == NULL || !limactl_edit_set_config(bus, path, changed, &error))
                return limactl_report_error(error);
        g_printerr(_("Updated \"%s\".\n"), name);
        return limactl_edit_maybe_start(flags, bus, name);
}

int
limactl_edit(int argc, char **argv)
{
        g_auto(LimactlEditFlags) flags = { .cpus = -1 };
        const GOptionEntry entries[] = {
                { "cpus", 0, 0, G_OPTION_ARG_INT, &flags.cpus, N_("Number of CPUs"), N_("N") },
                { "memory", 0, 0, G_OPTION_ARG_STRING, &flags.memory,
                  N_("Memory in GiB (4, 1.5) or as a size (512MiB)"), N_("SIZE") },
                { "disk", 0, 0, G_OPTION_ARG_STRING, &flags.disk,
                  N_("Disk size in GiB (100) or as a size (50GiB)"), N_("SIZE") },
                { "mount", 0, 0, G_OPTION_ARG_STRING_ARRAY, &flags.mounts,
                  N_("Also mount host folder DIR, writable with :w (repeatable)"), N_("DIR[:w]") },
                { "mount-type", 0, 0, G_OPTION_ARG_STRING, &flags.mount_type,
                  N_("Mount type (reverse-sshfs, 9p, virtiofs)"), N_("TYPE") },
                { "mount-writable", 0, 0, G_OPTION_ARG_NONE, &flags.mount_writable,
                  N_("Make every mount writable"), NULL },
                { "mount-inotify", 0, 0, G_OPTION_ARG_NONE, &flags.mount_inotify,
                  N_("Forward host file events into the guest"), NULL },
                { "mount-only", 0, 0, G_OPTION_ARG_STRING_ARRAY, &flags.mounts_only,
                  N_("Mount only DIR, replacing the existing mounts (repeatable)"), N_("DIR[:w]") },
                { "mount-none", 0, 0, G_OPTION_ARG_NONE, &flags.mount_none, N_("Remove all mounts"),
                  NULL },
                { "vm-type", 0, 0, G_OPTION_ARG_STRING, &flags.vm_type,
                  N_("Virtual machine type (qemu)"), N_("TYPE") },
                { "set", 0, 0, G_OPTION_ARG_STRING_ARRAY, &flags.sets,
                  N_("Modify lima.yaml in place, in yq syntax (.cpus = 4); repeatable; "
                     "comments are kept for scalar edits"),
                  N_("EXPR") },
                { "start", 0, 0, G_OPTION_ARG_NONE, &flags.start,
                  N_("Start the instance after editing"), NULL },
                { "tty", 0, G_OPTION_FLAG_OPTIONAL_ARG, G_OPTION_ARG_CALLBACK,
                  (gpointer)limactl_tty_flag_parse,
                  N_("Behave as on a terminal (=false: never open an editor or ask)"), N_("BOOL") },
                { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_STRING_ARRAY, &flags.args, NULL,
                  N_("NAME") },
                { NULL },
        };
        g_autoptr(GOptionContext) ctx = g_option_context_new(_("- edit an instance's lima.yaml"));
        g_autoptr(GError) error = NULL;

        g_option_context_set_summary(
            ctx, _("Change the lima.yaml of a stopped instance. Without flags it opens "
                   "$VISUAL, $EDITOR or vi on it; with flags it applies them without an "
                   "editor. limad checks the result and stores it only when it is valid: on "
                   "an error nothing changes, and the edited file is kept and named.\nExit "
                   "status: 0 when stored (or nothing to do), 1 when refused, 2 on bad "
                   "usage."));
        g_option_context_add_main_entries(ctx, entries, GETTEXT_PACKAGE);
        if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
                limactl_print_error("%s", error->message);
                return 2;
        }
        return limactl_edit_run(&flags);
}
