#include "lima-config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "lima-error.h"

/* Top-level keys of Lima's schema that this model keeps as written without typing them. */
static const gchar *const lima_untyped_keys[] = {
        "vmOpts",
        "cpuType",
        "additionalDisks",
        "firmware",
        "audio",
        "video",
        "upgradePackages",
        "containerd",
        "guestInstallPrefix",
        "copyToHost",
        "message",
        "networks",
        "dns",
        "hostResolver",
        "propagateProxyEnv",
        "caCerts",
        "rosetta",
        "plain",
        "timezone",
        "nestedVirtualization",
        "labels",
        "portForwardTypes",
        "hostPortForwards",
        NULL,
};

void
lima_string_set(LimaString *s, const gchar *value, LimaYamlNode *node)
{
        g_free(s->value);
        s->value = g_strdup(value);
        if (s->node != node) {
                g_clear_pointer(&s->node, lima_yaml_node_unref);
                s->node = node != NULL ? lima_yaml_node_ref(node) : NULL;
        }
}

void
lima_string_clear(LimaString *s)
{
        g_clear_pointer(&s->value, g_free);
        g_clear_pointer(&s->node, lima_yaml_node_unref);
}

void
lima_string_copy(LimaString *dest, const LimaString *src)
{
        lima_string_set(dest, src->value, src->node);
}

static void
lima_node_slot_set(LimaYamlNode **slot, LimaYamlNode *node)
{
        if (*slot == node)
                return;
        g_clear_pointer(slot, lima_yaml_node_unref);
        *slot = node != NULL ? lima_yaml_node_ref(node) : NULL;
}

void
lima_bool_set(LimaBool *b, gboolean value, LimaYamlNode *node)
{
        b->set = TRUE;
        b->value = value;
        lima_node_slot_set(&b->node, node);
}

void
lima_int_set(LimaInt *i, gint64 value, LimaYamlNode *node)
{
        i->set = TRUE;
        i->value = value;
        lima_node_slot_set(&i->node, node);
}

static void
lima_file_clear(LimaFile *f)
{
        lima_string_clear(&f->location);
        lima_string_clear(&f->arch);
        lima_string_clear(&f->digest);
}

static void
lima_image_free(LimaImage *img)
{
        lima_file_clear(&img->file);
        lima_file_clear(&img->kernel);
        lima_string_clear(&img->kernel_cmdline);
        lima_file_clear(&img->initrd);
        g_clear_pointer(&img->node, lima_yaml_node_unref);
        g_free(img);
}

LimaMount *
lima_mount_new(void)
{
        return g_new0(LimaMount, 1);
}

void
lima_mount_free(LimaMount *m)
{
        if (m == NULL)
                return;
        lima_string_clear(&m->location);
        lima_string_clear(&m->mount_point);
        g_clear_pointer(&m->writable.node, lima_yaml_node_unref);
        g_clear_pointer(&m->sshfs_cache.node, lima_yaml_node_unref);
        g_clear_pointer(&m->sshfs_follow_symlinks.node, lima_yaml_node_unref);
        lima_string_clear(&m->sshfs_sftp_driver);
        lima_string_clear(&m->ninep_security_model);
        lima_string_clear(&m->ninep_protocol_version);
        lima_string_clear(&m->ninep_msize);
        lima_string_clear(&m->ninep_cache);
        g_clear_pointer(&m->virtiofs_queue_size.node, lima_yaml_node_unref);
        g_free(m->tag);
        g_clear_pointer(&m->node, lima_yaml_node_unref);
        g_free(m);
}

static void
lima_merge_string(LimaString *into, const LimaString *from, gboolean from_wins)
{
        if (from->value != NULL && (from_wins || into->value == NULL))
                lima_string_copy(into, from);
}

static void
lima_merge_bool(LimaBool *into, const LimaBool *from, gboolean from_wins)
{
        if (from->set && (from_wins || !into->set))
                lima_bool_set(into, from->value, from->node);
}

static void
lima_merge_int(LimaInt *into, const LimaInt *from, gboolean from_wins)
{
        if (from->set && (from_wins || !into->set))
                lima_int_set(into, from->value, from->node);
}

