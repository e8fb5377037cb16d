#include "lima-config-fill.h"

#include <glib/gi18n.h>

#include "lima-error.h"
#include "lima-mount-tag.h"
#include "lima-size.h"
#include "lima-template.h"
#include "lima-version.h"

gchar *
lima_expand_home(const gchar *path, const gchar *home, GError **error)
{
        if (path[0] != '~')
                return g_strdup(path);
        if (path[1] == '\0' || path[1] == '/')
                return g_strconcat(home, path + 1, NULL);
        g_set_error(error, LIMA_ERROR, LIMA_ERROR_INVALID_CONFIG,
                    _("refers to an unexpandable path: \"%s\" (\"~user\" paths are not "
                      "supported; write the absolute path)"),
                    path);
        return NULL;
}

const gchar *
lima_config_default_mount_type(const gchar *vm_type, GPtrArray *unsupported,
                               const gchar *existing_version)
{
        gboolean no_9p = FALSE;
        for (guint i = 0; unsupported != NULL && i < unsupported->len; i++) {
                LimaString *s = g_ptr_array_index(unsupported, i);
                no_9p |= g_strcmp0(s->value, "9p") == 0;
        }
        if (g_strcmp0(vm_type, "vz") == 0)
                return "virtiofs";
        if (g_strcmp0(vm_type, "wsl2") == 0)
                return "wsl2";
        if (g_strcmp0(vm_type, "qemu") != 0)
                return "reverse-sshfs";
        /* 9p became the QEMU default in Lima 1.0; older instances keep what they had. */
        if (no_9p ||
            (existing_version != NULL && lima_version_compare(existing_version, "1.0.0") < 0))
                return "reverse-sshfs";
        return "9p";
}

/* Scalars: y takes d's value when unset, o's value always when set. */
static void
lima_fill_string(LimaString *y, const LimaString *d, const LimaString *o)
{
        if (y->value == NULL && d != NULL && d->value != NULL)
                lima_string_copy(y, d);
        if (o != NULL && o->value != NULL)
                lima_string_copy(y, o);
}

static void
lima_fill_bool(LimaBool *y, const LimaBool *d, const LimaBool *o)
{
        if (!y->set && d != NULL && d->set)
                lima_bool_set(y, d->value, d->node);
        if (o != NULL && o->set)
                lima_bool_set(y, o->value, o->node);
}

static void
lima_fill_int(LimaInt *y, const LimaInt *d, const LimaInt *o)
{
        if (!y->set && d != NULL && d->set)
                lima_int_set(y, d->value, d->node);
        if (o != NULL && o->set)
                lima_int_set(y, o->value, o->node);
}

static void
lima_fill_string_default(LimaString *s, const gchar *value)
{
        if (s->value == NULL || *s->value == '\0')
                lima_string_set(s, value, NULL);
}

static void
lima_fill_bool_default(LimaBool *b, gboolean value)
{
        if (!b->set)
                lima_bool_set(b, value, NULL);
}

/* Lists in priority order: o's entries first, then y's, then d's (first match wins). */
typedef gpointer (*LimaCopyFunc)(gpointer item);

static void
lima_fill_list(GPtrArray *y, GPtrArray *d, GPtrArray *o, LimaCopyFunc copy)
{
        g_autoptr(GPtrArray) mine = g_ptr_array_new();
        for (guint i = 0; i < y->len; i++)
                g_ptr_array_add(mine, g_ptr_array_index(y, i));
        /* Steal y's items, then rebuild in o, y, d order. */
        while (y->len > 0)
                g_ptr_array_steal_index(y, y->len - 1);
        for (guint i = 0; o != NULL && i < o->len; i++)
                g_ptr_array_add(y, copy(g_ptr_array_index(o, i)));
        for (guint i = 0; i < mine->len; i++)
                g_ptr_array_add(y, g_ptr_array_index(mine, i));
        for (guint i = 0; d != NULL && i < d->len; i++)
                g_ptr_array_add(y, copy(g_ptr_array_index(d, i)));
}

