/* The builtin SFTP server (daemon/hostagent/lima-sftp-server.c): each request through
 * handle_packet, confinement to the root, read-only shares, hostile packets, the stream loop,
 * and the real sshfs client mounting through it. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sftp-test-client.h"

static guint32 next_id = 1;

typedef struct {
        gchar *top;    /* holds root and, beside it, what must stay unreachable */
        gchar *root;   /* the served directory */
        gchar *secret; /* top/secret: a file outside root */
        LimaSftpServer *s;
} Fixture;

static gchar *
fx_path(Fixture *fx, const gchar *rel)
{
        return g_build_filename(fx->root, rel, NULL);
}

static void
fx_write(Fixture *fx, const gchar *rel, const gchar *text)
{
        g_autofree gchar *path = fx_path(fx, rel);
        g_autoptr(GError) error = NULL;
        g_file_set_contents(path, text, -1, &error);
        g_assert_no_error(error);
}

static gchar *
fx_read(Fixture *fx, const gchar *rel)
{
        g_autofree gchar *path = fx_path(fx, rel);
        gchar *text = NULL;
        if (!g_file_get_contents(path, &text, NULL, NULL))
                return NULL;
        return text;
}

static gboolean
fx_exists(Fixture *fx, const gchar *rel)
{
        g_autofree gchar *path = fx_path(fx, rel);
        struct stat st;
        return lstat(path, &st) == 0;
}

static void
rm_rf(const gchar *path)
{
        g_autoptr(GFile) file = g_file_new_for_path(path);
        g_autoptr(GFileEnumerator) en = NULL;
        GFileInfo *info;

        en = g_file_enumerate_children(file, G_FILE_ATTRIBUTE_STANDARD_NAME,
                                       G_FILE_QUERY_INFO_NOFOLLOW_SYMLINKS, NULL, NULL);
        while (en != NULL && g_file_enumerator_iterate(en, &info, NULL, NULL, NULL) &&
               info != NULL) {
                g_autofree gchar *child = g_build_filename(path, g_file_info_get_name(info), NULL);
                if (g_file_info_get_file_type(info) == G_FILE_TYPE_DIRECTORY)
                        rm_rf(child);
                else
                        g_unlink(child);
        }
        g_rmdir(path);
}

static void
fx_setup(Fixture *fx, gconstpointer data)
{
        g_autoptr(GError) error = NULL;
        gboolean use_openat2 = GPOINTER_TO_INT(data) != 2;
        gboolean read_only = GPOINTER_TO_INT(data) == 3;

        fx->top = g_dir_make_tmp("limad-sftp-test-XXXXXX", &error);
        g_assert_no_error(error);
        fx->root = g_build_filename(fx->top, "root", NULL);
        fx->secret = g_build_filename(fx->top, "secret", NULL);
        g_assert_cmpint(g_mkdir(fx->root, 0755), ==, 0);
        g_file_set_contents(fx->secret, "outside", -1, &error);
        g_assert_no_error(error);
        fx->s = lima_sftp_server_new(fx->root, read_only, &error);
        g_assert_no_error(error);
        g_assert_nonnull(fx->s);
        if (!use_openat2)
                lima_sftp_server_set_use_openat2(fx->s, FALSE);
}

static void
fx_teardown(Fixture *fx, gconstpointer data)
{
        g_autofree gchar *secret = NULL;

        lima_sftp_server_free(fx->s);
        /* Whatever the test did, the file outside root is untouched. */
        g_assert_true(g_file_get_contents(fx->secret, &secret, NULL, NULL));
        g_assert_cmpstr(secret, ==, "outside");
        rm_rf(fx->top);
        g_free(fx->top);
        g_free(fx->root);
        g_free(fx->secret);
}

/* ---- request helpers ---- */

static GByteArray *
req_path(guint8 type, guint32 id, const gchar *path)
{
        GByteArray *b = pkt_new(type, id);
        pkt_str(b, path);
        return b;
}

static guint32
path_status(Fixture *fx, guint8 type, const gchar *path)
{
        guint32 id = next_id++;
        return test_status(fx->s, req_path(type, id, path), id);
}

static guint32
pair_status(Fixture *fx, guint8 type, const gchar *a, const gchar *b)
{
        guint32 id = next_id++;
        GByteArray *pkt = req_path(type, id, a);
        pkt_str(pkt, b);
        return test_status(fx->s, pkt, id);
}

static guint32
ext_pair_status(Fixture *fx, const gchar *ext, const gchar *a, const gchar *b)
{
        guint32 id = next_id++;
        GByteArray *pkt = req_path(T_EXTENDED, id, ext);
        pkt_str(pkt, a);
        pkt_str(pkt, b);
        return test_status(fx->s, pkt, id);
}

/* OPEN or OPENDIR: the handle, or NULL with *status set. */
static GBytes *
open_handle(Fixture *fx, guint8 type, const gchar *path, guint32 pflags, gint perm, guint32 *status)
{
        guint32 id = next_id++;
        GByteArray *pkt = req_path(type, id, path);
        g_autoptr(TestReply) r = NULL;
        g_autofree gchar *h = NULL;
        gsize len;

        if (type == T_OPEN) {
                pkt_u32(pkt, pflags);
                pkt_u32(pkt, perm >= 0 ? A_PERM : 0);
                if (perm >= 0)
                        pkt_u32(pkt, (guint32)perm);
        }
        r = test_request(fx->s, pkt, id);
        if (r->type == T_STATUS) {
                *status = rep_u32(r);
                return NULL;
        }
        g_assert_cmpuint(r->type, ==, T_HANDLE);
        h = rep_str(r, &len);
        *status = FX_OK;
        return g_bytes_new(h, len);
}

static GBytes *
open_ok(Fixture *fx, const gchar *path, guint32 pflags, gint perm)
{
        guint32 status = 0;
        GBytes *h = open_handle(fx, T_OPEN, path, pflags, perm, &status);
        g_assert_cmpuint(status, ==, FX_OK);
        return h;
}

static GByteArray *
req_handle(guint8 type, guint32 id, GBytes *h)
{
        GByteArray *b = pkt_new(type, id);
        gsize len;
        const void *data = g_bytes_get_data(h, &len);
        pkt_bytes(b, data, len);
        return b;
}

static guint32
close_status(Fixture *fx, GBytes *h)
{
        guint32 id = next_id++;
        return test_status(fx->s, req_handle(T_CLOSE, id, h), id);
}

static guint32
write_status(Fixture *fx, GBytes *h, guint64 offset, const gchar *text)
{
        guint32 id = next_id++;
        GByteArray *pkt = req_handle(T_WRITE, id, h);
        pkt_u64(pkt, offset);
        pkt_str(pkt, text);
        return test_status(fx->s, pkt, id);
}

/* READ: the data, or NULL with *status set. */
static gchar *
read_data(Fixture *fx, GBytes *h, guint64 offset, guint32 len, guint32 *status)
{
        guint32 id = next_id++;
        GByteArray *pkt = req_handle(T_READ, id, h);
        g_autoptr(TestReply) r = NULL;

        pkt_u64(pkt, offset);
        pkt_u32(pkt, len);
        r = test_request(fx->s, pkt, id);
        if (r->type == T_STATUS) {
                *status = rep_u32(r);
                return NULL;
        }
        g_assert_cmpuint(r->type, ==, T_DATA);
        *status = FX_OK;
        return rep_str(r, NULL);
}

/* STAT/LSTAT: attributes, or flags 0 with *status set. */
static TestAttrs
stat_path(Fixture *fx, guint8 type, const gchar *path, guint32 *status)
{
        guint32 id = next_id++;
        g_autoptr(TestReply) r = test_request(fx->s, req_path(type, id, path), id);
        TestAttrs none = { 0 };

        if (r->type == T_STATUS) {
                *status = rep_u32(r);
                return none;
        }
        g_assert_cmpuint(r->type, ==, T_ATTRS);
        *status = FX_OK;
        return rep_attrs(r);
}