void
lima_mount_merge(LimaMount *into, const LimaMount *from, gboolean from_wins)
{
        lima_merge_string(&into->location, &from->location, from_wins);
        lima_merge_string(&into->mount_point, &from->mount_point, from_wins);
        lima_merge_bool(&into->writable, &from->writable, from_wins);
        lima_merge_bool(&into->sshfs_cache, &from->sshfs_cache, from_wins);
        lima_merge_bool(&into->sshfs_follow_symlinks, &from->sshfs_follow_symlinks, from_wins);
        lima_merge_string(&into->sshfs_sftp_driver, &from->sshfs_sftp_driver, from_wins);
        lima_merge_string(&into->ninep_security_model, &from->ninep_security_model, from_wins);
        lima_merge_string(&into->ninep_protocol_version, &from->ninep_protocol_version, from_wins);
        lima_merge_string(&into->ninep_msize, &from->ninep_msize, from_wins);
        lima_merge_string(&into->ninep_cache, &from->ninep_cache, from_wins);
        lima_merge_int(&into->virtiofs_queue_size, &from->virtiofs_queue_size, from_wins);
        if (into->node == NULL && from->node != NULL)
                into->node = lima_yaml_node_ref(from->node);
}

LimaMount *
lima_mount_copy(const LimaMount *mount)
{
        LimaMount *copy = lima_mount_new();
        lima_mount_merge(copy, mount, TRUE);
        copy->tag = g_strdup(mount->tag);
        return copy;
}

static void
lima_key_value_free(LimaKeyValue *kv)
{
        g_free(kv->key);
        lima_string_clear(&kv->value);
        g_free(kv);
}

const gchar *
lima_key_values_lookup(GPtrArray *kvs, const gchar *key)
{
        for (guint i = 0; i < kvs->len; i++) {
                LimaKeyValue *kv = g_ptr_array_index(kvs, i);
                if (g_strcmp0(kv->key, key) == 0)
                        return kv->value.value;
        }
        return NULL;
}

void
lima_key_values_set(GPtrArray *kvs, const gchar *key, const LimaString *value)
{
        LimaKeyValue *kv;
        for (guint i = 0; i < kvs->len; i++) {
                kv = g_ptr_array_index(kvs, i);
                if (g_strcmp0(kv->key, key) == 0) {
                        lima_string_copy(&kv->value, value);
                        return;
                }
        }
        kv = g_new0(LimaKeyValue, 1);
        kv->key = g_strdup(key);
        lima_string_copy(&kv->value, value);
        g_ptr_array_add(kvs, kv);
}

static void
lima_string_free(LimaString *s)
{
        lima_string_clear(s);
        g_free(s);
}

LimaConfig *
lima_config_new(void)
{
        LimaConfig *cfg = g_new0(LimaConfig, 1);
        cfg->doc = lima_yaml_mapping_new();
        cfg->base = g_ptr_array_new_with_free_func((GDestroyNotify)lima_string_free);
        cfg->images = g_ptr_array_new_with_free_func((GDestroyNotify)lima_image_free);
        cfg->mount_types_unsupported =
            g_ptr_array_new_with_free_func((GDestroyNotify)lima_string_free);
        cfg->mounts = g_ptr_array_new_with_free_func((GDestroyNotify)lima_mount_free);
        cfg->param = g_ptr_array_new_with_free_func((GDestroyNotify)lima_key_value_free);
        cfg->env = g_ptr_array_new_with_free_func((GDestroyNotify)lima_key_value_free);
        cfg->provision = g_ptr_array_new_with_free_func((GDestroyNotify)lima_yaml_node_unref);
        cfg->probes = g_ptr_array_new_with_free_func((GDestroyNotify)lima_yaml_node_unref);
        cfg->port_forwards = g_ptr_array_new_with_free_func((GDestroyNotify)lima_yaml_node_unref);
        return cfg;
}

