/* An ISO 9660 image (Joliet + Rock Ridge) made from files in memory, by xorriso (or genisoimage
 * where xorriso is missing). Used for the cidata seed. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
        gchar *path; /* relative, '/'-separated, no ".." */
        GBytes *contents;
        guint mode; /* permission bits, kept by Rock Ridge */
} LimaIsoFile;

LimaIsoFile *lima_iso_file_new(const gchar *path, GBytes *contents, guint mode);
/* contents of a text file are NUL-terminated in memory (the NUL is not part of the file). */
LimaIsoFile *lima_iso_file_new_text(const gchar *path, const gchar *text, guint mode);
void lima_iso_file_free(LimaIsoFile *file);

/* The tool that will write images, or NULL with error set when none is installed. */
gchar *lima_iso9660_find_tool(GError **error);

/* files: LimaIsoFile*. The image appears at iso_path whole or not at all (temp + rename). */
gboolean lima_iso9660_write(GPtrArray *files, const gchar *label, const gchar *iso_path,
                            GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(LimaIsoFile, lima_iso_file_free)

G_END_DECLS
