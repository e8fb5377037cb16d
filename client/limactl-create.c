/* limactl create: a new, stopped instance, made by limad (Manager.CreateInstance). */
#include <errno.h>
#include <glib/gi18n.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lima-config-base.h"
#include "lima-diagnostics.h"
#include "lima-instance-name.h"
#include "lima-yaml-set.h"
#include "limactl-bus.h"
#include "limactl-create.h"
#include "limactl-format.h"
#include "limactl.h"

#define LIMACTL_DEFAULT_NAME     "default"
#define LIMACTL_DEFAULT_TEMPLATE "default"
/* CreateInstance resolves templates and writes files; no downloads, but no hurry either. */
#define LIMACTL_CREATE_TIMEOUT (2 * 60 * (guint64)G_USEC_PER_SEC)

gint limactl_tty_flag = -1;

gboolean
limactl_tty_flag_parse(const gchar *option, const gchar *value, gpointer data, GError **error)
{
        if (value == NULL || g_ascii_strcasecmp(value, "true") == 0 || g_str_equal(value, "1")) {
                limactl_tty_flag = 1;
                return TRUE;
        }
        if (g_ascii_strcasecmp(value, "false") == 0 || g_str_equal(value, "0")) {
                limactl_tty_flag = 0;
                return TRUE;
        }
        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    _("--tty takes true or false, not \"%s\""), value);
        return FALSE;
}

gboolean
limactl_use_tty(int fd)
{
        if (limactl_tty_flag != -1)
                return limactl_tty_flag == 1;
        return isatty(fd);
}

void
limactl_create_flags_clear(LimactlCreateFlags *flags)
{
        g_free(flags->name);
        g_free(flags->memory);
        g_free(flags->disk);
        g_free(flags->vm_type);
        g_free(flags->arch);
        g_strfreev(flags->mounts);
        g_strfreev(flags->mounts_only);
        g_free(flags->mount_type);
        g_strfreev(flags->sets);
        g_strfreev(flags->params);
        g_free(flags->containerd);
        g_strfreev(flags->args);
}

gboolean
limactl_create_flags_given(const LimactlCreateFlags *flags)
{
        return flags->cpus != -1 || flags->memory != NULL || flags->disk != NULL ||
               flags->vm_type != NULL || flags->arch != NULL || flags->mounts != NULL ||
               flags->mounts_only != NULL || flags->mount_none || flags->mount_type != NULL ||
               flags->mount_writable || flags->mount_inotify || flags->sets != NULL ||
               flags->params != NULL || flags->plain || flags->containerd != NULL;
}

static gchar *
limactl_json_string(const gchar *s)
{
        GString *out = g_string_new("\"");
        for (const gchar *p = s; *p != '\0'; p++) {
                if (*p == '"' || *p == '\\')
                        g_string_append_printf(out, "\\%c", *p);
                else if ((guchar)*p < 0x20)
                        g_string_append_printf(out, "\\x%02x", (guchar)*p);
                else
                        g_string_append_c(out, *p);
        }
        g_string_append_c(out, '"');
        return g_string_free(out, FALSE);
}