/* REALPATH/READLINK: the one name, or NULL with *status set. */
static gchar *
one_name(Fixture *fx, guint8 type, const gchar *path, guint32 *status)
{
        guint32 id = next_id++;
        g_autoptr(TestReply) r = test_request(fx->s, req_path(type, id, path), id);
        g_autofree gchar *longname = NULL;
        gchar *name;

        if (r->type == T_STATUS) {
                *status = rep_u32(r);
                return NULL;
        }
        g_assert_cmpuint(r->type, ==, T_NAME);
        g_assert_cmpuint(rep_u32(r), ==, 1);
        name = rep_str(r, NULL);
        longname = rep_str(r, NULL);
        rep_attrs(r);
        *status = FX_OK;
        return name;
}

static gint
cmp_names(gconstpointer a, gconstpointer b)
{
        return strcmp(*(const gchar *const *)a, *(const gchar *const *)b);
}

/* Every name READDIR gives for path, sorted, joined with spaces; longnames checked. */
static gchar *
list_dir(Fixture *fx, const gchar *path)
{
        guint32 status;
        g_autoptr(GBytes) h = open_handle(fx, T_OPENDIR, path, 0, -1, &status);
        g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);

        g_assert_cmpuint(status, ==, FX_OK);
        for (;;) {
                guint32 id = next_id++;
                g_autoptr(TestReply) r = test_request(fx->s, req_handle(T_READDIR, id, h), id);
                guint32 count;

                if (r->type == T_STATUS) {
                        g_assert_cmpuint(rep_u32(r), ==, FX_EOF);
                        break;
                }
                g_assert_cmpuint(r->type, ==, T_NAME);
                count = rep_u32(r);
                g_assert_cmpuint(count, >, 0);
                for (guint32 i = 0; i < count; i++) {
                        gchar *name = rep_str(r, NULL);
                        g_autofree gchar *longname = rep_str(r, NULL);
                        TestAttrs a = rep_attrs(r);

                        g_assert_true(g_str_has_suffix(longname, name));
                        g_assert_true(strchr("-dlcbps", longname[0]) != NULL);
                        g_assert_cmpuint(a.flags, ==, A_SIZE | A_UIDGID | A_PERM | A_TIME);
                        if (strcmp(name, ".") != 0 && strcmp(name, "..") != 0)
                                g_ptr_array_add(names, name);
                        else
                                g_free(name);
                }
        }
        g_assert_cmpuint(close_status(fx, h), ==, FX_OK);
        g_ptr_array_sort(names, cmp_names);
        g_ptr_array_add(names, NULL);
        return g_strjoinv(" ", (gchar **)names->pdata);
}

/* ---- requests ---- */

static void
test_init(Fixture *fx, gconstpointer data)
{
        GByteArray *pkt = g_byte_array_new();
        g_autoptr(TestReply) r = NULL;
        g_autoptr(GString) exts = g_string_new(NULL);
        guint8 type = T_INIT;

        g_byte_array_append(pkt, &type, 1);
        pkt_u32(pkt, 6); /* a newer client still gets version 3 */
        r = test_request(fx->s, pkt, 0);
        g_assert_cmpuint(r->type, ==, 2);
        g_assert_cmpuint(rep_u32(r), ==, 3);
        while (r->pos < r->raw->len) {
                g_autofree gchar *name = rep_str(r, NULL);
                g_autofree gchar *version = rep_str(r, NULL);
                g_string_append_printf(exts, "%s=%s ", name, version);
        }
        g_assert_cmpstr(exts->str, ==,
                        "posix-rename@openssh.com=1 statvfs@openssh.com=2 "
                        "hardlink@openssh.com=1 fsync@openssh.com=1 ");
}

static void
test_open_read_write(Fixture *fx, gconstpointer data)
{
        g_autoptr(GBytes) h = NULL;
        g_autoptr(GBytes) h2 = NULL;
        g_autofree gchar *text = NULL;
        g_autofree gchar *part = NULL;
        g_autofree gchar *eof = NULL;
        g_autofree gchar *path = fx_path(fx, "new.txt");
        guint32 status;
        struct stat st;

        h = open_ok(fx, "/new.txt", O_W | O_C | O_T, 0640);
        g_assert_cmpuint(write_status(fx, h, 0, "hello world"), ==, FX_OK);
        g_assert_cmpuint(write_status(fx, h, 6, "WORLD"), ==, FX_OK);
        g_assert_cmpuint(close_status(fx, h), ==, FX_OK);
        text = fx_read(fx, "new.txt");
        g_assert_cmpstr(text, ==, "hello WORLD");
        g_assert_cmpint(stat(path, &st), ==, 0);
        g_assert_cmpuint(st.st_mode & 07777, ==, 0640);

        /* A closed handle is gone. */
        g_assert_cmpuint(close_status(fx, h), ==, FX_FAILURE);

        h2 = open_ok(fx, "new.txt", O_R, -1);
        part = read_data(fx, h2, 6, 100, &status);
        g_assert_cmpuint(status, ==, FX_OK);
        g_assert_cmpstr(part, ==, "WORLD");
        eof = read_data(fx, h2, 11, 100, &status);
        g_assert_null(eof);
        g_assert_cmpuint(status, ==, FX_EOF);
        /* Writing through a read-only handle is refused by the kernel. */
        g_assert_cmpuint(write_status(fx, h2, 0, "x"), !=, FX_OK);
        g_assert_cmpuint(close_status(fx, h2), ==, FX_OK);
}

static void
test_open_flags(Fixture *fx, gconstpointer data)
{
        g_autoptr(GBytes) h = NULL;
        g_autoptr(GBytes) h2 = NULL;
        g_autofree gchar *text = NULL;
        g_autofree gchar *text2 = NULL;
        guint32 status;

        fx_write(fx, "f", "0123456789");
        /* EXCL on an existing file. */
        g_assert_null(open_handle(fx, T_OPEN, "f", O_W | O_C | O_X, 0644, &status));
        g_assert_cmpuint(status, ==, FX_FAILURE);
        /* Without CREAT, a missing file. */
        g_assert_null(open_handle(fx, T_OPEN, "missing", O_R, -1, &status));
        g_assert_cmpuint(status, ==, FX_NO_SUCH_FILE);
        g_assert_false(fx_exists(fx, "missing"));
        /* APPEND writes at the end whatever the offset. */
        h = open_ok(fx, "f", O_W | O_A, -1);
        g_assert_cmpuint(write_status(fx, h, 0, "ab"), ==, FX_OK);
        g_assert_cmpuint(close_status(fx, h), ==, FX_OK);
        text = fx_read(fx, "f");
        g_assert_cmpstr(text, ==, "0123456789ab");
        /* TRUNC empties it. */
        h2 = open_ok(fx, "f", O_R | O_W | O_T, -1);
        g_assert_cmpuint(close_status(fx, h2), ==, FX_OK);
        text2 = fx_read(fx, "f");
        g_assert_cmpstr(text2, ==, "");
        /* A directory opens but does not read. */
        {
                g_autofree gchar *d = fx_path(fx, "d");
                g_autoptr(GBytes) hd = NULL;
                g_autofree gchar *none = NULL;

                g_assert_cmpint(g_mkdir(d, 0755), ==, 0);
                hd = open_ok(fx, "d", O_R, -1);
                none = read_data(fx, hd, 0, 10, &status);
                g_assert_null(none);
                g_assert_cmpuint(status, ==, FX_FAILURE);
                g_assert_cmpuint(close_status(fx, hd), ==, FX_OK);
        }
}

