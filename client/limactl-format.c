/* How limactl shows instances and reads its flags; pure functions, no bus. */
#include "limactl-format.h"

#include <glib/gi18n.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "lima-instance-name.h"
#include "lima-size.h"
#include "limactl-bus.h"

/* Lima's sshAddress: the host agent forwards ssh on the loopback interface. */
#define LIMACTL_SSH_ADDRESS "127.0.0.1"

gchar *
limactl_format_bytes(guint64 bytes)
{
        static const gchar *const units[] = { "B",   "KiB", "MiB", "GiB", "TiB",
                                              "PiB", "EiB", "ZiB", "YiB" };
        gdouble size = (gdouble)bytes;
        gchar number[G_ASCII_DTOSTR_BUF_SIZE];
        guint i = 0;

        while (size >= 1024.0 && i + 1 < G_N_ELEMENTS(units)) {
                size /= 1024.0;
                i++;
        }
        /* g_ascii_formatd: a German locale must not turn "1.5GiB" into "1,5GiB". */
        g_ascii_formatd(number, sizeof(number), "%.4g", size);
        return g_strconcat(number, units[i], NULL);
}

gchar *
limactl_instance_hostname(const gchar *name)
{
        g_autofree gchar *host = g_strconcat("lima-", name, NULL);
        g_strdelimit(host, "._", '-');
        return g_steal_pointer(&host);
}

static gboolean
limactl_is_plain_number(const gchar *text)
{
        gboolean digits = FALSE;
        gboolean dot = FALSE;
        for (const gchar *p = text; *p != '\0'; p++) {
                if (g_ascii_isdigit(*p))
                        digits = TRUE;
                else if (*p == '.' && !dot)
                        dot = TRUE;
                else
                        return FALSE;
        }
        return digits;
}

gchar *
limactl_size_flag_parse(const gchar *flag, const gchar *text, GError **error)
{
        guint64 bytes = 0;

        if (limactl_is_plain_number(text)) {
                if (g_ascii_strtod(text, NULL) > 0)
                        return g_strconcat(text, "GiB", NULL);
        } else if (lima_size_parse(text, &bytes) && bytes > 0) {
                return g_strdup(text);
        }
        g_set_error(error, LIMACTL_ERROR, LIMACTL_ERROR_INVALID_ARGUMENT,
                    _("--%s \"%s\": give GiB as a number (4, 1.5) or a size (512MiB, 4GiB)"), flag,
                    text);
        return NULL;
}

gboolean
limactl_duration_parse(const gchar *text, guint64 *usec)
{
        static const struct {
                const gchar *unit;
                gdouble usec;
        } units[] = {
                /* "ms" before "m", so that the first match is the right one. */
                { "ns", 1e-3 }, { "us", 1 },  { "\xc2\xb5s", 1 }, { "\xce\xbcs", 1 },
                { "ms", 1e3 },  { "s", 1e6 }, { "m", 60e6 },      { "h", 3600e6 },
        };
        const gchar *p = text;
        gdouble total = 0;

        if (text == NULL || *text == '\0')
                return FALSE;
        if (*p == '+')
                p++;
        if (g_str_equal(p, "0")) {
                *usec = 0;
                return TRUE;
        }
        if (*p == '\0')
                return FALSE;
        while (*p != '\0') {
                const gchar *start = p;
                g_autofree gchar *number = NULL;
                gboolean found = FALSE;
                while (g_ascii_isdigit(*p) || *p == '.')
                        p++;
                if (p == start || (p - start == 1 && *start == '.'))
                        return FALSE;
                number = g_strndup(start, (gsize)(p - start));
                if (strchr(number, '.') != strrchr(number, '.'))
                        return FALSE;
                for (guint i = 0; i < G_N_ELEMENTS(units) && !found; i++) {
                        gsize len = strlen(units[i].unit);
                        if (strncmp(p, units[i].unit, len) == 0) {
                                total += g_ascii_strtod(number, NULL) * units[i].usec;
                                p += len;
                                found = TRUE;
                        }
                }
                if (!found)
                        return FALSE;
        }
        if (total >= (gdouble)G_MAXINT64)
                return FALSE;
        *usec = (guint64)(total + 0.5);
        return TRUE;
}

