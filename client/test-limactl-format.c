/* The pure parts of limactl: sizes, durations, --format, --mount, the shell's workdir, the
 * list table and JSON, the progress line. */
#include <json-glib/json-glib.h>
#include <locale.h>
#include <math.h>
#include <string.h>

#include "limactl-bus.h"
#include "limactl-format.h"

static LimactlInstance *
test_instance(const gchar *name, const gchar *status, guint32 port, const gchar *dir)
{
        LimactlInstance *inst = limactl_instance_new("/io/lima/lima1/instance/x");
        inst->name = g_strdup(name);
        inst->status = g_strdup(status);
        inst->vm_type = g_strdup("qemu");
        inst->arch = g_strdup("x86_64");
        inst->cpus = 4;
        inst->memory = 4ull << 30;
        inst->disk = 100ull << 30;
        inst->dir = g_strdup(dir);
        inst->ssh_port = port;
        return inst;
}

static void
test_bytes_as_lima_shows_them(void)
{
        const struct {
                guint64 bytes;
                const gchar *text;
        } cases[] = {
                { 0, "0B" },
                { 512, "512B" },
                { 1023, "1023B" },
                { 1024, "1KiB" },
                { 1536, "1.5KiB" },
                { 4ull << 30, "4GiB" },
                { 100ull << 30, "100GiB" },
                { (1ull << 30) + (1ull << 28), "1.25GiB" },
                { 12345678, "11.77MiB" },
                { (1ull << 30) - 1, "1024MiB" },
                { 3ull << 40, "3TiB" },
        };
        for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autofree gchar *text = limactl_format_bytes(cases[i].bytes);
                g_assert_cmpstr(text, ==, cases[i].text);
        }
}

static void
test_size_flags(void)
{
        const struct {
                const gchar *text;
                const gchar *value; /* NULL: rejected */
        } cases[] = {
                { "4", "4GiB" }, { "1.5", "1.5GiB" }, { "512MiB", "512MiB" }, { "4GiB", "4GiB" },
                { "2g", "2g" },  { "0", NULL },       { "", NULL },           { "four", NULL },
                { "4XB", NULL }, { "1.2.3", NULL },   { "-4", NULL },         { ".", NULL },
        };
        for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autoptr(GError) error = NULL;
                g_autofree gchar *value = limactl_size_flag_parse("memory", cases[i].text, &error);
                g_assert_cmpstr(value, ==, cases[i].value);
                if (cases[i].value == NULL) {
                        g_assert_error(error, LIMACTL_ERROR, LIMACTL_ERROR_INVALID_ARGUMENT);
                        g_assert_nonnull(strstr(error->message, "--memory"));
                }
        }
}

static void
test_durations(void)
{
        const struct {
                const gchar *text;
                guint64 usec;
                const gchar *shown;
        } good[] = {
                { "10m", 600 * (guint64)G_USEC_PER_SEC, "10m0s" },
                { "90s", 90 * (guint64)G_USEC_PER_SEC, "1m30s" },
                { "1h30m", 5400 * (guint64)G_USEC_PER_SEC, "1h30m0s" },
                { "1.5h", 5400 * (guint64)G_USEC_PER_SEC, "1h30m0s" },
                { "500ms", 500000, "500ms" },
                { "1.5s", 1500000, "1.5s" },
                { "2m3.25s", 123250000, "2m3.25s" },
                { "+5s", 5 * (guint64)G_USEC_PER_SEC, "5s" },
                { "0", 0, "0s" },
                { "250us", 250, "250\xc2\xb5s" },
        };
        const gchar *bad[] = { "", "10", "m", "10x", "-5m", "1..5s", ".s", "5m 3s", "h" };

        for (guint i = 0; i < G_N_ELEMENTS(good); i++) {
                guint64 usec = 1;
                g_autofree gchar *shown = NULL;
                g_assert_true(limactl_duration_parse(good[i].text, &usec));
                g_assert_cmpuint(usec, ==, good[i].usec);
                shown = limactl_duration_format(usec);
                g_assert_cmpstr(shown, ==, good[i].shown);
        }
        for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
                guint64 usec = 0;
                if (limactl_duration_parse(bad[i], &usec))
                        g_error("\"%s\" was taken as a duration", bad[i]);
        }
}

static void
test_instance_names_from_paths(void)
{
        const struct {
                const gchar *path;
                const gchar *name;
        } cases[] = {
                { "dev.yaml", "dev" },
                { "/tmp/Dev.YML", "dev" },
                { "templates/ubuntu-24.04.yaml", "ubuntu-24.04" },
                { "docker", "docker" },
                { "_images/debian", "debian" },
                { "my file.yaml", NULL },
                { ".yaml", NULL },
        };
        for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autofree gchar *name = limactl_instance_name_from_path(cases[i].path);
                g_assert_cmpstr(name, ==, cases[i].name);
        }
}