static void
test_stat(Fixture *fx, gconstpointer data)
{
        g_autoptr(GBytes) h = NULL;
        g_autofree gchar *target = fx_path(fx, "f");
        g_autofree gchar *link = fx_path(fx, "l");
        TestAttrs a;
        guint32 id;
        guint32 status;
        struct stat st;

        fx_write(fx, "f", "12345");
        g_assert_cmpint(symlink("f", link), ==, 0);
        g_assert_cmpint(stat(target, &st), ==, 0);

        a = stat_path(fx, T_STAT, "l", &status);
        g_assert_cmpuint(status, ==, FX_OK);
        g_assert_cmpuint(a.size, ==, 5);
        g_assert_true(S_ISREG(a.perm));
        g_assert_cmpuint(a.uid, ==, st.st_uid);
        g_assert_cmpuint(a.gid, ==, st.st_gid);
        g_assert_cmpuint(a.mtime, ==, (guint32)st.st_mtime);
        a = stat_path(fx, T_LSTAT, "l", &status);
        g_assert_cmpuint(status, ==, FX_OK);
        g_assert_true(S_ISLNK(a.perm));
        a = stat_path(fx, T_LSTAT, "/", &status);
        g_assert_cmpuint(status, ==, FX_OK);
        g_assert_true(S_ISDIR(a.perm));
        stat_path(fx, T_STAT, "nope", &status);
        g_assert_cmpuint(status, ==, FX_NO_SUCH_FILE);
        stat_path(fx, T_LSTAT, "f/under-a-file", &status);
        g_assert_cmpuint(status, ==, FX_NO_SUCH_FILE);

        h = open_ok(fx, "f", O_R, -1);
        id = next_id++;
        {
                g_autoptr(TestReply) r = test_request(fx->s, req_handle(T_FSTAT, id, h), id);
                g_assert_cmpuint(r->type, ==, T_ATTRS);
                a = rep_attrs(r);
                g_assert_cmpuint(a.size, ==, 5);
        }
        g_assert_cmpuint(close_status(fx, h), ==, FX_OK);
}

static void
test_setstat(Fixture *fx, gconstpointer data)
{
        g_autofree gchar *path = fx_path(fx, "f");
        g_autoptr(GBytes) h = NULL;
        GByteArray *pkt;
        guint32 id;
        struct stat st;

        fx_write(fx, "f", "0123456789");
        id = next_id++;
        pkt = req_path(T_SETSTAT, id, "f");
        pkt_u32(pkt, A_SIZE | A_PERM | A_TIME);
        pkt_u64(pkt, 4);
        pkt_u32(pkt, 0600);
        pkt_u32(pkt, 1000000000);
        pkt_u32(pkt, 1200000000);
        g_assert_cmpuint(test_status(fx->s, pkt, id), ==, FX_OK);
        g_assert_cmpint(stat(path, &st), ==, 0);
        g_assert_cmpint(st.st_size, ==, 4);
        g_assert_cmpuint(st.st_mode & 07777, ==, 0600);
        g_assert_cmpint(st.st_atime, ==, 1000000000);
        g_assert_cmpint(st.st_mtime, ==, 1200000000);

        /* uid/gid are applied: to the owner they already have, which any user may do. */
        id = next_id++;
        pkt = req_path(T_SETSTAT, id, "f");
        pkt_u32(pkt, A_UIDGID);
        pkt_u32(pkt, st.st_uid);
        pkt_u32(pkt, st.st_gid);
        g_assert_cmpuint(test_status(fx->s, pkt, id), ==, FX_OK);

        h = open_ok(fx, "f", O_R | O_W, -1);
        id = next_id++;
        pkt = req_handle(T_FSETSTAT, id, h);
        pkt_u32(pkt, A_SIZE | A_PERM);
        pkt_u64(pkt, 2);
        pkt_u32(pkt, 0644);
        g_assert_cmpuint(test_status(fx->s, pkt, id), ==, FX_OK);
        g_assert_cmpuint(close_status(fx, h), ==, FX_OK);
        g_assert_cmpint(stat(path, &st), ==, 0);
        g_assert_cmpint(st.st_size, ==, 2);
        g_assert_cmpuint(st.st_mode & 07777, ==, 0644);

        id = next_id++;
        pkt = req_path(T_SETSTAT, id, "missing");
        pkt_u32(pkt, A_PERM);
        pkt_u32(pkt, 0600);
        g_assert_cmpuint(test_status(fx->s, pkt, id), ==, FX_NO_SUCH_FILE);
}

static void
test_readdir(Fixture *fx, gconstpointer data)
{
        g_autofree gchar *listing = NULL;
        g_autofree gchar *sub = NULL;
        g_autofree gchar *big = NULL;
        g_autofree gchar *dir = fx_path(fx, "d");
        g_autofree gchar *many = fx_path(fx, "many");
        g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
        guint32 status;

        fx_write(fx, "a", "1");
        g_assert_cmpint(g_mkdir(dir, 0755), ==, 0);
        fx_write(fx, "d/inner", "2");
        listing = list_dir(fx, "/");
        g_assert_cmpstr(listing, ==, "a d");
        sub = list_dir(fx, "d");
        g_assert_cmpstr(sub, ==, "inner");

        /* More entries than one reply holds. */
        g_assert_cmpint(g_mkdir(many, 0755), ==, 0);
        for (guint i = 0; i < 250; i++) {
                g_autofree gchar *rel = g_strdup_printf("many/f%03u", i);
                fx_write(fx, rel, "");
                g_ptr_array_add(names, g_strdup_printf("f%03u", i));
        }
        g_ptr_array_add(names, NULL);
        big = list_dir(fx, "many");
        {
                g_autofree gchar *joined = g_strjoinv(" ", (gchar **)names->pdata);
                g_assert_cmpstr(big, ==, joined);
        }

        g_assert_null(open_handle(fx, T_OPENDIR, "a", 0, -1, &status));
        g_assert_cmpuint(status, ==, FX_NO_SUCH_FILE); /* ENOTDIR */
        g_assert_null(open_handle(fx, T_OPENDIR, "none", 0, -1, &status));
        g_assert_cmpuint(status, ==, FX_NO_SUCH_FILE);
}

static void
test_namespace_ops(Fixture *fx, gconstpointer data)
{
        g_autofree gchar *d = fx_path(fx, "d");
        g_autofree gchar *text = NULL;
        g_autofree gchar *link_text = NULL;
        g_autofree gchar *read_back = NULL;
        guint32 status;
        GByteArray *pkt;
        guint32 id;
        struct stat st;

        /* MKDIR with permissions, RMDIR refusing a non-empty directory. */
        id = next_id++;
        pkt = req_path(T_MKDIR, id, "d");
        pkt_u32(pkt, A_PERM);
        pkt_u32(pkt, 0700);
        g_assert_cmpuint(test_status(fx->s, pkt, id), ==, FX_OK);
        g_assert_cmpint(stat(d, &st), ==, 0);
        g_assert_true(S_ISDIR(st.st_mode));
        g_assert_cmpuint(st.st_mode & 07777, ==, 0700);
        id = next_id++;
        pkt = req_path(T_MKDIR, id, "d");
        pkt_u32(pkt, 0);
        g_assert_cmpuint(test_status(fx->s, pkt, id), ==, FX_FAILURE);
        fx_write(fx, "d/x", "x");
        g_assert_cmpuint(path_status(fx, T_RMDIR, "d"), ==, FX_FAILURE);

        /* REMOVE; then RMDIR of the emptied directory. */
        g_assert_cmpuint(path_status(fx, T_REMOVE, "d/x"), ==, FX_OK);
        g_assert_cmpuint(path_status(fx, T_REMOVE, "d/x"), ==, FX_NO_SUCH_FILE);
        g_assert_cmpuint(path_status(fx, T_REMOVE, "d"), ==, FX_FAILURE);
        g_assert_cmpuint(path_status(fx, T_RMDIR, "d"), ==, FX_OK);
        g_assert_false(fx_exists(fx, "d"));
        g_assert_cmpuint(path_status(fx, T_RMDIR, "/"), !=, FX_OK);
        g_assert_cmpuint(path_status(fx, T_RMDIR, "."), !=, FX_OK);

        /* RENAME does not replace; posix-rename does. */
        fx_write(fx, "a", "A");
        fx_write(fx, "b", "B");
        g_assert_cmpuint(pair_status(fx, T_RENAME, "a", "b"), ==, FX_FAILURE);
        g_assert_cmpuint(pair_status(fx, T_RENAME, "a", "c"), ==, FX_OK);
        g_assert_false(fx_exists(fx, "a"));
        g_assert_cmpuint(ext_pair_status(fx, "posix-rename@openssh.com", "c", "b"), ==, FX_OK);
        text = fx_read(fx, "b");
        g_assert_cmpstr(text, ==, "A");
        g_assert_false(fx_exists(fx, "c"));
        g_assert_cmpuint(pair_status(fx, T_RENAME, "none", "z"), ==, FX_NO_SUCH_FILE);

        /* hardlink@openssh.com */
        g_assert_cmpuint(ext_pair_status(fx, "hardlink@openssh.com", "b", "hl"), ==, FX_OK);
        read_back = fx_read(fx, "hl");
        g_assert_cmpstr(read_back, ==, "A");

        /* SYMLINK in OpenSSH's order: the link's text first, where to make it second. */
        g_assert_cmpuint(pair_status(fx, T_SYMLINK, "b", "sl"), ==, FX_OK);
        {
                g_autofree gchar *sl = fx_path(fx, "sl");
                link_text = g_file_read_link(sl, NULL);
                g_assert_cmpstr(link_text, ==, "b");
        }
        g_assert_cmpuint(pair_status(fx, T_SYMLINK, "b", "sl"), ==, FX_FAILURE);
        {
                g_autofree gchar *rl = one_name(fx, T_READLINK, "sl", &status);
                g_assert_cmpstr(rl, ==, "b");
        }
        {
                g_autofree gchar *rl = one_name(fx, T_READLINK, "b", &status);
                g_assert_null(rl);
                g_assert_cmpuint(status, ==, FX_BAD_MESSAGE); /* EINVAL: not a link */
        }
}

