#include "lima-config-mounts.h"

#include <string.h>

#include "lima-config-fill.h"

/* Only YAML that is not YAML at all fails here; type problems are for validation to name. */
static LimaConfig *
lima_config_mounts_load(const gchar *text, const gchar *file, GError **error)
{
        g_autoptr(LimaDiagnostics) diags = lima_diagnostics_new(file);
        return lima_config_load_data(text, strlen(text), file, diags, error);
}

/* ---- edits of the text itself, so the user's comments and layout survive ---- */

/* The top-level block sequence under "mounts:": its lines [first, end) and the indent of its
 * items; FALSE when there is none (no key, or flow style such as "mounts: []"). */
typedef struct {
        gint key;    /* the "mounts:" line, or -1 */
        guint first; /* the first line after it */
        guint end;   /* one past its last item line that is not blank or a comment */
        guint indent;
} LimaMountsBlock;

static gboolean
lima_text_is_filler(const gchar *line)
{
        const gchar *p = line;
        while (*p == ' ' || *p == '\t')
                p++;
        return *p == '\0' || *p == '#';
}

static gboolean
lima_text_find_block(gchar **lines, LimaMountsBlock *b)
{
        b->key = -1;
        for (guint i = 0; lines[i] != NULL; i++) {
                if (g_str_has_prefix(lines[i], "mounts:")) {
                        const gchar *rest = lines[i] + strlen("mounts:");
                        if (!lima_text_is_filler(rest))
                                return FALSE; /* flow style or a scalar: leave it to the model */
                        b->key = (gint)i;
                        break;
                }
        }
        if (b->key < 0)
                return FALSE;
        b->first = (guint)b->key + 1;
        b->end = b->first;
        b->indent = G_MAXUINT;
        for (guint i = b->first; lines[i] != NULL; i++) {
                const gchar *line = lines[i];
                guint spaces = (guint)strspn(line, " ");
                if (lima_text_is_filler(line))
                        continue;
                /* A key at column 0 ends it; "- " at column 0 is an item of it. */
                if (spaces == 0 && line[0] != '-')
                        break;
                if (b->indent == G_MAXUINT && line[spaces] == '-')
                        b->indent = spaces;
                b->end = i + 1;
        }
        if (b->indent == G_MAXUINT)
                b->indent = 0;
        return TRUE;
}

/* The item starts within the block: lines at the item indent that begin with "-". */
static GArray *
lima_text_item_starts(gchar **lines, const LimaMountsBlock *b)
{
        GArray *starts = g_array_new(FALSE, FALSE, sizeof(guint));
        for (guint i = b->first; i < b->end; i++) {
                const gchar *line = lines[i];
                if (!lima_text_is_filler(line) && strspn(line, " ") == b->indent &&
                    line[b->indent] == '-')
                        g_array_append_val(starts, i);
        }
        return starts;
}

/* The lines of one mounts entry as the emitter writes it, indented by indent. */
static gchar **
lima_text_entry_lines(const LimaMount *m, guint indent, GError **error)
{
        g_autoptr(LimaConfig) cfg = lima_config_new();
        g_autofree gchar *yaml = NULL;
        g_auto(GStrv) lines = NULL;
        g_autofree gchar *pad = g_strnfill(indent, ' ');
        GPtrArray *out = g_ptr_array_new();

        g_ptr_array_add(cfg->mounts, lima_mount_copy(m));
        yaml = lima_config_to_yaml(cfg, error);
        if (yaml == NULL) {
                g_ptr_array_free(out, TRUE);
                return NULL;
        }
        lines = g_strsplit(yaml, "\n", -1);
        for (guint i = 0; lines[i] != NULL; i++) {
                if (g_str_has_prefix(lines[i], "mounts:") || *lines[i] == '\0')
                        continue;
                g_ptr_array_add(out, g_strconcat(pad, lines[i], NULL));
        }
        g_ptr_array_add(out, NULL);
        return (gchar **)g_ptr_array_free(out, FALSE);
}

static gchar *
lima_text_join(GPtrArray *lines)
{
        g_autoptr(GString) out = g_string_new(NULL);
        for (guint i = 0; i < lines->len; i++)
                g_string_append_printf(out, "%s\n", (const gchar *)g_ptr_array_index(lines, i));
        return g_string_free(g_steal_pointer(&out), FALSE);
}

static gchar *
lima_text_add(const gchar *text, const LimaMount *m, GError **error)
{
        g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
        guint n = g_strv_length(lines);
        g_autoptr(GPtrArray) out = g_ptr_array_new();
        g_auto(GStrv) entry = NULL;
        LimaMountsBlock b;
        guint at;

        /* A trailing newline leaves one empty last piece: it is not a line. */
        if (n > 0 && *lines[n - 1] == '\0')
                n--;
        if (!lima_text_find_block(lines, &b)) {
                if (b.key >= 0)
                        return NULL;
                entry = lima_text_entry_lines(m, 0, error);
                if (entry == NULL)
                        return NULL;
                for (guint i = 0; i < n; i++)
                        g_ptr_array_add(out, lines[i]);
                g_ptr_array_add(out, (gpointer) "mounts:");
                for (guint i = 0; entry[i] != NULL; i++)
                        g_ptr_array_add(out, entry[i]);
                return lima_text_join(out);
        }
        entry = lima_text_entry_lines(m, b.indent, error);
        if (entry == NULL)
                return NULL;
        at = b.end;
        for (guint i = 0; i < n; i++) {
                if (i == at)
                        for (guint e = 0; entry[e] != NULL; e++)
                                g_ptr_array_add(out, entry[e]);
                g_ptr_array_add(out, lines[i]);
        }
        if (at >= n)
                for (guint e = 0; entry[e] != NULL; e++)
                        g_ptr_array_add(out, entry[e]);
        return lima_text_join(out);
}