static GPtrArray *
test_parse_mounts(const gchar *value, GError **error)
{
        g_autoptr(GPtrArray) specs =
            g_ptr_array_new_with_free_func((GDestroyNotify)limactl_mount_spec_free);
        if (!limactl_mount_flag_parse(value, "/work/here", "/home/me", specs, error))
                return NULL;
        return g_steal_pointer(&specs);
}

static void
test_mount_flags(void)
{
        const struct {
                const gchar *value;
                const gchar *location;
                gboolean writable;
        } cases[] = {
                { "/tmp/a", "/tmp/a", FALSE },       { "/tmp/a:w", "/tmp/a", TRUE },
                { "/tmp/a/", "/tmp/a", FALSE },      { "~", "/home/me", FALSE },
                { "~/src:w", "/home/me/src", TRUE }, { "rel/dir", "/work/here/rel/dir", FALSE },
                { ".:w", "/work/here", TRUE },       { "../up", "/work/up", FALSE },
                { "/a:b", "/a:b", FALSE },
        };
        const gchar *bad[] = { ":w", "", "~other/x", "/a,,/b" };

        for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autoptr(GError) error = NULL;
                g_autoptr(GPtrArray) specs = test_parse_mounts(cases[i].value, &error);
                const LimaMountStatusSpec *spec;
                g_assert_no_error(error);
                g_assert_cmpuint(specs->len, ==, 1);
                spec = g_ptr_array_index(specs, 0);
                g_assert_cmpstr(spec->location, ==, cases[i].location);
                g_assert_cmpstr(spec->mount_point, ==, "");
                g_assert_cmpint(spec->writable, ==, cases[i].writable);
        }
        for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
                g_autoptr(GError) error = NULL;
                g_autoptr(GPtrArray) specs = test_parse_mounts(bad[i], &error);
                g_assert_null(specs);
                g_assert_error(error, LIMACTL_ERROR, LIMACTL_ERROR_INVALID_ARGUMENT);
        }
}

static void
test_mount_add_argument(void)
{
        const struct {
                const gchar *value;
                const gchar *location;
                const gchar *mount_point;
        } cases[] = {
                { "/srv/a", "/srv/a", "" },
                { "/srv/a:/mnt/a", "/srv/a", "/mnt/a" },
                { "~/src:/mnt/src dir", "/home/me/src", "/mnt/src dir" },
                { "rel:/mnt/r", "/work/here/rel", "/mnt/r" },
                { "/a:b:/mnt/x", "/a:b", "/mnt/x" },
                { "/a:b", "/a:b", "" },
        };
        const gchar *bad[] = { ":/mnt/x", "", "~other/x:/mnt" };

        for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autoptr(GError) error = NULL;
                g_autofree gchar *location = NULL;
                g_autofree gchar *mount_point = NULL;
                g_assert_true(limactl_mount_arg_parse(cases[i].value, "/work/here", "/home/me",
                                                      &location, &mount_point, &error));
                g_assert_no_error(error);
                g_assert_cmpstr(location, ==, cases[i].location);
                g_assert_cmpstr(mount_point, ==, cases[i].mount_point);
        }
        for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
                g_autoptr(GError) error = NULL;
                g_autofree gchar *location = NULL;
                g_autofree gchar *mount_point = NULL;
                g_assert_false(limactl_mount_arg_parse(bad[i], "/work/here", "/home/me", &location,
                                                       &mount_point, &error));
                g_assert_error(error, LIMACTL_ERROR, LIMACTL_ERROR_INVALID_ARGUMENT);
        }
}

static void
test_mount_flags_split_on_commas(void)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) specs = test_parse_mounts("/a,/b:w", &error);
        const LimaMountStatusSpec *a, *b;

        g_assert_no_error(error);
        g_assert_cmpuint(specs->len, ==, 2);
        a = g_ptr_array_index(specs, 0);
        b = g_ptr_array_index(specs, 1);
        g_assert_cmpstr(a->location, ==, "/a");
        g_assert_false(a->writable);
        g_assert_cmpstr(b->location, ==, "/b");
        g_assert_true(b->writable);
}