static void
test_realpath(Fixture *fx, gconstpointer data)
{
        static const struct {
                const gchar *in;
                const gchar *out;
        } cases[] = {
                { "", "/" },
                { ".", "/" },
                { "/", "/" },
                { "..", "/" },
                { "/../../..", "/" },
                { "d", "/d" },
                { "d/", "/d" },
                { "./d/../d/.", "/d" },
                { "/d/new", "/d/new" }, /* the last component need not exist */
                { "ld", "/d" },         /* symlinks resolved, inside root */
                { "up/d", "/d" },
        };
        g_autofree gchar *d = fx_path(fx, "d");
        g_autofree gchar *ld = fx_path(fx, "ld");
        g_autofree gchar *up = fx_path(fx, "up");
        guint32 status;

        g_assert_cmpint(g_mkdir(d, 0755), ==, 0);
        g_assert_cmpint(symlink("/d", ld), ==, 0);
        g_assert_cmpint(symlink("../..", up), ==, 0);
        for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autofree gchar *out = one_name(fx, T_REALPATH, cases[i].in, &status);
                g_test_message("realpath %s", cases[i].in);
                g_assert_cmpuint(status, ==, FX_OK);
                g_assert_cmpstr(out, ==, cases[i].out);
        }
        {
                g_autofree gchar *out = one_name(fx, T_REALPATH, "no/such/dir", &status);
                g_assert_null(out);
                g_assert_cmpuint(status, ==, FX_NO_SUCH_FILE);
        }
}

static void
test_extensions(Fixture *fx, gconstpointer data)
{
        g_autoptr(GBytes) h = NULL;
        g_autoptr(TestReply) r = NULL;
        GByteArray *pkt;
        guint32 id;
        guint64 flag;

        id = next_id++;
        pkt = req_path(T_EXTENDED, id, "statvfs@openssh.com");
        pkt_str(pkt, "/");
        r = test_request(fx->s, pkt, id);
        g_assert_cmpuint(r->type, ==, T_EXTENDED_REPLY);
        g_assert_cmpuint(rep_u64(r), >, 0); /* bsize */
        for (guint i = 0; i < 8; i++)
                rep_u64(r);
        flag = rep_u64(r);
        g_assert_cmpuint(flag & 1, ==, GPOINTER_TO_INT(data) == 3 ? 1 : 0);
        g_assert_cmpuint(rep_u64(r), >, 0); /* namemax */
        g_assert_cmpuint(r->pos, ==, r->raw->len);

        if (GPOINTER_TO_INT(data) != 3) {
                h = open_ok(fx, "f", O_W | O_C, 0644);
                id = next_id++;
                pkt = req_path(T_EXTENDED, id, "fsync@openssh.com");
                {
                        gsize len;
                        const void *hd = g_bytes_get_data(h, &len);
                        pkt_bytes(pkt, hd, len);
                }
                g_assert_cmpuint(test_status(fx->s, pkt, id), ==, FX_OK);
                g_assert_cmpuint(close_status(fx, h), ==, FX_OK);
        }

        id = next_id++;
        pkt = req_path(T_EXTENDED, id, "copy-data");
        g_assert_cmpuint(test_status(fx->s, pkt, id), ==, FX_OP_UNSUPPORTED);
        id = next_id++;
        g_assert_cmpuint(test_status(fx->s, pkt_new(99, id), id), ==, FX_OP_UNSUPPORTED);
}

/* ---- confinement (run with openat2 and with the fallback walk) ---- */

static void
test_confine_dotdot_absolute(Fixture *fx, gconstpointer data)
{
        g_autofree gchar *listing = NULL;
        guint32 status;

        fx_write(fx, "inside", "in");
        /* "..", however many, stops at root: ../secret is root/secret, which does not exist. */
        stat_path(fx, T_STAT, "../secret", &status);
        g_assert_cmpuint(status, ==, FX_NO_SUCH_FILE);
        stat_path(fx, T_LSTAT, "/../../secret", &status);
        g_assert_cmpuint(status, ==, FX_NO_SUCH_FILE);
        g_assert_null(open_handle(fx, T_OPEN, "d/../../secret", O_R, -1, &status));
        g_assert_cmpuint(status, ==, FX_NO_SUCH_FILE);
        stat_path(fx, T_STAT, "../inside", &status);
        g_assert_cmpuint(status, ==, FX_OK);
        listing = list_dir(fx, "../..");
        g_assert_cmpstr(listing, ==, "inside");

        /* Absolute paths are inside root too. */
        stat_path(fx, T_STAT, "/etc/passwd", &status);
        g_assert_cmpuint(status, ==, FX_NO_SUCH_FILE);
        stat_path(fx, T_STAT, fx->secret, &status);
        g_assert_cmpuint(status, ==, FX_NO_SUCH_FILE);

        /* Mutations aimed outside land inside, or nowhere. */
        g_assert_cmpuint(path_status(fx, T_REMOVE, "../secret"), ==, FX_NO_SUCH_FILE);
        g_assert_cmpuint(pair_status(fx, T_RENAME, "../secret", "stolen"), ==, FX_NO_SUCH_FILE);
        g_assert_cmpuint(ext_pair_status(fx, "hardlink@openssh.com", "../secret", "stolen"), ==,
                         FX_NO_SUCH_FILE);
        g_assert_cmpuint(pair_status(fx, T_RENAME, "inside", "../escaped"), ==, FX_OK);
        g_assert_true(fx_exists(fx, "escaped"));
        {
                g_autofree gchar *outside = g_build_filename(fx->top, "escaped", NULL);
                g_assert_false(g_file_test(outside, G_FILE_TEST_EXISTS));
        }
        {
                g_autoptr(GBytes) h = open_ok(fx, "../../made", O_W | O_C, 0644);
                g_autofree gchar *outside = g_build_filename(fx->top, "made", NULL);
                g_assert_cmpuint(close_status(fx, h), ==, FX_OK);
                g_assert_true(fx_exists(fx, "made"));
                g_assert_false(g_file_test(outside, G_FILE_TEST_EXISTS));
        }
}