gboolean
limactl_create_yq_exprs(const LimactlCreateFlags *flags, GPtrArray *exprs, GError **error)
{
        if (flags->arch != NULL) {
                g_autofree gchar *v = limactl_json_string(flags->arch);
                g_ptr_array_add(exprs, g_strdup_printf(".arch = %s", v));
        }
        if (flags->containerd != NULL) {
                static const struct {
                        const gchar *mode;
                        const gchar *expr;
                } modes[] = {
                        { "user", ".containerd.user = true | .containerd.system = false" },
                        { "system", ".containerd.user = false | .containerd.system = true" },
                        { "user+system", ".containerd.user = true | .containerd.system = true" },
                        { "none", ".containerd.user = false | .containerd.system = false" },
                };
                guint i;
                for (i = 0; i < G_N_ELEMENTS(modes); i++) {
                        if (g_str_equal(flags->containerd, modes[i].mode))
                                break;
                }
                if (i == G_N_ELEMENTS(modes)) {
                        g_set_error(error, LIMACTL_ERROR, LIMACTL_ERROR_INVALID_ARGUMENT,
                                    _("--containerd: expected one of [`user`, `system`, "
                                      "`user+system`, `none`], got \"%s\""),
                                    flags->containerd);
                        return FALSE;
                }
                g_ptr_array_add(exprs, g_strdup(modes[i].expr));
        }
        if (flags->plain)
                g_ptr_array_add(exprs, g_strdup(".plain = true"));
        for (guint i = 0; flags->params != NULL && flags->params[i] != NULL; i++) {
                const gchar *eq = strchr(flags->params[i], '=');
                g_autofree gchar *key = NULL;
                g_autofree gchar *value = NULL;
                if (eq == NULL || eq == flags->params[i]) {
                        g_set_error(error, LIMACTL_ERROR, LIMACTL_ERROR_INVALID_ARGUMENT,
                                    _("invalid parameter \"%s\", expected NAME=VALUE"),
                                    flags->params[i]);
                        return FALSE;
                }
                key = g_strndup(flags->params[i], eq - flags->params[i]);
                if (strchr(key, '"') != NULL) {
                        g_set_error(error, LIMACTL_ERROR, LIMACTL_ERROR_INVALID_ARGUMENT,
                                    _("invalid parameter name \"%s\""), key);
                        return FALSE;
                }
                value = limactl_json_string(eq + 1);
                g_ptr_array_add(exprs, g_strdup_printf(".param.\"%s\" = %s", key, value));
        }
        for (guint i = 0; flags->sets != NULL && flags->sets[i] != NULL; i++)
                g_ptr_array_add(exprs, g_strdup(flags->sets[i]));
        return TRUE;
}

GPtrArray *
limactl_create_edit_argv(const LimactlCreateFlags *flags, const gchar *name)
{
        GPtrArray *argv = g_ptr_array_new_with_free_func(g_free);
        const struct {
                const gchar *flag;
                const gchar *value;
        } create_only[] = {
                { "arch", flags->arch },
                { "containerd", flags->containerd },
                { "plain", flags->plain ? "true" : NULL },
                { "param", flags->params != NULL ? flags->params[0] : NULL },
        };

        g_ptr_array_add(argv, g_strdup("edit"));
        g_ptr_array_add(argv, g_strdup(name));
        for (guint i = 0; i < G_N_ELEMENTS(create_only); i++) {
                if (create_only[i].value == NULL)
                        continue;
                limactl_print_error(_("warning: `--%s` is not applicable to an existing "
                                      "instance (Hint: create a new instance with `limactl "
                                      "create --%s=%s --name=NAME`)"),
                                    create_only[i].flag, create_only[i].flag, create_only[i].value);
        }
        if (flags->cpus != -1)
                g_ptr_array_add(argv, g_strdup_printf("--cpus=%d", flags->cpus));
        if (flags->memory != NULL)
                g_ptr_array_add(argv, g_strconcat("--memory=", flags->memory, NULL));
        if (flags->disk != NULL)
                g_ptr_array_add(argv, g_strconcat("--disk=", flags->disk, NULL));
        if (flags->vm_type != NULL)
                g_ptr_array_add(argv, g_strconcat("--vm-type=", flags->vm_type, NULL));
        for (guint i = 0; flags->mounts != NULL && flags->mounts[i] != NULL; i++)
                g_ptr_array_add(argv, g_strconcat("--mount=", flags->mounts[i], NULL));
        for (guint i = 0; flags->mounts_only != NULL && flags->mounts_only[i] != NULL; i++)
                g_ptr_array_add(argv, g_strconcat("--mount-only=", flags->mounts_only[i], NULL));
        if (flags->mount_none)
                g_ptr_array_add(argv, g_strdup("--mount-none"));
        if (flags->mount_type != NULL)
                g_ptr_array_add(argv, g_strconcat("--mount-type=", flags->mount_type, NULL));
        if (flags->mount_writable)
                g_ptr_array_add(argv, g_strdup("--mount-writable"));
        if (flags->mount_inotify)
                g_ptr_array_add(argv, g_strdup("--mount-inotify"));
        for (guint i = 0; flags->sets != NULL && flags->sets[i] != NULL; i++)
                g_ptr_array_add(argv, g_strconcat("--set=", flags->sets[i], NULL));
        return argv;
}

