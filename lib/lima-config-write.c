/* Writing the typed model back into its YAML document (lima_config_to_node). */
#include "lima-config.h"

#include <string.h>

/* "12", "1.5", "1e3", "0x1f", ".inf": what YAML would read back as a number. */
static gboolean
lima_write_looks_numeric(const gchar *value)
{
        gchar *end = NULL;
        if (*value == '\0')
                return FALSE;
        g_ascii_strtod(value, &end);
        return (end != NULL && *end == '\0') || g_str_has_prefix(value, "0x") ||
               g_str_has_prefix(value, "0o") || g_ascii_strcasecmp(value, ".inf") == 0 ||
               g_ascii_strcasecmp(value, ".nan") == 0;
}

/* Plain when YAML would read the text back as the same string, quoted otherwise. */
static LimaYamlNode *
lima_write_string(const gchar *value)
{
        static const gchar *const special[] = { "",     "~",    "null",  "Null",  "NULL",  "true",
                                                "True", "TRUE", "false", "False", "FALSE", "yes",
                                                "no",   "on",   "off",   NULL };
        gboolean plain = !g_strv_contains(special, value) && !lima_write_looks_numeric(value) &&
                         strpbrk(value, ":#{}[],&*!|>'\"%@`\n\t") == NULL &&
                         !g_ascii_isspace(value[0]) && !g_str_has_suffix(value, " ") &&
                         value[0] != '-' && value[0] != '?' && value[0] != '.';
        return lima_yaml_scalar_new(value, !plain);
}

static LimaYamlNode *
lima_write_int(gint64 value)
{
        g_autofree gchar *text = g_strdup_printf("%" G_GINT64_FORMAT, value);
        return lima_yaml_scalar_new(text, FALSE);
}

static LimaYamlNode *
lima_write_bool(gboolean value)
{
        return lima_yaml_scalar_new(value ? "true" : "false", FALSE);
}

static LimaYamlNode *
lima_write_submap(LimaYamlNode *map, const gchar *key)
{
        LimaYamlNode *sub = lima_yaml_mapping_get(map, key);
        if (sub == NULL || sub->kind != LIMA_YAML_MAPPING) {
                sub = lima_yaml_mapping_new();
                lima_yaml_mapping_set(map, key, sub);
        }
        return sub;
}

static void
lima_write_set_string(LimaYamlNode *map, const gchar *key, const LimaString *s)
{
        if (s->value != NULL)
                lima_yaml_mapping_set(map, key, lima_write_string(s->value));
}

static void
lima_write_set_bool(LimaYamlNode *map, const gchar *key, const LimaBool *b)
{
        if (b->set)
                lima_yaml_mapping_set(map, key, lima_write_bool(b->value));
}

static void
lima_write_set_int(LimaYamlNode *map, const gchar *key, const LimaInt *i)
{
        if (i->set)
                lima_yaml_mapping_set(map, key, lima_write_int(i->value));
}

static void
lima_write_file(LimaYamlNode *map, const LimaFile *f)
{
        lima_write_set_string(map, "location", &f->location);
        lima_write_set_string(map, "arch", &f->arch);
        lima_write_set_string(map, "digest", &f->digest);
}

static LimaYamlNode *
lima_write_image(const LimaImage *img)
{
        LimaYamlNode *map = img->node != NULL && img->node->kind == LIMA_YAML_MAPPING
                                ? lima_yaml_node_copy(img->node)
                                : lima_yaml_mapping_new();
        lima_write_file(map, &img->file);
        if (img->has_kernel) {
                LimaYamlNode *kernel = lima_write_submap(map, "kernel");
                lima_write_file(kernel, &img->kernel);
                lima_write_set_string(kernel, "cmdline", &img->kernel_cmdline);
        }
        if (img->has_initrd)
                lima_write_file(lima_write_submap(map, "initrd"), &img->initrd);
        return map;
}