static void
test_confine_symlinks(Fixture *fx, gconstpointer data)
{
        static const struct {
                const gchar *name;
                const gchar *target;
        } links[] = {
                { "etc", "/etc" },
                { "passwd", "/etc/passwd" },
                { "up", "../secret" },
                { "chain1", "chain2" },
                { "chain2", "sub/chain3" },
                { "sub/chain3", "../../up" },
                { "loop1", "loop2" },
                { "loop2", "loop1" },
                { "dangling", "../outfile" },
                { "abs-top", "/../../" },
                { "sub/rel", "../../../.." },
        };
        g_autofree gchar *sub = fx_path(fx, "sub");
        g_autofree gchar *etc_text = NULL;
        guint32 status;
        GByteArray *pkt;
        guint32 id;
        struct stat before;
        struct stat after;

        g_assert_cmpint(g_mkdir(sub, 0755), ==, 0);
        for (gsize i = 0; i < G_N_ELEMENTS(links); i++) {
                g_autofree gchar *path = fx_path(fx, links[i].name);
                g_assert_cmpint(symlink(links[i].target, path), ==, 0);
        }
        fx_write(fx, "mine", "mine");

        /* A link to /etc is root/etc: nothing there. */
        stat_path(fx, T_STAT, "etc/passwd", &status);
        g_assert_cmpuint(status, ==, FX_NO_SUCH_FILE);
        g_assert_null(open_handle(fx, T_OPEN, "passwd", O_R, -1, &status));
        g_assert_cmpuint(status, ==, FX_NO_SUCH_FILE);
        g_assert_null(open_handle(fx, T_OPENDIR, "etc", 0, -1, &status));
        g_assert_cmpuint(status, ==, FX_NO_SUCH_FILE);
        /* READLINK gives the text as is. */
        etc_text = one_name(fx, T_READLINK, "passwd", &status);
        g_assert_cmpstr(etc_text, ==, "/etc/passwd");

        /* ../secret through a link, and through a chain of links. */
        g_assert_null(open_handle(fx, T_OPEN, "up", O_R, -1, &status));
        g_assert_cmpuint(status, ==, FX_NO_SUCH_FILE);
        g_assert_null(open_handle(fx, T_OPEN, "chain1", O_R, -1, &status));
        g_assert_cmpuint(status, ==, FX_NO_SUCH_FILE);
        stat_path(fx, T_LSTAT, "chain1", &status);
        g_assert_cmpuint(status, ==, FX_OK);
        /* A loop fails. */
        stat_path(fx, T_STAT, "loop1", &status);
        g_assert_cmpuint(status, ==, FX_NO_SUCH_FILE);
        /* Links that climb land on root. */
        {
                g_autofree gchar *l1 = list_dir(fx, "abs-top");
                g_autofree gchar *l2 = list_dir(fx, "sub/rel");
                g_autofree gchar *l3 = list_dir(fx, "sub/rel/sub/rel/");
                g_assert_nonnull(strstr(l1, "mine"));
                g_assert_cmpstr(l1, ==, l2);
                g_assert_cmpstr(l1, ==, l3);
        }
        stat_path(fx, T_STAT, "sub/rel/secret", &status);
        g_assert_cmpuint(status, ==, FX_NO_SUCH_FILE);

        /* SETSTAT follows links, but only inside. */
        g_assert_cmpint(stat(fx->secret, &before), ==, 0);
        id = next_id++;
        pkt = req_path(T_SETSTAT, id, "up");
        pkt_u32(pkt, A_PERM | A_SIZE);
        pkt_u64(pkt, 0);
        pkt_u32(pkt, 0777);
        g_assert_cmpuint(test_status(fx->s, pkt, id), ==, FX_NO_SUCH_FILE);
        g_assert_cmpint(stat(fx->secret, &after), ==, 0);
        g_assert_cmpuint(before.st_mode, ==, after.st_mode);

        /* Creating through a dangling link that points outside creates inside. */
        {
                g_autoptr(GBytes) h = open_ok(fx, "dangling", O_W | O_C, 0644);
                g_autofree gchar *outside = g_build_filename(fx->top, "outfile", NULL);
                g_assert_cmpuint(close_status(fx, h), ==, FX_OK);
                g_assert_false(g_file_test(outside, G_FILE_TEST_EXISTS));
                g_assert_true(fx_exists(fx, "outfile"));
        }

        /* SYMLINK may make a link that points out; following it stays in. */
        g_assert_cmpuint(pair_status(fx, T_SYMLINK, fx->secret, "to-secret"), ==, FX_OK);
        g_assert_null(open_handle(fx, T_OPEN, "to-secret", O_R | O_W | O_T, -1, &status));
        g_assert_cmpuint(status, ==, FX_NO_SUCH_FILE);
        /* REMOVE of a link removes the link, not its target. */
        g_assert_cmpuint(path_status(fx, T_REMOVE, "to-secret"), ==, FX_OK);
        /* Through a parent that is a link out. */
        g_assert_cmpuint(pair_status(fx, T_SYMLINK, "x", "etc/newlink"), ==, FX_NO_SUCH_FILE);
        id = next_id++;
        pkt = req_path(T_MKDIR, id, "etc/newdir");
        pkt_u32(pkt, 0);
        g_assert_cmpuint(test_status(fx->s, pkt, id), ==, FX_NO_SUCH_FILE);
        {
                /* A dangling link names itself; nothing of the host's layout shows. */
                g_autofree gchar *r1 = one_name(fx, T_REALPATH, "up", &status);
                g_assert_cmpuint(status, ==, FX_OK);
                g_assert_cmpstr(r1, ==, "/up");
        }
}

static void
test_read_only(Fixture *fx, gconstpointer data)
{
        g_autoptr(GBytes) h = NULL;
        g_autofree gchar *text = NULL;
        g_autofree gchar *listing = NULL;
        guint32 status;
        GByteArray *pkt;
        guint32 id;

        fx_write(fx, "f", "ro");
        /* Reads work. */
        h = open_ok(fx, "f", O_R, -1);
        text = read_data(fx, h, 0, 10, &status);
        g_assert_cmpstr(text, ==, "ro");
        listing = list_dir(fx, "/");
        g_assert_cmpstr(listing, ==, "f");

        /* Everything that changes anything is refused. */
        for (guint32 flags = O_W; flags <= O_T; flags <<= 1) {
                g_assert_null(open_handle(fx, T_OPEN, "f", O_R | flags, 0644, &status));
                g_assert_cmpuint(status, ==, FX_PERMISSION_DENIED);
        }
        g_assert_cmpuint(write_status(fx, h, 0, "x"), ==, FX_PERMISSION_DENIED);
        id = next_id++;
        pkt = req_handle(T_FSETSTAT, id, h);
        pkt_u32(pkt, A_PERM);
        pkt_u32(pkt, 0777);
        g_assert_cmpuint(test_status(fx->s, pkt, id), ==, FX_PERMISSION_DENIED);
        id = next_id++;
        pkt = req_path(T_SETSTAT, id, "f");
        pkt_u32(pkt, A_SIZE);
        pkt_u64(pkt, 0);
        g_assert_cmpuint(test_status(fx->s, pkt, id), ==, FX_PERMISSION_DENIED);
        id = next_id++;
        pkt = req_path(T_MKDIR, id, "d");
        pkt_u32(pkt, 0);
        g_assert_cmpuint(test_status(fx->s, pkt, id), ==, FX_PERMISSION_DENIED);
        g_assert_cmpuint(path_status(fx, T_REMOVE, "f"), ==, FX_PERMISSION_DENIED);
        g_assert_cmpuint(path_status(fx, T_RMDIR, "f"), ==, FX_PERMISSION_DENIED);
        g_assert_cmpuint(pair_status(fx, T_RENAME, "f", "g"), ==, FX_PERMISSION_DENIED);
        g_assert_cmpuint(pair_status(fx, T_SYMLINK, "f", "g"), ==, FX_PERMISSION_DENIED);
        g_assert_cmpuint(ext_pair_status(fx, "posix-rename@openssh.com", "f", "g"), ==,
                         FX_PERMISSION_DENIED);
        g_assert_cmpuint(ext_pair_status(fx, "hardlink@openssh.com", "f", "g"), ==,
                         FX_PERMISSION_DENIED);
        g_assert_cmpuint(close_status(fx, h), ==, FX_OK);
        g_assert_false(fx_exists(fx, "g"));
        g_assert_false(fx_exists(fx, "d"));
        g_free(text);
        text = fx_read(fx, "f");
        g_assert_cmpstr(text, ==, "ro");
        test_extensions(fx, data);
}