/* "1.500000" → "1.5": the fraction of a Go duration has no trailing zeros. */
static gchar *
limactl_format_fraction(guint64 whole, guint64 fraction, guint digits)
{
        g_autofree gchar *frac = NULL;
        gsize len;
        if (fraction == 0)
                return g_strdup_printf("%" G_GUINT64_FORMAT, whole);
        frac = g_strdup_printf("%0*" G_GUINT64_FORMAT, (int)digits, fraction);
        len = strlen(frac);
        while (len > 0 && frac[len - 1] == '0')
                frac[--len] = '\0';
        return g_strdup_printf("%" G_GUINT64_FORMAT ".%s", whole, frac);
}

gchar *
limactl_duration_format(guint64 usec)
{
        const guint64 second = G_USEC_PER_SEC;
        guint64 hours = usec / (3600 * second);
        guint64 minutes = usec / (60 * second) % 60;
        guint64 rest = usec % (60 * second);
        g_autofree gchar *seconds = NULL;

        if (usec == 0)
                return g_strdup("0s");
        if (usec < 1000)
                return g_strdup_printf("%" G_GUINT64_FORMAT "\xc2\xb5s", usec);
        if (usec < second) {
                g_autofree gchar *ms = limactl_format_fraction(usec / 1000, usec % 1000, 3);
                return g_strconcat(ms, "ms", NULL);
        }
        seconds = limactl_format_fraction(rest / second, rest % second, 6);
        if (hours > 0)
                return g_strdup_printf("%" G_GUINT64_FORMAT "h%" G_GUINT64_FORMAT "m%ss", hours,
                                       minutes, seconds);
        if (minutes > 0)
                return g_strdup_printf("%" G_GUINT64_FORMAT "m%ss", minutes, seconds);
        return g_strconcat(seconds, "s", NULL);
}

gchar *
limactl_instance_name_from_path(const gchar *path)
{
        g_autofree gchar *base = g_path_get_basename(path);
        g_autofree gchar *name = g_ascii_strdown(base, -1);
        gsize len = strlen(name);

        if (g_str_has_suffix(name, ".yml"))
                name[len - strlen(".yml")] = '\0';
        else if (g_str_has_suffix(name, ".yaml"))
                name[len - strlen(".yaml")] = '\0';
        if (!lima_instance_name_validate(name, NULL))
                return NULL;
        return g_steal_pointer(&name);
}

void
limactl_mount_spec_free(LimaMountStatusSpec *spec)
{
        if (spec == NULL)
                return;
        g_free(spec->location);
        g_free(spec->mount_point);
        g_free(spec);
}

static gchar *
limactl_expand_location(const gchar *location, const gchar *cwd, const gchar *home)
{
        if (g_str_equal(location, "~"))
                return g_canonicalize_filename(home, NULL);
        if (g_str_has_prefix(location, "~/"))
                return g_canonicalize_filename(location + 2, home);
        return g_canonicalize_filename(location, cwd);
}

gboolean
limactl_mount_flag_parse(const gchar *value, const gchar *cwd, const gchar *home, GPtrArray *specs,
                         GError **error)
{
        g_auto(GStrv) items = g_strsplit(value, ",", -1);

        /* g_strsplit("") gives no item at all, yet "--mount=" names no folder either. */
        if (items[0] == NULL) {
                g_set_error_literal(error, LIMACTL_ERROR, LIMACTL_ERROR_INVALID_ARGUMENT,
                                    _("--mount needs a folder: DIR or DIR:w"));
                return FALSE;
        }
        for (guint i = 0; items[i] != NULL; i++) {
                g_autoptr(LimaMountStatusSpec) spec = g_new0(LimaMountStatusSpec, 1);
                gchar *location = items[i];
                gsize len = strlen(location);

                if (g_str_has_suffix(location, ":w")) {
                        spec->writable = TRUE;
                        location[len - 2] = '\0';
                }
                if (*location == '\0') {
                        g_set_error(error, LIMACTL_ERROR, LIMACTL_ERROR_INVALID_ARGUMENT,
                                    _("mount \"%s\" names no folder; use DIR or DIR:w"), value);
                        return FALSE;
                }
                if (g_str_has_prefix(location, "~") && !g_str_equal(location, "~") &&
                    !g_str_has_prefix(location, "~/")) {
                        g_set_error(error, LIMACTL_ERROR, LIMACTL_ERROR_INVALID_ARGUMENT,
                                    _("mount \"%s\": only \"~\" and \"~/…\" are understood; "
                                      "give the full path of another user's folder"),
                                    location);
                        return FALSE;
                }
                spec->location = limactl_expand_location(location, cwd, home);
                spec->mount_point = g_strdup("");
                g_ptr_array_add(specs, g_steal_pointer(&spec));
        }
        return TRUE;
}

