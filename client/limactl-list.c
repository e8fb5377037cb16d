/* limactl list and info: what limad knows about instances, as a table, JSON, a --format
 * text, or everything about one. */
#include <glib/gi18n.h>
#include <stdio.h>

#include "limactl-bus.h"
#include "limactl-format.h"
#include "limactl-instance.h"
#include "limactl.h"

typedef enum {
        LIMACTL_LIST_TABLE,
        LIMACTL_LIST_JSON,
        LIMACTL_LIST_TEMPLATE,
} LimactlListMode;

/* The instances named on the command line, in that order; a name that matches none is a
 * warning and makes the exit status 1, as in Lima. */
static GPtrArray *
limactl_list_select(GPtrArray *all, GStrv names, gboolean *unmatched)
{
        GPtrArray *selected = g_ptr_array_new();

        *unmatched = FALSE;
        if (names == NULL || names[0] == NULL) {
                for (guint i = 0; i < all->len; i++)
                        g_ptr_array_add(selected, g_ptr_array_index(all, i));
                return selected;
        }
        for (guint n = 0; names[n] != NULL; n++) {
                gboolean found = FALSE;
                for (guint i = 0; i < all->len; i++) {
                        LimactlInstance *inst = g_ptr_array_index(all, i);
                        /* A glob (*, ?) or a plain name, which matches only itself. */
                        if (inst->name != NULL && g_pattern_match_simple(names[n], inst->name)) {
                                g_ptr_array_add(selected, inst);
                                found = TRUE;
                        }
                }
                if (!found) {
                        limactl_print_error(_("warning: no instance matching %s found"), names[n]);
                        *unmatched = TRUE;
                }
        }
        return selected;
}

static void
limactl_list_warn_errors(GPtrArray *instances)
{
        for (guint i = 0; i < instances->len; i++) {
                const LimactlInstance *inst = g_ptr_array_index(instances, i);
                g_autofree gchar *joined = NULL;
                if (inst->errors == NULL || inst->errors[0] == NULL)
                        continue;
                joined = g_strjoinv("; ", inst->errors);
                limactl_print_error(_("warning: instance \"%s\" has errors: %s"), inst->name,
                                    joined);
        }
}

static void
limactl_list_print(GPtrArray *instances, LimactlListMode mode, const LimactlFormat *format)
{
        if (mode == LIMACTL_LIST_TABLE) {
                g_autofree gchar *table = limactl_format_table(instances, g_get_home_dir());
                fputs(table, stdout);
                return;
        }
        for (guint i = 0; i < instances->len; i++) {
                const LimactlInstance *inst = g_ptr_array_index(instances, i);
                g_autofree gchar *line = mode == LIMACTL_LIST_JSON
                                             ? limactl_format_json(inst)
                                             : limactl_format_expand(format, inst);
                g_print("%s\n", line);
        }
}

/* --json and --format: Lima's rules for which may go with which. */
static gboolean
limactl_list_mode(gboolean json, const gchar *format_text, gboolean quiet, LimactlListMode *mode,
                  LimactlFormat **format, GError **error)
{
        *mode = LIMACTL_LIST_TABLE;
        if (json && format_text != NULL) {
                g_set_error_literal(error, LIMACTL_ERROR, LIMACTL_ERROR_INVALID_ARGUMENT,
                                    _("--json conflicts with --format; --json is "
                                      "--format=json"));
                return FALSE;
        }
        if (json || g_strcmp0(format_text, "json") == 0) {
                *mode = LIMACTL_LIST_JSON;
        } else if (g_strcmp0(format_text, "yaml") == 0) {
                g_set_error_literal(error, LIMACTL_ERROR, LIMACTL_ERROR_INVALID_ARGUMENT,
                                    _("--format=yaml is not supported; use --format=json"));
                return FALSE;
        } else if (format_text != NULL && !g_str_equal(format_text, "table")) {
                *format = limactl_format_compile(format_text, error);
                if (*format == NULL)
                        return FALSE;
                *mode = LIMACTL_LIST_TEMPLATE;
        }
        if (quiet && *mode != LIMACTL_LIST_TABLE) {
                g_set_error_literal(error, LIMACTL_ERROR, LIMACTL_ERROR_INVALID_ARGUMENT,
                                    _("--quiet only goes with the table format"));
                return FALSE;
        }
        return TRUE;
}