/* ---- hostile input ---- */

static void
test_hostile_packets(Fixture *fx, gconstpointer data)
{
        static const guint8 empty[] = { 0 };
        static const guint8 no_id[] = { T_STAT, 0, 0 };
        static const guint8 init_short[] = { T_INIT, 0 };
        /* STAT whose path length runs past the end. */
        static const guint8 long_string[] = { T_STAT, 0, 0, 0, 7, 0xff, 0xff, 0xff, 0xff, 'a' };
        /* MKDIR with attrs claiming 2^32-1 extended pairs. */
        static const guint8 many_ext[] = { T_MKDIR, 0,    0, 0, 8, 0,    0,    0,    1,
                                           'x',     0x80, 0, 0, 0, 0xff, 0xff, 0xff, 0xff,
                                           0,       0,    0, 0, 0, 0,    0,    0 };
        /* A path with a NUL in it. */
        static const guint8 nul_path[] = { T_STAT, 0, 0, 0, 9, 0, 0, 0, 3, 'a', 0, 'b' };
        /* A 5-byte handle and a 0-byte handle. */
        static const guint8 bad_handle[] = { T_CLOSE, 0, 0, 0, 10, 0, 0, 0, 5, 1, 2, 3, 4, 5 };
        static const guint8 null_handle[] = { T_FSTAT, 0, 0, 0, 11, 0, 0, 0, 0 };
        g_autoptr(GPtrArray) handles =
            g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
        guint32 status;

        {
                g_autoptr(TestReply) r = test_send(fx->s, NULL, 0);
                g_assert_cmpuint(r->type, ==, T_STATUS);
        }
        {
                g_autoptr(TestReply) r = test_send(fx->s, empty, 0);
                g_assert_cmpuint(r->type, ==, T_STATUS);
        }
        {
                g_autoptr(TestReply) r = test_send(fx->s, no_id, sizeof(no_id));
                g_assert_cmpuint(r->type, ==, T_STATUS);
                g_assert_cmpuint(rep_u32(r), ==, 0);
                g_assert_cmpuint(rep_u32(r), ==, FX_BAD_MESSAGE);
        }
        {
                g_autoptr(TestReply) r = test_send(fx->s, init_short, sizeof(init_short));
                g_assert_cmpuint(r->type, ==, T_STATUS);
        }
        g_assert_cmpuint(
            test_status(fx->s,
                        g_byte_array_append(g_byte_array_new(), long_string, sizeof(long_string)),
                        7),
            ==, FX_BAD_MESSAGE);
        g_assert_cmpuint(
            test_status(fx->s, g_byte_array_append(g_byte_array_new(), many_ext, sizeof(many_ext)),
                        8),
            ==, FX_BAD_MESSAGE);
        g_assert_false(fx_exists(fx, "x"));
        g_assert_cmpuint(
            test_status(fx->s, g_byte_array_append(g_byte_array_new(), nul_path, sizeof(nul_path)),
                        9),
            ==, FX_BAD_MESSAGE);
        g_assert_cmpuint(
            test_status(
                fx->s, g_byte_array_append(g_byte_array_new(), bad_handle, sizeof(bad_handle)), 10),
            ==, FX_FAILURE);
        g_assert_cmpuint(
            test_status(fx->s,
                        g_byte_array_append(g_byte_array_new(), null_handle, sizeof(null_handle)),
                        11),
            ==, FX_FAILURE);

        /* Handles that were never given out, for every request that takes one. */
        {
                static const guint8 types[] = { T_CLOSE, T_READ,     T_WRITE,
                                                T_FSTAT, T_FSETSTAT, T_READDIR };
                guint8 fake[4] = { 0x7f, 0, 0, 1 };
                g_autoptr(GBytes) h = g_bytes_new(fake, sizeof(fake));

                for (gsize i = 0; i < G_N_ELEMENTS(types); i++) {
                        guint32 id = next_id++;
                        GByteArray *pkt = req_handle(types[i], id, h);
                        pkt_u64(pkt, 0);
                        pkt_u32(pkt, 0);
                        g_assert_cmpuint(test_status(fx->s, pkt, id), ==, FX_FAILURE);
                }
        }

        /* A READ asking for 4 GiB gets at most what a packet holds. */
        {
                g_autofree gchar *big = g_malloc(600 * 1024);
                g_autoptr(GBytes) h = NULL;
                g_autoptr(TestReply) r = NULL;
                g_autofree gchar *got = NULL;
                gsize got_len;
                guint32 id = next_id++;
                GByteArray *pkt;
                g_autofree gchar *path = fx_path(fx, "big");

                memset(big, 'z', 600 * 1024);
                g_assert_true(g_file_set_contents(path, big, 600 * 1024, NULL));
                h = open_ok(fx, "big", O_R, -1);
                pkt = req_handle(T_READ, id, h);
                pkt_u64(pkt, 0);
                pkt_u32(pkt, G_MAXUINT32);
                r = test_request(fx->s, pkt, id);
                g_assert_cmpuint(r->type, ==, T_DATA);
                got = rep_str(r, &got_len);
                g_assert_cmpuint(got_len, >, 0);
                g_assert_cmpuint(r->raw->len, <=, 256 * 1024);
                /* WRITE at an offset no file can reach. */
                g_assert_cmpuint(close_status(fx, h), ==, FX_OK);
        }
        {
                g_autoptr(GBytes) h = open_ok(fx, "w", O_W | O_C, 0644);
                g_assert_cmpuint(write_status(fx, h, G_MAXUINT64 - 1, "x"), ==, FX_FAILURE);
                g_assert_cmpuint(close_status(fx, h), ==, FX_OK);
        }

        /* The handle cap: the 1025th open fails, closing one makes room. */
        fx_write(fx, "f", "");
        for (guint i = 0; i < LIMA_SFTP_MAX_HANDLES; i++)
                g_ptr_array_add(handles, open_ok(fx, "f", O_R, -1));
        g_assert_null(open_handle(fx, T_OPEN, "f", O_R, -1, &status));
        g_assert_cmpuint(status, ==, FX_FAILURE);
        g_assert_null(open_handle(fx, T_OPENDIR, "/", 0, -1, &status));
        g_assert_cmpuint(status, ==, FX_FAILURE);
        g_assert_cmpuint(close_status(fx, g_ptr_array_index(handles, 17)), ==, FX_OK);
        g_ptr_array_add(handles, open_ok(fx, "f", O_R, -1));
        /* The 1024 still open are closed by lima_sftp_server_free (LeakSanitizer checks). */
}

