#include "lima-image-disk.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>
#include <unistd.h>

#include "lima-error.h"
#include "lima-image-file.h"
#include "lima-paths.h"

#define LIMA_IMAGE_DISK_SECTOR 512u
/* ISO 9660: the primary volume descriptor's "CD001" sits in sector 16 of 2048 bytes. */
#define LIMA_IMAGE_ISO_MAGIC_OFFSET 0x8001
#define LIMA_IMAGE_ISO_MAGIC        "CD001"

typedef struct {
        const gchar *name;
        const gchar *magic;
        gsize len;
        const gchar *tool;
} LimaImageCompression;

/* Compressed images qemu-img would take for raw disks. */
static const LimaImageCompression lima_image_compressions[] = {
        { "xz", "\xfd\x37\x7a\x58\x5a\x00", 6, "unxz" },
        { "gzip", "\x1f\x8b", 2, "gunzip" },
        { "zstd", "\x28\xb5\x2f\xfd", 4, "unzstd" },
        { "bzip2", "BZh", 3, "bunzip2" },
};

static gboolean
lima_image_qemu_img(const gchar *const *args, gchar **out, GError **error)
{
        g_autofree gchar *qemu_img = g_find_program_in_path("qemu-img");
        g_autoptr(GPtrArray) argv = g_ptr_array_new();
        g_autofree gchar *stdout_buf = NULL;
        g_autofree gchar *stderr_buf = NULL;
        g_autoptr(GError) local = NULL;
        gint status = 0;

        if (qemu_img == NULL) {
                g_set_error(error, LIMA_ERROR, LIMA_ERROR_UNSUPPORTED,
                            _("qemu-img is not installed; install it (apt-get install "
                              "qemu-utils)"));
                return FALSE;
        }
        g_ptr_array_add(argv, qemu_img);
        for (guint i = 0; args[i] != NULL; i++)
                g_ptr_array_add(argv, (gpointer)args[i]);
        g_ptr_array_add(argv, NULL);
        if (!g_spawn_sync(NULL, (gchar **)argv->pdata, NULL, G_SPAWN_STDIN_FROM_DEV_NULL, NULL,
                          NULL, &stdout_buf, &stderr_buf, &status, &local)) {
                g_set_error(error, LIMA_ERROR, LIMA_ERROR_UNSUPPORTED, _("cannot run %s: %s"),
                            qemu_img, local->message);
                return FALSE;
        }
        if (!g_spawn_check_wait_status(status, &local)) {
                g_set_error_literal(error, LIMA_ERROR, LIMA_ERROR_FAILED,
                                    stderr_buf != NULL && *g_strstrip(stderr_buf) != '\0'
                                        ? stderr_buf
                                        : local->message);
                return FALSE;
        }
        if (out != NULL)
                *out = g_steal_pointer(&stdout_buf);
        return TRUE;
}

/* qemu-img names formats with lower case letters, digits, '_' and '-'; nothing else. */
static gboolean
lima_image_format_is_sane(const gchar *format)
{
        if (format == NULL || *format == '\0')
                return FALSE;
        for (const gchar *c = format; *c != '\0'; c++) {
                if (!g_ascii_islower(*c) && !g_ascii_isdigit(*c) && *c != '_' && *c != '-')
                        return FALSE;
        }
        return TRUE;
}

static JsonObject *
lima_image_info(const gchar *path, GError **error)
{
        /* --force-share: reading the header of a base image that running instances hold
         * open must not fail on QEMU's image lock. */
        const gchar *args[] = { "info", "--output=json", "--force-share", path, NULL };
        g_autoptr(JsonParser) parser = json_parser_new();
        g_autoptr(GError) local = NULL;
        g_autofree gchar *out = NULL;
        JsonNode *root;

        if (!lima_image_qemu_img(args, &out, &local)) {
                if (!g_error_matches(local, LIMA_ERROR, LIMA_ERROR_FAILED)) {
                        g_propagate_error(error, g_steal_pointer(&local));
                        return NULL;
                }
                g_set_error(error, LIMA_ERROR, LIMA_ERROR_INVALID_CONFIG,
                            _("%s is not a disk image qemu-img can read (%s); download it again "
                              "or fix the image location in the config"),
                            path, local->message);
                return NULL;
        }
        if (!json_parser_load_from_data(parser, out, -1, error)) {
                g_prefix_error(error, _("cannot read qemu-img's report on %s: "), path);
                return NULL;
        }
        root = json_parser_get_root(parser);
        if (root == NULL || !JSON_NODE_HOLDS_OBJECT(root)) {
                g_set_error(error, LIMA_ERROR, LIMA_ERROR_FAILED,
                            _("cannot read qemu-img's report on %s: not a JSON object"), path);
                return NULL;
        }
        return json_object_ref(json_node_get_object(root));
}

