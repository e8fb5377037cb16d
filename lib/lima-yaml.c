#include "lima-yaml.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "lima-error.h"

LimaYamlNode *
lima_yaml_node_ref(LimaYamlNode *node)
{
        g_return_val_if_fail(node != NULL, NULL);
        g_atomic_int_inc(&node->ref_count);
        return node;
}

void
lima_yaml_node_unref(LimaYamlNode *node)
{
        if (node == NULL || !g_atomic_int_dec_and_test(&node->ref_count))
                return;
        g_free(node->scalar);
        if (node->items != NULL)
                g_ptr_array_unref(node->items);
        g_free(node);
}

static LimaYamlNode *
lima_yaml_node_new(LimaYamlKind kind)
{
        LimaYamlNode *node = g_new0(LimaYamlNode, 1);
        node->ref_count = 1;
        node->kind = kind;
        if (kind != LIMA_YAML_SCALAR)
                node->items = g_ptr_array_new_with_free_func((GDestroyNotify)lima_yaml_node_unref);
        return node;
}

LimaYamlNode *
lima_yaml_scalar_new(const gchar *value, gboolean quoted)
{
        LimaYamlNode *node = lima_yaml_node_new(LIMA_YAML_SCALAR);
        node->scalar = g_strdup(value != NULL ? value : "");
        node->quoted = quoted;
        return node;
}

LimaYamlNode *
lima_yaml_sequence_new(void)
{
        return lima_yaml_node_new(LIMA_YAML_SEQUENCE);
}

LimaYamlNode *
lima_yaml_mapping_new(void)
{
        return lima_yaml_node_new(LIMA_YAML_MAPPING);
}

LimaYamlNode *
lima_yaml_node_copy(LimaYamlNode *node)
{
        LimaYamlNode *copy = lima_yaml_node_new(node->kind);
        copy->scalar = g_strdup(node->scalar);
        copy->quoted = node->quoted;
        copy->file = node->file;
        copy->line = node->line;
        copy->column = node->column;
        for (guint i = 0; node->items != NULL && i < node->items->len; i++)
                g_ptr_array_add(copy->items,
                                lima_yaml_node_copy(g_ptr_array_index(node->items, i)));
        return copy;
}

gboolean
lima_yaml_node_is_null(LimaYamlNode *node)
{
        if (node == NULL)
                return TRUE;
        if (node->kind != LIMA_YAML_SCALAR || node->quoted)
                return FALSE;
        return g_strv_contains((const gchar *const[]){ "", "~", "null", "Null", "NULL", NULL },
                               node->scalar);
}

const gchar *
lima_yaml_kind_to_string(LimaYamlKind kind)
{
        switch (kind) {
        case LIMA_YAML_SCALAR:
                return "a scalar";
        case LIMA_YAML_SEQUENCE:
                return "a list";
        case LIMA_YAML_MAPPING:
                return "a mapping";
        }
        return "a node";
}

guint
lima_yaml_mapping_size(LimaYamlNode *map)
{
        return map->items->len / 2;
}

LimaYamlNode *
lima_yaml_mapping_key_at(LimaYamlNode *map, guint i)
{
        return g_ptr_array_index(map->items, 2 * i);
}

LimaYamlNode *
lima_yaml_mapping_value_at(LimaYamlNode *map, guint i)
{
        return g_ptr_array_index(map->items, 2 * i + 1);
}

static gint
lima_yaml_mapping_find(LimaYamlNode *map, const gchar *key)
{
        if (map == NULL || map->kind != LIMA_YAML_MAPPING)
                return -1;
        for (guint i = 0; i < lima_yaml_mapping_size(map); i++) {
                if (g_strcmp0(lima_yaml_mapping_key_at(map, i)->scalar, key) == 0)
                        return (gint)i;
        }
        return -1;
}