gboolean
limactl_mount_arg_parse(const gchar *value, const gchar *cwd, const gchar *home, gchar **location,
                        gchar **mount_point, GError **error)
{
        /* The last ":/" splits: a location may hold a colon, a mount point is absolute. */
        const gchar *split = g_strrstr(value, ":/");
        g_autofree gchar *loc =
            split != NULL ? g_strndup(value, (gsize)(split - value)) : g_strdup(value);

        if (*loc == '\0') {
                g_set_error(error, LIMACTL_ERROR, LIMACTL_ERROR_INVALID_ARGUMENT,
                            _("\"%s\" names no host folder; use LOCATION[:MOUNTPOINT]"), value);
                return FALSE;
        }
        if (g_str_has_prefix(loc, "~") && !g_str_equal(loc, "~") && !g_str_has_prefix(loc, "~/")) {
                g_set_error(error, LIMACTL_ERROR, LIMACTL_ERROR_INVALID_ARGUMENT,
                            _("\"%s\": only \"~\" and \"~/…\" are understood; give the full "
                              "path of another user's folder"),
                            loc);
                return FALSE;
        }
        *location = limactl_expand_location(loc, cwd, home);
        *mount_point = g_strdup(split != NULL ? split + 1 : "");
        return TRUE;
}

/* The part of path below dir ("" for dir itself), or NULL when path is not inside dir. */
static const gchar *
limactl_path_below(const gchar *path, const gchar *dir)
{
        gsize len = strlen(dir);
        if (g_str_equal(dir, "/"))
                return path + 1;
        if (strncmp(path, dir, len) != 0)
                return NULL;
        if (path[len] == '\0')
                return path + len;
        if (path[len] == '/')
                return path + len + 1;
        return NULL;
}

gchar *
limactl_workdir_translate(const gchar *cwd, GPtrArray *mounts)
{
        g_autofree gchar *here = g_canonicalize_filename(cwd, "/");
        const LimaMountStatus *best = NULL;
        g_autofree gchar *best_location = NULL;
        const gchar *below = NULL;

        for (guint i = 0; i < mounts->len; i++) {
                const LimaMountStatus *mount = g_ptr_array_index(mounts, i);
                g_autofree gchar *location = NULL;
                const gchar *rest;
                /* A failed mount leaves an empty folder in the guest: do not land there. */
                if (g_strcmp0(mount->state, "failed") == 0 || mount->location == NULL ||
                    !g_path_is_absolute(mount->location))
                        continue;
                location = g_canonicalize_filename(mount->location, "/");
                rest = limactl_path_below(here, location);
                if (rest == NULL)
                        continue;
                if (best != NULL && strlen(location) <= strlen(best_location))
                        continue;
                best = mount;
                below = rest;
                g_free(best_location);
                best_location = g_steal_pointer(&location);
        }
        if (best == NULL)
                return NULL;
        {
                const gchar *target = best->mount_point != NULL && *best->mount_point != '\0'
                                          ? best->mount_point
                                          : best->location;
                g_autofree gchar *joined = g_build_filename(target, below, NULL);
                return g_canonicalize_filename(joined, "/");
        }
}

/* The remote command: go to the folder, then run CMD (each word quoted for the remote shell)
 * or a login shell. An explicit --workdir must exist, as in Lima; the guessed one may not,
 * and then the shell starts at home. */
gchar *
limactl_format_shell_script(const gchar *workdir, gboolean explicit_workdir, gchar **command)
{
        return limactl_format_shell_script_full(workdir, explicit_workdir, NULL, NULL, command);
}

/* Lima's defaultBlockList (pkg/envutil): what --preserve-env never carries over. */
static const gchar *const limactl_env_block[] = {
        "BASH*", "DISPLAY",    "DYLD_*", "EUID",    "FPATH",    "GID",    "GROUP",
        "HOME",  "HOSTNAME",   "LD_*",   "LOGNAME", "OLDPWD",   "PATH",   "PWD",
        "SHELL", "SHLVL",      "SSH_*",  "TERM",    "TERMINFO", "TMPDIR", "UID",
        "USER",  "XAUTHORITY", "XDG_*",  "ZDOTDIR", "ZSH*",     "_*",     NULL,
};

