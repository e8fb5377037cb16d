/* Finding the virtiofsd to run and telling its flavour (lima-mount-virtiofs.h). */
#include "lima-mount-virtiofs.h"

#include <glib/gi18n.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "lima-error.h"

void
lima_virtiofsd_binary_free(LimaVirtiofsdBinary *bin)
{
        if (bin == NULL)
                return;
        g_free(bin->path);
        g_free(bin);
}

gboolean
lima_virtiofsd_parse_help(const gchar *help, LimaVirtiofsdBinary *bin)
{
        if (strstr(help, "--shared-dir") != NULL) {
                bin->flavour = LIMA_VIRTIOFSD_RUST;
                bin->has_readonly = strstr(help, "--readonly") != NULL;
                bin->has_translate = strstr(help, "--translate-uid") != NULL &&
                                     strstr(help, "--translate-gid") != NULL;
                return TRUE;
        }
        /* The C daemon drops supplementary groups before anything else, even --help: run
         * by a user (not root), its only words are this. */
        if ((strstr(help, "source=") != NULL && strstr(help, "--socket-path") != NULL) ||
            g_str_has_prefix(help, "setgroups() failed with error=")) {
                bin->flavour = LIMA_VIRTIOFSD_C;
                bin->has_readonly = FALSE;
                bin->has_translate = FALSE;
                return TRUE;
        }
        return FALSE;
}

LimaVirtiofsdBinary *
lima_virtiofsd_probe(const gchar *path, GError **error)
{
        const gchar *argv[] = { path, "--help", NULL };
        g_autofree gchar *out = NULL;
        g_autofree gchar *err = NULL;
        g_autofree gchar *help = NULL;
        g_autoptr(LimaVirtiofsdBinary) bin = g_new0(LimaVirtiofsdBinary, 1);

        /* Exit status is ignored: some builds exit 1 after printing usage. */
        if (!g_spawn_sync(NULL, (gchar **)argv, NULL, G_SPAWN_STDIN_FROM_DEV_NULL, NULL, NULL, &out,
                          &err, NULL, error)) {
                g_prefix_error(error, _("cannot run %s --help: "), path);
                return NULL;
        }
        help = g_strconcat(out, err, NULL);
        if (!lima_virtiofsd_parse_help(help, bin)) {
                g_set_error(error, LIMA_ERROR, LIMA_ERROR_UNSUPPORTED,
                            _("%s does not look like virtiofsd (its --help lists neither "
                              "--shared-dir nor -o source=); set LIMA_VIRTIOFSD to the Rust "
                              "virtiofsd"),
                            path);
                return NULL;
        }
        bin->path = g_strdup(path);
        return g_steal_pointer(&bin);
}

/* The "binary" of a vhost-user descriptor of "type": "fs", or NULL. */
static gchar *
lima_virtiofsd_descriptor_binary(const gchar *file)
{
        g_autoptr(JsonParser) parser = json_parser_new();
        JsonObject *obj;
        if (!json_parser_load_from_file(parser, file, NULL) ||
            !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser)))
                return NULL;
        obj = json_node_get_object(json_parser_get_root(parser));
        if (g_strcmp0(json_object_get_string_member_with_default(obj, "type", ""), "fs") != 0)
                return NULL;
        return g_strdup(json_object_get_string_member_with_default(obj, "binary", NULL));
}

static gint
lima_virtiofsd_compare_basename(gconstpointer a, gconstpointer b)
{
        g_autofree gchar *base_a = g_path_get_basename(*(const gchar *const *)a);
        g_autofree gchar *base_b = g_path_get_basename(*(const gchar *const *)b);
        return strcmp(base_a, base_b);
}

/* Every descriptor, in QEMU's order: sorted by file name, an earlier dir's file hiding a
 * later dir's file of the same name (docs/interop/vhost-user.json). */