static gboolean
limactl_seems_yaml_path(const gchar *arg)
{
        g_autofree gchar *lower = g_ascii_strdown(arg, -1);
        return strchr(arg, '/') != NULL || g_str_has_suffix(lower, ".yaml") ||
               g_str_has_suffix(lower, ".yml");
}

static gchar *
limactl_default_yaml(void)
{
        return g_strdup("base: template:" LIMACTL_DEFAULT_TEMPLATE "\n");
}

/* template:NAME → a config that is only that template, named after it. */
static gboolean
limactl_create_from_template(const gchar *arg, const gchar *flag_name, gchar **name, gchar **yaml,
                             GError **error)
{
        const gchar *template = arg + strlen("template:");

        if (g_str_has_prefix(template, "//"))
                template += 2;
        /* The name goes into YAML unquoted, so it must stay a plain scalar. */
        if (*template == '\0' ||
            strspn(template, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                             "._-/") != strlen(template)) {
                g_set_error(error, LIMACTL_ERROR, LIMACTL_ERROR_INVALID_ARGUMENT,
                            _("\"%s\" is not a template name: those are letters, digits, "
                              "'.', '_', '-' and '/', as in template:debian-12"),
                            arg);
                return FALSE;
        }
        *name = flag_name != NULL ? g_strdup(flag_name) : limactl_instance_name_from_path(template);
        if (*name == NULL) {
                g_set_error(error, LIMACTL_ERROR, LIMACTL_ERROR_INVALID_ARGUMENT,
                            _("\"%s\" does not make an instance name; pass --name NAME"), arg);
                return FALSE;
        }
        *yaml = g_strdup_printf("base: template:%s\n", template);
        return TRUE;
}

/* A file's base: chain is composed here, with the user's own rights and relative to the
 * file, so limad receives one self-contained config (it never reads the user's files). */
static gchar *
limactl_create_compose(const gchar *path, const gchar *text, GError **error)
{
        g_autoptr(LimaDiagnostics) diags = lima_diagnostics_new(path);
        g_autoptr(LimaConfig) cfg = lima_config_load_data(text, strlen(text), path, diags, error);

        if (cfg == NULL || !lima_diagnostics_check(diags, error) ||
            !lima_config_resolve_base(cfg, diags, error) || !lima_diagnostics_check(diags, error))
                return NULL;
        return lima_config_to_yaml(cfg, error);
}

static gboolean
limactl_create_from_file(const gchar *path, const gchar *flag_name, gchar **name, gchar **yaml,
                         GError **error)
{
        g_autoptr(GError) local = NULL;
        g_autofree gchar *text = NULL;

        if (g_str_equal(path, "-")) {
                g_autoptr(GIOChannel) in = g_io_channel_unix_new(0);
                if (flag_name == NULL) {
                        g_set_error_literal(error, LIMACTL_ERROR, LIMACTL_ERROR_INVALID_ARGUMENT,
                                            _("pass the instance name with --name when the "
                                              "config comes from stdin"));
                        return FALSE;
                }
                if (g_io_channel_read_to_end(in, &text, NULL, &local) != G_IO_STATUS_NORMAL) {
                        g_set_error(error, LIMACTL_ERROR, LIMACTL_ERROR_FAILED,
                                    _("cannot read the config from stdin: %s"),
                                    local != NULL ? local->message : "");
                        return FALSE;
                }
        } else if (!g_file_get_contents(path, &text, NULL, &local)) {
                g_set_error_literal(error, LIMACTL_ERROR, LIMACTL_ERROR_INVALID_ARGUMENT,
                                    local->message);
                return FALSE;
        }
        if (!g_utf8_validate(text, -1, NULL)) {
                g_set_error(error, LIMACTL_ERROR, LIMACTL_ERROR_INVALID_ARGUMENT,
                            _("%s is not UTF-8 text; a lima.yaml must be"), path);
                return FALSE;
        }
        *name = flag_name != NULL ? g_strdup(flag_name) : limactl_instance_name_from_path(path);
        if (*name == NULL) {
                g_autofree gchar *base = g_path_get_basename(path);
                g_set_error(error, LIMACTL_ERROR, LIMACTL_ERROR_INVALID_ARGUMENT,
                            _("the file name \"%s\" does not make an instance name; pass "
                              "--name NAME"),
                            base);
                return FALSE;
        }
        *yaml = limactl_create_compose(g_str_equal(path, "-") ? "stdin.yaml" : path, text, error);
        return *yaml != NULL;
}