/* text without the items whose index is in drop (the order the model reads them in). */
static gchar *
lima_text_remove(const gchar *text, GArray *drop)
{
        g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
        guint n = g_strv_length(lines);
        g_autoptr(GArray) starts = NULL;
        g_autoptr(GPtrArray) out = g_ptr_array_new();
        LimaMountsBlock b;

        if (n > 0 && *lines[n - 1] == '\0')
                n--;
        if (!lima_text_find_block(lines, &b))
                return NULL;
        starts = lima_text_item_starts(lines, &b);
        for (guint i = 0; i < n; i++) {
                gboolean dropped = FALSE;
                for (guint k = 0; k < starts->len && !dropped; k++) {
                        guint from = g_array_index(starts, guint, k);
                        guint to =
                            k + 1 < starts->len ? g_array_index(starts, guint, k + 1) : b.end;
                        /* Blank lines and comments before the next item stay with it. */
                        while (to > from + 1 && lima_text_is_filler(lines[to - 1]))
                                to--;
                        for (guint d = 0; d < drop->len && !dropped; d++)
                                dropped = g_array_index(drop, guint, d) == k && i >= from && i < to;
                }
                if (!dropped)
                        g_ptr_array_add(out, lines[i]);
        }
        return lima_text_join(out);
}

/* The text edit is used only when it reads back exactly as the model's edit does. */
static gboolean
lima_text_same_as(const gchar *edited, const gchar *file, const gchar *model_yaml)
{
        g_autoptr(LimaConfig) cfg = NULL;
        g_autofree gchar *yaml = NULL;
        if (edited == NULL)
                return FALSE;
        cfg = lima_config_mounts_load(edited, file, NULL);
        if (cfg == NULL)
                return FALSE;
        yaml = lima_config_to_yaml(cfg, NULL);
        return yaml != NULL && g_str_equal(yaml, model_yaml);
}

/* ---- the edits ---- */

gchar *
lima_config_mounts_add(const gchar *text, const gchar *file, const gchar *location,
                       const gchar *mount_point, gboolean writable, GError **error)
{
        g_autoptr(LimaConfig) cfg = lima_config_mounts_load(text, file, error);
        g_autofree gchar *model = NULL;
        g_autofree gchar *edited = NULL;
        LimaMount *m;

        if (cfg == NULL)
                return NULL;
        m = lima_mount_new();
        lima_string_set(&m->location, location, NULL);
        if (mount_point != NULL)
                lima_string_set(&m->mount_point, mount_point, NULL);
        lima_bool_set(&m->writable, writable, NULL);
        g_ptr_array_add(cfg->mounts, m);
        model = lima_config_to_yaml(cfg, error);
        if (model == NULL)
                return NULL;
        edited = lima_text_add(text, m, NULL);
        return lima_text_same_as(edited, file, model) ? g_steal_pointer(&edited)
                                                      : g_steal_pointer(&model);
}

gchar *
lima_config_mounts_remove(const gchar *text, const gchar *file, LimaConfig *filled,
                          const LimaHost *host, const gchar *mount_point, guint *removed,
                          GError **error)
{
        g_autoptr(LimaConfig) cfg = lima_config_mounts_load(text, file, error);
        g_autoptr(GArray) drop = g_array_new(FALSE, FALSE, sizeof(guint));
        g_autofree gchar *target = NULL;
        g_autofree gchar *model = NULL;
        g_autofree gchar *edited = NULL;

        if (cfg == NULL)
                return NULL;
        target = g_canonicalize_filename(mount_point, "/");
        /* Backwards, so removing keeps the indexes still to visit. */
        for (guint i = cfg->mounts->len; i > 0; i--) {
                g_autofree gchar *mp = lima_config_fill_mount_point(
                    filled, g_ptr_array_index(cfg->mounts, i - 1), host);
                if (mp != NULL && g_str_equal(mp, target)) {
                        guint index = i - 1;
                        g_ptr_array_remove_index(cfg->mounts, index);
                        g_array_append_val(drop, index);
                }
        }
        if (removed != NULL)
                *removed = drop->len;
        model = lima_config_to_yaml(cfg, error);
        if (model == NULL)
                return NULL;
        if (drop->len == 0)
                return g_strdup(text);
        edited = lima_text_remove(text, drop);
        return lima_text_same_as(edited, file, model) ? g_steal_pointer(&edited)
                                                      : g_steal_pointer(&model);
}
