/* `--set EXPR`: a small yq subset (assignment and list append), on the LimaYamlNode tree. */
#include "lima-yaml-set.h"

#include <glib/gi18n.h>
#include <string.h>

#include "lima-error.h"

#define LIMA_YAML_SET_FORMS                                                                        \
        N_("supported forms: .key = VALUE, .a.b[0].c = VALUE, .list += [VALUE, …], several "     \
           "joined by |; VALUE is a number, true, false, null, a \"quoted string\", [..] or "      \
           "{..}")

typedef struct {
        gchar *key; /* NULL for an [N] step */
        gint64 index;
        guint column; /* 1-based, in the expression */
} LimaSetStep;

typedef struct {
        GPtrArray *steps; /* LimaSetStep */
        gboolean append;
        LimaYamlNode *value;
        gchar *path_text; /* for messages */
} LimaSetExpr;

static void
lima_set_step_free(LimaSetStep *step)
{
        g_free(step->key);
        g_free(step);
}

static void
lima_set_expr_free(LimaSetExpr *e)
{
        g_ptr_array_unref(e->steps);
        g_clear_pointer(&e->value, lima_yaml_node_unref);
        g_free(e->path_text);
        g_free(e);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(LimaSetExpr, lima_set_expr_free)

static void
lima_set_syntax_error(GError **error, const gchar *expr, gsize offset, const gchar *what)
{
        g_set_error(error, LIMA_ERROR, LIMA_ERROR_INVALID_CONFIG,
                    _("--set \"%s\": column %u: %s (%s)"), expr, (guint)offset + 1, what,
                    _(LIMA_YAML_SET_FORMS));
}

/* Splits on `|` outside quotes and brackets. */
static GPtrArray *
lima_set_split(const gchar *expr)
{
        GPtrArray *parts = g_ptr_array_new_with_free_func(g_free);
        gchar quote = 0;
        gint depth = 0;
        const gchar *start = expr;

        for (const gchar *p = expr; *p != '\0'; p++) {
                if (quote != 0) {
                        if (quote == '"' && *p == '\\' && p[1] != '\0')
                                p++;
                        else if (*p == quote)
                                quote = 0;
                } else if (*p == '"' || *p == '\'') {
                        quote = *p;
                } else if (*p == '[' || *p == '{') {
                        depth++;
                } else if (*p == ']' || *p == '}') {
                        depth--;
                } else if (*p == '|' && depth == 0) {
                        g_ptr_array_add(parts, g_strndup(start, p - start));
                        start = p + 1;
                }
        }
        g_ptr_array_add(parts, g_strdup(start));
        return parts;
}

static gboolean
lima_set_is_key_char(gchar c)
{
        return g_ascii_isalnum(c) || c == '_' || c == '-';
}

/* A literal only: yq would read a bare word as an expression, which this subset has not. */
static gboolean
lima_set_value_is_literal(const gchar *v)
{
        if (g_str_equal(v, "true") || g_str_equal(v, "false") || g_str_equal(v, "null"))
                return TRUE;
        if (strchr("\"'[{", *v) != NULL)
                return TRUE;
        if (*v == '-' || *v == '+')
                v++;
        if (!g_ascii_isdigit(*v))
                return FALSE;
        for (; *v != '\0'; v++) {
                if (!g_ascii_isdigit(*v) && *v != '.' && *v != 'e' && *v != 'E' && *v != '-' &&
                    *v != '+' && *v != '_')
                        return FALSE;
        }
        return TRUE;
}

static LimaSetExpr *
lima_set_parse(const gchar *expr, GError **error)
{
        g_autoptr(LimaSetExpr) e = g_new0(LimaSetExpr, 1);
        g_autoptr(GError) local = NULL;
        const gchar *p = expr;
        const gchar *path_start;
        g_autofree gchar *value_text = NULL;

        e->steps = g_ptr_array_new_with_free_func((GDestroyNotify)lima_set_step_free);
        while (g_ascii_isspace(*p))
                p++;
        path_start = p;
        if (*p != '.') {
                lima_set_syntax_error(error, expr, p - expr, _("a path starts with '.'"));
                return NULL;
        }
        while (*p == '.' || *p == '[') {
                LimaSetStep *step = g_new0(LimaSetStep, 1);
                step->column = (guint)(p - expr) + 1;
                g_ptr_array_add(e->steps, step);
                if (*p == '[') {
                        gchar *end = NULL;
                        step->index = g_ascii_strtoll(p + 1, &end, 10);
                        if (end == p + 1 || *end != ']' || step->index < 0) {
                                lima_set_syntax_error(error, expr, p - expr,
                                                      _("an index is [N] with N ≥ 0"));
                                return NULL;
                        }
                        p = end + 1;
                        continue;
                }
                p++;
                if (*p == '"') {
                        const gchar *close = strchr(p + 1, '"');
                        if (close == NULL) {
                                lima_set_syntax_error(error, expr, p - expr,
                                                      _("unterminated quoted key"));
                                return NULL;
                        }
                        step->key = g_strndup(p + 1, close - p - 1);
                        p = close + 1;
                } else {
                        const gchar *k = p;
                        while (lima_set_is_key_char(*p))
                                p++;
                        if (p == k) {
                                if (*p == '[' && e->steps->len == 1) {
                                        /* ".[0]" is yq's spelling of a top-level index. */
                                        g_ptr_array_remove_index(e->steps, 0);
                                        continue;
                                }
                                lima_set_syntax_error(error, expr, p - expr,
                                                      _("expected a key after '.'"));
                                return NULL;
                        }
                        step->key = g_strndup(k, p - k);
                }
        }
        e->path_text = g_strstrip(g_strndup(path_start, p - path_start));
        while (g_ascii_isspace(*p))
                p++;
        if (g_str_has_prefix(p, "+=")) {
                e->append = TRUE;
                p += 2;
        } else if (*p == '=' && p[1] != '=') {
                p++;
        } else {
                lima_set_syntax_error(error, expr, p - expr, _("expected = or += after the path"));
                return NULL;
        }
        value_text = g_strstrip(g_strdup(p));
        if (*value_text == '\0' || !lima_set_value_is_literal(value_text)) {
                lima_set_syntax_error(error, expr, p - expr,
                                      _("the value must be a literal; quote strings"));
                return NULL;
        }
        /* The parser reads a null document as an empty mapping. */
        if (g_str_equal(value_text, "null"))
                e->value = lima_yaml_scalar_new("null", FALSE);
        else
                e->value = lima_yaml_parse(value_text, strlen(value_text), "--set value", &local);
        if (e->value == NULL) {
                g_set_error(error, LIMA_ERROR, LIMA_ERROR_INVALID_CONFIG,
                            _("--set \"%s\": the value is not valid YAML/JSON: %s"), expr,
                            local->message);
                return NULL;
        }
        return g_steal_pointer(&e);
}

static void
lima_set_where_error(GError **error, LimaYamlNode *node, const gchar *path, const gchar *what)
{
        if (node != NULL && node->file != NULL && node->line > 0)
                g_set_error(error, LIMA_ERROR, LIMA_ERROR_INVALID_CONFIG,
                            _("%s:%u:%u: --set %s: %s"), node->file, node->line, node->column, path,
                            what);
        else
                g_set_error(error, LIMA_ERROR, LIMA_ERROR_INVALID_CONFIG, _("--set %s: %s"), path,
                            what);
}

/* The node a step names inside parent, or NULL. */
static LimaYamlNode *
lima_set_child(LimaYamlNode *parent, const LimaSetStep *step)
{
        if (parent == NULL)
                return NULL;
        if (step->key != NULL)
                return parent->kind == LIMA_YAML_MAPPING ? lima_yaml_mapping_get(parent, step->key)
                                                         : NULL;
        if (parent->kind != LIMA_YAML_SEQUENCE || step->index >= (gint64)parent->items->len)
                return NULL;
        return g_ptr_array_index(parent->items, step->index);
}

/* Puts value (owned) where step names in parent. */
static gboolean
lima_set_store(LimaYamlNode *parent, const LimaSetStep *step, LimaYamlNode *value,
               const gchar *path, GError **error)
{
        g_autoptr(LimaYamlNode) owned = value;

        if (step->key != NULL) {
                lima_yaml_mapping_set(parent, step->key, g_steal_pointer(&owned));
                return TRUE;
        }
        if (step->index < (gint64)parent->items->len) {
                lima_yaml_node_unref(g_ptr_array_index(parent->items, step->index));
                parent->items->pdata[step->index] = g_steal_pointer(&owned);
                return TRUE;
        }
        if (step->index == (gint64)parent->items->len) {
                lima_yaml_sequence_append(parent, g_steal_pointer(&owned));
                return TRUE;
        }
        {
                g_autofree gchar *index = g_strdup_printf("%" G_GINT64_FORMAT, step->index);
                g_autofree gchar *what = g_strdup_printf(
                    _("index %s is past the end of a list of %u"), index, parent->items->len);
                lima_set_where_error(error, parent, path, what);
        }
        return FALSE;
}

/* Walks to the parent of the last step, making missing mappings and lists on the way, as yq
 * does. */
static LimaYamlNode *
lima_set_walk(LimaYamlNode *root, LimaSetExpr *e, GError **error)
{
        LimaYamlNode *node = root;

        for (guint i = 0; i < e->steps->len; i++) {
                const LimaSetStep *step = g_ptr_array_index(e->steps, i);
                gboolean want_map = step->key != NULL;
                LimaYamlNode *child;

                if (node->kind != (want_map ? LIMA_YAML_MAPPING : LIMA_YAML_SEQUENCE)) {
                        g_autofree gchar *what =
                            g_strdup_printf(_("a %s is here, not the %s the path needs"),
                                            lima_yaml_kind_to_string(node->kind),
                                            want_map ? _("mapping") : _("list"));
                        lima_set_where_error(error, node, e->path_text, what);
                        return NULL;
                }
                if (i + 1 == e->steps->len)
                        return node;
                child = lima_set_child(node, step);
                if (child == NULL || lima_yaml_node_is_null(child)) {
                        const LimaSetStep *next = g_ptr_array_index(e->steps, i + 1);
                        LimaYamlNode *made =
                            next->key != NULL ? lima_yaml_mapping_new() : lima_yaml_sequence_new();
                        if (!lima_set_store(node, step, made, e->path_text, error))
                                return NULL;
                        child = lima_set_child(node, step);
                }
                node = child;
        }
        return node;
}

static gboolean
lima_set_apply_one(LimaYamlNode *root, LimaSetExpr *e, GError **error)
{
        LimaYamlNode *parent;
        LimaYamlNode *current;
        const LimaSetStep *last;

        if (e->steps->len == 0) {
                lima_set_where_error(error, NULL, ".", _("the whole document cannot be set"));
                return FALSE;
        }
        parent = lima_set_walk(root, e, error);
        if (parent == NULL)
                return FALSE;
        last = g_ptr_array_index(e->steps, e->steps->len - 1);
        current = lima_set_child(parent, last);
        if (!e->append || current == NULL || lima_yaml_node_is_null(current))
                return lima_set_store(parent, last, lima_yaml_node_copy(e->value), e->path_text,
                                      error);
        if (current->kind != LIMA_YAML_SEQUENCE || e->value->kind != LIMA_YAML_SEQUENCE) {
                lima_set_where_error(error, current, e->path_text,
                                     _("+= appends a [list] to a list; use = to replace"));
                return FALSE;
        }
        for (guint i = 0; i < e->value->items->len; i++)
                lima_yaml_sequence_append(
                    current, lima_yaml_node_copy(g_ptr_array_index(e->value->items, i)));
        return TRUE;
}

gboolean
lima_yaml_set_apply(LimaYamlNode *root, const gchar *expr, GError **error)
{
        g_autoptr(GPtrArray) parts = lima_set_split(expr);

        for (guint i = 0; i < parts->len; i++) {
                g_autoptr(LimaSetExpr) e = lima_set_parse(g_ptr_array_index(parts, i), error);
                if (e == NULL || !lima_set_apply_one(root, e, error))
                        return FALSE;
        }
        return TRUE;
}

/* ---- keeping the text: a scalar replaced where it is written ---- */

typedef struct {
        gsize start;
        gsize end;
        gchar *text;
} LimaSetSplice;

static void
lima_set_splice_free(LimaSetSplice *s)
{
        g_free(s->text);
        g_free(s);
}

/* Byte offset of 1-based line and (character) column in text, or -1. */
static gssize
lima_set_offset(const gchar *text, guint line, guint column)
{
        const gchar *p = text;
        for (guint l = 1; l < line; l++) {
                p = strchr(p, '\n');
                if (p == NULL)
                        return -1;
                p++;
        }
        for (guint c = 1; c < column; c++) {
                if (*p == '\0' || *p == '\n')
                        return -1;
                p = g_utf8_next_char(p);
        }
        return p - text;
}

/* The end of the scalar written at start, or 0 when it is not one this edit can replace. */
static gsize
lima_set_scalar_end(const gchar *text, gsize start)
{
        const gchar *p = text + start;
        const gchar *line_start = p;

        while (line_start > text && line_start[-1] != '\n')
                line_start--;
        if (*p == '"') {
                for (p++; *p != '\0' && *p != '"' && *p != '\n'; p++) {
                        if (*p == '\\' && p[1] != '\0')
                                p++;
                }
                return *p == '"' ? (gsize)(p + 1 - text) : 0;
        }
        if (*p == '\'') {
                for (p++; *p != '\0' && *p != '\n'; p++) {
                        if (*p == '\'' && p[1] == '\'')
                                p++;
                        else if (*p == '\'')
                                return p + 1 - text;
                }
                return 0;
        }
        /* Plain scalars in flow collections or blocks scalars: leave to the emitter. */
        if (*p == '\0' || strchr("|>#\n[{", *p) != NULL ||
            memchr(line_start, '[', p - line_start) != NULL ||
            memchr(line_start, '{', p - line_start) != NULL)
                return 0;
        while (*p != '\0' && *p != '\n' && !(*p == '#' && (p[-1] == ' ' || p[-1] == '\t')))
                p++;
        while (p > text + start && (p[-1] == ' ' || p[-1] == '\t'))
                p--;
        return p - text;
}

static gchar *
lima_set_scalar_text(LimaYamlNode *value)
{
        GString *s;
        if (!value->quoted)
                return g_strdup(value->scalar);
        s = g_string_new("\"");
        for (const gchar *p = value->scalar; *p != '\0'; p++) {
                if (*p == '"' || *p == '\\')
                        g_string_append_printf(s, "\\%c", *p);
                else if ((guchar)*p < 0x20 || *p == 0x7f)
                        g_string_append_printf(s, "\\x%02x", (guchar)*p);
                else
                        g_string_append_c(s, *p);
        }
        g_string_append_c(s, '"');
        return g_string_free(s, FALSE);
}

/* A splice for e on the original tree, or NULL when e needs the emitter. */
static LimaSetSplice *
lima_set_plan_splice(const gchar *text, LimaYamlNode *root, LimaSetExpr *e)
{
        LimaYamlNode *node = root;
        LimaSetSplice *splice;
        gssize start;
        gsize end;

        if (e->append || e->value->kind != LIMA_YAML_SCALAR || e->steps->len == 0)
                return NULL;
        for (guint i = 0; node != NULL && i < e->steps->len; i++)
                node = lima_set_child(node, g_ptr_array_index(e->steps, i));
        if (node == NULL || node->kind != LIMA_YAML_SCALAR || node->line == 0 ||
            strchr(node->scalar, '\n') != NULL)
                return NULL;
        start = lima_set_offset(text, node->line, node->column);
        if (start < 0)
                return NULL;
        end = lima_set_scalar_end(text, start);
        if (end == 0)
                return NULL;
        /* A plain scalar must read back as what the parser saw, or this is not it. */
        if (text[start] != '"' && text[start] != '\'' &&
            (end - start != strlen(node->scalar) ||
             strncmp(text + start, node->scalar, end - start) != 0))
                return NULL;
        splice = g_new0(LimaSetSplice, 1);
        splice->start = start;
        splice->end = end;
        splice->text = lima_set_scalar_text(e->value);
        return splice;
}

static gint
lima_set_splice_cmp(gconstpointer a, gconstpointer b)
{
        const LimaSetSplice *x = *(LimaSetSplice *const *)a;
        const LimaSetSplice *y = *(LimaSetSplice *const *)b;
        return x->start < y->start ? 1 : x->start > y->start ? -1 : 0;
}

gchar *
lima_yaml_set_apply_text(const gchar *text, const gchar *file, const gchar *const *exprs,
                         GError **error)
{
        g_autoptr(LimaYamlNode) root = lima_yaml_parse(text, strlen(text), file, error);
        g_autoptr(LimaYamlNode) original = NULL;
        g_autoptr(GPtrArray) splices =
            g_ptr_array_new_with_free_func((GDestroyNotify)lima_set_splice_free);
        gboolean keep_text = TRUE;
        GString *out;

        if (root == NULL && error != NULL && *error != NULL)
                return NULL;
        if (root == NULL || lima_yaml_node_is_null(root)) {
                g_clear_pointer(&root, lima_yaml_node_unref);
                root = lima_yaml_mapping_new();
        }
        if (root->kind != LIMA_YAML_MAPPING) {
                lima_set_where_error(error, root, "", _("the document is not a mapping"));
                return NULL;
        }
        original = g_steal_pointer(&root);
        root = lima_yaml_node_copy(original);
        for (guint i = 0; exprs != NULL && exprs[i] != NULL; i++) {
                g_autoptr(GPtrArray) parts = lima_set_split(exprs[i]);
                for (guint j = 0; j < parts->len; j++) {
                        g_autoptr(LimaSetExpr) e =
                            lima_set_parse(g_ptr_array_index(parts, j), error);
                        LimaSetSplice *splice;
                        if (e == NULL || !lima_set_apply_one(root, e, error))
                                return NULL;
                        splice = keep_text ? lima_set_plan_splice(text, original, e) : NULL;
                        for (guint k = 0; splice != NULL && k < splices->len; k++) {
                                const LimaSetSplice *s = g_ptr_array_index(splices, k);
                                if (s->start == splice->start)
                                        g_clear_pointer(&splice, lima_set_splice_free);
                        }
                        if (splice == NULL)
                                keep_text = FALSE;
                        else
                                g_ptr_array_add(splices, splice);
                }
        }
        if (!keep_text)
                return lima_yaml_emit(root, error);
        g_ptr_array_sort(splices, lima_set_splice_cmp);
        out = g_string_new(text);
        for (guint i = 0; i < splices->len; i++) {
                const LimaSetSplice *s = g_ptr_array_index(splices, i);
                g_string_erase(out, s->start, s->end - s->start);
                g_string_insert(out, s->start, s->text);
        }
        return g_string_free(out, FALSE);
}