void
lima_config_free(LimaConfig *cfg)
{
        if (cfg == NULL)
                return;
        g_clear_pointer(&cfg->doc, lima_yaml_node_unref);
        g_free(cfg->file);
        g_ptr_array_unref(cfg->base);
        lima_string_clear(&cfg->minimum_lima_version);
        lima_string_clear(&cfg->vm_type);
        lima_string_clear(&cfg->os);
        lima_string_clear(&cfg->arch);
        g_ptr_array_unref(cfg->images);
        g_clear_pointer(&cfg->cpus.node, lima_yaml_node_unref);
        lima_string_clear(&cfg->memory);
        lima_string_clear(&cfg->disk);
        lima_string_clear(&cfg->mount_type);
        g_ptr_array_unref(cfg->mount_types_unsupported);
        g_clear_pointer(&cfg->mount_inotify.node, lima_yaml_node_unref);
        g_ptr_array_unref(cfg->mounts);
        g_clear_pointer(&cfg->ssh_local_port.node, lima_yaml_node_unref);
        g_clear_pointer(&cfg->ssh_load_dot_ssh_pub_keys.node, lima_yaml_node_unref);
        g_clear_pointer(&cfg->ssh_forward_agent.node, lima_yaml_node_unref);
        g_clear_pointer(&cfg->ssh_forward_x11.node, lima_yaml_node_unref);
        g_clear_pointer(&cfg->ssh_forward_x11_trusted.node, lima_yaml_node_unref);
        lima_string_clear(&cfg->user_name);
        lima_string_clear(&cfg->user_comment);
        lima_string_clear(&cfg->user_home);
        lima_string_clear(&cfg->user_shell);
        g_clear_pointer(&cfg->user_uid.node, lima_yaml_node_unref);
        g_ptr_array_unref(cfg->param);
        g_ptr_array_unref(cfg->env);
        g_ptr_array_unref(cfg->provision);
        g_ptr_array_unref(cfg->probes);
        g_ptr_array_unref(cfg->port_forwards);
        g_free(cfg);
}

/* ---- typing the document ---- */

typedef struct {
        LimaDiagnostics *diags;
} LimaTyper;

static gboolean
lima_type_expect_kind(LimaDiagnostics *diags, LimaYamlNode *node, const gchar *path,
                      LimaYamlKind kind)
{
        if (node->kind == kind)
                return TRUE;
        lima_diagnostics_error(diags, node, path, _("must be %s, not %s"),
                               lima_yaml_kind_to_string(kind),
                               lima_yaml_kind_to_string(node->kind));
        return FALSE;
}

static void
lima_type_string(LimaDiagnostics *diags, LimaYamlNode *node, const gchar *path, LimaString *out)
{
        if (lima_yaml_node_is_null(node))
                return;
        if (node->kind != LIMA_YAML_SCALAR) {
                lima_diagnostics_error(diags, node, path, _("must be a string, not %s"),
                                       lima_yaml_kind_to_string(node->kind));
                return;
        }
        lima_string_set(out, node->scalar, node);
}

static void
lima_type_bool(LimaDiagnostics *diags, LimaYamlNode *node, const gchar *path, LimaBool *out)
{
        static const gchar *const truths[] = { "true", "True", "TRUE", NULL };
        static const gchar *const falsehoods[] = { "false", "False", "FALSE", NULL };

        if (lima_yaml_node_is_null(node))
                return;
        if (node->kind == LIMA_YAML_SCALAR && !node->quoted) {
                if (g_strv_contains(truths, node->scalar)) {
                        lima_bool_set(out, TRUE, node);
                        return;
                }
                if (g_strv_contains(falsehoods, node->scalar)) {
                        lima_bool_set(out, FALSE, node);
                        return;
                }
        }
        lima_diagnostics_error(
            diags, node, path, _("must be true or false, not %s%s%s"),
            node->kind == LIMA_YAML_SCALAR ? "\"" : "",
            node->kind == LIMA_YAML_SCALAR ? node->scalar : lima_yaml_kind_to_string(node->kind),
            node->kind == LIMA_YAML_SCALAR ? "\"" : "");
}