static gpointer
lima_copy_node(gpointer item)
{
        return lima_yaml_node_ref(item);
}

static gpointer
lima_copy_string(gpointer item)
{
        LimaString *s = g_new0(LimaString, 1);
        lima_string_copy(s, item);
        return s;
}

static void
lima_copy_file(LimaFile *dest, const LimaFile *src)
{
        lima_string_copy(&dest->location, &src->location);
        lima_string_copy(&dest->arch, &src->arch);
        lima_string_copy(&dest->digest, &src->digest);
}

static gpointer
lima_copy_image(gpointer item)
{
        const LimaImage *src = item;
        LimaImage *img = g_new0(LimaImage, 1);
        lima_copy_file(&img->file, &src->file);
        img->has_kernel = src->has_kernel;
        lima_copy_file(&img->kernel, &src->kernel);
        lima_string_copy(&img->kernel_cmdline, &src->kernel_cmdline);
        img->has_initrd = src->has_initrd;
        lima_copy_file(&img->initrd, &src->initrd);
        img->node = src->node != NULL ? lima_yaml_node_ref(src->node) : NULL;
        return img;
}

/* Maps: d, then y, then o; a later layer's key wins. */
static void
lima_fill_key_values(GPtrArray *y, GPtrArray *d, GPtrArray *o)
{
        g_autoptr(GPtrArray) mine = g_ptr_array_new();
        while (y->len > 0)
                g_ptr_array_insert(mine, 0, g_ptr_array_steal_index(y, y->len - 1));
        for (guint i = 0; d != NULL && i < d->len; i++) {
                LimaKeyValue *kv = g_ptr_array_index(d, i);
                lima_key_values_set(y, kv->key, &kv->value);
        }
        for (guint i = 0; i < mine->len; i++) {
                LimaKeyValue *kv = g_ptr_array_index(mine, i);
                lima_key_values_set(y, kv->key, &kv->value);
                g_free(kv->key);
                lima_string_clear(&kv->value);
                g_free(kv);
        }
        for (guint i = 0; o != NULL && i < o->len; i++) {
                LimaKeyValue *kv = g_ptr_array_index(o, i);
                lima_key_values_set(y, kv->key, &kv->value);
        }
}

static GHashTable *
lima_fill_params(LimaConfig *y)
{
        GHashTable *params = g_hash_table_new(g_str_hash, g_str_equal);
        for (guint i = 0; i < y->param->len; i++) {
                LimaKeyValue *kv = g_ptr_array_index(y->param, i);
                g_hash_table_insert(params, kv->key, kv->value.value);
        }
        return params;
}

static GHashTable *
lima_fill_host_vars(const LimaHost *host)
{
        GHashTable *vars = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, g_free);
        g_hash_table_insert(vars, "Home", g_strdup(host->home));
        g_hash_table_insert(vars, "Dir", g_strdup(host->instance_dir));
        g_hash_table_insert(vars, "Name", g_strdup(host->instance_name));
        g_hash_table_insert(vars, "Instance", g_strdup(host->instance_name));
        g_hash_table_insert(vars, "UID", g_strdup_printf("%u", host->uid));
        g_hash_table_insert(vars, "User", g_strdup(host->user));
        g_hash_table_insert(vars, "GlobalTempDir", g_strdup("/tmp"));
        g_hash_table_insert(vars, "TempDir", g_strdup(host->tmpdir));
        return vars;
}