static void
test_workdir_translation(void)
{
        g_autoptr(GPtrArray) mounts =
            g_ptr_array_new_with_free_func((GDestroyNotify)lima_mount_status_free);
        const struct {
                const gchar *cwd;
                const gchar *workdir;
        } cases[] = {
                { "/home/me", "/home/me" },
                { "/home/me/src/x", "/home/me/src/x" },
                { "/home/me/work", "/w" },
                { "/home/me/work/proj", "/w/proj" },
                { "/home/me/workshop", "/home/me/workshop" },
                { "/tmp/lima/a", "/tmp/lima/a" },
                { "/tmp/limax", NULL },
                { "/srv/broken/x", NULL },
                { "/etc", NULL },
                { "/home/me/./src/", "/home/me/src" },
        };

        g_ptr_array_add(mounts, lima_mount_status_new("/home/me/", "/home/me", "reverse-sshfs",
                                                      FALSE, "mounted"));
        g_ptr_array_add(mounts,
                        lima_mount_status_new("/home/me/work", "/w", "9p", TRUE, "mounted"));
        g_ptr_array_add(mounts, lima_mount_status_new("/tmp/lima", "", "9p", TRUE, "pending"));
        g_ptr_array_add(mounts,
                        lima_mount_status_new("/srv/broken", "/srv/broken", "9p", TRUE, "failed"));
        for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autofree gchar *workdir = limactl_workdir_translate(cases[i].cwd, mounts);
                g_assert_cmpstr(workdir, ==, cases[i].workdir);
        }
}

static void
test_workdir_translation_of_root(void)
{
        g_autoptr(GPtrArray) mounts =
            g_ptr_array_new_with_free_func((GDestroyNotify)lima_mount_status_free);
        g_autofree gchar *inside = NULL;
        g_autofree gchar *top = NULL;

        g_ptr_array_add(mounts, lima_mount_status_new("/", "/mnt/host", "9p", FALSE, "mounted"));
        inside = limactl_workdir_translate("/etc/ssh", mounts);
        top = limactl_workdir_translate("/", mounts);
        g_assert_cmpstr(inside, ==, "/mnt/host/etc/ssh");
        g_assert_cmpstr(top, ==, "/mnt/host");
}

static void
test_shell_script(void)
{
        gchar *command[] = { (gchar *)"ls", (gchar *)"-la", (gchar *)"it's here", NULL };
        gchar *none[] = { NULL };
        g_autofree gchar *guessed = limactl_format_shell_script("/home/me/my dir", FALSE, command);
        g_autofree gchar *given = limactl_format_shell_script("/srv", TRUE, none);
        g_autofree gchar *home = limactl_format_shell_script(NULL, FALSE, NULL);

        g_assert_cmpstr(guessed, ==,
                        "cd '/home/me/my dir' 2>/dev/null || cd ~; exec 'ls' '-la' 'it'\\''s "
                        "here'");
        g_assert_cmpstr(given, ==, "cd '/srv' || exit 1; exec \"$SHELL\" -l");
        g_assert_cmpstr(home, ==, "cd ~; exec \"$SHELL\" -l");
}

static gchar *
test_expand(const gchar *text, const LimactlInstance *inst, GError **error)
{
        g_autoptr(LimactlFormat) format = limactl_format_compile(text, error);
        if (format == NULL)
                return NULL;
        return limactl_format_expand(format, inst);
}

static void
test_format_fields(void)
{
        g_autoptr(LimactlInstance) inst =
            test_instance("dev.box", "Running", 60022, "/home/me/.lima/dev.box");
        const struct {
                const gchar *format;
                const gchar *text;
        } cases[] = {
                { "{{.Name}}", "dev.box" },
                { "{{.Name}} is {{.Status}}", "dev.box is Running" },
                { "{{ .Name }}\\t{{.Dir}}", "dev.box\\t/home/me/.lima/dev.box" },
                { "ssh -p {{.SSHLocalPort}} {{.SSHAddress}}", "ssh -p 60022 127.0.0.1" },
                { "{{.VMType}}/{{.Arch}}/{{.CPUs}}", "qemu/x86_64/4" },
                { "{{.Memory}} {{.Disk}}", "4294967296 107374182400" },
                { "{{.Hostname}}", "lima-dev-box" },
                { "{{.SSHConfigFile}}", "/home/me/.lima/dev.box/ssh.config" },
                { "no fields", "no fields" },
                { "", "" },
                { "a  {{- .Name -}}  b", "adev.boxb" },
                { "{{.Name -}}\n", "dev.box" },
        };
        for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autoptr(GError) error = NULL;
                g_autofree gchar *text = test_expand(cases[i].format, inst, &error);
                g_assert_no_error(error);
                g_assert_cmpstr(text, ==, cases[i].text);
        }
}