LimaYamlNode *
lima_yaml_mapping_get(LimaYamlNode *map, const gchar *key)
{
        gint i = lima_yaml_mapping_find(map, key);
        return i < 0 ? NULL : lima_yaml_mapping_value_at(map, (guint)i);
}

LimaYamlNode *
lima_yaml_mapping_get_key_node(LimaYamlNode *map, const gchar *key)
{
        gint i = lima_yaml_mapping_find(map, key);
        return i < 0 ? NULL : lima_yaml_mapping_key_at(map, (guint)i);
}

void
lima_yaml_mapping_set(LimaYamlNode *map, const gchar *key, LimaYamlNode *value)
{
        gint i = lima_yaml_mapping_find(map, key);
        g_return_if_fail(map->kind == LIMA_YAML_MAPPING);
        if (i >= 0) {
                LimaYamlNode **slot = (LimaYamlNode **)&map->items->pdata[2 * i + 1];
                lima_yaml_node_unref(*slot);
                *slot = value;
                return;
        }
        g_ptr_array_add(map->items, lima_yaml_scalar_new(key, FALSE));
        g_ptr_array_add(map->items, value);
}

void
lima_yaml_mapping_set_string(LimaYamlNode *map, const gchar *key, const gchar *value)
{
        lima_yaml_mapping_set(map, key, lima_yaml_scalar_new(value, TRUE));
}

void
lima_yaml_mapping_remove(LimaYamlNode *map, const gchar *key)
{
        gint i = lima_yaml_mapping_find(map, key);
        if (i >= 0)
                g_ptr_array_remove_range(map->items, 2 * (guint)i, 2);
}

void
lima_yaml_sequence_append(LimaYamlNode *seq, LimaYamlNode *item)
{
        g_return_if_fail(seq->kind == LIMA_YAML_SEQUENCE);
        g_ptr_array_add(seq->items, item);
}

/* ---- parsing ---- */

typedef struct {
        const gchar *file;
        GPtrArray *stack;         /* open containers */
        GPtrArray *stack_anchors; /* the anchor name of each open container, or NULL */
        GHashTable *anchors;      /* name → finished node */
        GHashTable *weights;      /* node → number of nodes it stands for, aliases expanded */
        guint64 total_nodes;      /* with every alias expanded */
        guint documents;
        LimaYamlNode *root;
} LimaYamlParse;

static gboolean lima_yaml_set_error(LimaYamlParse *p, guint line, guint column, GError **error,
                                    const gchar *fmt, ...) G_GNUC_PRINTF(5, 6);

static gboolean
lima_yaml_set_error(LimaYamlParse *p, guint line, guint column, GError **error, const gchar *fmt,
                    ...)
{
        va_list args;
        g_autofree gchar *msg = NULL;
        va_start(args, fmt);
        msg = g_strdup_vprintf(fmt, args);
        va_end(args);
        g_set_error(error, LIMA_ERROR, LIMA_ERROR_INVALID_YAML, "%s:%u:%u: %s", p->file, line,
                    column, msg);
        return FALSE;
}

static guint64
lima_yaml_parse_weight(LimaYamlParse *p, LimaYamlNode *node)
{
        return GPOINTER_TO_SIZE(g_hash_table_lookup(p->weights, node));
}

/* Hangs a finished node under the open container (or makes it the root); takes ownership. */
static gboolean
lima_yaml_parse_attach(LimaYamlParse *p, LimaYamlNode *node, GError **error)
{
        g_autoptr(LimaYamlNode) owned = node;
        LimaYamlNode *parent;

        if (p->stack->len == 0) {
                p->root = g_steal_pointer(&owned);
                return TRUE;
        }
        parent = g_ptr_array_index(p->stack, p->stack->len - 1);
        if (parent->kind == LIMA_YAML_MAPPING && parent->items->len % 2 == 0) {
                if (node->kind != LIMA_YAML_SCALAR)
                        return lima_yaml_set_error(p, node->line, node->column, error,
                                                   "mapping keys must be plain strings, not %s",
                                                   lima_yaml_kind_to_string(node->kind));
                if (lima_yaml_mapping_find(parent, node->scalar) >= 0)
                        return lima_yaml_set_error(p, node->line, node->column, error,
                                                   "duplicate key \"%s\"", node->scalar);
        }
        g_hash_table_insert(
            p->weights, parent,
            GSIZE_TO_POINTER(lima_yaml_parse_weight(p, parent) + lima_yaml_parse_weight(p, node)));
        g_ptr_array_add(parent->items, g_steal_pointer(&owned));
        return TRUE;
}