static gboolean
lima_write_mount_has_sshfs(const LimaMount *m)
{
        return m->sshfs_cache.set || m->sshfs_follow_symlinks.set ||
               m->sshfs_sftp_driver.value != NULL;
}

static gboolean
lima_write_mount_has_9p(const LimaMount *m)
{
        return m->ninep_security_model.value != NULL || m->ninep_protocol_version.value != NULL ||
               m->ninep_msize.value != NULL || m->ninep_cache.value != NULL;
}

static LimaYamlNode *
lima_write_mount(const LimaMount *m)
{
        LimaYamlNode *map = m->node != NULL && m->node->kind == LIMA_YAML_MAPPING
                                ? lima_yaml_node_copy(m->node)
                                : lima_yaml_mapping_new();
        lima_write_set_string(map, "location", &m->location);
        lima_write_set_string(map, "mountPoint", &m->mount_point);
        lima_write_set_bool(map, "writable", &m->writable);
        if (lima_write_mount_has_sshfs(m)) {
                LimaYamlNode *sshfs = lima_write_submap(map, "sshfs");
                lima_write_set_bool(sshfs, "cache", &m->sshfs_cache);
                lima_write_set_bool(sshfs, "followSymlinks", &m->sshfs_follow_symlinks);
                lima_write_set_string(sshfs, "sftpDriver", &m->sshfs_sftp_driver);
        }
        if (lima_write_mount_has_9p(m)) {
                LimaYamlNode *ninep = lima_write_submap(map, "9p");
                lima_write_set_string(ninep, "securityModel", &m->ninep_security_model);
                lima_write_set_string(ninep, "protocolVersion", &m->ninep_protocol_version);
                lima_write_set_string(ninep, "msize", &m->ninep_msize);
                lima_write_set_string(ninep, "cache", &m->ninep_cache);
        }
        if (m->virtiofs_queue_size.set)
                lima_write_set_int(lima_write_submap(map, "virtiofs"), "queueSize",
                                   &m->virtiofs_queue_size);
        if (m->tag != NULL)
                lima_yaml_mapping_set(map, "tag", lima_write_string(m->tag));
        return map;
}

static void
lima_write_string_list(LimaYamlNode *doc, const gchar *key, GPtrArray *list)
{
        LimaYamlNode *seq;
        if (list->len == 0 && lima_yaml_mapping_get(doc, key) == NULL)
                return;
        seq = lima_yaml_sequence_new();
        for (guint i = 0; i < list->len; i++) {
                LimaString *s = g_ptr_array_index(list, i);
                lima_yaml_sequence_append(seq, lima_write_string(s->value));
        }
        lima_yaml_mapping_set(doc, key, seq);
}

static void
lima_write_key_values(LimaYamlNode *doc, const gchar *key, GPtrArray *kvs)
{
        LimaYamlNode *map;
        if (kvs->len == 0 && lima_yaml_mapping_get(doc, key) == NULL)
                return;
        map = lima_yaml_mapping_new();
        for (guint i = 0; i < kvs->len; i++) {
                LimaKeyValue *kv = g_ptr_array_index(kvs, i);
                lima_yaml_mapping_set(map, kv->key, lima_yaml_scalar_new(kv->value.value, TRUE));
        }
        lima_yaml_mapping_set(doc, key, map);
}

static void
lima_write_node_list(LimaYamlNode *doc, const gchar *key, GPtrArray *nodes)
{
        LimaYamlNode *seq;
        if (nodes->len == 0 && lima_yaml_mapping_get(doc, key) == NULL)
                return;
        seq = lima_yaml_sequence_new();
        for (guint i = 0; i < nodes->len; i++)
                lima_yaml_sequence_append(seq, lima_yaml_node_copy(g_ptr_array_index(nodes, i)));
        lima_yaml_mapping_set(doc, key, seq);
}