static void
test_format_rejects_what_it_does_not_know(void)
{
        g_autoptr(LimactlInstance) inst = test_instance("dev", "Stopped", 0, "/d");
        const struct {
                const gchar *format;
                const gchar *in_message;
        } cases[] = {
                { "{{.Nmae}}", "unknown field \"Nmae\"" },
                { "{{.Config.cpus}}", "not supported" },
                { "{{json .}}", "not supported" },
                { "{{.}}", "not supported" },
                { "{{.Name", "closing" },
                { "{{if .Name}}x{{end}}", "not supported" },
                /* Go's trim marker needs the space: "{{-.Name}}" is no field. */
                { "{{-.Name}}", "not supported" },
        };
        for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autoptr(GError) error = NULL;
                g_autofree gchar *text = test_expand(cases[i].format, inst, &error);
                g_assert_null(text);
                g_assert_error(error, LIMACTL_ERROR, LIMACTL_ERROR_INVALID_ARGUMENT);
                if (strstr(error->message, cases[i].in_message) == NULL)
                        g_error("%s: \"%s\" lacks \"%s\"", cases[i].format, error->message,
                                cases[i].in_message);
        }
}

static void
test_table(void)
{
        g_autoptr(GPtrArray) instances =
            g_ptr_array_new_with_free_func((GDestroyNotify)limactl_instance_free);
        g_autofree gchar *table = NULL;
        LimactlInstance *big;

        g_ptr_array_add(instances,
                        test_instance("default", "Running", 60022, "/home/me/.lima/default"));
        big = test_instance("a", "Stopped", 0, "/var/lib/lima/a");
        big->memory = 512ull << 20;
        big->disk = 3ull << 29;
        big->cpus = 12;
        g_ptr_array_add(instances, big);
        table = limactl_format_table(instances, "/home/me");
        g_assert_cmpstr(table, ==,
                        "NAME       STATUS     SSH                VMTYPE    ARCH      CPUS    "
                        "MEMORY    DISK      DIR\n"
                        "default    Running    127.0.0.1:60022    qemu      x86_64    4       "
                        "4GiB      100GiB    ~/.lima/default\n"
                        "a          Stopped    127.0.0.1:0        qemu      x86_64    12      "
                        "512MiB    1.5GiB    /var/lib/lima/a\n");
}

static void
test_table_home_is_a_whole_folder(void)
{
        g_autoptr(GPtrArray) instances =
            g_ptr_array_new_with_free_func((GDestroyNotify)limactl_instance_free);
        g_autofree gchar *table = NULL;

        g_ptr_array_add(instances, test_instance("x", "Stopped", 0, "/home/me2/.lima/x"));
        table = limactl_format_table(instances, "/home/me");
        g_assert_nonnull(strstr(table, " /home/me2/.lima/x\n"));
}