/* Lima's reading of the argument: nothing, template:NAME, a file (or - for stdin), or the name
 * of a new instance made from the default template. */
static gboolean
limactl_create_source(const gchar *arg, const gchar *flag_name, gchar **name, gchar **yaml,
                      GError **error)
{
        if (arg == NULL) {
                *name = g_strdup(flag_name != NULL ? flag_name : LIMACTL_DEFAULT_NAME);
                *yaml = limactl_default_yaml();
                return TRUE;
        }
        if (g_str_has_prefix(arg, "template:"))
                return limactl_create_from_template(arg, flag_name, name, yaml, error);
        if (strstr(arg, "://") != NULL) {
                g_set_error(error, LIMACTL_ERROR, LIMACTL_ERROR_INVALID_ARGUMENT,
                            _("\"%s\": URLs are not supported; download the file and pass its "
                              "path"),
                            arg);
                return FALSE;
        }
        if (g_str_equal(arg, "-") || limactl_seems_yaml_path(arg) ||
            !lima_instance_name_validate(arg, NULL))
                return limactl_create_from_file(arg, flag_name, name, yaml, error);
        if (flag_name != NULL && !g_str_equal(flag_name, arg)) {
                g_set_error(error, LIMACTL_ERROR, LIMACTL_ERROR_INVALID_ARGUMENT,
                            _("instance name \"%s\" and --name=%s cannot be given together"), arg,
                            flag_name);
                return FALSE;
        }
        *name = g_strdup(arg);
        *yaml = limactl_default_yaml();
        return TRUE;
}

static gboolean
limactl_append_mounts(sd_bus_message *m, GPtrArray *specs)
{
        int r = sd_bus_message_open_container(m, 'e', "sv");
        if (r >= 0)
                r = sd_bus_message_append(m, "s", "mounts");
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'v', "a(ssb)");
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "(ssb)");
        for (guint i = 0; r >= 0 && i < specs->len; i++) {
                const LimaMountStatusSpec *spec = g_ptr_array_index(specs, i);
                r = sd_bus_message_append(m, "(ssb)", spec->location, spec->mount_point,
                                          (int)spec->writable);
        }
        for (guint i = 0; r >= 0 && i < 3; i++)
                r = sd_bus_message_close_container(m);
        return r >= 0;
}

/* The options a{sv} of CreateInstance, as its XML documents them. */
static gboolean
limactl_append_options(sd_bus_message *m, const LimactlCreateFlags *flags, GPtrArray *specs,
                       const gchar *memory, const gchar *disk)
{
        int r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r >= 0 && flags->cpus > 0)
                r = sd_bus_message_append(m, "{sv}", "cpus", "u", (uint32_t)flags->cpus);
        if (r >= 0 && memory != NULL)
                r = sd_bus_message_append(m, "{sv}", "memory", "s", memory);
        if (r >= 0 && disk != NULL)
                r = sd_bus_message_append(m, "{sv}", "disk", "s", disk);
        if (r >= 0 && flags->vm_type != NULL)
                r = sd_bus_message_append(m, "{sv}", "vmType", "s", flags->vm_type);
        if (r >= 0 && flags->mount_type != NULL)
                r = sd_bus_message_append(m, "{sv}", "mountType", "s", flags->mount_type);
        if (r >= 0 && flags->mount_writable)
                r = sd_bus_message_append(m, "{sv}", "mountWritable", "b", 1);
        if (r >= 0 && flags->mount_inotify)
                r = sd_bus_message_append(m, "{sv}", "mountInotify", "b", 1);
        if (r >= 0 && specs->len > 0 && !limactl_append_mounts(m, specs))
                r = -ENOMEM;
        if (r >= 0 && flags->mounts_only != NULL)
                r = sd_bus_message_append(m, "{sv}", "mountOnly", "b", 1);
        if (r >= 0 && flags->mount_none)
                r = sd_bus_message_append(m, "{sv}", "mountNone", "b", 1);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        return r >= 0;
}