GStrv
limactl_format_preserved_env(const gchar *const *envp)
{
        g_autoptr(GStrvBuilder) out = g_strv_builder_new();

        for (guint i = 0; envp != NULL && envp[i] != NULL; i++) {
                const gchar *eq = strchr(envp[i], '=');
                g_autofree gchar *name = NULL;
                gboolean blocked = FALSE;
                if (eq == NULL || eq == envp[i])
                        continue;
                name = g_strndup(envp[i], eq - envp[i]);
                /* Only names a shell can take. */
                if (!g_ascii_isalpha(name[0]) && name[0] != '_')
                        continue;
                if (strspn(name,
                           "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") !=
                    strlen(name))
                        continue;
                for (guint b = 0; !blocked && limactl_env_block[b] != NULL; b++)
                        blocked = g_pattern_match_simple(limactl_env_block[b], name);
                if (!blocked)
                        g_strv_builder_add(out, envp[i]);
        }
        return g_strv_builder_end(out);
}

gchar *
limactl_format_shell_script_full(const gchar *workdir, gboolean explicit_workdir,
                                 const gchar *shell, const gchar *const *env, gchar **command)
{
        g_autoptr(GString) script = g_string_new(NULL);
        g_autofree gchar *shell_quoted = shell != NULL ? g_shell_quote(shell) : NULL;

        if (workdir != NULL) {
                g_autofree gchar *quoted = g_shell_quote(workdir);
                g_string_append_printf(
                    script, explicit_workdir ? "cd %s || exit 1" : "cd %s 2>/dev/null || cd ~",
                    quoted);
        } else {
                g_string_append(script, "cd ~");
        }
        g_string_append(script, "; exec");
        if (env != NULL && env[0] != NULL) {
                g_string_append(script, " env");
                for (guint i = 0; env[i] != NULL; i++) {
                        g_autofree gchar *quoted = g_shell_quote(env[i]);
                        g_string_append_printf(script, " %s", quoted);
                }
        }
        if (command == NULL || command[0] == NULL) {
                g_string_append_printf(script, " %s -l",
                                       shell_quoted != NULL ? shell_quoted : "\"$SHELL\"");
                return g_string_free(g_steal_pointer(&script), FALSE);
        }
        if (shell_quoted != NULL) {
                /* Lima's form with --shell: the command line, read by that shell. */
                g_autoptr(GString) line = g_string_new(NULL);
                g_autofree gchar *line_quoted = NULL;
                for (guint i = 0; command[i] != NULL; i++) {
                        g_autofree gchar *quoted = g_shell_quote(command[i]);
                        g_string_append_printf(line, "%s%s", i > 0 ? " " : "", quoted);
                }
                line_quoted = g_shell_quote(line->str);
                g_string_append_printf(script, " %s -l -c %s", shell_quoted, line_quoted);
                return g_string_free(g_steal_pointer(&script), FALSE);
        }
        for (guint i = 0; command[i] != NULL; i++) {
                g_autofree gchar *quoted = g_shell_quote(command[i]);
                g_string_append_printf(script, " %s", quoted);
        }
        return g_string_free(g_steal_pointer(&script), FALSE);
}

/* Control characters (C0 but tab and newline, DEL, C1) from limad or a guest would reach the
 * terminal: escape sequences could rewrite what the user sees. Shown as U+FFFD. */
gchar *
limactl_format_sanitize(const gchar *text)
{
        GString *out;
        const gchar *p;

        if (text == NULL)
                return g_strdup("");
        out = g_string_new(NULL);
        for (p = text; *p != '\0';) {
                gunichar c = g_utf8_get_char_validated(p, -1);
                if (c == (gunichar)-1 || c == (gunichar)-2) {
                        g_string_append(out, "\xef\xbf\xbd");
                        p++;
                        continue;
                }
                if ((c < 0x20 && c != '\t' && c != '\n') || c == 0x7f || (c >= 0x80 && c < 0xa0))
                        g_string_append(out, "\xef\xbf\xbd");
                else
                        g_string_append_unichar(out, c);
                p = g_utf8_next_char(p);
        }
        return g_string_free(out, FALSE);
}