static void
test_json(void)
{
        g_autoptr(LimactlInstance) running =
            test_instance("dev", "Degraded", 60022, "/home/me/.lima/dev");
        g_autoptr(LimactlInstance) stopped = test_instance("off", "Stopped", 0, "/d/off");
        g_autoptr(JsonParser) parser = json_parser_new();
        g_autoptr(GError) error = NULL;
        g_autofree gchar *line = NULL;
        g_autofree gchar *stopped_line = NULL;
        JsonObject *obj;
        JsonObject *mount;

        g_strfreev(running->errors);
        running->errors = g_strsplit("mount /x failed", "\n", -1);
        running->accelerator = g_strdup("tcg");
        g_ptr_array_add(running->mounts,
                        lima_mount_status_new("/home/me", "/home/me", "9p", TRUE, "mounted"));
        ((LimaMountStatus *)g_ptr_array_index(running->mounts, 0))->tag = g_strdup("lima-0");
        line = limactl_format_json(running);
        g_assert_null(strchr(line, '\n'));
        g_assert_true(json_parser_load_from_data(parser, line, -1, &error));
        g_assert_no_error(error);
        obj = json_node_get_object(json_parser_get_root(parser));
        g_assert_cmpstr(json_object_get_string_member(obj, "name"), ==, "dev");
        g_assert_cmpstr(json_object_get_string_member(obj, "hostname"), ==, "lima-dev");
        g_assert_cmpstr(json_object_get_string_member(obj, "status"), ==, "Degraded");
        g_assert_cmpstr(json_object_get_string_member(obj, "dir"), ==, "/home/me/.lima/dev");
        g_assert_cmpstr(json_object_get_string_member(obj, "vmType"), ==, "qemu");
        g_assert_cmpstr(json_object_get_string_member(obj, "arch"), ==, "x86_64");
        g_assert_cmpint(json_object_get_int_member(obj, "cpus"), ==, 4);
        g_assert_cmpint(json_object_get_int_member(obj, "memory"), ==, 4ll << 30);
        g_assert_cmpint(json_object_get_int_member(obj, "disk"), ==, 100ll << 30);
        g_assert_cmpint(json_object_get_int_member(obj, "sshLocalPort"), ==, 60022);
        g_assert_cmpstr(json_object_get_string_member(obj, "sshConfigFile"), ==,
                        "/home/me/.lima/dev/ssh.config");
        g_assert_cmpstr(json_object_get_string_member(obj, "sshAddress"), ==, "127.0.0.1");
        g_assert_cmpstr(json_object_get_string_member(obj, "accelerator"), ==, "tcg");
        g_assert_cmpuint(json_array_get_length(json_object_get_array_member(obj, "errors")), ==, 1);
        mount = json_array_get_object_element(json_object_get_array_member(obj, "mounts"), 0);
        g_assert_cmpstr(json_object_get_string_member(mount, "location"), ==, "/home/me");
        g_assert_cmpstr(json_object_get_string_member(mount, "mountType"), ==, "9p");
        g_assert_true(json_object_get_boolean_member(mount, "writable"));
        g_assert_cmpstr(json_object_get_string_member(mount, "state"), ==, "mounted");
        g_assert_cmpstr(json_object_get_string_member(mount, "tag"), ==, "lima-0");

        /* Lima leaves out an unset port and empty errors (omitempty). */
        stopped_line = limactl_format_json(stopped);
        g_assert_true(json_parser_load_from_data(parser, stopped_line, -1, &error));
        obj = json_node_get_object(json_parser_get_root(parser));
        g_assert_false(json_object_has_member(obj, "sshLocalPort"));
        g_assert_false(json_object_has_member(obj, "errors"));
        g_assert_false(json_object_has_member(obj, "accelerator"));
        g_assert_cmpuint(json_array_get_length(json_object_get_array_member(obj, "mounts")), ==, 0);
}

static void
test_progress_line(void)
{
        g_autofree gchar *start = limactl_format_progress(0, "download", "image", 0);
        g_autofree gchar *mid = limactl_format_progress(0.42, "booting", "kernel", 0);
        g_autofree gchar *full = limactl_format_progress(1.0, "ready", "", 0);
        g_autofree gchar *odd = limactl_format_progress(NAN, "", "a\nb", 0);
        g_autofree gchar *cut = limactl_format_progress(0.5, "booting", "a long message", 30);

        g_assert_cmpstr(start, ==, "[>                   ] 0% download: image");
        g_assert_cmpstr(mid, ==, "[========>           ] 42% booting: kernel");
        g_assert_cmpstr(full, ==, "[====================] 100% ready");
        g_assert_cmpstr(odd, ==, "[>                   ] 0% a b");
        g_assert_cmpint(g_utf8_strlen(cut, -1), ==, 29);
        g_assert_true(g_str_has_suffix(cut, "…"));
        g_assert_true(g_str_has_prefix(cut, "[==========>         ] 50% "));
}

int
main(int argc, char **argv)
{
        setlocale(LC_ALL, "");
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/limactl/format/bytes", test_bytes_as_lima_shows_them);
        g_test_add_func("/limactl/format/size-flags", test_size_flags);
        g_test_add_func("/limactl/format/durations", test_durations);
        g_test_add_func("/limactl/format/names-from-paths", test_instance_names_from_paths);
        g_test_add_func("/limactl/format/mount-flags", test_mount_flags);
        g_test_add_func("/limactl/format/mount-add-argument", test_mount_add_argument);
        g_test_add_func("/limactl/format/mount-flags-commas", test_mount_flags_split_on_commas);
        g_test_add_func("/limactl/format/workdir", test_workdir_translation);
        g_test_add_func("/limactl/format/workdir-root", test_workdir_translation_of_root);
        g_test_add_func("/limactl/format/shell-script", test_shell_script);
        g_test_add_func("/limactl/format/template-fields", test_format_fields);
        g_test_add_func("/limactl/format/template-errors",
                        test_format_rejects_what_it_does_not_know);
        g_test_add_func("/limactl/format/table", test_table);
        g_test_add_func("/limactl/format/table-home", test_table_home_is_a_whole_folder);
        g_test_add_func("/limactl/format/json", test_json);
        g_test_add_func("/limactl/format/progress", test_progress_line);
        return g_test_run();
}