static GPtrArray *
lima_virtiofsd_descriptors(const gchar *const *dirs)
{
        g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        GPtrArray *files = g_ptr_array_new_with_free_func(g_free);

        for (guint i = 0; dirs != NULL && dirs[i] != NULL; i++) {
                g_autoptr(GDir) dir = g_dir_open(dirs[i], 0, NULL);
                const gchar *name;
                while (dir != NULL && (name = g_dir_read_name(dir)) != NULL) {
                        if (!g_str_has_suffix(name, ".json") || g_hash_table_contains(seen, name))
                                continue;
                        g_hash_table_add(seen, g_strdup(name));
                        g_ptr_array_add(files, g_build_filename(dirs[i], name, NULL));
                }
        }
        g_ptr_array_sort(files, lima_virtiofsd_compare_basename);
        return files;
}

static void
lima_virtiofsd_add_candidate(GPtrArray *candidates, const gchar *path)
{
        if (path != NULL && g_path_is_absolute(path) &&
            g_file_test(path, G_FILE_TEST_IS_EXECUTABLE) && !g_file_test(path, G_FILE_TEST_IS_DIR))
                g_ptr_array_add(candidates, g_strdup(path));
}

LimaVirtiofsdBinary *
lima_virtiofsd_find_in(const LimaVirtiofsdSearch *search, GError **error)
{
        g_autoptr(GPtrArray) candidates = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(GString) rejected = g_string_new(NULL);

        if (search->env_override != NULL && *search->env_override != '\0') {
                /* The user named one: use it or say why not, never a different one. */
                LimaVirtiofsdBinary *bin = lima_virtiofsd_probe(search->env_override, error);
                if (bin == NULL)
                        g_prefix_error(error, _("LIMA_VIRTIOFSD: "));
                return bin;
        }
        if (search->search_path != NULL) {
                g_auto(GStrv) dirs = g_strsplit(search->search_path, ":", -1);
                for (guint i = 0; dirs[i] != NULL; i++) {
                        g_autofree gchar *path = NULL;
                        if (*dirs[i] == '\0')
                                continue;
                        path = g_build_filename(dirs[i], "virtiofsd", NULL);
                        lima_virtiofsd_add_candidate(candidates, path);
                }
        }
        {
                g_autoptr(GPtrArray) files = lima_virtiofsd_descriptors(search->descriptor_dirs);
                for (guint i = 0; i < files->len; i++) {
                        g_autofree gchar *binary =
                            lima_virtiofsd_descriptor_binary(g_ptr_array_index(files, i));
                        lima_virtiofsd_add_candidate(candidates, binary);
                }
        }
        for (guint i = 0; search->fallback_binaries != NULL && search->fallback_binaries[i]; i++)
                lima_virtiofsd_add_candidate(candidates, search->fallback_binaries[i]);

        for (guint i = 0; i < candidates->len; i++) {
                g_autoptr(GError) probe_error = NULL;
                LimaVirtiofsdBinary *bin =
                    lima_virtiofsd_probe(g_ptr_array_index(candidates, i), &probe_error);
                if (bin != NULL)
                        return bin;
                g_string_append_printf(rejected, " (%s)", probe_error->message);
        }
        g_set_error(error, LIMA_ERROR, LIMA_ERROR_UNSUPPORTED,
                    _("no usable virtiofsd found%s; install virtiofsd (or qemu-system-common) "
                      "or set LIMA_VIRTIOFSD to its path, or use mountType 9p or "
                      "reverse-sshfs"),
                    rejected->str);
        return NULL;
}

LimaVirtiofsdBinary *
lima_virtiofsd_find(GError **error)
{
        const gchar *const descriptor_dirs[] = { "/etc/qemu/vhost-user",
                                                 "/usr/share/qemu/vhost-user", NULL };
        const gchar *const fallbacks[] = { "/usr/lib/qemu/virtiofsd", "/usr/libexec/virtiofsd",
                                           NULL };
        LimaVirtiofsdSearch search = {
                .env_override = g_getenv("LIMA_VIRTIOFSD"),
                .search_path = g_getenv("PATH"),
                .descriptor_dirs = descriptor_dirs,
                .fallback_binaries = fallbacks,
        };
        return lima_virtiofsd_find_in(&search, error);
}
