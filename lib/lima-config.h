/*
 * The typed lima.yaml model. Every field remembers the YAML node it came from, so checks can
 * point at the user's text; the whole document is kept too, so keys this model does not type
 * survive a load and save unchanged.
 */
#pragma once

#include <glib.h>

#include "lima-diagnostics.h"
#include "lima-yaml.h"

G_BEGIN_DECLS

typedef struct {
        gchar *value; /* NULL when unset */
        LimaYamlNode *node;
} LimaString;

typedef struct {
        gboolean set;
        gboolean value;
        LimaYamlNode *node;
} LimaBool;

typedef struct {
        gboolean set;
        gint64 value;
        LimaYamlNode *node;
} LimaInt;

typedef struct {
        LimaString location;
        LimaString arch;
        LimaString digest;
} LimaFile;

typedef struct {
        LimaFile file;
        gboolean has_kernel;
        LimaFile kernel;
        LimaString kernel_cmdline;
        gboolean has_initrd;
        LimaFile initrd;
        LimaYamlNode *node;
} LimaImage;

typedef struct {
        LimaString location;
        LimaString mount_point;
        LimaBool writable;
        LimaBool sshfs_cache;
        LimaBool sshfs_follow_symlinks;
        LimaString sshfs_sftp_driver;
        LimaString ninep_security_model;
        LimaString ninep_protocol_version;
        LimaString ninep_msize;
        LimaString ninep_cache;
        LimaInt virtiofs_queue_size;
        gchar *tag;         /* filled: see lima-mount-tag.h */
        LimaYamlNode *node; /* the entry as written, for its untyped keys and position */
} LimaMount;

typedef struct {
        gchar *key;
        LimaString value;
} LimaKeyValue;

typedef struct {
        LimaYamlNode *doc; /* the document as written */
        gchar *file;       /* where it came from, for messages */

        GPtrArray *base; /* LimaString* */
        LimaString minimum_lima_version;
        LimaString vm_type;
        LimaString os;
        LimaString arch;
        GPtrArray *images; /* LimaImage* */
        LimaInt cpus;
        LimaString memory;
        LimaString disk;
        LimaString mount_type;
        GPtrArray *mount_types_unsupported; /* LimaString* */
        LimaBool mount_inotify;
        GPtrArray *mounts; /* LimaMount* */
        LimaInt ssh_local_port;
        LimaBool ssh_load_dot_ssh_pub_keys;
        LimaBool ssh_forward_agent;
        LimaBool ssh_forward_x11;
        LimaBool ssh_forward_x11_trusted;
        LimaString user_name;
        LimaString user_comment;
        LimaString user_home;
        LimaString user_shell;
        LimaInt user_uid;
        GPtrArray *param;         /* LimaKeyValue* */
        GPtrArray *env;           /* LimaKeyValue* */
        GPtrArray *provision;     /* LimaYamlNode* mappings */
        GPtrArray *probes;        /* LimaYamlNode* mappings */
        GPtrArray *port_forwards; /* LimaYamlNode* mappings */
} LimaConfig;

LimaConfig *lima_config_new(void);
void lima_config_free(LimaConfig *cfg);

/* Types the document; type errors go to diags (never fatal), so every problem is reported. */
LimaConfig *lima_config_from_node(LimaYamlNode *doc, LimaDiagnostics *diags);
/* Parses text and types it; FALSE only when the text is not YAML at all (error set). */
LimaConfig *lima_config_load_data(const gchar *text, gsize len, const gchar *file,
                                  LimaDiagnostics *diags, GError **error);
LimaConfig *lima_config_load_file(const gchar *path, LimaDiagnostics *diags, GError **error);

/* The document with every typed field written back from the model: after a fill, the
 * complete config; otherwise what the user wrote. Untyped keys keep their place. */
LimaYamlNode *lima_config_to_node(LimaConfig *cfg);
gchar *lima_config_to_yaml(LimaConfig *cfg, GError **error);

LimaMount *lima_mount_new(void);
LimaMount *lima_mount_copy(const LimaMount *mount);
void lima_mount_free(LimaMount *mount);
/* Later set fields win over earlier ones: mounts of the same mount point merge this way. */
void lima_mount_merge(LimaMount *into, const LimaMount *from, gboolean from_wins);

void lima_string_set(LimaString *s, const gchar *value, LimaYamlNode *node);
void lima_string_clear(LimaString *s);
void lima_string_copy(LimaString *dest, const LimaString *src);
void lima_bool_set(LimaBool *b, gboolean value, LimaYamlNode *node);
void lima_int_set(LimaInt *i, gint64 value, LimaYamlNode *node);

const gchar *lima_key_values_lookup(GPtrArray *kvs, const gchar *key);
void lima_key_values_set(GPtrArray *kvs, const gchar *key, const LimaString *value);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(LimaConfig, lima_config_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(LimaMount, lima_mount_free)

G_END_DECLS