/* --format */

typedef gchar *(*LimactlFieldGetter)(const LimactlInstance *inst);

static gchar *
limactl_field_name(const LimactlInstance *inst)
{
        return g_strdup(inst->name != NULL ? inst->name : "");
}

static gchar *
limactl_field_hostname(const LimactlInstance *inst)
{
        return limactl_instance_hostname(inst->name != NULL ? inst->name : "");
}

static gchar *
limactl_field_status(const LimactlInstance *inst)
{
        return g_strdup(inst->status != NULL ? inst->status : "");
}

static gchar *
limactl_field_dir(const LimactlInstance *inst)
{
        return g_strdup(inst->dir != NULL ? inst->dir : "");
}

static gchar *
limactl_field_vm_type(const LimactlInstance *inst)
{
        return g_strdup(inst->vm_type != NULL ? inst->vm_type : "");
}

static gchar *
limactl_field_arch(const LimactlInstance *inst)
{
        return g_strdup(inst->arch != NULL ? inst->arch : "");
}

static gchar *
limactl_field_cpus(const LimactlInstance *inst)
{
        return g_strdup_printf("%u", inst->cpus);
}

/* Memory and Disk are bytes in a template, as in Lima; the table shows them in units. */
static gchar *
limactl_field_memory(const LimactlInstance *inst)
{
        return g_strdup_printf("%" G_GUINT64_FORMAT, inst->memory);
}

static gchar *
limactl_field_disk(const LimactlInstance *inst)
{
        return g_strdup_printf("%" G_GUINT64_FORMAT, inst->disk);
}

static gchar *
limactl_field_ssh_port(const LimactlInstance *inst)
{
        return g_strdup_printf("%u", inst->ssh_port);
}

static gchar *
limactl_field_ssh_address(const LimactlInstance *inst)
{
        return g_strdup(LIMACTL_SSH_ADDRESS);
}

static gchar *
limactl_field_ssh_config(const LimactlInstance *inst)
{
        if (inst->dir == NULL)
                return g_strdup("");
        return g_build_filename(inst->dir, "ssh.config", NULL);
}

static const struct {
        const gchar *name;
        LimactlFieldGetter get;
} limactl_format_fields[] = {
        { "Name", limactl_field_name },
        { "Hostname", limactl_field_hostname },
        { "Status", limactl_field_status },
        { "Dir", limactl_field_dir },
        { "VMType", limactl_field_vm_type },
        { "Arch", limactl_field_arch },
        { "CPUs", limactl_field_cpus },
        { "Memory", limactl_field_memory },
        { "Disk", limactl_field_disk },
        { "SSHLocalPort", limactl_field_ssh_port },
        { "SSHAddress", limactl_field_ssh_address },
        { "SSHConfigFile", limactl_field_ssh_config },
};

typedef struct {
        gchar *text; /* literal text, or NULL for a field */
        LimactlFieldGetter field;
} LimactlFormatPart;

struct _LimactlFormat {
        GArray *parts; /* LimactlFormatPart */
};

static void
limactl_format_part_clear(gpointer data)
{
        LimactlFormatPart *part = data;
        g_free(part->text);
}

void
limactl_format_free(LimactlFormat *format)
{
        if (format == NULL)
                return;
        g_array_unref(format->parts);
        g_free(format);
}

static gchar *
limactl_format_field_list(void)
{
        g_autoptr(GString) list = g_string_new(NULL);
        for (guint i = 0; i < G_N_ELEMENTS(limactl_format_fields); i++) {
                if (i > 0)
                        g_string_append(list, ", ");
                g_string_append(list, limactl_format_fields[i].name);
        }
        return g_string_free(g_steal_pointer(&list), FALSE);
}