/* Random bytes, and random mutations of valid requests: one framed reply each, no crash. */
static void
test_random_packets(Fixture *fx, gconstpointer data)
{
        g_autoptr(GRand) rand = g_rand_new_with_seed(20240601);
        static const guint8 seeds[][24] = {
                { T_OPEN, 0, 0, 0, 1, 0, 0, 0, 1, 'f', 0, 0, 0, 0x3b, 0, 0, 0, 4, 0, 0, 1, 0xa4 },
                { T_READ, 0, 0, 0, 2, 0, 0, 0, 4, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 16 },
                { T_READDIR, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0, 2 },
                { T_OPENDIR, 0, 0, 0, 4, 0, 0, 0, 1, '.' },
                { T_SETSTAT, 0, 0, 0, 5, 0, 0, 0, 1, 'f', 0, 0, 0, 0x0f },
        };

        fx_write(fx, "f", "data");
        for (guint i = 0; i < 20000; i++) {
                guint8 buf[64];
                gsize len = (gsize)g_rand_int_range(rand, 0, sizeof(buf));
                g_autoptr(GByteArray) reply = g_byte_array_new();
                guint32 framed;

                if (i % 2 == 0) {
                        const guint8 *seed = seeds[g_rand_int_range(rand, 0, G_N_ELEMENTS(seeds))];
                        memcpy(buf, seed, 24);
                        buf[g_rand_int_range(rand, 0, 24)] = (guint8)g_rand_int(rand);
                        len = (gsize)g_rand_int_range(rand, 0, 25);
                } else {
                        for (gsize j = 0; j < len; j++)
                                buf[j] = (guint8)g_rand_int(rand);
                }
                lima_sftp_server_handle_packet(fx->s, buf, len, reply);
                g_assert_cmpuint(reply->len, >=, 9);
                framed = (guint32)reply->data[0] << 24 | (guint32)reply->data[1] << 16 |
                         (guint32)reply->data[2] << 8 | reply->data[3];
                g_assert_cmpuint(framed, ==, reply->len - 4);
        }
}

/* ---- the stream loop ---- */

static void
frame(GByteArray *stream, GByteArray *pkt)
{
        pkt_u32(stream, pkt->len);
        g_byte_array_append(stream, pkt->data, pkt->len);
        g_byte_array_unref(pkt);
}

static void
write_all(int fd, const guint8 *data, gsize len)
{
        while (len > 0) {
                ssize_t n = write(fd, data, len);
                g_assert_cmpint(n, >, 0);
                data += n;
                len -= (gsize)n;
        }
}

static GByteArray *
read_to_eof(int fd)
{
        GByteArray *all = g_byte_array_new();
        guint8 buf[4096];
        ssize_t n;

        while ((n = read(fd, buf, sizeof(buf))) > 0)
                g_byte_array_append(all, buf, (guint)n);
        return all;
}

/* Runs the server over pipes on input already written; returns the output. */
static GByteArray *
run_on(Fixture *fx, GByteArray *input, gboolean *ok, GError **error)
{
        int in[2];
        int out[2];
        GByteArray *output;

        g_assert_cmpint(pipe(in), ==, 0);
        g_assert_cmpint(pipe(out), ==, 0);
        g_assert_cmpuint(input->len, <, 60000); /* fits the pipe: no writer thread needed */
        write_all(in[1], input->data, input->len);
        close(in[1]);
        *ok = lima_sftp_server_run(fx->s, in[0], out[1], NULL, error);
        close(in[0]);
        close(out[1]);
        output = read_to_eof(out[0]);
        close(out[0]);
        return output;
}

static void
test_run_stream(Fixture *fx, gconstpointer data)
{
        g_autoptr(GByteArray) input = g_byte_array_new();
        g_autoptr(GByteArray) output = NULL;
        g_autoptr(GError) error = NULL;
        GByteArray *init = g_byte_array_new();
        guint8 type = T_INIT;
        gboolean ok;
        gsize pos = 0;
        guint replies = 0;

        g_byte_array_append(init, &type, 1);
        pkt_u32(init, 3);
        frame(input, init);
        for (guint i = 0; i < 50; i++)
                frame(input, req_path(T_STAT, 100 + i, "/"));
        output = run_on(fx, input, &ok, &error);
        g_assert_no_error(error);
        g_assert_true(ok);
        while (pos < output->len) {
                guint32 len = (guint32)output->data[pos] << 24 |
                              (guint32)output->data[pos + 1] << 16 |
                              (guint32)output->data[pos + 2] << 8 | output->data[pos + 3];
                g_assert_cmpuint(output->data[pos + 4], ==, replies == 0 ? 2 : T_ATTRS);
                pos += 4 + len;
                replies++;
        }
        g_assert_cmpuint(pos, ==, output->len);
        g_assert_cmpuint(replies, ==, 51);
}

static void
test_run_hostile_stream(Fixture *fx, gconstpointer data)
{
        g_autoptr(GByteArray) huge = g_byte_array_new();
        g_autoptr(GByteArray) partial = g_byte_array_new();
        g_autoptr(GByteArray) out1 = NULL;
        g_autoptr(GByteArray) out2 = NULL;
        g_autoptr(GError) error = NULL;
        gboolean ok;

        /* A length prefix over the limit ends the session after a BAD_MESSAGE. */
        pkt_u32(huge, LIMA_SFTP_MAX_PACKET + 1);
        pkt_u32(huge, 0);
        out1 = run_on(fx, huge, &ok, &error);
        g_assert_false(ok);
        g_assert_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
        g_assert_cmpuint(out1->len, >, 13);
        g_assert_cmpuint(out1->data[4], ==, T_STATUS);
        g_assert_cmpuint(out1->data[12], ==, FX_BAD_MESSAGE);
        g_clear_error(&error);

        /* A packet cut short by the end of the stream. */
        pkt_u32(partial, 100);
        pkt_u32(partial, 0);
        out2 = run_on(fx, partial, &ok, &error);
        g_assert_false(ok);
        g_assert_error(error, G_IO_ERROR, G_IO_ERROR_PARTIAL_INPUT);
        g_assert_cmpuint(out2->len, ==, 0);
}

typedef struct {
        LimaSftpServer *s;
        int in_fd;
        int out_fd;
        GCancellable *cancellable;
        gboolean ok;
        GError *error;
} ServeThread;

static gpointer
serve_thread(gpointer data)
{
        ServeThread *t = data;
        t->ok = lima_sftp_server_run(t->s, t->in_fd, t->out_fd, t->cancellable, &t->error);
        return NULL;
}

static void
test_run_cancel(Fixture *fx, gconstpointer data)
{
        g_autoptr(GCancellable) cancellable = g_cancellable_new();
        ServeThread t = { fx->s, -1, -1, cancellable, FALSE, NULL };
        GThread *thread;
        int sv[2];

        g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), ==, 0);
        t.in_fd = t.out_fd = sv[0];
        thread = g_thread_new("sftp", serve_thread, &t);
        g_usleep(50 * 1000);
        g_cancellable_cancel(cancellable);
        g_thread_join(thread);
        g_assert_false(t.ok);
        g_assert_error(t.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
        g_clear_error(&t.error);
        close(sv[0]);
        close(sv[1]);
}

/* ---- end to end: the real sshfs client ---- */

static gboolean
is_mounted(const gchar *dir)
{
        g_autofree gchar *info = NULL;
        g_autofree gchar *needle = g_strdup_printf(" %s ", dir);

        if (!g_file_get_contents("/proc/self/mountinfo", &info, NULL, NULL))
                return FALSE;
        return strstr(info, needle) != NULL;
}

static gchar *
sorted_listing(const gchar *dir)
{
        g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
        g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
        const gchar *name;

        g_assert_nonnull(d);
        while ((name = g_dir_read_name(d)) != NULL)
                g_ptr_array_add(names, g_strdup(name));
        g_ptr_array_sort(names, cmp_names);
        g_ptr_array_add(names, NULL);
        return g_strjoinv(" ", (gchar **)names->pdata);
}

