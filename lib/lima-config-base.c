#include "lima-config-base.h"

#include <glib/gi18n.h>
#include <string.h>

#include "config.h"
#include "lima-error.h"
#include "lima-safe-path.h"
#include "lima-version.h"

gchar **
lima_templates_dirs(void)
{
        g_autoptr(GStrvBuilder) builder = g_strv_builder_new();
        const gchar *env = g_getenv("LIMA_TEMPLATES_PATH");
        if (env != NULL && *env != '\0') {
                g_auto(GStrv) parts = g_strsplit(env, ":", -1);
                for (guint i = 0; parts[i] != NULL; i++) {
                        if (*parts[i] != '\0')
                                g_strv_builder_add(builder, parts[i]);
                }
        }
        g_strv_builder_add(builder, LIMAD_TEMPLATES_DIR);
        g_strv_builder_add(builder, LIMAD_SOURCE_TEMPLATES_DIR);
        return g_strv_builder_end(builder);
}

static gboolean
lima_template_name_is_safe(const gchar *name)
{
        g_auto(GStrv) parts = NULL;
        if (*name == '\0' || *name == '/')
                return FALSE;
        for (const gchar *c = name; *c; c++) {
                if (!g_ascii_isalnum(*c) && strchr("._-/", *c) == NULL)
                        return FALSE;
        }
        parts = g_strsplit(name, "/", -1);
        for (guint i = 0; parts[i] != NULL; i++) {
                if (*parts[i] == '\0' || g_str_equal(parts[i], ".") || g_str_equal(parts[i], ".."))
                        return FALSE;
        }
        return TRUE;
}

gchar *
lima_template_locate(const gchar *name, GError **error)
{
        g_auto(GStrv) dirs = lima_templates_dirs();
        g_autofree gchar *file = NULL;

        if (!lima_template_name_is_safe(name)) {
                g_set_error(error, LIMA_ERROR, LIMA_ERROR_INVALID_CONFIG,
                            _("template name \"%s\" is invalid: use letters, digits, '.', '_', "
                              "'-' and '/', without \"..\""),
                            name);
                return NULL;
        }
        file = g_str_has_suffix(name, ".yaml") ? g_strdup(name) : g_strconcat(name, ".yaml", NULL);
        for (guint i = 0; dirs[i] != NULL; i++) {
                g_autofree gchar *path = g_build_filename(dirs[i], file, NULL);
                if (g_file_test(path, G_FILE_TEST_IS_REGULAR))
                        return g_steal_pointer(&path);
        }
        g_set_error(error, LIMA_ERROR, LIMA_ERROR_NOT_FOUND,
                    _("template \"%s\" not found in %s; `limactl create --list-templates` shows "
                      "the ones there are"),
                    name, dirs[0]);
        return NULL;
}

static gint
lima_templates_compare(gconstpointer a, gconstpointer b)
{
        return g_strcmp0(*(gchar *const *)a, *(gchar *const *)b);
}

GPtrArray *
lima_templates_list(void)
{
        g_auto(GStrv) dirs = lima_templates_dirs();
        g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        GPtrArray *names = g_ptr_array_new_with_free_func(g_free);

        for (guint i = 0; dirs[i] != NULL; i++) {
                g_autoptr(GDir) dir = g_dir_open(dirs[i], 0, NULL);
                const gchar *entry;
                while (dir != NULL && (entry = g_dir_read_name(dir)) != NULL) {
                        g_autofree gchar *name = NULL;
                        if (!g_str_has_suffix(entry, ".yaml") || entry[0] == '_')
                                continue;
                        name = g_strndup(entry, strlen(entry) - 5);
                        if (g_hash_table_contains(seen, name))
                                continue;
                        g_hash_table_add(seen, g_strdup(name));
                        g_ptr_array_add(names, g_steal_pointer(&name));
                }
        }
        g_ptr_array_sort(names, lima_templates_compare);
        return names;
}

/* template:NAME, template://NAME, file://PATH, an absolute path, or a path relative to the
 * config that names it. */
