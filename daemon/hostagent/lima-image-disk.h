/*
 * An instance's disks: a qcow2 "diffdisk" on top of the (read-only, shared) base image, and the
 * kernel and initrd copied next to it when the image brings its own. An instance that already
 * has these keeps them: its disk was built on them.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Asks `qemu-img info` for path's format ("qcow2", "raw", …) and virtual size in bytes.
 * LIMA_ERROR_INVALID_CONFIG with qemu-img's own complaint when path is not an image it can
 * read; LIMA_ERROR_UNSUPPORTED when qemu-img is not installed. */
gboolean lima_image_disk_query(const gchar *path, gchar **format, guint64 *virtual_size,
                               GError **error);

/* Whether path is an ISO 9660 image (a live/installer image, booted as a CD-ROM). */
gboolean lima_image_is_iso(const gchar *path);

/* Creates diffdisk_path, atomically, unless it exists: a qcow2 backed by base_path (by its
 * absolute path, with the format pinned so QEMU never probes it) of max(disk_bytes, the base's
 * virtual size). An ISO base gets an empty qcow2 of disk_bytes instead, without a backing file
 * (the caller attaches the ISO as a CD-ROM), as Lima does. Base images that have a backing
 * file of their own, are compressed, or are marked corrupt are refused. */
gboolean lima_image_prepare_disk(const gchar *base_path, const gchar *diffdisk_path,
                                 guint64 disk_bytes, GError **error);

/* Copies src_path to dest_path atomically; a file already at dest_path is kept. */
gboolean lima_image_install_file(const gchar *src_path, const gchar *dest_path, GError **error);

/* Copies kernel_path and initrd_path (each may be NULL) into instance_dir as "kernel" and
 * "initrd", atomically; a file already there is kept. */
gboolean lima_image_install_boot_files(const gchar *instance_dir, const gchar *kernel_path,
                                       const gchar *initrd_path, GError **error);

G_END_DECLS