static GHashTable *
lima_fill_guest_vars(LimaConfig *y, const LimaHost *host)
{
        GHashTable *vars = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, g_free);
        g_autofree gchar *hostname = g_strconcat("lima-", host->instance_name, NULL);
        /* A hostname has no '.' or '_': Lima turns them into '-'. */
        g_strdelimit(hostname, "._", '-');
        g_hash_table_insert(vars, "Name", g_strdup(host->instance_name));
        g_hash_table_insert(vars, "Hostname", g_steal_pointer(&hostname));
        g_hash_table_insert(vars, "UID", g_strdup_printf("%" G_GINT64_FORMAT, y->user_uid.value));
        g_hash_table_insert(vars, "User", g_strdup(y->user_name.value));
        if (y->user_home.value != NULL)
                g_hash_table_insert(vars, "Home", g_strdup(y->user_home.value));
        return vars;
}

static void
lima_fill_user(LimaConfig *y, LimaConfig *d, LimaConfig *o, const LimaHost *host,
               LimaDiagnostics *diags)
{
        gboolean old_home;

        lima_fill_string(&y->user_name, d ? &d->user_name : NULL, o ? &o->user_name : NULL);
        lima_fill_string(&y->user_comment, d ? &d->user_comment : NULL,
                         o ? &o->user_comment : NULL);
        lima_fill_string(&y->user_home, d ? &d->user_home : NULL, o ? &o->user_home : NULL);
        lima_fill_string(&y->user_shell, d ? &d->user_shell : NULL, o ? &o->user_shell : NULL);
        lima_fill_int(&y->user_uid, d ? &d->user_uid : NULL, o ? &o->user_uid : NULL);
        lima_fill_string_default(&y->user_name, host->user);
        if (y->user_comment.value == NULL)
                lima_string_set(&y->user_comment, host->user_comment, NULL);
        /* Lima 2.1 moved the guest home from USER.linux to USER.guest. */
        old_home = host->existing_version != NULL &&
                   lima_version_compare(host->existing_version, "2.1.0") < 0;
        lima_fill_string_default(&y->user_home,
                                 old_home ? "/home/{{.User}}.linux" : "/home/{{.User}}.guest");
        lima_fill_string_default(&y->user_shell, "/bin/bash");
        if (!y->user_uid.set)
                lima_int_set(&y->user_uid, host->uid, NULL);
        if (lima_template_has_variables(y->user_home.value)) {
                g_autoptr(GHashTable) vars = lima_fill_guest_vars(y, host);
                g_autoptr(GHashTable) params = lima_fill_params(y);
                g_autoptr(GError) error = NULL;
                g_autofree gchar *home =
                    lima_template_expand(y->user_home.value, vars, params, &error);
                if (home == NULL)
                        lima_diagnostics_error(diags, y->user_home.node, "user.home", "%s",
                                               error->message);
                else
                        lima_string_set(&y->user_home, home, y->user_home.node);
        }
}

/* Expands a mount's location on the host and its mount point in the guest. */
static void
lima_fill_mount_paths(LimaMount *m, GHashTable *host_vars, GHashTable *guest_vars,
                      GHashTable *params, const LimaHost *host, const gchar *path,
                      LimaDiagnostics *diags)
{
        g_autoptr(GError) error = NULL;
        g_autofree gchar *p_location = g_strdup_printf("%s.location", path);
        g_autofree gchar *p_mount_point = g_strdup_printf("%s.mountPoint", path);

        if (m->location.value == NULL || *m->location.value == '\0') {
                lima_diagnostics_error(diags, m->node, p_location,
                                       _("must be set to the host directory to mount, e.g. "
                                         "\"~/src\""));
                return;
        }
        if (lima_template_has_variables(m->location.value)) {
                g_autofree gchar *out =
                    lima_template_expand(m->location.value, host_vars, params, &error);
                if (out == NULL) {
                        lima_diagnostics_error(diags, m->location.node, p_location, "%s",
                                               error->message);
                        return;
                }
                lima_string_set(&m->location, out, m->location.node);
        }
        {
                g_autofree gchar *expanded =
                    lima_expand_home(m->location.value, host->home, &error);
                g_autofree gchar *clean = NULL;
                if (expanded == NULL) {
                        lima_diagnostics_error(diags, m->location.node, p_location, "%s",
                                               error->message);
                        return;
                }
                if (!g_path_is_absolute(expanded)) {
                        lima_diagnostics_error(diags, m->location.node, p_location,
                                               _("must be an absolute path or start with \"~\", "
                                                 "got \"%s\""),
                                               m->location.value);
                        return;
                }
                clean = g_canonicalize_filename(expanded, "/");
                lima_string_set(&m->location, clean, m->location.node);
        }
        if (m->mount_point.value != NULL && lima_template_has_variables(m->mount_point.value)) {
                g_autofree gchar *out =
                    lima_template_expand(m->mount_point.value, guest_vars, params, &error);
                if (out == NULL) {
                        lima_diagnostics_error(diags, m->mount_point.node, p_mount_point, "%s",
                                               error->message);
                        return;
                }
                lima_string_set(&m->mount_point, out, m->mount_point.node);
        }
        if (m->mount_point.value == NULL)
                lima_string_set(&m->mount_point, m->location.value, NULL);
}