static void
lima_type_int(LimaDiagnostics *diags, LimaYamlNode *node, const gchar *path, LimaInt *out)
{
        gint64 value = 0;

        if (lima_yaml_node_is_null(node))
                return;
        if (node->kind == LIMA_YAML_SCALAR && !node->quoted &&
            g_ascii_string_to_signed(node->scalar, 10, G_MININT32, G_MAXINT32, &value, NULL)) {
                lima_int_set(out, value, node);
                return;
        }
        lima_diagnostics_error(
            diags, node, path, _("must be a whole number, not %s%s%s"),
            node->kind == LIMA_YAML_SCALAR ? "\"" : "",
            node->kind == LIMA_YAML_SCALAR ? node->scalar : lima_yaml_kind_to_string(node->kind),
            node->kind == LIMA_YAML_SCALAR ? "\"" : "");
}

/* Calls each_key for every key of a mapping; warns on keys outside known. */
static void
lima_type_warn_unknown(LimaDiagnostics *diags, LimaYamlNode *map, const gchar *path,
                       const gchar *const *known)
{
        for (guint i = 0; i < lima_yaml_mapping_size(map); i++) {
                LimaYamlNode *key = lima_yaml_mapping_key_at(map, i);
                g_autofree gchar *where = path != NULL && *path != '\0'
                                              ? g_strdup_printf("%s.%s", path, key->scalar)
                                              : g_strdup(key->scalar);
                if (!g_strv_contains(known, key->scalar))
                        lima_diagnostics_warning(diags, key, where,
                                                 _("unknown field, kept as written; check "
                                                   "its spelling"));
        }
}

static void
lima_type_file(LimaDiagnostics *diags, LimaYamlNode *node, const gchar *path, LimaFile *out)
{
        static const gchar *const known[] = { "location", "arch", "digest", "cmdline", NULL };
        g_autofree gchar *p_location = g_strdup_printf("%s.location", path);
        g_autofree gchar *p_arch = g_strdup_printf("%s.arch", path);
        g_autofree gchar *p_digest = g_strdup_printf("%s.digest", path);
        LimaYamlNode *v;

        if (!lima_type_expect_kind(diags, node, path, LIMA_YAML_MAPPING))
                return;
        lima_type_warn_unknown(diags, node, path, known);
        if ((v = lima_yaml_mapping_get(node, "location")) != NULL)
                lima_type_string(diags, v, p_location, &out->location);
        if ((v = lima_yaml_mapping_get(node, "arch")) != NULL)
                lima_type_string(diags, v, p_arch, &out->arch);
        if ((v = lima_yaml_mapping_get(node, "digest")) != NULL)
                lima_type_string(diags, v, p_digest, &out->digest);
}

static void
lima_type_images(LimaConfig *cfg, LimaDiagnostics *diags, LimaYamlNode *node)
{
        static const gchar *const known[] = { "location", "arch",    "digest", "kernel",
                                              "initrd",   "variant", NULL };
        if (lima_yaml_node_is_null(node) ||
            !lima_type_expect_kind(diags, node, "images", LIMA_YAML_SEQUENCE))
                return;
        for (guint i = 0; i < node->items->len; i++) {
                LimaYamlNode *item = g_ptr_array_index(node->items, i);
                g_autofree gchar *path = g_strdup_printf("images[%u]", i);
                g_autofree gchar *p_kernel = g_strdup_printf("images[%u].kernel", i);
                g_autofree gchar *p_initrd = g_strdup_printf("images[%u].initrd", i);
                LimaImage *img;
                LimaYamlNode *v;

                if (!lima_type_expect_kind(diags, item, path, LIMA_YAML_MAPPING))
                        continue;
                lima_type_warn_unknown(diags, item, path, known);
                img = g_new0(LimaImage, 1);
                img->node = lima_yaml_node_ref(item);
                lima_type_file(diags, item, path, &img->file);
                if ((v = lima_yaml_mapping_get(item, "kernel")) != NULL &&
                    !lima_yaml_node_is_null(v)) {
                        LimaYamlNode *cmdline;
                        img->has_kernel = TRUE;
                        lima_type_file(diags, v, p_kernel, &img->kernel);
                        if (v->kind == LIMA_YAML_MAPPING &&
                            (cmdline = lima_yaml_mapping_get(v, "cmdline")) != NULL) {
                                g_autofree gchar *p = g_strdup_printf("%s.cmdline", p_kernel);
                                lima_type_string(diags, cmdline, p, &img->kernel_cmdline);
                        }
                }
                if ((v = lima_yaml_mapping_get(item, "initrd")) != NULL &&
                    !lima_yaml_node_is_null(v)) {
                        img->has_initrd = TRUE;
                        lima_type_file(diags, v, p_initrd, &img->initrd);
                }
                g_ptr_array_add(cfg->images, img);
        }
}

