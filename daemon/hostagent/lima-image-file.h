/*
 * File steps shared by the image cache and the instance disks: syncing, and publishing a
 * finished temp file under its final name without ever replacing what is there (a cached image
 * or a disk may already be the backing file of a running instance).
 */
#pragma once

#include <glib.h>
#include <sys/stat.h>

G_BEGIN_DECLS

/* Sets a G_FILE_ERROR from errno: "WHAT PATH: strerror". Returns FALSE. */
gboolean lima_image_file_set_errno(GError **error, gint saved_errno, const gchar *what,
                                   const gchar *path);

/* fsync(2) on a file or a folder by path. */
gboolean lima_image_file_fsync(const gchar *path, GError **error);

/* Opens a new temp file "FINAL.tmp.XXXXXX" beside final_path; its name goes to *tmp_path. */
gint lima_image_file_open_tmp(const gchar *final_path, gint mode, gchar **tmp_path, GError **error);

/* Gives the synced temp file its final name and syncs the folder. When final_path already
 * exists it is kept, tmp_path is removed and *existed is TRUE. On error tmp_path is removed. */
gboolean lima_image_file_publish(const gchar *tmp_path, const gchar *final_path, gboolean *existed,
                                 GError **error);

/* Writes contents to path atomically (temp, fsync, rename), replacing path; when mtime is not
 * NULL the file gets that modification time. */
gboolean lima_image_file_write(const gchar *path, const gchar *contents,
                               const struct timespec *mtime, GError **error);

/* Copies the file at src_path into the open fd (named dest_path for messages). */
gboolean lima_image_file_copy_to_fd(const gchar *src_path, gint fd, const gchar *dest_path,
                                    GError **error);

/* Removes "*.tmp.*" files in dir older than a day: downloads cut short by a crash. */
void lima_image_file_remove_stale_tmp(const gchar *dir);

G_END_DECLS