static void
lima_fill_mount_options(LimaMount *m, const LimaHost *host)
{
        gboolean builtin_sftp = host->sftp_server == NULL ||
                                (host->existing_version != NULL &&
                                 lima_version_compare(host->existing_version, "0.10.0") < 0);

        lima_fill_bool_default(&m->writable, FALSE);
        lima_fill_bool_default(&m->sshfs_cache, TRUE);
        lima_fill_bool_default(&m->sshfs_follow_symlinks, FALSE);
        /* Lima leaves "" for the agent to resolve; we write down what will run. */
        lima_fill_string_default(&m->sshfs_sftp_driver,
                                 builtin_sftp ? "builtin" : "openssh-sftp-server");
        lima_fill_string_default(&m->ninep_security_model, LIMA_DEFAULT_9P_SECURITY_MODEL);
        lima_fill_string_default(&m->ninep_protocol_version, LIMA_DEFAULT_9P_PROTOCOL_VERSION);
        lima_fill_string_default(&m->ninep_msize, LIMA_DEFAULT_9P_MSIZE);
        lima_fill_string_default(&m->ninep_cache, m->writable.value ? LIMA_DEFAULT_9P_CACHE_RW
                                                                    : LIMA_DEFAULT_9P_CACHE_RO);
        if (!m->virtiofs_queue_size.set)
                lima_int_set(&m->virtiofs_queue_size, LIMA_DEFAULT_VIRTIOFS_QUEUE_SIZE, NULL);
        if (m->location.value != NULL && m->mount_point.value != NULL) {
                g_free(m->tag);
                m->tag = lima_mount_tag(m->location.value, m->mount_point.value);
        }
}

/* Mounts of d, y and o in that order; one with the same mount point as an earlier one is
 * merged into it, its set fields winning (so o > y > d). */
static void
lima_fill_mounts(LimaConfig *y, LimaConfig *d, LimaConfig *o, const LimaHost *host,
                 LimaDiagnostics *diags)
{
        g_autoptr(GHashTable) host_vars = lima_fill_host_vars(host);
        g_autoptr(GHashTable) guest_vars = lima_fill_guest_vars(y, host);
        g_autoptr(GHashTable) params = lima_fill_params(y);
        g_autoptr(GHashTable) by_mount_point =
            g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        g_autoptr(GPtrArray) merged =
            g_ptr_array_new_with_free_func((GDestroyNotify)lima_mount_free);
        LimaConfig *layers[] = { d, y, o };

        for (guint l = 0; l < G_N_ELEMENTS(layers); l++) {
                if (layers[l] == NULL)
                        continue;
                for (guint i = 0; i < layers[l]->mounts->len; i++) {
                        g_autoptr(LimaMount) m =
                            lima_mount_copy(g_ptr_array_index(layers[l]->mounts, i));
                        g_autofree gchar *path = g_strdup_printf("mounts[%u]", i);
                        LimaMount *earlier;
                        lima_fill_mount_paths(m, host_vars, guest_vars, params, host, path, diags);
                        if (m->mount_point.value == NULL) {
                                g_ptr_array_add(merged, g_steal_pointer(&m));
                                continue;
                        }
                        earlier = g_hash_table_lookup(by_mount_point, m->mount_point.value);
                        if (earlier != NULL) {
                                lima_mount_merge(earlier, m, TRUE);
                                continue;
                        }
                        g_hash_table_insert(by_mount_point, g_strdup(m->mount_point.value), m);
                        g_ptr_array_add(merged, g_steal_pointer(&m));
                }
        }
        g_ptr_array_set_size(y->mounts, 0);
        for (guint i = 0; i < merged->len; i++) {
                LimaMount *m = g_ptr_array_index(merged, i);
                lima_fill_mount_options(m, host);
                g_ptr_array_add(y->mounts, lima_mount_copy(m));
        }
}