static void
lima_type_mount(LimaConfig *cfg, LimaDiagnostics *diags, LimaYamlNode *item, guint index)
{
        static const gchar *const known[] = { "location", "mountPoint", "writable", "sshfs",
                                              "9p",       "virtiofs",   "tag",      NULL };
        static const gchar *const known_sshfs[] = { "cache", "followSymlinks", "sftpDriver", NULL };
        static const gchar *const known_9p[] = { "securityModel", "protocolVersion", "msize",
                                                 "cache", NULL };
        static const gchar *const known_virtiofs[] = { "queueSize", NULL };
        g_autofree gchar *path = g_strdup_printf("mounts[%u]", index);
        LimaMount *m;
        LimaYamlNode *v;
        LimaYamlNode *sub;

#define MOUNT_PATH(suffix) g_autofree gchar *p_##suffix = g_strdup_printf("%s.%s", path, #suffix)
        if (!lima_type_expect_kind(diags, item, path, LIMA_YAML_MAPPING))
                return;
        lima_type_warn_unknown(diags, item, path, known);
        m = lima_mount_new();
        m->node = lima_yaml_node_ref(item);
        if ((v = lima_yaml_mapping_get(item, "location")) != NULL) {
                MOUNT_PATH(location);
                lima_type_string(diags, v, p_location, &m->location);
        }
        if ((v = lima_yaml_mapping_get(item, "mountPoint")) != NULL) {
                MOUNT_PATH(mountPoint);
                lima_type_string(diags, v, p_mountPoint, &m->mount_point);
        }
        if ((v = lima_yaml_mapping_get(item, "writable")) != NULL) {
                MOUNT_PATH(writable);
                lima_type_bool(diags, v, p_writable, &m->writable);
        }
        if ((sub = lima_yaml_mapping_get(item, "sshfs")) != NULL && !lima_yaml_node_is_null(sub)) {
                g_autofree gchar *p = g_strdup_printf("%s.sshfs", path);
                g_autofree gchar *p_cache = g_strdup_printf("%s.cache", p);
                g_autofree gchar *p_follow = g_strdup_printf("%s.followSymlinks", p);
                g_autofree gchar *p_driver = g_strdup_printf("%s.sftpDriver", p);
                if (lima_type_expect_kind(diags, sub, p, LIMA_YAML_MAPPING)) {
                        lima_type_warn_unknown(diags, sub, p, known_sshfs);
                        if ((v = lima_yaml_mapping_get(sub, "cache")) != NULL)
                                lima_type_bool(diags, v, p_cache, &m->sshfs_cache);
                        if ((v = lima_yaml_mapping_get(sub, "followSymlinks")) != NULL)
                                lima_type_bool(diags, v, p_follow, &m->sshfs_follow_symlinks);
                        if ((v = lima_yaml_mapping_get(sub, "sftpDriver")) != NULL)
                                lima_type_string(diags, v, p_driver, &m->sshfs_sftp_driver);
                }
        }
        if ((sub = lima_yaml_mapping_get(item, "9p")) != NULL && !lima_yaml_node_is_null(sub)) {
                g_autofree gchar *p = g_strdup_printf("%s.9p", path);
                g_autofree gchar *p_sm = g_strdup_printf("%s.securityModel", p);
                g_autofree gchar *p_pv = g_strdup_printf("%s.protocolVersion", p);
                g_autofree gchar *p_msize = g_strdup_printf("%s.msize", p);
                g_autofree gchar *p_cache = g_strdup_printf("%s.cache", p);
                if (lima_type_expect_kind(diags, sub, p, LIMA_YAML_MAPPING)) {
                        lima_type_warn_unknown(diags, sub, p, known_9p);
                        if ((v = lima_yaml_mapping_get(sub, "securityModel")) != NULL)
                                lima_type_string(diags, v, p_sm, &m->ninep_security_model);
                        if ((v = lima_yaml_mapping_get(sub, "protocolVersion")) != NULL)
                                lima_type_string(diags, v, p_pv, &m->ninep_protocol_version);
                        if ((v = lima_yaml_mapping_get(sub, "msize")) != NULL)
                                lima_type_string(diags, v, p_msize, &m->ninep_msize);
                        if ((v = lima_yaml_mapping_get(sub, "cache")) != NULL)
                                lima_type_string(diags, v, p_cache, &m->ninep_cache);
                }
        }
        if ((sub = lima_yaml_mapping_get(item, "virtiofs")) != NULL &&
            !lima_yaml_node_is_null(sub)) {
                g_autofree gchar *p = g_strdup_printf("%s.virtiofs", path);
                g_autofree gchar *p_qs = g_strdup_printf("%s.queueSize", p);
                if (lima_type_expect_kind(diags, sub, p, LIMA_YAML_MAPPING)) {
                        lima_type_warn_unknown(diags, sub, p, known_virtiofs);
                        if ((v = lima_yaml_mapping_get(sub, "queueSize")) != NULL)
                                lima_type_int(diags, v, p_qs, &m->virtiofs_queue_size);
                }
        }
#undef MOUNT_PATH
        g_ptr_array_add(cfg->mounts, m);
}