static void
test_sshfs_end_to_end(Fixture *fx, gconstpointer data)
{
        g_autofree gchar *sshfs = g_find_program_in_path("sshfs");
        g_autofree gchar *fusermount = g_find_program_in_path("fusermount3");
        g_autofree gchar *mnt = g_build_filename(fx->top, "mnt", NULL);
        g_autoptr(GSubprocessLauncher) launcher = NULL;
        g_autoptr(GSubprocess) proc = NULL;
        g_autoptr(GSubprocess) umount = NULL;
        g_autoptr(GError) error = NULL;
        ServeThread t = { fx->s, -1, -1, NULL, FALSE, NULL };
        GThread *thread;
        int sv[2];
        gboolean mounted = FALSE;

        if (sshfs == NULL || fusermount == NULL) {
                g_test_skip("sshfs or fusermount3 is not installed (apt-get install sshfs fuse3)");
                return;
        }
        if (access("/dev/fuse", R_OK | W_OK) != 0) {
                g_test_skip("/dev/fuse is missing or not usable by this user");
                return;
        }
        if (geteuid() != 0) {
                g_test_skip("mounting FUSE here needs root");
                return;
        }
        g_assert_cmpint(g_mkdir(mnt, 0755), ==, 0);
        fx_write(fx, "from-host.txt", "written on the host\n");

        /* sshfs -o slave speaks SFTP on its stdin/stdout: here, one end of a socketpair. */
        g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), ==, 0);
        t.in_fd = t.out_fd = sv[0];
        thread = g_thread_new("sftp", serve_thread, &t);
        launcher = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_NONE);
        g_subprocess_launcher_take_stdin_fd(launcher, dup(sv[1]));
        g_subprocess_launcher_take_stdout_fd(launcher, sv[1]);
        proc = g_subprocess_launcher_spawn(launcher, &error, sshfs, ":/", mnt, "-f", "-o", "slave",
                                           "-o", "dir_cache=no", "-o", "attr_timeout=0", NULL);
        g_assert_no_error(error);
        /* The launcher keeps its copies of sv[1] until freed: the server would never see EOF. */
        g_clear_object(&launcher);
        for (guint i = 0; i < 200 && !mounted; i++) {
                mounted = is_mounted(mnt);
                if (!mounted)
                        g_usleep(50 * 1000);
        }
        if (!mounted) {
                /* sshfs gave up: in a container without FUSE rights, say why rather than fail. */
                g_subprocess_force_exit(proc);
                g_subprocess_wait(proc, NULL, NULL);
                g_thread_join(thread);
                g_clear_error(&t.error);
                g_test_skip("sshfs did not mount within 10 s (is FUSE usable here?)");
                return;
        }

        /* Read, write, list, mkdir, rename, symlink, chmod, truncate, unlink through the mount;
         * compare with the served directory. */
        {
                g_autofree gchar *p = g_build_filename(mnt, "from-host.txt", NULL);
                g_autofree gchar *text = NULL;
                g_assert_true(g_file_get_contents(p, &text, NULL, NULL));
                g_assert_cmpstr(text, ==, "written on the host\n");
        }
        {
                /* g_file_set_contents writes a temp file and renames it over. */
                g_autofree gchar *p = g_build_filename(mnt, "from-guest.txt", NULL);
                g_autofree gchar *text = NULL;
                g_assert_true(g_file_set_contents(p, "written through sshfs", -1, NULL));
                g_assert_true(g_file_set_contents(p, "written twice", -1, NULL));
                text = fx_read(fx, "from-guest.txt");
                g_assert_cmpstr(text, ==, "written twice");
        }
        {
                g_autofree gchar *d = g_build_filename(mnt, "dir", NULL);
                g_autofree gchar *d2 = g_build_filename(mnt, "dir2", NULL);
                g_autofree gchar *host_d2 = fx_path(fx, "dir2");
                g_assert_cmpint(g_mkdir(d, 0750), ==, 0);
                g_assert_cmpint(rename(d, d2), ==, 0);
                g_assert_true(g_file_test(host_d2, G_FILE_TEST_IS_DIR));
                g_assert_false(fx_exists(fx, "dir"));
        }
        {
                g_autofree gchar *l = g_build_filename(mnt, "link", NULL);
                g_autofree gchar *host_l = fx_path(fx, "link");
                g_autofree gchar *text = NULL;
                struct stat st;
                g_assert_cmpint(symlink("from-host.txt", l), ==, 0);
                text = g_file_read_link(host_l, NULL);
                g_assert_cmpstr(text, ==, "from-host.txt");
                g_assert_cmpint(lstat(l, &st), ==, 0);
                g_assert_true(S_ISLNK(st.st_mode));
        }
        {
                g_autofree gchar *p = g_build_filename(mnt, "from-guest.txt", NULL);
                g_autofree gchar *host_p = fx_path(fx, "from-guest.txt");
                struct stat st;
                g_assert_cmpint(chmod(p, 0600), ==, 0);
                g_assert_cmpint(truncate(p, 7), ==, 0);
                g_assert_cmpint(stat(host_p, &st), ==, 0);
                g_assert_cmpuint(st.st_mode & 07777, ==, 0600);
                g_assert_cmpint(st.st_size, ==, 7);
        }
        {
                g_autofree gchar *via_mount = sorted_listing(mnt);
                g_autofree gchar *direct = sorted_listing(fx->root);
                g_assert_cmpstr(via_mount, ==, direct);
                g_assert_cmpstr(direct, ==, "dir2 from-guest.txt from-host.txt link");
        }
        {
                g_autofree gchar *p = g_build_filename(mnt, "from-host.txt", NULL);
                struct statvfs vfs;
                g_assert_cmpint(unlink(p), ==, 0);
                g_assert_false(fx_exists(fx, "from-host.txt"));
                g_assert_cmpint(statvfs(mnt, &vfs), ==, 0);
        }
        /* A root-level ".." through the mount is the mount itself. */
        {
                g_autofree gchar *p = g_build_filename(mnt, "..", "secret", NULL);
                g_assert_cmpint(access(p, F_OK), ==, 0); /* the kernel's "..": top/secret */
        }

        umount = g_subprocess_new(G_SUBPROCESS_FLAGS_NONE, &error, fusermount, "-u", mnt, NULL);
        g_assert_no_error(error);
        g_assert_true(g_subprocess_wait_check(umount, NULL, &error));
        g_assert_no_error(error);
        g_assert_true(g_subprocess_wait(proc, NULL, &error));
        g_thread_join(thread);
        /* The session ends cleanly when sshfs goes away. */
        g_assert_no_error(t.error);
        g_assert_true(t.ok);
}

int
main(int argc, char **argv)
{
        /* Modes in the tests are exact. */
        umask(022);
        g_test_init(&argc, &argv, NULL);

#define ADD(path, func, mode)                                                                      \
        g_test_add(path, Fixture, GINT_TO_POINTER(mode), fx_setup, func, fx_teardown)
        ADD("/sftp/init", test_init, 1);
        ADD("/sftp/open-read-write", test_open_read_write, 1);
        ADD("/sftp/open-flags", test_open_flags, 1);
        ADD("/sftp/stat", test_stat, 1);
        ADD("/sftp/setstat", test_setstat, 1);
        ADD("/sftp/readdir", test_readdir, 1);
        ADD("/sftp/namespace-ops", test_namespace_ops, 1);
        ADD("/sftp/realpath", test_realpath, 1);
        ADD("/sftp/realpath/walk", test_realpath, 2);
        ADD("/sftp/extensions", test_extensions, 1);
        ADD("/sftp/confine/dotdot-absolute", test_confine_dotdot_absolute, 1);
        ADD("/sftp/confine/dotdot-absolute/walk", test_confine_dotdot_absolute, 2);
        ADD("/sftp/confine/symlinks", test_confine_symlinks, 1);
        ADD("/sftp/confine/symlinks/walk", test_confine_symlinks, 2);
        ADD("/sftp/read-only", test_read_only, 3);
        ADD("/sftp/hostile/packets", test_hostile_packets, 1);
        ADD("/sftp/hostile/random", test_random_packets, 1);
        ADD("/sftp/hostile/random/walk", test_random_packets, 2);
        ADD("/sftp/run/stream", test_run_stream, 1);
        ADD("/sftp/run/hostile-stream", test_run_hostile_stream, 1);
        ADD("/sftp/run/cancel", test_run_cancel, 1);
        ADD("/sftp/sshfs/end-to-end", test_sshfs_end_to_end, 1);
#undef ADD
        return g_test_run();
}