int
limactl_list(int argc, char **argv)
{
        gboolean json = FALSE;
        gboolean quiet = FALSE;
        g_autofree gchar *format_text = NULL;
        g_auto(GStrv) names = NULL;
        const GOptionEntry entries[] = {
                { "json", 0, 0, G_OPTION_ARG_NONE, &json,
                  N_("One JSON object per instance and line, with Lima's keys"), NULL },
                { "format", 'f', 0, G_OPTION_ARG_STRING, &format_text,
                  N_("table, json, or a text where {{.Name}}, {{.Status}}, {{.Dir}}, "
                     "{{.SSHLocalPort}}, {{.VMType}}, {{.Arch}}, {{.CPUs}}, {{.Memory}}, "
                     "{{.Disk}}, {{.Hostname}}, {{.SSHAddress}} or {{.SSHConfigFile}} stand "
                     "for the instance's value (Memory and Disk in bytes)"),
                  N_("FORMAT") },
                { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, N_("Only show names"), NULL },
                { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_STRING_ARRAY, &names, NULL,
                  N_("[NAME…]") },
                { NULL },
        };
        g_autoptr(GOptionContext) ctx = g_option_context_new(_("- list instances"));
        g_autoptr(GError) error = NULL;
        g_autoptr(LimactlFormat) format = NULL;
        g_autoptr(sd_bus) bus = NULL;
        g_autoptr(GPtrArray) all = NULL;
        g_autoptr(GPtrArray) selected = NULL;
        LimactlListMode mode;
        gboolean unmatched = FALSE;

        g_option_context_set_summary(
            ctx, _("List instances (all, or those named) with their status, ssh address, "
                   "size and folder.\nExit status: 0, or 1 when a NAME matches no instance "
                   "or limad cannot be reached, 2 on bad usage."));
        g_option_context_add_main_entries(ctx, entries, GETTEXT_PACKAGE);
        if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
                limactl_print_error("%s", error->message);
                return 2;
        }
        if (!limactl_list_mode(json, format_text, quiet, &mode, &format, &error))
                return limactl_report_error(error);
        bus = limactl_bus_open(&error);
        if (bus == NULL)
                return limactl_report_error(error);
        all = limactl_instance_list(bus, &error);
        if (all == NULL)
                return limactl_report_error(error);
        if ((names == NULL || names[0] == NULL) && all->len == 0) {
                limactl_print_error(_("warning: no instance found; run `limactl create` to "
                                      "create one"));
                return 0;
        }
        selected = limactl_list_select(all, names, &unmatched);
        if (quiet) {
                for (guint i = 0; i < selected->len; i++) {
                        const LimactlInstance *inst = g_ptr_array_index(selected, i);
                        g_print("%s\n", inst->name);
                }
        } else {
                limactl_list_warn_errors(selected);
                limactl_list_print(selected, mode, format);
        }
        return unmatched ? 1 : 0;
}

/* info */

static void
limactl_info_line(const gchar *label, const gchar *value)
{
        g_print("%-14s%s\n", label, value != NULL && *value != '\0' ? value : "-");
}

static void
limactl_info_mounts(const LimactlInstance *inst)
{
        g_print("%s\n", _("Mounts:"));
        if (inst->mounts->len == 0)
                g_print("  %s\n", _("(none)"));
        for (guint i = 0; i < inst->mounts->len; i++) {
                const LimaMountStatus *mount = g_ptr_array_index(inst->mounts, i);
                g_autoptr(GString) line = g_string_new(NULL);
                g_string_append_printf(line, "  %s → %s (%s, %s, %s", mount->location,
                                       mount->mount_point != NULL && *mount->mount_point
                                           ? mount->mount_point
                                           : mount->location,
                                       mount->type, mount->writable ? "rw" : "ro", mount->state);
                if (mount->tag != NULL && *mount->tag != '\0')
                        g_string_append_printf(line, _(", tag %s"), mount->tag);
                g_string_append_c(line, ')');
                if (mount->error != NULL && *mount->error != '\0')
                        g_string_append_printf(line, ": %s", mount->error);
                g_print("%s\n", line->str);
        }
}