static LimactlFieldGetter
limactl_format_lookup(const gchar *action, GError **error)
{
        g_autofree gchar *fields = limactl_format_field_list();
        const gchar *name = action + 1;
        gboolean identifier = action[0] == '.' && *name != '\0';

        for (const gchar *p = name; identifier && *p != '\0'; p++) {
                if (!g_ascii_isalnum(*p) && *p != '_')
                        identifier = FALSE;
        }
        if (!identifier) {
                g_set_error(error, LIMACTL_ERROR, LIMACTL_ERROR_INVALID_ARGUMENT,
                            _("--format: \"{{%s}}\" is not supported; only {{.FIELD}} is, with "
                              "FIELD one of %s"),
                            action, fields);
                return NULL;
        }
        for (guint i = 0; i < G_N_ELEMENTS(limactl_format_fields); i++) {
                if (g_str_equal(name, limactl_format_fields[i].name))
                        return limactl_format_fields[i].get;
        }
        g_set_error(error, LIMACTL_ERROR, LIMACTL_ERROR_INVALID_ARGUMENT,
                    _("--format: unknown field \"%s\"; the fields are %s"), name, fields);
        return NULL;
}

static void
limactl_format_add_text(LimactlFormat *format, const gchar *text, gsize len)
{
        LimactlFormatPart part = { g_strndup(text, len), NULL };
        g_array_append_val(format->parts, part);
}

LimactlFormat *
limactl_format_compile(const gchar *text, GError **error)
{
        g_autoptr(LimactlFormat) format = g_new0(LimactlFormat, 1);
        const gchar *p = text;
        const gchar *open;
        gboolean trim_next = FALSE;

        format->parts = g_array_new(FALSE, TRUE, sizeof(LimactlFormatPart));
        g_array_set_clear_func(format->parts, limactl_format_part_clear);
        while ((open = strstr(p, "{{")) != NULL) {
                const gchar *close = strstr(open + 2, "}}");
                const gchar *literal_end = open;
                g_autofree gchar *action = NULL;
                gsize len;
                LimactlFormatPart part = { NULL, NULL };

                if (close == NULL) {
                        g_set_error(error, LIMACTL_ERROR, LIMACTL_ERROR_INVALID_ARGUMENT,
                                    _("--format: \"{{\" without a closing \"}}\""));
                        return NULL;
                }
                action = g_strndup(open + 2, (gsize)(close - open - 2));
                len = strlen(action);
                /* Go's trim markers: "{{- " eats the space before, " -}}" the space after. */
                if (len >= 2 && action[0] == '-' && g_ascii_isspace(action[1])) {
                        action[0] = ' ';
                        while (literal_end > p && g_ascii_isspace(literal_end[-1]))
                                literal_end--;
                }
                if (trim_next) {
                        while (p < literal_end && g_ascii_isspace(*p))
                                p++;
                }
                trim_next = len >= 2 && action[len - 1] == '-' && g_ascii_isspace(action[len - 2]);
                if (trim_next)
                        action[len - 1] = ' ';
                g_strstrip(action);
                limactl_format_add_text(format, p, (gsize)(literal_end - p));
                part.field = limactl_format_lookup(action, error);
                if (part.field == NULL)
                        return NULL;
                g_array_append_val(format->parts, part);
                p = close + 2;
        }
        if (trim_next) {
                while (g_ascii_isspace(*p))
                        p++;
        }
        limactl_format_add_text(format, p, strlen(p));
        return g_steal_pointer(&format);
}

gchar *
limactl_format_expand(const LimactlFormat *format, const LimactlInstance *inst)
{
        g_autoptr(GString) out = g_string_new(NULL);
        for (guint i = 0; i < format->parts->len; i++) {
                const LimactlFormatPart *part = &g_array_index(format->parts, LimactlFormatPart, i);
                if (part->field != NULL) {
                        g_autofree gchar *value = part->field(inst);
                        g_string_append(out, value);
                } else {
                        g_string_append(out, part->text);
                }
        }
        return g_string_free(g_steal_pointer(&out), FALSE);
}

/* The table */

#define LIMACTL_TABLE_COLUMNS 9
/* Lima's tabwriter: minimum width 4, padding 4; the last column is not padded. */
#define LIMACTL_TABLE_PADDING 4

static gchar *
limactl_format_dir(const gchar *dir, const gchar *home)
{
        const gchar *below;
        if (dir == NULL)
                return g_strdup("");
        if (home == NULL || *home == '\0' || g_str_equal(home, "/"))
                return g_strdup(dir);
        below = limactl_path_below(dir, home);
        if (below == NULL)
                return g_strdup(dir);
        return *below == '\0' ? g_strdup("~") : g_strconcat("~/", below, NULL);
}