/* Counts a new node (weight nodes once expanded) against the limit. */
static gboolean
lima_yaml_parse_count(LimaYamlParse *p, LimaYamlNode *node, guint64 weight, GError **error)
{
        g_hash_table_insert(p->weights, node, GSIZE_TO_POINTER(weight));
        p->total_nodes += weight;
        if (p->total_nodes > LIMA_YAML_MAX_NODES)
                return lima_yaml_set_error(p, node->line, node->column, error,
                                           "the document expands to more than %u nodes "
                                           "(an alias bomb?); refusing it",
                                           LIMA_YAML_MAX_NODES);
        return TRUE;
}

static LimaYamlNode *
lima_yaml_parse_new_node(LimaYamlParse *p, LimaYamlKind kind, const yaml_event_t *event)
{
        LimaYamlNode *node = lima_yaml_node_new(kind);
        node->file = p->file;
        node->line = (guint)event->start_mark.line + 1;
        node->column = (guint)event->start_mark.column + 1;
        return node;
}

static void
lima_yaml_parse_anchor(LimaYamlParse *p, const gchar *anchor, LimaYamlNode *node)
{
        if (anchor != NULL)
                g_hash_table_replace(p->anchors, g_strdup(anchor), lima_yaml_node_ref(node));
}

static gboolean
lima_yaml_parse_scalar(LimaYamlParse *p, yaml_event_t *event, GError **error)
{
        const gchar *tag = (const gchar *)event->data.scalar.tag;
        g_autoptr(LimaYamlNode) node = NULL;

        if (event->data.scalar.length > LIMA_YAML_MAX_SCALAR_BYTES)
                return lima_yaml_set_error(p, (guint)event->start_mark.line + 1,
                                           (guint)event->start_mark.column + 1, error,
                                           "a value of %zu bytes is longer than the limit of "
                                           "%u bytes",
                                           event->data.scalar.length, LIMA_YAML_MAX_SCALAR_BYTES);
        node = lima_yaml_parse_new_node(p, LIMA_YAML_SCALAR, event);
        node->scalar =
            g_strndup((const gchar *)event->data.scalar.value, event->data.scalar.length);
        if (strlen(node->scalar) != event->data.scalar.length)
                return lima_yaml_set_error(p, node->line, node->column, error,
                                           "a value contains a NUL character");
        node->quoted = event->data.scalar.style != YAML_PLAIN_SCALAR_STYLE ||
                       g_strcmp0(tag, YAML_STR_TAG) == 0;
        if (!lima_yaml_parse_count(p, node, 1, error))
                return FALSE;
        lima_yaml_parse_anchor(p, (const gchar *)event->data.scalar.anchor, node);
        return lima_yaml_parse_attach(p, g_steal_pointer(&node), error);
}

