/*
 * A YAML document as a tree of nodes that remember where they were written (file, line,
 * column), so every later check can point at the user's text. Unknown keys are kept, so a
 * config loaded and saved again loses nothing the user wrote (comments aside).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
        LIMA_YAML_SCALAR,
        LIMA_YAML_SEQUENCE,
        LIMA_YAML_MAPPING,
} LimaYamlKind;

typedef struct {
        gint ref_count;
        LimaYamlKind kind;
        gchar *scalar;     /* SCALAR only */
        gboolean quoted;   /* SCALAR written in quotes: a string, never null/bool/number */
        GPtrArray *items;  /* SEQUENCE: nodes; MAPPING: key, value, key, value, … */
        const gchar *file; /* interned; NULL for nodes made in code */
        guint line;        /* 1-based; 0 for nodes made in code */
        guint column;      /* 1-based */
} LimaYamlNode;

/* Limits that make hostile documents fail fast instead of eating memory or stack. */
#define LIMA_YAML_MAX_INPUT_BYTES  (4u * 1024 * 1024)
#define LIMA_YAML_MAX_SCALAR_BYTES (1u * 1024 * 1024)
#define LIMA_YAML_MAX_DEPTH        64
#define LIMA_YAML_MAX_NODES        200000 /* counted with every alias expanded */

LimaYamlNode *lima_yaml_parse(const gchar *text, gsize len, const gchar *file, GError **error);
LimaYamlNode *lima_yaml_parse_file(const gchar *path, GError **error);
gchar *lima_yaml_emit(LimaYamlNode *root, GError **error);

LimaYamlNode *lima_yaml_node_ref(LimaYamlNode *node);
void lima_yaml_node_unref(LimaYamlNode *node);
LimaYamlNode *lima_yaml_node_copy(LimaYamlNode *node);

LimaYamlNode *lima_yaml_scalar_new(const gchar *value, gboolean quoted);
LimaYamlNode *lima_yaml_sequence_new(void);
LimaYamlNode *lima_yaml_mapping_new(void);

gboolean lima_yaml_node_is_null(LimaYamlNode *node);
const gchar *lima_yaml_kind_to_string(LimaYamlKind kind);

/* Mappings */
guint lima_yaml_mapping_size(LimaYamlNode *map);
LimaYamlNode *lima_yaml_mapping_key_at(LimaYamlNode *map, guint i);
LimaYamlNode *lima_yaml_mapping_value_at(LimaYamlNode *map, guint i);
LimaYamlNode *lima_yaml_mapping_get(LimaYamlNode *map, const gchar *key);
LimaYamlNode *lima_yaml_mapping_get_key_node(LimaYamlNode *map, const gchar *key);
/* Replaces the value of key in place (keeping its position), or appends key: value. Takes
 * ownership of value. */
void lima_yaml_mapping_set(LimaYamlNode *map, const gchar *key, LimaYamlNode *value);
void lima_yaml_mapping_set_string(LimaYamlNode *map, const gchar *key, const gchar *value);
void lima_yaml_mapping_remove(LimaYamlNode *map, const gchar *key);

/* Sequences; append takes ownership. */
void lima_yaml_sequence_append(LimaYamlNode *seq, LimaYamlNode *item);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(LimaYamlNode, lima_yaml_node_unref)

G_END_DECLS