gchar *
lima_config_fill_mount_point(LimaConfig *filled, const LimaMount *m, const LimaHost *host)
{
        g_autoptr(GHashTable) host_vars = lima_fill_host_vars(host);
        g_autoptr(GHashTable) guest_vars = lima_fill_guest_vars(filled, host);
        g_autoptr(GHashTable) params = lima_fill_params(filled);
        g_autoptr(LimaDiagnostics) diags = lima_diagnostics_new(NULL);
        g_autoptr(LimaMount) copy = lima_mount_copy(m);

        lima_fill_mount_paths(copy, host_vars, guest_vars, params, host, "mounts[]", diags);
        if (diags->items->len > 0 || copy->mount_point.value == NULL)
                return NULL;
        return g_canonicalize_filename(copy->mount_point.value, "/");
}

static void
lima_fill_provision_and_probes(LimaConfig *y)
{
        for (guint i = 0; i < y->provision->len; i++) {
                LimaYamlNode *p = g_ptr_array_index(y->provision, i);
                if (lima_yaml_node_is_null(lima_yaml_mapping_get(p, "mode"))) {
                        LimaYamlNode *copy = lima_yaml_node_copy(p);
                        lima_yaml_mapping_set(copy, "mode", lima_yaml_scalar_new("system", FALSE));
                        lima_yaml_node_unref(y->provision->pdata[i]);
                        y->provision->pdata[i] = copy;
                }
        }
        for (guint i = 0; i < y->probes->len; i++) {
                LimaYamlNode *p = g_ptr_array_index(y->probes, i);
                if (lima_yaml_node_is_null(lima_yaml_mapping_get(p, "mode"))) {
                        LimaYamlNode *copy = lima_yaml_node_copy(p);
                        lima_yaml_mapping_set(copy, "mode",
                                              lima_yaml_scalar_new("readiness", FALSE));
                        lima_yaml_node_unref(y->probes->pdata[i]);
                        y->probes->pdata[i] = copy;
                }
        }
}

static gchar *
lima_fill_default_memory(const LimaHost *host)
{
        guint64 four_gib = 4ull << 30;
        guint64 half = host->memory / 2;
        return lima_size_format(half > 0 && half < four_gib ? half : four_gib);
}