static gboolean
lima_yaml_parse_container_start(LimaYamlParse *p, yaml_event_t *event, GError **error)
{
        gboolean seq = event->type == YAML_SEQUENCE_START_EVENT;
        const yaml_char_t *anchor =
            seq ? event->data.sequence_start.anchor : event->data.mapping_start.anchor;
        LimaYamlNode *node;

        if (p->stack->len >= LIMA_YAML_MAX_DEPTH)
                return lima_yaml_set_error(
                    p, (guint)event->start_mark.line + 1, (guint)event->start_mark.column + 1,
                    error, "nesting deeper than %u levels; refusing it", LIMA_YAML_MAX_DEPTH);
        node = lima_yaml_parse_new_node(p, seq ? LIMA_YAML_SEQUENCE : LIMA_YAML_MAPPING, event);
        g_ptr_array_add(p->stack, node);
        /* Registered at the end, so a container can never contain an alias of itself. */
        g_ptr_array_add(p->stack_anchors, g_strdup((const gchar *)anchor));
        return lima_yaml_parse_count(p, node, 1, error);
}

static gboolean
lima_yaml_parse_container_end(LimaYamlParse *p, GError **error)
{
        LimaYamlNode *node = g_ptr_array_steal_index(p->stack, p->stack->len - 1);
        g_autofree gchar *anchor =
            g_ptr_array_steal_index(p->stack_anchors, p->stack_anchors->len - 1);
        lima_yaml_parse_anchor(p, anchor, node);
        return lima_yaml_parse_attach(p, node, error);
}

static gboolean
lima_yaml_parse_alias(LimaYamlParse *p, yaml_event_t *event, GError **error)
{
        const gchar *name = (const gchar *)event->data.alias.anchor;
        LimaYamlNode *target = g_hash_table_lookup(p->anchors, name);
        g_autoptr(LimaYamlNode) copy = NULL;
        guint line = (guint)event->start_mark.line + 1;
        guint column = (guint)event->start_mark.column + 1;

        if (target == NULL)
                return lima_yaml_set_error(p, line, column, error,
                                           "alias *%s refers to no finished anchor", name);
        /* Count before copying: the copy of a bomb is what must never be made. */
        p->total_nodes += lima_yaml_parse_weight(p, target);
        if (p->total_nodes > LIMA_YAML_MAX_NODES)
                return lima_yaml_set_error(p, line, column, error,
                                           "the document expands to more than %u nodes "
                                           "(an alias bomb?); refusing it",
                                           LIMA_YAML_MAX_NODES);
        copy = lima_yaml_node_copy(target);
        copy->line = line;
        copy->column = column;
        g_hash_table_insert(p->weights, copy, GSIZE_TO_POINTER(lima_yaml_parse_weight(p, target)));
        return lima_yaml_parse_attach(p, g_steal_pointer(&copy), error);
}

static gboolean
lima_yaml_parse_event(LimaYamlParse *p, yaml_event_t *event, GError **error)
{
        switch (event->type) {
        case YAML_DOCUMENT_START_EVENT:
                if (++p->documents > 1)
                        return lima_yaml_set_error(p, (guint)event->start_mark.line + 1,
                                                   (guint)event->start_mark.column + 1, error,
                                                   "more than one YAML document; an instance "
                                                   "config is a single document");
                return TRUE;
        case YAML_SCALAR_EVENT:
                return lima_yaml_parse_scalar(p, event, error);
        case YAML_SEQUENCE_START_EVENT:
        case YAML_MAPPING_START_EVENT:
                return lima_yaml_parse_container_start(p, event, error);
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
                return lima_yaml_parse_container_end(p, error);
        case YAML_ALIAS_EVENT:
                return lima_yaml_parse_alias(p, event, error);
        default:
                return TRUE;
        }
}