/* The format and virtual size from qemu-img's report. */
static gboolean
lima_image_info_get(JsonObject *info, const gchar *path, const gchar **format,
                    guint64 *virtual_size, GError **error)
{
        const gchar *fmt = json_object_get_string_member_with_default(info, "format", NULL);
        gint64 size = json_object_get_int_member_with_default(info, "virtual-size", -1);

        if (!lima_image_format_is_sane(fmt) || size < 0) {
                g_set_error(error, LIMA_ERROR, LIMA_ERROR_FAILED,
                            _("qemu-img reports no format or size for %s"), path);
                return FALSE;
        }
        *format = fmt;
        *virtual_size = (guint64)size;
        return TRUE;
}

gboolean
lima_image_disk_query(const gchar *path, gchar **format, guint64 *virtual_size, GError **error)
{
        g_autoptr(JsonObject) info = lima_image_info(path, error);
        const gchar *fmt = NULL;
        guint64 size = 0;

        if (info == NULL || !lima_image_info_get(info, path, &fmt, &size, error))
                return FALSE;
        if (format != NULL)
                *format = g_strdup(fmt);
        if (virtual_size != NULL)
                *virtual_size = size;
        return TRUE;
}

/* Reads up to len bytes at offset; the count read, or -1. */
static gssize
lima_image_read_at(const gchar *path, goffset offset, gchar *buf, gsize len)
{
        gint fd = open(path, O_RDONLY | O_CLOEXEC);
        gssize n;

        if (fd < 0)
                return -1;
        n = pread(fd, buf, len, offset);
        close(fd);
        return n;
}

gboolean
lima_image_is_iso(const gchar *path)
{
        gchar magic[sizeof(LIMA_IMAGE_ISO_MAGIC) - 1];

        return lima_image_read_at(path, LIMA_IMAGE_ISO_MAGIC_OFFSET, magic, sizeof(magic)) ==
                   (gssize)sizeof(magic) &&
               memcmp(magic, LIMA_IMAGE_ISO_MAGIC, sizeof(magic)) == 0;
}

/* What qemu-img calls "raw" is anything it cannot name: refuse what is plainly not a disk. */
static gboolean
lima_image_check_raw(const gchar *path, GError **error)
{
        gchar head[8] = { 0 };
        gssize n = lima_image_read_at(path, 0, head, sizeof(head));
        GStatBuf st;

        if (n < 0 || g_stat(path, &st) != 0)
                return lima_image_file_set_errno(error, errno, _("cannot read"), path);
        for (guint i = 0; i < G_N_ELEMENTS(lima_image_compressions); i++) {
                const LimaImageCompression *c = &lima_image_compressions[i];
                if ((gsize)n >= c->len && memcmp(head, c->magic, c->len) == 0) {
                        g_set_error(error, LIMA_ERROR, LIMA_ERROR_INVALID_CONFIG,
                                    _("%s is %s-compressed; decompress it (%s) and use the "
                                      "result as the image"),
                                    path, c->name, c->tool);
                        return FALSE;
                }
        }
        if (st.st_size == 0 || st.st_size % LIMA_IMAGE_DISK_SECTOR != 0) {
                g_set_error(error, LIMA_ERROR, LIMA_ERROR_INVALID_CONFIG,
                            _("%s is not a disk image: qemu-img does not recognise its format, "
                              "and as a raw disk its size (%lld bytes) is not a "
                              "whole number of 512-byte sectors; download it again or fix the "
                              "image location in the config"),
                            path, (long long)st.st_size);
                return FALSE;
        }
        return TRUE;
}