static void
limactl_info_print(const LimactlInstance *inst)
{
        g_autofree gchar *cpus = g_strdup_printf("%u", inst->cpus);
        g_autofree gchar *memory = limactl_format_bytes(inst->memory);
        g_autofree gchar *disk = limactl_format_bytes(inst->disk);
        g_autofree gchar *owner = g_strdup_printf("%u", inst->owner_uid);
        g_autofree gchar *ssh = NULL;

        /* `ssh -F` on the owner's ssh.config is the owner's business only: the hint is
         * limactl shell, which builds its options itself. */
        if (inst->ssh_port > 0 && inst->dir != NULL)
                ssh =
                    g_strdup_printf("127.0.0.1:%u (limactl shell %s)", inst->ssh_port, inst->name);
        limactl_info_line(_("Name:"), inst->name);
        limactl_info_line(_("Status:"), inst->status);
        limactl_info_line(_("Dir:"), inst->dir);
        limactl_info_line(_("VM type:"), inst->vm_type);
        limactl_info_line(_("Arch:"), inst->arch);
        limactl_info_line(_("Accelerator:"), inst->accelerator);
        limactl_info_line(_("CPUs:"), cpus);
        limactl_info_line(_("Memory:"), memory);
        limactl_info_line(_("Disk:"), disk);
        limactl_info_line(_("SSH:"), ssh);
        limactl_info_line(_("Owner UID:"), owner);
        limactl_info_mounts(inst);
        if (inst->errors != NULL && inst->errors[0] != NULL) {
                g_print("%s\n", _("Errors:"));
                for (guint i = 0; inst->errors[i] != NULL; i++)
                        g_print("  %s\n", inst->errors[i]);
        }
}

int
limactl_info(int argc, char **argv)
{
        gboolean json = FALSE;
        g_auto(GStrv) names = NULL;
        const GOptionEntry entries[] = {
                { "json", 0, 0, G_OPTION_ARG_NONE, &json,
                  N_("Print the instance as one JSON object, as `list --json` does"), NULL },
                { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_STRING_ARRAY, &names, NULL, N_("NAME") },
                { NULL },
        };
        g_autoptr(GOptionContext) ctx =
            g_option_context_new(_("- show everything about an instance"));
        g_autoptr(GError) error = NULL;
        g_autoptr(sd_bus) bus = NULL;
        g_autoptr(LimactlInstance) inst = NULL;

        g_option_context_set_summary(
            ctx, _("Show everything limad knows about instance NAME: status, sizes, ssh "
                   "address, each mount (host folder → guest folder, type, rw/ro, state) and "
                   "what went wrong.\nExit status: 0, 1 when there is no such instance, 2 on "
                   "bad usage."));
        g_option_context_add_main_entries(ctx, entries, GETTEXT_PACKAGE);
        if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
                limactl_print_error("%s", error->message);
                return 2;
        }
        if (names == NULL || names[0] == NULL || names[1] != NULL) {
                limactl_print_error(_("info takes one instance NAME; see `limactl info "
                                      "--help`"));
                return 2;
        }
        bus = limactl_bus_open(&error);
        if (bus == NULL)
                return limactl_report_error(error);
        inst = limactl_instance_get(bus, names[0], &error);
        if (inst == NULL)
                return limactl_report_error(error);
        if (json) {
                g_autofree gchar *line = limactl_format_json(inst);
                g_print("%s\n", line);
        } else {
                limactl_info_print(inst);
        }
        return 0;
}