LimaYamlNode *
lima_yaml_parse(const gchar *text, gsize len, const gchar *file, GError **error)
{
        yaml_parser_t parser;
        LimaYamlParse p = { 0 };
        gboolean done = FALSE;
        gboolean ok = TRUE;

        p.file = g_intern_string(file != NULL ? file : "<input>");
        if (len > LIMA_YAML_MAX_INPUT_BYTES) {
                g_set_error(error, LIMA_ERROR, LIMA_ERROR_INVALID_YAML,
                            "%s: %zu bytes is larger than the limit of %u bytes for a config",
                            p.file, len, LIMA_YAML_MAX_INPUT_BYTES);
                return NULL;
        }
        if (!yaml_parser_initialize(&parser)) {
                g_set_error(error, LIMA_ERROR, LIMA_ERROR_FAILED, "%s: out of memory", p.file);
                return NULL;
        }
        yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
        p.stack = g_ptr_array_new_with_free_func((GDestroyNotify)lima_yaml_node_unref);
        p.stack_anchors = g_ptr_array_new_with_free_func(g_free);
        p.anchors = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                          (GDestroyNotify)lima_yaml_node_unref);
        p.weights = g_hash_table_new(g_direct_hash, g_direct_equal);

        while (ok && !done) {
                yaml_event_t event;
                if (!yaml_parser_parse(&parser, &event)) {
                        const gchar *problem =
                            parser.problem != NULL ? parser.problem : "invalid YAML";
                        if (parser.context != NULL)
                                lima_yaml_set_error(&p, (guint)parser.problem_mark.line + 1,
                                                    (guint)parser.problem_mark.column + 1, error,
                                                    "YAML syntax error: %s %s", parser.context,
                                                    problem);
                        else
                                lima_yaml_set_error(&p, (guint)parser.problem_mark.line + 1,
                                                    (guint)parser.problem_mark.column + 1, error,
                                                    "YAML syntax error: %s", problem);
                        ok = FALSE;
                        break;
                }
                done = event.type == YAML_STREAM_END_EVENT;
                ok = lima_yaml_parse_event(&p, &event, error);
                yaml_event_delete(&event);
        }
        yaml_parser_delete(&parser);
        g_ptr_array_unref(p.stack);
        g_ptr_array_unref(p.stack_anchors);
        g_hash_table_unref(p.anchors);
        g_hash_table_unref(p.weights);
        if (!ok) {
                lima_yaml_node_unref(p.root);
                return NULL;
        }
        /* An empty file is an empty config. */
        if (p.root == NULL || lima_yaml_node_is_null(p.root)) {
                lima_yaml_node_unref(p.root);
                p.root = lima_yaml_mapping_new();
                p.root->file = p.file;
                p.root->line = 1;
                p.root->column = 1;
        }
        return p.root;
}

/* A config file bigger than this is refused unread (limad takes 4 MiB over the bus). */
#define LIMA_YAML_MAX_FILE_BYTES (16u * 1024 * 1024)

LimaYamlNode *
lima_yaml_parse_file(const gchar *path, GError **error)
{
        g_autoptr(GMappedFile) mapped = NULL;
        g_autoptr(GError) local = NULL;
        struct stat st;
        int fd;

        /* Only a regular file of a sane size: "base: /dev/zero" would otherwise be read
         * forever, and a FIFO would block the daemon (both found by the D-Bus fuzzer). */
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
        if (fd < 0) {
                int saved = errno;
                g_set_error(error, LIMA_ERROR,
                            saved == ENOENT ? LIMA_ERROR_NOT_FOUND : LIMA_ERROR_FAILED,
                            _("cannot open %s: %s"), path, g_strerror(saved));
                return NULL;
        }
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
            (guint64)st.st_size > LIMA_YAML_MAX_FILE_BYTES) {
                close(fd);
                g_set_error(error, LIMA_ERROR, LIMA_ERROR_FAILED,
                            _("%s is not a regular file of at most %u MiB; name a YAML file"), path,
                            LIMA_YAML_MAX_FILE_BYTES / (1024 * 1024));
                return NULL;
        }
        mapped = g_mapped_file_new_from_fd(fd, FALSE, &local);
        close(fd);
        if (mapped == NULL) {
                g_set_error(error, LIMA_ERROR, LIMA_ERROR_FAILED, "%s", local->message);
                return NULL;
        }
        /* An empty file maps to no contents: parse it as the empty text it is. */
        if (g_mapped_file_get_length(mapped) == 0)
                return lima_yaml_parse("", 0, path, error);
        return lima_yaml_parse(g_mapped_file_get_contents(mapped), g_mapped_file_get_length(mapped),
                               path, error);
}