/* Every --mount/--mount-only value, checked and made absolute. */
static GPtrArray *
limactl_create_mount_specs(const LimactlCreateFlags *flags, GError **error)
{
        g_autoptr(GPtrArray) specs =
            g_ptr_array_new_with_free_func((GDestroyNotify)limactl_mount_spec_free);
        g_autofree gchar *cwd = g_get_current_dir();
        const gchar *home = g_get_home_dir();
        GStrv values = flags->mounts != NULL ? flags->mounts : flags->mounts_only;

        if (flags->mounts != NULL && flags->mounts_only != NULL) {
                g_set_error_literal(error, LIMACTL_ERROR, LIMACTL_ERROR_INVALID_ARGUMENT,
                                    _("--mount and --mount-only cannot be used together: "
                                      "--mount-only replaces the template's mounts, --mount "
                                      "adds to them"));
                return NULL;
        }
        if (flags->mount_none && values != NULL) {
                g_set_error_literal(error, LIMACTL_ERROR, LIMACTL_ERROR_INVALID_ARGUMENT,
                                    _("--mount-none cannot be used with --mount or "
                                      "--mount-only"));
                return NULL;
        }
        for (guint i = 0; values != NULL && values[i] != NULL; i++) {
                if (!limactl_mount_flag_parse(values[i], cwd, home, specs, error))
                        return NULL;
        }
        return g_steal_pointer(&specs);
}

/* --list-templates: what template:NAME can name, from limad (Manager.ListTemplates). */
static int
limactl_create_list_templates(void)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(sd_bus) bus = limactl_bus_open(&error);
        g_autoptr(sd_bus_message) call = NULL;
        g_autoptr(sd_bus_message) reply = NULL;
        const char *name = NULL;
        const char *file = NULL;
        int r;

        if (bus == NULL)
                return limactl_report_error(error);
        call = limactl_bus_new_call(bus, LIMACTL_MANAGER_PATH, LIMACTL_MANAGER_IFACE,
                                    "ListTemplates", &error);
        if (call == NULL)
                return limactl_report_error(error);
        reply = limactl_bus_call(bus, call, LIMACTL_BUS_DEFAULT_TIMEOUT, &error);
        if (reply == NULL)
                return limactl_report_error(error);
        r = sd_bus_message_enter_container(reply, 'a', "(ss)");
        while (r >= 0 && (r = sd_bus_message_read(reply, "(ss)", &name, &file)) > 0)
                g_print("%s\n", name);
        if (r < 0) {
                limactl_print_error(_("limad sent a malformed ListTemplates reply: %s"),
                                    g_strerror(-r));
                return 1;
        }
        return 0;
}

/* Lima embeds the template before --set runs, so that `.mounts[0]…` finds the template's
 * mounts: a config that is only a base: chain is composed here first. */
static gchar *
limactl_create_apply_exprs(const gchar *yaml, GPtrArray *exprs, gboolean compose, GError **error)
{
        g_autofree gchar *composed = NULL;

        if (exprs->len == 0)
                return g_strdup(yaml);
        if (compose) {
                composed = limactl_create_compose("template.yaml", yaml, error);
                if (composed == NULL)
                        return NULL;
                yaml = composed;
        }
        g_ptr_array_add(exprs, NULL);
        {
                gchar *out = lima_yaml_set_apply_text(yaml, "template.yaml",
                                                      (const gchar *const *)exprs->pdata, error);
                g_ptr_array_remove_index(exprs, exprs->len - 1);
                return out;
        }
}