static JsonObject *
lima_image_json_object(JsonObject *object, const gchar *name)
{
        JsonNode *node = json_object_get_member(object, name);
        return node != NULL && JSON_NODE_HOLDS_OBJECT(node) ? json_node_get_object(node) : NULL;
}

/* Refuses bases that would reach beyond themselves or that QEMU found damaged. */
static gboolean
lima_image_check_base(JsonObject *info, const gchar *path, GError **error)
{
        JsonObject *specific = NULL;
        JsonObject *data = NULL;

        /* A downloaded image naming a backing file could make the guest read any host file. */
        if (json_object_has_member(info, "backing-filename")) {
                g_set_error(
                    error, LIMA_ERROR, LIMA_ERROR_INVALID_CONFIG,
                    _("%s has a backing file (%s) of its own; use a self-contained "
                      "image (qemu-img convert -O qcow2 %s NEW)"),
                    path, json_object_get_string_member_with_default(info, "backing-filename", "?"),
                    path);
                return FALSE;
        }
        specific = lima_image_json_object(info, "format-specific");
        data = specific != NULL ? lima_image_json_object(specific, "data") : NULL;
        if (data != NULL && json_object_get_boolean_member_with_default(data, "corrupt", FALSE)) {
                g_set_error(error, LIMA_ERROR, LIMA_ERROR_INVALID_CONFIG,
                            _("qemu-img marks %s as corrupt; download it again, or repair it "
                              "with qemu-img check -r all"),
                            path);
                return FALSE;
        }
        return TRUE;
}

/* Runs qemu-img create into a temp file beside diffdisk_path and publishes it. */
static gboolean
lima_image_create_diffdisk(const gchar *diffdisk_path, const gchar *format, const gchar *abs_base,
                           guint64 size, GError **error)
{
        g_autofree gchar *tmp_path = NULL;
        g_autofree gchar *size_arg = g_strdup_printf("%" G_GUINT64_FORMAT, size);
        g_autoptr(GPtrArray) args = g_ptr_array_new();
        g_autoptr(GError) local = NULL;
        gboolean existed = FALSE;
        /* The disk holds the guest's data: only its owner reads it. */
        gint fd = lima_image_file_open_tmp(diffdisk_path, 0600, &tmp_path, error);

        if (fd < 0)
                return FALSE;
        close(fd);
        g_ptr_array_add(args, "create");
        g_ptr_array_add(args, "-q");
        g_ptr_array_add(args, "-f");
        g_ptr_array_add(args, "qcow2");
        if (abs_base != NULL) {
                /* An absolute path starts with '/', so QEMU never reads it as "proto:…". */
                g_ptr_array_add(args, "-F");
                g_ptr_array_add(args, (gpointer)format);
                g_ptr_array_add(args, "-b");
                g_ptr_array_add(args, (gpointer)abs_base);
        }
        g_ptr_array_add(args, tmp_path);
        g_ptr_array_add(args, size_arg);
        g_ptr_array_add(args, NULL);
        if (!lima_image_qemu_img((const gchar *const *)args->pdata, NULL, &local)) {
                g_unlink(tmp_path);
                g_set_error(error, LIMA_ERROR, LIMA_ERROR_FAILED,
                            _("cannot create the disk %s: %s"), diffdisk_path, local->message);
                return FALSE;
        }
        if (!lima_image_file_fsync(tmp_path, error)) {
                g_unlink(tmp_path);
                return FALSE;
        }
        /* existed: another start of this instance made it meanwhile; theirs is as good. */
        return lima_image_file_publish(tmp_path, diffdisk_path, &existed, error);
}