/* ---- emitting ---- */

static gboolean
lima_yaml_emit_node(yaml_emitter_t *emitter, LimaYamlNode *node)
{
        yaml_event_t event;

        switch (node->kind) {
        case LIMA_YAML_SCALAR: {
                yaml_scalar_style_t style = YAML_ANY_SCALAR_STYLE;
                if (node->quoted)
                        style = strchr(node->scalar, '\n') != NULL
                                    ? YAML_LITERAL_SCALAR_STYLE
                                    : YAML_DOUBLE_QUOTED_SCALAR_STYLE;
                yaml_scalar_event_initialize(&event, NULL, NULL, (yaml_char_t *)node->scalar,
                                             (int)strlen(node->scalar), !node->quoted, node->quoted,
                                             style);
                return yaml_emitter_emit(emitter, &event);
        }
        case LIMA_YAML_SEQUENCE:
                yaml_sequence_start_event_initialize(&event, NULL, NULL, 1,
                                                     YAML_BLOCK_SEQUENCE_STYLE);
                break;
        case LIMA_YAML_MAPPING:
                yaml_mapping_start_event_initialize(&event, NULL, NULL, 1,
                                                    YAML_BLOCK_MAPPING_STYLE);
                break;
        }
        if (!yaml_emitter_emit(emitter, &event))
                return FALSE;
        for (guint i = 0; i < node->items->len; i++) {
                if (!lima_yaml_emit_node(emitter, g_ptr_array_index(node->items, i)))
                        return FALSE;
        }
        if (node->kind == LIMA_YAML_SEQUENCE)
                yaml_sequence_end_event_initialize(&event);
        else
                yaml_mapping_end_event_initialize(&event);
        return yaml_emitter_emit(emitter, &event);
}

static int
lima_yaml_emit_write(void *data, unsigned char *buffer, size_t size)
{
        g_string_append_len((GString *)data, (const gchar *)buffer, (gssize)size);
        return 1;
}

gchar *
lima_yaml_emit(LimaYamlNode *root, GError **error)
{
        yaml_emitter_t emitter;
        yaml_event_t event;
        g_autoptr(GString) out = g_string_new(NULL);
        gboolean ok;

        if (!yaml_emitter_initialize(&emitter)) {
                g_set_error_literal(error, LIMA_ERROR, LIMA_ERROR_FAILED, "out of memory");
                return NULL;
        }
        yaml_emitter_set_output(&emitter, lima_yaml_emit_write, out);
        yaml_emitter_set_unicode(&emitter, 1);
        yaml_emitter_set_width(&emitter, -1);
        yaml_emitter_set_indent(&emitter, 2);
        yaml_stream_start_event_initialize(&event, YAML_UTF8_ENCODING);
        ok = yaml_emitter_emit(&emitter, &event);
        if (ok) {
                yaml_document_start_event_initialize(&event, NULL, NULL, NULL, 1);
                ok = yaml_emitter_emit(&emitter, &event);
        }
        ok = ok && lima_yaml_emit_node(&emitter, root);
        if (ok) {
                yaml_document_end_event_initialize(&event, 1);
                ok = yaml_emitter_emit(&emitter, &event);
        }
        if (ok) {
                yaml_stream_end_event_initialize(&event);
                ok = yaml_emitter_emit(&emitter, &event);
        }
        if (!ok)
                g_set_error(error, LIMA_ERROR, LIMA_ERROR_FAILED, "cannot write YAML: %s",
                            emitter.problem != NULL ? emitter.problem : "unknown problem");
        yaml_emitter_delete(&emitter);
        return ok ? g_string_free(g_steal_pointer(&out), FALSE) : NULL;
}