int
limactl_create_instance(LimactlCreateFlags *flags, const gchar *arg, gboolean quiet,
                        gchar **name_out)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) specs = NULL;
        g_autoptr(GPtrArray) exprs = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(sd_bus) bus = NULL;
        g_autoptr(sd_bus_message) call = NULL;
        g_autoptr(sd_bus_message) reply = NULL;
        g_autofree gchar *memory = NULL;
        g_autofree gchar *disk = NULL;
        g_autofree gchar *name = NULL;
        g_autofree gchar *yaml = NULL;
        g_autofree gchar *edited = NULL;

        if (flags->name != NULL && !lima_instance_name_validate(flags->name, &error)) {
                limactl_print_error("%s", error->message);
                return 2;
        }
        if (flags->cpus != -1 && flags->cpus < 1) {
                limactl_print_error(_("--cpus must be at least 1"));
                return 2;
        }
        if (flags->memory != NULL) {
                memory = limactl_size_flag_parse("memory", flags->memory, &error);
                if (memory == NULL)
                        return limactl_report_error(error);
        }
        if (flags->disk != NULL) {
                disk = limactl_size_flag_parse("disk", flags->disk, &error);
                if (disk == NULL)
                        return limactl_report_error(error);
        }
        if (arg != NULL && g_str_equal(arg, "-") && limactl_tty_flag == 1) {
                limactl_print_error(_("cannot use --tty=true when reading template from stdin; "
                                      "drop --tty"));
                return 2;
        }
        specs = limactl_create_mount_specs(flags, &error);
        if (specs == NULL)
                return limactl_report_error(error);
        if (!limactl_create_yq_exprs(flags, exprs, &error))
                return limactl_report_error(error);
        if (!limactl_create_source(arg, flags->name, &name, &yaml, &error))
                return limactl_report_error(error);
        edited = limactl_create_apply_exprs(yaml, exprs,
                                            flags->sets != NULL || flags->params != NULL, &error);
        if (edited == NULL)
                return limactl_report_error(error);

        bus = limactl_bus_open(&error);
        if (bus == NULL)
                return limactl_report_error(error);
        call = limactl_bus_new_call(bus, LIMACTL_MANAGER_PATH, LIMACTL_MANAGER_IFACE,
                                    "CreateInstance", &error);
        if (call == NULL)
                return limactl_report_error(error);
        if (sd_bus_message_append(call, "ss", name, edited) < 0 ||
            !limactl_append_options(call, flags, specs, memory, disk)) {
                limactl_print_error(_("cannot build the CreateInstance call (out of memory?)"));
                return 1;
        }
        reply = limactl_bus_call(bus, call, LIMACTL_CREATE_TIMEOUT, &error);
        if (reply == NULL) {
                if (g_error_matches(error, LIMACTL_ERROR, LIMACTL_ERROR_EXISTS)) {
                        limactl_print_error(_("instance \"%s\" already exists; start it with "
                                              "`limactl start %s`, or pick another --name"),
                                            name, name);
                        return 1;
                }
                return limactl_report_error(error);
        }
        if (!quiet) {
                g_print("%s\n", name);
                g_printerr(_("Run `limactl start %s` to start the instance.\n"), name);
        }
        if (name_out != NULL)
                *name_out = g_steal_pointer(&name);
        return 0;
}