gboolean
lima_image_prepare_disk(const gchar *base_path, const gchar *diffdisk_path, guint64 disk_bytes,
                        GError **error)
{
        g_autofree gchar *abs_base = g_canonicalize_filename(base_path, NULL);
        g_autoptr(JsonObject) info = NULL;
        const gchar *format = NULL;
        guint64 virtual_size = 0;
        guint64 size;
        GStatBuf st;

        g_return_val_if_fail(base_path != NULL && diffdisk_path != NULL, FALSE);

        if (g_lstat(diffdisk_path, &st) == 0)
                return TRUE;
        if (g_stat(abs_base, &st) != 0) {
                gint saved_errno = errno;
                if (saved_errno != ENOENT)
                        return lima_image_file_set_errno(error, saved_errno, _("cannot use"),
                                                         abs_base);
                g_set_error(error, LIMA_ERROR, LIMA_ERROR_NOT_FOUND,
                            _("the base image %s does not exist; fetch the image first"), abs_base);
                return FALSE;
        }
        info = lima_image_info(abs_base, error);
        if (info == NULL || !lima_image_info_get(info, abs_base, &format, &virtual_size, error) ||
            !lima_image_check_base(info, abs_base, error))
                return FALSE;
        if (g_str_equal(format, "raw") && lima_image_is_iso(abs_base)) {
                if (disk_bytes == 0) {
                        g_set_error(error, LIMA_ERROR, LIMA_ERROR_INVALID_CONFIG,
                                    _("%s is an ISO image, so the disk starts empty and needs a "
                                      "size; set disk: in the config"),
                                    abs_base);
                        return FALSE;
                }
                size = (disk_bytes + LIMA_IMAGE_DISK_SECTOR - 1) / LIMA_IMAGE_DISK_SECTOR *
                       LIMA_IMAGE_DISK_SECTOR;
                return lima_image_create_diffdisk(diffdisk_path, NULL, NULL, size, error);
        }
        if (g_str_equal(format, "raw") && !lima_image_check_raw(abs_base, error))
                return FALSE;
        /* qcow2 sizes are whole sectors; a disk: smaller than the image cannot shrink it. */
        size = MAX(disk_bytes, virtual_size);
        size =
            (size + LIMA_IMAGE_DISK_SECTOR - 1) / LIMA_IMAGE_DISK_SECTOR * LIMA_IMAGE_DISK_SECTOR;
        if (disk_bytes < virtual_size)
                g_debug("%s (%" G_GUINT64_FORMAT " bytes) is larger than disk:, so the disk "
                        "gets its size",
                        abs_base, virtual_size);
        return lima_image_create_diffdisk(diffdisk_path, format, abs_base, size, error);
}

gboolean
lima_image_install_file(const gchar *src_path, const gchar *dest_path, GError **error)
{
        g_autofree gchar *tmp_path = NULL;
        gboolean existed = FALSE;
        gboolean ok;
        GStatBuf st;
        gint fd;

        if (g_lstat(dest_path, &st) == 0)
                return TRUE;
        fd = lima_image_file_open_tmp(dest_path, 0644, &tmp_path, error);
        if (fd < 0)
                return FALSE;
        ok = lima_image_file_copy_to_fd(src_path, fd, tmp_path, error);
        if (ok && fsync(fd) != 0)
                ok = lima_image_file_set_errno(error, errno, _("cannot sync"), tmp_path);
        close(fd);
        if (!ok) {
                g_unlink(tmp_path);
                g_prefix_error(error, _("cannot copy %s to %s: "), src_path, dest_path);
                return FALSE;
        }
        return lima_image_file_publish(tmp_path, dest_path, &existed, error);
}

gboolean
lima_image_install_boot_files(const gchar *instance_dir, const gchar *kernel_path,
                              const gchar *initrd_path, GError **error)
{
        g_autofree gchar *kernel = g_build_filename(instance_dir, LIMA_FILE_KERNEL, NULL);
        g_autofree gchar *initrd = g_build_filename(instance_dir, LIMA_FILE_INITRD, NULL);

        if (kernel_path != NULL && !lima_image_install_file(kernel_path, kernel, error))
                return FALSE;
        if (initrd_path != NULL && !lima_image_install_file(initrd_path, initrd, error))
                return FALSE;
        return TRUE;
}