static gchar *
lima_base_locate(const gchar *locator, const gchar *including_file, GError **error)
{
        if (g_str_has_prefix(locator, "template://"))
                return lima_template_locate(locator + strlen("template://"), error);
        if (g_str_has_prefix(locator, "template:"))
                return lima_template_locate(locator + strlen("template:"), error);
        if (g_str_has_prefix(locator, "file://"))
                return g_strdup(locator + strlen("file://"));
        if (strstr(locator, "://") != NULL) {
                g_set_error(error, LIMA_ERROR, LIMA_ERROR_UNSUPPORTED,
                            _("base \"%s\": only template:NAME and local files can be bases; "
                              "download it and name the file"),
                            locator);
                return NULL;
        }
        if (g_path_is_absolute(locator))
                return g_strdup(locator);
        {
                g_autofree gchar *dir = g_path_get_dirname(including_file);
                g_auto(GStrv) parts = g_strsplit(locator, "/", -1);
                if (g_strv_contains((const gchar *const *)parts, "..")) {
                        g_set_error(error, LIMA_ERROR, LIMA_ERROR_INVALID_CONFIG,
                                    _("relative base path \"%s\" must not contain \"..\""),
                                    locator);
                        return NULL;
                }
                return g_build_filename(dir, locator, NULL);
        }
}

static void
lima_base_fill_string(LimaString *into, const LimaString *from)
{
        if (into->value == NULL && from->value != NULL)
                lima_string_copy(into, from);
}

static void
lima_base_fill_bool(LimaBool *into, const LimaBool *from)
{
        if (!into->set && from->set)
                lima_bool_set(into, from->value, from->node);
}

static void
lima_base_fill_int(LimaInt *into, const LimaInt *from)
{
        if (!into->set && from->set)
                lima_int_set(into, from->value, from->node);
}

static void
lima_base_move_all(GPtrArray *into, GPtrArray *from, gboolean prepend)
{
        guint n = from->len;
        for (guint i = 0; i < n; i++) {
                gpointer item = g_ptr_array_steal_index(from, 0);
                if (prepend)
                        g_ptr_array_insert(into, (gint)i, item);
                else
                        g_ptr_array_add(into, item);
        }
}

/* Mounts keyed by mountPoint (or location when it has none): an earlier entry wins, a later
 * one only fills what the earlier left unset, then goes. */
static void
lima_base_combine_mounts(GPtrArray *mounts)
{
        g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        for (guint i = 0; i < mounts->len;) {
                LimaMount *m = g_ptr_array_index(mounts, i);
                const gchar *key =
                    m->mount_point.value != NULL ? m->mount_point.value : m->location.value;
                LimaMount *earlier = key != NULL ? g_hash_table_lookup(seen, key) : NULL;
                if (earlier != NULL) {
                        lima_mount_merge(earlier, m, FALSE);
                        g_ptr_array_remove_index(mounts, i);
                        continue;
                }
                if (key != NULL)
                        g_hash_table_insert(seen, g_strdup(key), m);
                i++;
        }
}