gchar *
limactl_format_table(GPtrArray *instances, const gchar *home)
{
        g_autoptr(GPtrArray) rows = g_ptr_array_new_with_free_func((GDestroyNotify)g_strfreev);
        g_autoptr(GString) out = g_string_new(NULL);
        glong widths[LIMACTL_TABLE_COLUMNS] = { 0 };
        const gchar *header[] = { "NAME", "STATUS", "SSH",  "VMTYPE", "ARCH",
                                  "CPUS", "MEMORY", "DISK", "DIR",    NULL };

        g_ptr_array_add(rows, g_strdupv((gchar **)header));
        for (guint i = 0; i < instances->len; i++) {
                const LimactlInstance *inst = g_ptr_array_index(instances, i);
                GStrv row = g_new0(gchar *, LIMACTL_TABLE_COLUMNS + 1);
                row[0] = limactl_field_name(inst);
                row[1] = limactl_field_status(inst);
                row[2] = g_strdup_printf("%s:%u", LIMACTL_SSH_ADDRESS, inst->ssh_port);
                row[3] = limactl_field_vm_type(inst);
                row[4] = limactl_field_arch(inst);
                row[5] = limactl_field_cpus(inst);
                row[6] = limactl_format_bytes(inst->memory);
                row[7] = limactl_format_bytes(inst->disk);
                row[8] = limactl_format_dir(inst->dir, home);
                g_ptr_array_add(rows, row);
        }
        for (guint i = 0; i < rows->len; i++) {
                GStrv row = g_ptr_array_index(rows, i);
                for (guint c = 0; c + 1 < LIMACTL_TABLE_COLUMNS; c++)
                        widths[c] = MAX(widths[c], g_utf8_strlen(row[c], -1));
        }
        for (guint i = 0; i < rows->len; i++) {
                GStrv row = g_ptr_array_index(rows, i);
                for (guint c = 0; c + 1 < LIMACTL_TABLE_COLUMNS; c++) {
                        glong pad = widths[c] + LIMACTL_TABLE_PADDING - g_utf8_strlen(row[c], -1);
                        g_string_append(out, row[c]);
                        for (glong k = 0; k < pad; k++)
                                g_string_append_c(out, ' ');
                }
                g_string_append(out, row[LIMACTL_TABLE_COLUMNS - 1]);
                g_string_append_c(out, '\n');
        }
        return g_string_free(g_steal_pointer(&out), FALSE);
}

/* JSON */

static void
limactl_json_add_mounts(JsonBuilder *b, GPtrArray *mounts)
{
        json_builder_set_member_name(b, "mounts");
        json_builder_begin_array(b);
        for (guint i = 0; i < mounts->len; i++) {
                const LimaMountStatus *mount = g_ptr_array_index(mounts, i);
                json_builder_begin_object(b);
                json_builder_set_member_name(b, "location");
                json_builder_add_string_value(b, mount->location);
                json_builder_set_member_name(b, "mountPoint");
                json_builder_add_string_value(b, mount->mount_point);
                json_builder_set_member_name(b, "mountType");
                json_builder_add_string_value(b, mount->type);
                json_builder_set_member_name(b, "writable");
                json_builder_add_boolean_value(b, mount->writable);
                json_builder_set_member_name(b, "state");
                json_builder_add_string_value(b, mount->state);
                if (mount->tag != NULL) {
                        json_builder_set_member_name(b, "tag");
                        json_builder_add_string_value(b, mount->tag);
                }
                if (mount->error != NULL) {
                        json_builder_set_member_name(b, "error");
                        json_builder_add_string_value(b, mount->error);
                }
                json_builder_end_object(b);
        }
        json_builder_end_array(b);
}