static void
lima_type_string_list(LimaDiagnostics *diags, LimaYamlNode *node, const gchar *path, GPtrArray *out)
{
        if (lima_yaml_node_is_null(node))
                return;
        if (node->kind == LIMA_YAML_SCALAR) { /* base: template:x is a list of one */
                LimaString *s = g_new0(LimaString, 1);
                lima_string_set(s, node->scalar, node);
                g_ptr_array_add(out, s);
                return;
        }
        if (!lima_type_expect_kind(diags, node, path, LIMA_YAML_SEQUENCE))
                return;
        for (guint i = 0; i < node->items->len; i++) {
                g_autofree gchar *p = g_strdup_printf("%s[%u]", path, i);
                LimaString *s = g_new0(LimaString, 1);
                lima_type_string(diags, g_ptr_array_index(node->items, i), p, s);
                if (s->value != NULL)
                        g_ptr_array_add(out, s);
                else
                        g_free(s);
        }
}

static void
lima_type_string_map(LimaDiagnostics *diags, LimaYamlNode *node, const gchar *path, GPtrArray *out)
{
        if (lima_yaml_node_is_null(node) ||
            !lima_type_expect_kind(diags, node, path, LIMA_YAML_MAPPING))
                return;
        for (guint i = 0; i < lima_yaml_mapping_size(node); i++) {
                LimaYamlNode *key = lima_yaml_mapping_key_at(node, i);
                LimaYamlNode *value = lima_yaml_mapping_value_at(node, i);
                g_autofree gchar *p = g_strdup_printf("%s.%s", path, key->scalar);
                LimaString s = { 0 };
                if (value->kind != LIMA_YAML_SCALAR) {
                        lima_diagnostics_error(diags, value, p, _("must be a string, not %s"),
                                               lima_yaml_kind_to_string(value->kind));
                        continue;
                }
                lima_string_set(&s, value->scalar, value);
                lima_key_values_set(out, key->scalar, &s);
                lima_string_clear(&s);
        }
}

static void
lima_type_mapping_list(LimaDiagnostics *diags, LimaYamlNode *node, const gchar *path,
                       GPtrArray *out)
{
        if (lima_yaml_node_is_null(node) ||
            !lima_type_expect_kind(diags, node, path, LIMA_YAML_SEQUENCE))
                return;
        for (guint i = 0; i < node->items->len; i++) {
                LimaYamlNode *item = g_ptr_array_index(node->items, i);
                g_autofree gchar *p = g_strdup_printf("%s[%u]", path, i);
                if (lima_type_expect_kind(diags, item, p, LIMA_YAML_MAPPING))
                        g_ptr_array_add(out, lima_yaml_node_ref(item));
        }
}