static void
lima_base_merge(LimaConfig *cfg, LimaConfig *base)
{
        if (base->minimum_lima_version.value != NULL &&
            (cfg->minimum_lima_version.value == NULL ||
             lima_version_compare(base->minimum_lima_version.value,
                                  cfg->minimum_lima_version.value) > 0))
                lima_string_copy(&cfg->minimum_lima_version, &base->minimum_lima_version);
        lima_base_fill_string(&cfg->vm_type, &base->vm_type);
        lima_base_fill_string(&cfg->os, &base->os);
        lima_base_fill_string(&cfg->arch, &base->arch);
        lima_base_fill_int(&cfg->cpus, &base->cpus);
        lima_base_fill_string(&cfg->memory, &base->memory);
        lima_base_fill_string(&cfg->disk, &base->disk);
        lima_base_fill_string(&cfg->mount_type, &base->mount_type);
        lima_base_fill_bool(&cfg->mount_inotify, &base->mount_inotify);
        lima_base_fill_int(&cfg->ssh_local_port, &base->ssh_local_port);
        lima_base_fill_bool(&cfg->ssh_load_dot_ssh_pub_keys, &base->ssh_load_dot_ssh_pub_keys);
        lima_base_fill_bool(&cfg->ssh_forward_agent, &base->ssh_forward_agent);
        lima_base_fill_bool(&cfg->ssh_forward_x11, &base->ssh_forward_x11);
        lima_base_fill_bool(&cfg->ssh_forward_x11_trusted, &base->ssh_forward_x11_trusted);
        lima_base_fill_string(&cfg->user_name, &base->user_name);
        lima_base_fill_string(&cfg->user_comment, &base->user_comment);
        lima_base_fill_string(&cfg->user_home, &base->user_home);
        lima_base_fill_string(&cfg->user_shell, &base->user_shell);
        lima_base_fill_int(&cfg->user_uid, &base->user_uid);
        lima_base_move_all(cfg->images, base->images, FALSE);
        for (guint i = 0; i < base->mount_types_unsupported->len; i++) {
                LimaString *s = g_ptr_array_index(base->mount_types_unsupported, i);
                gboolean have = FALSE;
                for (guint j = 0; j < cfg->mount_types_unsupported->len; j++)
                        have |=
                            g_strcmp0(
                                ((LimaString *)g_ptr_array_index(cfg->mount_types_unsupported, j))
                                    ->value,
                                s->value) == 0;
                if (!have) {
                        LimaString *copy = g_new0(LimaString, 1);
                        lima_string_copy(copy, s);
                        g_ptr_array_add(cfg->mount_types_unsupported, copy);
                }
        }
        lima_base_move_all(cfg->mounts, base->mounts, FALSE);
        lima_base_combine_mounts(cfg->mounts);
        lima_base_move_all(cfg->provision, base->provision, TRUE);
        lima_base_move_all(cfg->probes, base->probes, TRUE);
        lima_base_move_all(cfg->port_forwards, base->port_forwards, FALSE);
        for (guint i = 0; i < base->param->len; i++) {
                LimaKeyValue *kv = g_ptr_array_index(base->param, i);
                if (lima_key_values_lookup(cfg->param, kv->key) == NULL)
                        lima_key_values_set(cfg->param, kv->key, &kv->value);
        }
        for (guint i = 0; i < base->env->len; i++) {
                LimaKeyValue *kv = g_ptr_array_index(base->env, i);
                if (lima_key_values_lookup(cfg->env, kv->key) == NULL)
                        lima_key_values_set(cfg->env, kv->key, &kv->value);
        }
        /* Keys this model does not type still come along. */
        for (guint i = 0; i < lima_yaml_mapping_size(base->doc); i++) {
                LimaYamlNode *key = lima_yaml_mapping_key_at(base->doc, i);
                if (lima_yaml_mapping_get(cfg->doc, key->scalar) == NULL &&
                    !g_str_equal(key->scalar, "base"))
                        lima_yaml_mapping_set(
                            cfg->doc, key->scalar,
                            lima_yaml_node_copy(lima_yaml_mapping_value_at(base->doc, i)));
        }
}

/* Refused under flags before anything is read: the owner of the text names the file. */
static gboolean
lima_base_check_locator(const LimaConfig *cfg, const LimaString *s, LimaBaseFlags flags,
                        GError **error)
{
        const gchar *locator = s->value != NULL ? s->value : "";
        if (flags & LIMA_BASE_REFUSE) {
                g_set_error(error, LIMA_ERROR, LIMA_ERROR_INVALID_CONFIG,
                            _("%s names base \"%s\": the system-wide limad does not read bases "
                              "named in a stored lima.yaml (it was composed when the instance was "
                              "created); remove the base: key, or set the config again with "
                              "`limactl --system edit`"),
                            cfg->file, locator);
                return FALSE;
        }
        if ((flags & LIMA_BASE_TEMPLATES_ONLY) && !g_str_has_prefix(locator, "template:")) {
                g_set_error(error, LIMA_ERROR, LIMA_ERROR_INVALID_CONFIG,
                            _("base \"%s\": the system-wide limad reads only template:NAME "
                              "bases; `limactl create FILE.yaml` composes your own files before "
                              "sending them"),
                            locator);
                return FALSE;
        }
        return TRUE;
}