LimaYamlNode *
lima_config_to_node(LimaConfig *cfg)
{
        LimaYamlNode *doc = lima_yaml_node_copy(cfg->doc);
        LimaYamlNode *seq;

        if (cfg->base->len > 0)
                lima_write_string_list(doc, "base", cfg->base);
        else
                lima_yaml_mapping_remove(doc, "base");
        lima_write_set_string(doc, "minimumLimaVersion", &cfg->minimum_lima_version);
        lima_write_set_string(doc, "vmType", &cfg->vm_type);
        lima_write_set_string(doc, "os", &cfg->os);
        lima_write_set_string(doc, "arch", &cfg->arch);
        if (cfg->images->len > 0 || lima_yaml_mapping_get(doc, "images") != NULL) {
                seq = lima_yaml_sequence_new();
                for (guint i = 0; i < cfg->images->len; i++)
                        lima_yaml_sequence_append(
                            seq, lima_write_image(g_ptr_array_index(cfg->images, i)));
                lima_yaml_mapping_set(doc, "images", seq);
        }
        lima_write_set_int(doc, "cpus", &cfg->cpus);
        lima_write_set_string(doc, "memory", &cfg->memory);
        lima_write_set_string(doc, "disk", &cfg->disk);
        lima_write_set_string(doc, "mountType", &cfg->mount_type);
        lima_write_string_list(doc, "mountTypesUnsupported", cfg->mount_types_unsupported);
        lima_write_set_bool(doc, "mountInotify", &cfg->mount_inotify);
        if (cfg->mounts->len > 0 || lima_yaml_mapping_get(doc, "mounts") != NULL) {
                seq = lima_yaml_sequence_new();
                for (guint i = 0; i < cfg->mounts->len; i++)
                        lima_yaml_sequence_append(
                            seq, lima_write_mount(g_ptr_array_index(cfg->mounts, i)));
                lima_yaml_mapping_set(doc, "mounts", seq);
        }
        if (cfg->ssh_local_port.set || cfg->ssh_load_dot_ssh_pub_keys.set ||
            cfg->ssh_forward_agent.set || cfg->ssh_forward_x11.set ||
            cfg->ssh_forward_x11_trusted.set) {
                LimaYamlNode *ssh = lima_write_submap(doc, "ssh");
                lima_write_set_int(ssh, "localPort", &cfg->ssh_local_port);
                lima_write_set_bool(ssh, "loadDotSSHPubKeys", &cfg->ssh_load_dot_ssh_pub_keys);
                lima_write_set_bool(ssh, "forwardAgent", &cfg->ssh_forward_agent);
                lima_write_set_bool(ssh, "forwardX11", &cfg->ssh_forward_x11);
                lima_write_set_bool(ssh, "forwardX11Trusted", &cfg->ssh_forward_x11_trusted);
        }
        if (cfg->user_name.value != NULL || cfg->user_comment.value != NULL ||
            cfg->user_home.value != NULL || cfg->user_shell.value != NULL || cfg->user_uid.set) {
                LimaYamlNode *user = lima_write_submap(doc, "user");
                lima_write_set_string(user, "name", &cfg->user_name);
                lima_write_set_string(user, "comment", &cfg->user_comment);
                lima_write_set_string(user, "home", &cfg->user_home);
                lima_write_set_string(user, "shell", &cfg->user_shell);
                lima_write_set_int(user, "uid", &cfg->user_uid);
        }
        lima_write_key_values(doc, "param", cfg->param);
        lima_write_key_values(doc, "env", cfg->env);
        lima_write_node_list(doc, "provision", cfg->provision);
        lima_write_node_list(doc, "probes", cfg->probes);
        lima_write_node_list(doc, "portForwards", cfg->port_forwards);
        return doc;
}

gchar *
lima_config_to_yaml(LimaConfig *cfg, GError **error)
{
        g_autoptr(LimaYamlNode) doc = lima_config_to_node(cfg);
        return lima_yaml_emit(doc, error);
}