static void
lima_type_ssh(LimaConfig *cfg, LimaDiagnostics *diags, LimaYamlNode *node)
{
        static const gchar *const known[] = { "localPort",  "loadDotSSHPubKeys", "forwardAgent",
                                              "forwardX11", "forwardX11Trusted", "overVsock",
                                              NULL };
        LimaYamlNode *v;
        if (lima_yaml_node_is_null(node) ||
            !lima_type_expect_kind(diags, node, "ssh", LIMA_YAML_MAPPING))
                return;
        lima_type_warn_unknown(diags, node, "ssh", known);
        if ((v = lima_yaml_mapping_get(node, "localPort")) != NULL)
                lima_type_int(diags, v, "ssh.localPort", &cfg->ssh_local_port);
        if ((v = lima_yaml_mapping_get(node, "loadDotSSHPubKeys")) != NULL)
                lima_type_bool(diags, v, "ssh.loadDotSSHPubKeys", &cfg->ssh_load_dot_ssh_pub_keys);
        if ((v = lima_yaml_mapping_get(node, "forwardAgent")) != NULL)
                lima_type_bool(diags, v, "ssh.forwardAgent", &cfg->ssh_forward_agent);
        if ((v = lima_yaml_mapping_get(node, "forwardX11")) != NULL)
                lima_type_bool(diags, v, "ssh.forwardX11", &cfg->ssh_forward_x11);
        if ((v = lima_yaml_mapping_get(node, "forwardX11Trusted")) != NULL)
                lima_type_bool(diags, v, "ssh.forwardX11Trusted", &cfg->ssh_forward_x11_trusted);
}

static void
lima_type_user(LimaConfig *cfg, LimaDiagnostics *diags, LimaYamlNode *node)
{
        static const gchar *const known[] = { "name", "comment",          "home", "shell",
                                              "uid",  "passwordlessSudo", NULL };
        LimaYamlNode *v;
        if (lima_yaml_node_is_null(node) ||
            !lima_type_expect_kind(diags, node, "user", LIMA_YAML_MAPPING))
                return;
        lima_type_warn_unknown(diags, node, "user", known);
        if ((v = lima_yaml_mapping_get(node, "name")) != NULL)
                lima_type_string(diags, v, "user.name", &cfg->user_name);
        if ((v = lima_yaml_mapping_get(node, "comment")) != NULL)
                lima_type_string(diags, v, "user.comment", &cfg->user_comment);
        if ((v = lima_yaml_mapping_get(node, "home")) != NULL)
                lima_type_string(diags, v, "user.home", &cfg->user_home);
        if ((v = lima_yaml_mapping_get(node, "shell")) != NULL)
                lima_type_string(diags, v, "user.shell", &cfg->user_shell);
        if ((v = lima_yaml_mapping_get(node, "uid")) != NULL)
                lima_type_int(diags, v, "user.uid", &cfg->user_uid);
}