static LimaConfig *
lima_base_load(const gchar *path, LimaBaseFlags flags, LimaDiagnostics *diags, GError **error)
{
        g_autofree gchar *text = NULL;
        gsize len = 0;
        /* With flags (root, for a user) a symlink is not followed: templates are files. */
        if (!lima_safe_read_file(path, flags != 0 ? 0 : LIMA_SAFE_READ_FOLLOW, 0, &text, &len,
                                 error))
                return NULL;
        return lima_config_load_data(text, len, path, diags, error);
}

static gboolean
lima_base_resolve_depth(LimaConfig *cfg, LimaBaseFlags flags, LimaDiagnostics *diags,
                        GHashTable *chain, guint depth, GError **error)
{
        g_autoptr(GPtrArray) bases = g_ptr_array_new_with_free_func(g_free);
        /* Below the top, the including file is a template root located itself. */
        LimaBaseFlags here = depth == 0 ? flags : 0;

        if (depth > LIMA_BASE_MAX_DEPTH) {
                g_set_error(error, LIMA_ERROR, LIMA_ERROR_INVALID_CONFIG,
                            _("%s: base templates nest more than %d deep"), cfg->file,
                            LIMA_BASE_MAX_DEPTH);
                return FALSE;
        }
        for (guint i = 0; i < cfg->base->len; i++) {
                LimaString *s = g_ptr_array_index(cfg->base, i);
                g_autoptr(GError) local = NULL;
                g_autofree gchar *path = NULL;
                if (!lima_base_check_locator(cfg, s, here, error))
                        return FALSE;
                path = lima_base_locate(s->value, cfg->file, &local);
                if (path == NULL) {
                        lima_diagnostics_error(diags, s->node, "base", "%s", local->message);
                        continue;
                }
                g_ptr_array_add(bases, g_steal_pointer(&path));
        }
        /* The config's own list goes; each base's list is resolved in its own turn. */
        g_ptr_array_set_size(cfg->base, 0);
        for (guint i = 0; i < bases->len; i++) {
                const gchar *path = g_ptr_array_index(bases, i);
                g_autofree gchar *canonical = g_canonicalize_filename(path, NULL);
                g_autoptr(LimaConfig) base = NULL;
                g_autoptr(GError) local = NULL;

                if (g_hash_table_contains(chain, canonical)) {
                        g_set_error(error, LIMA_ERROR, LIMA_ERROR_INVALID_CONFIG,
                                    _("base template loop detected: \"%s\" includes itself"),
                                    canonical);
                        return FALSE;
                }
                base = lima_base_load(path, flags, diags, &local);
                if (base == NULL) {
                        gint code = local->domain == LIMA_ERROR ? local->code : LIMA_ERROR_FAILED;
                        if (g_error_matches(local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
                                code = LIMA_ERROR_NOT_FOUND;
                        g_set_error(error, LIMA_ERROR, code, _("cannot load base of %s: %s"),
                                    cfg->file, local->message);
                        return FALSE;
                }
                g_hash_table_add(chain, g_strdup(canonical));
                if (!lima_base_resolve_depth(base, flags, diags, chain, depth + 1, error))
                        return FALSE;
                g_hash_table_remove(chain, canonical);
                lima_base_merge(cfg, base);
        }
        return TRUE;
}

gboolean
lima_config_resolve_base_full(LimaConfig *cfg, LimaBaseFlags flags, LimaDiagnostics *diags,
                              GError **error)
{
        g_autoptr(GHashTable) chain = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        g_hash_table_add(chain, g_canonicalize_filename(cfg->file, NULL));
        return lima_base_resolve_depth(cfg, flags, diags, chain, 0, error);
}

gboolean
lima_config_resolve_base(LimaConfig *cfg, LimaDiagnostics *diags, GError **error)
{
        return lima_config_resolve_base_full(cfg, 0, diags, error);
}