void
limactl_create_add_entries(GOptionContext *ctx, LimactlCreateFlags *flags)
{
        const GOptionEntry entries[] = {
                { "name", 0, 0, G_OPTION_ARG_STRING, &flags->name,
                  N_("The instance name (default: from the file or template, else "
                     "\"default\")"),
                  N_("NAME") },
                { "cpus", 0, 0, G_OPTION_ARG_INT, &flags->cpus, N_("Number of CPUs"), N_("N") },
                { "memory", 0, 0, G_OPTION_ARG_STRING, &flags->memory,
                  N_("Memory in GiB (4, 1.5) or as a size (512MiB)"), N_("SIZE") },
                { "disk", 0, 0, G_OPTION_ARG_STRING, &flags->disk,
                  N_("Disk size in GiB (100) or as a size (50GiB)"), N_("SIZE") },
                { "vm-type", 0, 0, G_OPTION_ARG_STRING, &flags->vm_type,
                  N_("Virtual machine type (qemu; vz and wsl2 need macOS and Windows)"),
                  N_("TYPE") },
                { "arch", 0, 0, G_OPTION_ARG_STRING, &flags->arch,
                  N_("Machine architecture (x86_64, aarch64, riscv64, armv7l, s390x, ppc64le)"),
                  N_("ARCH") },
                { "mount", 0, 0, G_OPTION_ARG_STRING_ARRAY, &flags->mounts,
                  N_("Also mount host folder DIR, writable with :w (repeatable; commas "
                     "separate several)"),
                  N_("DIR[:w]") },
                { "mount-only", 0, 0, G_OPTION_ARG_STRING_ARRAY, &flags->mounts_only,
                  N_("Mount only DIR, replacing the template's mounts (repeatable)"),
                  N_("DIR[:w]") },
                { "mount-none", 0, 0, G_OPTION_ARG_NONE, &flags->mount_none,
                  N_("Mount no host folder at all"), NULL },
                { "mount-type", 0, 0, G_OPTION_ARG_STRING, &flags->mount_type,
                  N_("Mount type (reverse-sshfs, 9p, virtiofs)"), N_("TYPE") },
                { "mount-writable", 0, 0, G_OPTION_ARG_NONE, &flags->mount_writable,
                  N_("Make every mount writable"), NULL },
                { "mount-inotify", 0, 0, G_OPTION_ARG_NONE, &flags->mount_inotify,
                  N_("Forward host file events into the guest (experimental)"), NULL },
                { "set", 0, 0, G_OPTION_ARG_STRING_ARRAY, &flags->sets,
                  N_("Modify the template in place, in yq syntax (.cpus = 4, .mounts += "
                     "[{\"location\": \"~/src\"}]); repeatable"),
                  N_("EXPR") },
                { "param", 0, 0, G_OPTION_ARG_STRING_ARRAY, &flags->params,
                  N_("Set a template parameter, e.g. name=value (repeatable)"), N_("NAME=VALUE") },
                { "plain", 0, 0, G_OPTION_ARG_NONE, &flags->plain,
                  N_("Plain mode: no mounts, port forwarding or containerd"), NULL },
                { "containerd", 0, 0, G_OPTION_ARG_STRING, &flags->containerd,
                  N_("containerd mode (user, system, user+system, none)"), N_("MODE") },
                { "tty", 0, G_OPTION_FLAG_OPTIONAL_ARG, G_OPTION_ARG_CALLBACK,
                  (gpointer)limactl_tty_flag_parse,
                  N_("Behave as on a terminal (=false: no prompts, no progress bar; default: "
                     "whether there is one)"),
                  N_("BOOL") },
                { NULL },
        };
        g_option_context_add_main_entries(ctx, entries, GETTEXT_PACKAGE);
}

int
limactl_create(int argc, char **argv)
{
        g_auto(LimactlCreateFlags) flags = LIMACTL_CREATE_FLAGS_INIT;
        const GOptionEntry entries[] = {
                { "list-templates", 0, 0, G_OPTION_ARG_NONE, &flags.list_templates,
                  N_("List the templates template:NAME can name, and exit"), NULL },
                { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &flags.args, NULL,
                  N_("[FILE.yaml|template:NAME|NAME]") },
                { NULL },
        };
        g_autoptr(GOptionContext) ctx = g_option_context_new(_("- create an instance"));
        g_autoptr(GError) error = NULL;
        const gchar *arg;

        g_option_context_set_summary(
            ctx, _("Create a new, stopped instance with limad. Without an argument it is "
                   "\"default\" from template:default; template:NAME and FILE.yaml name it "
                   "after the template or file unless --name is given; - reads the config "
                   "from stdin (needs --name).\nPrints the instance name. Exit status: 0 on "
                   "success, 1 when limad refuses, 2 on bad usage."));
        limactl_create_add_entries(ctx, &flags);
        g_option_context_add_main_entries(ctx, entries, GETTEXT_PACKAGE);
        if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
                limactl_print_error("%s", error->message);
                return 2;
        }
        if (flags.list_templates)
                return limactl_create_list_templates();
        arg = flags.args != NULL ? flags.args[0] : NULL;
        if (arg != NULL && flags.args[1] != NULL) {
                limactl_print_error(_("create takes at most one FILE.yaml, template:NAME or "
                                      "NAME; see `limactl create --help`"));
                return 2;
        }
        return limactl_create_instance(&flags, arg, FALSE, NULL);
}