LimaConfig *
lima_config_from_node(LimaYamlNode *doc, LimaDiagnostics *diags)
{
        static const gchar *const typed[] = {
                "base",
                "minimumLimaVersion",
                "vmType",
                "os",
                "arch",
                "images",
                "cpus",
                "memory",
                "disk",
                "mountType",
                "mountTypesUnsupported",
                "mountInotify",
                "mounts",
                "ssh",
                "user",
                "param",
                "env",
                "provision",
                "probes",
                "portForwards",
                NULL,
        };
        g_autoptr(LimaConfig) cfg = lima_config_new();
        LimaYamlNode *v;

        g_clear_pointer(&cfg->doc, lima_yaml_node_unref);
        cfg->doc = lima_yaml_node_ref(doc);
        cfg->file = g_strdup(doc->file != NULL ? doc->file : diags->fallback_file);
        if (!lima_type_expect_kind(diags, doc, "", LIMA_YAML_MAPPING)) {
                g_clear_pointer(&cfg->doc, lima_yaml_node_unref);
                cfg->doc = lima_yaml_mapping_new();
                return g_steal_pointer(&cfg);
        }
        for (guint i = 0; i < lima_yaml_mapping_size(doc); i++) {
                LimaYamlNode *key = lima_yaml_mapping_key_at(doc, i);
                if (!g_strv_contains(typed, key->scalar) &&
                    !g_strv_contains(lima_untyped_keys, key->scalar))
                        lima_diagnostics_warning(diags, key, key->scalar,
                                                 _("unknown field, kept as written; check its "
                                                   "spelling"));
        }
        if ((v = lima_yaml_mapping_get(doc, "base")) != NULL)
                lima_type_string_list(diags, v, "base", cfg->base);
        if ((v = lima_yaml_mapping_get(doc, "minimumLimaVersion")) != NULL)
                lima_type_string(diags, v, "minimumLimaVersion", &cfg->minimum_lima_version);
        if ((v = lima_yaml_mapping_get(doc, "vmType")) != NULL)
                lima_type_string(diags, v, "vmType", &cfg->vm_type);
        if ((v = lima_yaml_mapping_get(doc, "os")) != NULL)
                lima_type_string(diags, v, "os", &cfg->os);
        if ((v = lima_yaml_mapping_get(doc, "arch")) != NULL)
                lima_type_string(diags, v, "arch", &cfg->arch);
        if ((v = lima_yaml_mapping_get(doc, "images")) != NULL)
                lima_type_images(cfg, diags, v);
        if ((v = lima_yaml_mapping_get(doc, "cpus")) != NULL)
                lima_type_int(diags, v, "cpus", &cfg->cpus);
        if ((v = lima_yaml_mapping_get(doc, "memory")) != NULL)
                lima_type_string(diags, v, "memory", &cfg->memory);
        if ((v = lima_yaml_mapping_get(doc, "disk")) != NULL)
                lima_type_string(diags, v, "disk", &cfg->disk);
        if ((v = lima_yaml_mapping_get(doc, "mountType")) != NULL)
                lima_type_string(diags, v, "mountType", &cfg->mount_type);
        if ((v = lima_yaml_mapping_get(doc, "mountTypesUnsupported")) != NULL)
                lima_type_string_list(diags, v, "mountTypesUnsupported",
                                      cfg->mount_types_unsupported);
        if ((v = lima_yaml_mapping_get(doc, "mountInotify")) != NULL)
                lima_type_bool(diags, v, "mountInotify", &cfg->mount_inotify);
        if ((v = lima_yaml_mapping_get(doc, "mounts")) != NULL && !lima_yaml_node_is_null(v) &&
            lima_type_expect_kind(diags, v, "mounts", LIMA_YAML_SEQUENCE)) {
                for (guint i = 0; i < v->items->len; i++)
                        lima_type_mount(cfg, diags, g_ptr_array_index(v->items, i), i);
        }
        if ((v = lima_yaml_mapping_get(doc, "ssh")) != NULL)
                lima_type_ssh(cfg, diags, v);
        if ((v = lima_yaml_mapping_get(doc, "user")) != NULL)
                lima_type_user(cfg, diags, v);
        if ((v = lima_yaml_mapping_get(doc, "param")) != NULL)
                lima_type_string_map(diags, v, "param", cfg->param);
        if ((v = lima_yaml_mapping_get(doc, "env")) != NULL)
                lima_type_string_map(diags, v, "env", cfg->env);
        if ((v = lima_yaml_mapping_get(doc, "provision")) != NULL)
                lima_type_mapping_list(diags, v, "provision", cfg->provision);
        if ((v = lima_yaml_mapping_get(doc, "probes")) != NULL)
                lima_type_mapping_list(diags, v, "probes", cfg->probes);
        if ((v = lima_yaml_mapping_get(doc, "portForwards")) != NULL)
                lima_type_mapping_list(diags, v, "portForwards", cfg->port_forwards);
        return g_steal_pointer(&cfg);
}

LimaConfig *
lima_config_load_data(const gchar *text, gsize len, const gchar *file, LimaDiagnostics *diags,
                      GError **error)
{
        g_autoptr(LimaYamlNode) doc = lima_yaml_parse(text, len, file, error);
        if (doc == NULL)
                return NULL;
        return lima_config_from_node(doc, diags);
}

LimaConfig *
lima_config_load_file(const gchar *path, LimaDiagnostics *diags, GError **error)
{
        g_autoptr(LimaYamlNode) doc = lima_yaml_parse_file(path, error);
        if (doc == NULL)
                return NULL;
        return lima_config_from_node(doc, diags);
}