void
lima_config_fill(LimaConfig *y, LimaConfig *d, LimaConfig *o, const LimaHost *host,
                 LimaDiagnostics *diags)
{
        g_autofree gchar *memory = lima_fill_default_memory(host);

#define LAYER(field) d ? &d->field : NULL, o ? &o->field : NULL
        lima_fill_key_values(y->param, d ? d->param : NULL, o ? o->param : NULL);
        lima_fill_user(y, d, o, host, diags);
        lima_fill_string(&y->vm_type, LAYER(vm_type));
        if (y->vm_type.value == NULL || g_strcmp0(y->vm_type.value, "default") == 0 ||
            *y->vm_type.value == '\0')
                lima_string_set(&y->vm_type, g_strcmp0(host->os, "Darwin") == 0 ? "vz" : "qemu",
                                NULL);
        lima_fill_string(&y->os, LAYER(os));
        if (y->os.value == NULL || g_strcmp0(y->os.value, "default") == 0)
                lima_string_set(&y->os, "Linux", NULL);
        lima_fill_string(&y->arch, LAYER(arch));
        if (y->arch.value == NULL || g_strcmp0(y->arch.value, "default") == 0 ||
            *y->arch.value == '\0')
                lima_string_set(&y->arch, host->arch, NULL);
        lima_fill_list(y->images, d ? d->images : NULL, o ? o->images : NULL, lima_copy_image);
        for (guint i = 0; i < y->images->len; i++) {
                LimaImage *img = g_ptr_array_index(y->images, i);
                lima_fill_string_default(&img->file.arch, y->arch.value);
                if (img->has_kernel)
                        lima_fill_string_default(&img->kernel.arch, img->file.arch.value);
                if (img->has_initrd)
                        lima_fill_string_default(&img->initrd.arch, img->file.arch.value);
        }
        lima_fill_int(&y->cpus, LAYER(cpus));
        if (!y->cpus.set || y->cpus.value == 0)
                lima_int_set(&y->cpus, MIN(MAX(host->cpus, 1), 4), NULL);
        lima_fill_string(&y->memory, LAYER(memory));
        lima_fill_string_default(&y->memory, memory);
        lima_fill_string(&y->disk, LAYER(disk));
        lima_fill_string_default(&y->disk, LIMA_DEFAULT_DISK);
        lima_fill_int(&y->ssh_local_port, LAYER(ssh_local_port));
        if (!y->ssh_local_port.set)
                lima_int_set(&y->ssh_local_port, 0, NULL);
        lima_fill_bool(&y->ssh_load_dot_ssh_pub_keys, LAYER(ssh_load_dot_ssh_pub_keys));
        lima_fill_bool_default(&y->ssh_load_dot_ssh_pub_keys, FALSE);
        lima_fill_bool(&y->ssh_forward_agent, LAYER(ssh_forward_agent));
        lima_fill_bool_default(&y->ssh_forward_agent, FALSE);
        lima_fill_bool(&y->ssh_forward_x11, LAYER(ssh_forward_x11));
        lima_fill_bool_default(&y->ssh_forward_x11, FALSE);
        lima_fill_bool(&y->ssh_forward_x11_trusted, LAYER(ssh_forward_x11_trusted));
        lima_fill_bool_default(&y->ssh_forward_x11_trusted, FALSE);
        lima_fill_list(y->provision, d ? d->provision : NULL, o ? o->provision : NULL,
                       lima_copy_node);
        lima_fill_list(y->probes, d ? d->probes : NULL, o ? o->probes : NULL, lima_copy_node);
        lima_fill_list(y->port_forwards, d ? d->port_forwards : NULL, o ? o->port_forwards : NULL,
                       lima_copy_node);
        lima_fill_provision_and_probes(y);
        lima_fill_list(y->mount_types_unsupported, d ? d->mount_types_unsupported : NULL,
                       o ? o->mount_types_unsupported : NULL, lima_copy_string);
        lima_fill_string(&y->mount_type, LAYER(mount_type));
        if (y->mount_type.value == NULL || *y->mount_type.value == '\0' ||
            g_strcmp0(y->mount_type.value, "default") == 0)
                lima_string_set(&y->mount_type,
                                lima_config_default_mount_type(y->vm_type.value,
                                                               y->mount_types_unsupported,
                                                               host->existing_version),
                                NULL);
        lima_fill_bool(&y->mount_inotify, LAYER(mount_inotify));
        lima_fill_bool_default(&y->mount_inotify, FALSE);
        lima_fill_mounts(y, d, o, host, diags);
        lima_fill_key_values(y->env, d ? d->env : NULL, o ? o->env : NULL);
        lima_fill_string(&y->minimum_lima_version, LAYER(minimum_lima_version));
#undef LAYER
}