gchar *
limactl_format_json(const LimactlInstance *inst)
{
        g_autoptr(JsonBuilder) b = json_builder_new();
        g_autoptr(JsonGenerator) gen = json_generator_new();
        g_autoptr(JsonNode) root = NULL;
        g_autofree gchar *hostname = limactl_field_hostname(inst);
        g_autofree gchar *ssh_config = limactl_field_ssh_config(inst);

        /* Lima's keys, in Lima's order; omitempty where Lima has it. */
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "name");
        json_builder_add_string_value(b, inst->name != NULL ? inst->name : "");
        json_builder_set_member_name(b, "hostname");
        json_builder_add_string_value(b, hostname);
        json_builder_set_member_name(b, "status");
        json_builder_add_string_value(b, inst->status != NULL ? inst->status : "");
        json_builder_set_member_name(b, "dir");
        json_builder_add_string_value(b, inst->dir != NULL ? inst->dir : "");
        json_builder_set_member_name(b, "vmType");
        json_builder_add_string_value(b, inst->vm_type != NULL ? inst->vm_type : "");
        json_builder_set_member_name(b, "arch");
        json_builder_add_string_value(b, inst->arch != NULL ? inst->arch : "");
        if (inst->cpus > 0) {
                json_builder_set_member_name(b, "cpus");
                json_builder_add_int_value(b, inst->cpus);
        }
        if (inst->memory > 0) {
                json_builder_set_member_name(b, "memory");
                json_builder_add_int_value(b, (gint64)MIN(inst->memory, (guint64)G_MAXINT64));
        }
        if (inst->disk > 0) {
                json_builder_set_member_name(b, "disk");
                json_builder_add_int_value(b, (gint64)MIN(inst->disk, (guint64)G_MAXINT64));
        }
        if (inst->ssh_port > 0) {
                json_builder_set_member_name(b, "sshLocalPort");
                json_builder_add_int_value(b, inst->ssh_port);
        }
        if (*ssh_config != '\0') {
                json_builder_set_member_name(b, "sshConfigFile");
                json_builder_add_string_value(b, ssh_config);
        }
        if (inst->errors != NULL && inst->errors[0] != NULL) {
                json_builder_set_member_name(b, "errors");
                json_builder_begin_array(b);
                for (guint i = 0; inst->errors[i] != NULL; i++)
                        json_builder_add_string_value(b, inst->errors[i]);
                json_builder_end_array(b);
        }
        json_builder_set_member_name(b, "sshAddress");
        json_builder_add_string_value(b, LIMACTL_SSH_ADDRESS);
        /* limad's additions: what Lima keeps in config.mounts, with live state. */
        if (inst->accelerator != NULL && *inst->accelerator != '\0') {
                json_builder_set_member_name(b, "accelerator");
                json_builder_add_string_value(b, inst->accelerator);
        }
        limactl_json_add_mounts(b, inst->mounts);
        json_builder_end_object(b);

        root = json_builder_get_root(b);
        json_generator_set_root(gen, root);
        return json_generator_to_data(gen, NULL);
}

/* Progress */

#define LIMACTL_PROGRESS_BAR_WIDTH 20

gchar *
limactl_format_progress(gdouble fraction, const gchar *stage, const gchar *message, guint columns)
{
        g_autoptr(GString) line = g_string_new("[");
        g_autofree gchar *stage_text = g_utf8_make_valid(stage != NULL ? stage : "", -1);
        g_autofree gchar *message_text = g_utf8_make_valid(message != NULL ? message : "", -1);
        guint filled;
        glong length;

        if (!(fraction >= 0)) /* also NaN */
                fraction = 0;
        if (fraction > 1)
                fraction = 1;
        filled = (guint)(fraction * LIMACTL_PROGRESS_BAR_WIDTH);
        for (guint i = 0; i < LIMACTL_PROGRESS_BAR_WIDTH; i++) {
                if (i < filled)
                        g_string_append_c(line, '=');
                else if (i == filled)
                        g_string_append_c(line, '>');
                else
                        g_string_append_c(line, ' ');
        }
        g_string_append_printf(line, "] %d%%", (int)(fraction * 100));
        if (*stage_text != '\0')
                g_string_append_printf(line, " %s", stage_text);
        if (*message_text != '\0')
                g_string_append_printf(line, "%s %s", *stage_text != '\0' ? ":" : "", message_text);
        /* One control character would break the redraw in place: show it as a space. */
        for (gchar *p = line->str; *p != '\0'; p++) {
                if ((guchar)*p < 0x20 || *p == 0x7f)
                        *p = ' ';
        }
        length = g_utf8_strlen(line->str, -1);
        if (columns > 1 && length > (glong)columns - 1) {
                gchar *cut = g_utf8_offset_to_pointer(line->str, (glong)columns - 2);
                g_string_truncate(line, (gsize)(cut - line->str));
                g_string_append(line, "…");
        }
        return g_string_free(g_steal_pointer(&line), FALSE);
}
