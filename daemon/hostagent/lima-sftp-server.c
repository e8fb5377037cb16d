/* The builtin SFTP server: its handles, the requests on them, and the dispatcher (paths:
 * lima-sftp-root.c, path requests: lima-sftp-names.c, the stream: lima-sftp-session.c). */
/* O_PATH, AT_EMPTY_PATH. */
#define _GNU_SOURCE
#include "lima-sftp-server.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lima-sftp-private.h"

/* READ replies are capped so one fits a client's packet limit (OpenSSH's is 256 KiB). */
#define SFTP_MAX_READ (256 * 1024 - 1024)
/* Entries per READDIR reply, as OpenSSH sends. */
#define SFTP_READDIR_BATCH 100

static void
sftp_handle_free(gpointer data)
{
        SftpHandle *h = data;

        if (h->dir != NULL)
                closedir(h->dir);
        else if (h->fd >= 0)
                close(h->fd);
        g_free(h);
}

/* ---- handles ---- */

static gboolean
sftp_handle_add(LimaSftpServer *s, SftpHandle *h, guint32 *hid)
{
        if (g_hash_table_size(s->handles) >= LIMA_SFTP_MAX_HANDLES)
                return FALSE;
        while (s->next_handle == 0 ||
               g_hash_table_contains(s->handles, GUINT_TO_POINTER(s->next_handle)))
                s->next_handle++;
        *hid = s->next_handle++;
        g_hash_table_insert(s->handles, GUINT_TO_POINTER(*hid), h);
        return TRUE;
}

void
lima_sftp_reply_bad_handle(GByteArray *b, guint32 id)
{
        lima_sftp_reply_status(b, id, SFTP_FX_FAILURE, "Invalid handle");
}

static void
sftp_reply_too_many_handles(GByteArray *b, guint32 id)
{
        lima_sftp_reply_status(b, id, SFTP_FX_FAILURE, "Too many open handles");
}

/* ---- READDIR longnames ---- */

static const gchar *
sftp_id_name(GHashTable *cache, guint32 id, gboolean is_group)
{
        const gchar *cached = g_hash_table_lookup(cache, GUINT_TO_POINTER(id));
        gchar buf[4096];
        gchar *name = NULL;

        if (cached != NULL)
                return cached;
        if (is_group) {
                struct group gr;
                struct group *found = NULL;
                if (getgrgid_r(id, &gr, buf, sizeof(buf), &found) == 0 && found != NULL)
                        name = g_strdup(found->gr_name);
        } else {
                struct passwd pw;
                struct passwd *found = NULL;
                if (getpwuid_r(id, &pw, buf, sizeof(buf), &found) == 0 && found != NULL)
                        name = g_strdup(found->pw_name);
        }
        if (name == NULL)
                name = g_strdup_printf("%u", id);
        g_hash_table_insert(cache, GUINT_TO_POINTER(id), name);
        return name;
}

static void
sftp_mode_string(mode_t mode, gchar out[11])
{
        static const gchar rwx[] = "rwxrwxrwx";

        if (S_ISDIR(mode))
                out[0] = 'd';
        else if (S_ISLNK(mode))
                out[0] = 'l';
        else if (S_ISCHR(mode))
                out[0] = 'c';
        else if (S_ISBLK(mode))
                out[0] = 'b';
        else if (S_ISFIFO(mode))
                out[0] = 'p';
        else if (S_ISSOCK(mode))
                out[0] = 's';
        else
                out[0] = '-';
        for (guint i = 0; i < 9; i++)
                out[i + 1] = (mode & (0400 >> i)) ? rwx[i] : '-';
        if (mode & S_ISUID)
                out[3] = (mode & S_IXUSR) ? 's' : 'S';
        if (mode & S_ISGID)
                out[6] = (mode & S_IXGRP) ? 's' : 'S';
        if (mode & S_ISVTX)
                out[9] = (mode & S_IXOTH) ? 't' : 'T';
        out[10] = '\0';
}

/* The `ls -l` line OpenSSH puts in READDIR replies; clients show it, sshfs ignores it. */
static gchar *
sftp_longname(LimaSftpServer *s, const gchar *name, const struct stat *st)
{
        gchar mode[11];
        gchar date[32] = "?";
        struct tm tm;
        time_t now = time(NULL);
        /* Within six months: time of day; otherwise the year, as ls does. */
        gboolean recent = st->st_mtime > now - 182 * 86400 && st->st_mtime < now + 182 * 86400;

        sftp_mode_string(st->st_mode, mode);
        if (localtime_r(&st->st_mtime, &tm) != NULL)
                strftime(date, sizeof(date), recent ? "%b %e %H:%M" : "%b %e  %Y", &tm);
        return g_strdup_printf("%s %3u %-8s %-8s %8llu %s %s", mode, (guint)st->st_nlink,
                               sftp_id_name(s->user_names, st->st_uid, FALSE),
                               sftp_id_name(s->group_names, st->st_gid, TRUE),
                               (unsigned long long)st->st_size, date, name);
}

/* ---- requests ---- */

static gboolean
sftp_open_file(LimaSftpServer *s, guint32 id, SftpReader *r, GByteArray *reply)
{
        g_autofree gchar *path = lima_sftp_read_text(r);
        guint32 pflags;
        SftpAttrs attrs;
        SftpHandle *h;
        guint32 hid;
        mode_t mode;
        int flags;
        int fd;

        if (path == NULL || !lima_sftp_read_u32(r, &pflags) || !lima_sftp_read_attrs(r, &attrs))
                return FALSE;
        if (s->read_only &&
            (pflags & (SFTP_OPEN_WRITE | SFTP_OPEN_APPEND | SFTP_OPEN_CREAT | SFTP_OPEN_TRUNC))) {
                lima_sftp_reply_status(reply, id, SFTP_FX_PERMISSION_DENIED, "Read-only share");
                return TRUE;
        }
        if (g_hash_table_size(s->handles) >= LIMA_SFTP_MAX_HANDLES) {
                sftp_reply_too_many_handles(reply, id);
                return TRUE;
        }
        if ((pflags & SFTP_OPEN_READ) && (pflags & SFTP_OPEN_WRITE))
                flags = O_RDWR;
        else if (pflags & SFTP_OPEN_WRITE)
                flags = O_WRONLY;
        else
                flags = O_RDONLY;
        if (pflags & SFTP_OPEN_APPEND)
                flags |= O_APPEND;
        if (pflags & SFTP_OPEN_CREAT)
                flags |= O_CREAT;
        if (pflags & SFTP_OPEN_TRUNC)
                flags |= O_TRUNC;
        if (pflags & SFTP_OPEN_EXCL)
                flags |= O_EXCL;
        /* O_NONBLOCK: a FIFO in the share must not stall the whole session in open(). */
        flags |= O_NOCTTY | O_NONBLOCK;
        mode = (attrs.flags & SFTP_ATTR_PERMISSIONS) ? (attrs.perm & 07777) : 0666;
        fd = lima_sftp_root_open(&s->root, path, flags, mode);
        if (fd < 0) {
                lima_sftp_reply_errno(reply, id, errno);
                return TRUE;
        }
        h = g_new0(SftpHandle, 1);
        h->fd = fd;
        sftp_handle_add(s, h, &hid);
        lima_sftp_reply_handle(reply, id, hid);
        return TRUE;
}

static gboolean
sftp_opendir(LimaSftpServer *s, guint32 id, SftpReader *r, GByteArray *reply)
{
        g_autofree gchar *path = lima_sftp_read_text(r);
        struct stat st;
        SftpHandle *h;
        guint32 hid;
        DIR *dir = NULL;
        int fd;

        if (path == NULL)
                return FALSE;
        if (g_hash_table_size(s->handles) >= LIMA_SFTP_MAX_HANDLES) {
                sftp_reply_too_many_handles(reply, id);
                return TRUE;
        }
        fd = lima_sftp_root_open(&s->root, path, O_RDONLY | O_DIRECTORY | O_NONBLOCK, 0);
        if (fd < 0 || fstat(fd, &st) < 0 || (dir = fdopendir(fd)) == NULL) {
                int err = errno;
                if (fd >= 0)
                        close(fd);
                lima_sftp_reply_errno(reply, id, err);
                return TRUE;
        }
        h = g_new0(SftpHandle, 1);
        h->fd = fd;
        h->dir = dir;
        /* Its ".." entry is outside: READDIR must not describe it. */
        {
                struct stat root_st;
                h->is_root = fstat(s->root.fd, &root_st) == 0 && root_st.st_dev == st.st_dev &&
                             root_st.st_ino == st.st_ino;
        }
        sftp_handle_add(s, h, &hid);
        lima_sftp_reply_handle(reply, id, hid);
        return TRUE;
}

static gboolean
sftp_close(LimaSftpServer *s, guint32 id, SftpReader *r, GByteArray *reply)
{
        SftpHandle *h;
        guint32 hid;
        int rc;

        if (!lima_sftp_read_handle(r, &hid))
                return FALSE;
        h = g_hash_table_lookup(s->handles, GUINT_TO_POINTER(hid));
        if (h == NULL) {
                lima_sftp_reply_bad_handle(reply, id);
                return TRUE;
        }
        g_hash_table_steal(s->handles, GUINT_TO_POINTER(hid));
        /* close() can report a write error that pwrite did not (NFS, quota); pass it on. */
        rc = h->dir != NULL ? closedir(h->dir) : close(h->fd);
        lima_sftp_reply_errno(reply, id, rc < 0 ? errno : 0);
        g_free(h);
        return TRUE;
}

static gboolean
sftp_read(LimaSftpServer *s, guint32 id, SftpReader *r, GByteArray *reply)
{
        SftpHandle *h;
        guint64 offset;
        guint32 hid;
        guint32 len;
        gsize start;
        gsize data_at;
        ssize_t n;

        if (!lima_sftp_read_handle(r, &hid) || !lima_sftp_read_u64(r, &offset) ||
            !lima_sftp_read_u32(r, &len))
                return FALSE;
        h = g_hash_table_lookup(s->handles, GUINT_TO_POINTER(hid));
        if (h == NULL) {
                lima_sftp_reply_bad_handle(reply, id);
                return TRUE;
        }
        len = MIN(len, SFTP_MAX_READ);
        start = lima_sftp_reply_begin(reply, SFTP_DATA);
        lima_sftp_put_u32(reply, id);
        lima_sftp_put_u32(reply, 0);
        data_at = reply->len;
        /* Read straight into the reply: no second copy of up to 256 KiB. */
        g_byte_array_set_size(reply, (guint)(data_at + len));
        do
                n = pread(h->fd, reply->data + data_at, len, (off_t)offset);
        while (n < 0 && errno == EINTR);
        if (n <= 0) {
                int err = errno;
                g_byte_array_set_size(reply, (guint)start);
                if (n == 0)
                        lima_sftp_reply_status(reply, id, SFTP_FX_EOF, "End of file");
                else
                        lima_sftp_reply_errno(reply, id, err);
                return TRUE;
        }
        g_byte_array_set_size(reply, (guint)(data_at + (gsize)n));
        reply->data[data_at - 4] = (guint32)n >> 24;
        reply->data[data_at - 3] = (guint32)n >> 16;
        reply->data[data_at - 2] = (guint32)n >> 8;
        reply->data[data_at - 1] = (guint32)n;
        lima_sftp_reply_end(reply, start);
        return TRUE;
}

static gboolean
sftp_write(LimaSftpServer *s, guint32 id, SftpReader *r, GByteArray *reply)
{
        const guint8 *data;
        SftpHandle *h;
        guint64 offset;
        guint32 hid;
        guint32 len;
        gsize done = 0;

        if (!lima_sftp_read_handle(r, &hid) || !lima_sftp_read_u64(r, &offset) ||
            !lima_sftp_read_string(r, &data, &len))
                return FALSE;
        h = g_hash_table_lookup(s->handles, GUINT_TO_POINTER(hid));
        if (h == NULL) {
                lima_sftp_reply_bad_handle(reply, id);
                return TRUE;
        }
        if (offset > (guint64)G_MAXINT64 - len) {
                lima_sftp_reply_errno(reply, id, EFBIG);
                return TRUE;
        }
        while (done < len) {
                ssize_t n = pwrite(h->fd, data + done, len - done, (off_t)(offset + done));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0) {
                        lima_sftp_reply_errno(reply, id, n < 0 ? errno : ENOSPC);
                        return TRUE;
                }
                done += (gsize)n;
        }
        lima_sftp_reply_ok(reply, id);
        return TRUE;
}

static gboolean
sftp_fstat(LimaSftpServer *s, guint32 id, SftpReader *r, GByteArray *reply)
{
        SftpHandle *h;
        struct stat st;
        guint32 hid;

        if (!lima_sftp_read_handle(r, &hid))
                return FALSE;
        h = g_hash_table_lookup(s->handles, GUINT_TO_POINTER(hid));
        if (h == NULL)
                lima_sftp_reply_bad_handle(reply, id);
        else if (fstat(h->fd, &st) < 0)
                lima_sftp_reply_errno(reply, id, errno);
        else
                lima_sftp_reply_attrs(reply, id, &st);
        return TRUE;
}

static gboolean
sftp_fsetstat(LimaSftpServer *s, guint32 id, SftpReader *r, GByteArray *reply)
{
        SftpAttrs attrs;
        SftpHandle *h;
        guint32 hid;

        if (!lima_sftp_read_handle(r, &hid) || !lima_sftp_read_attrs(r, &attrs))
                return FALSE;
        h = g_hash_table_lookup(s->handles, GUINT_TO_POINTER(hid));
        if (h == NULL)
                lima_sftp_reply_bad_handle(reply, id);
        else
                lima_sftp_reply_errno(reply, id, lima_sftp_apply_attrs(h->fd, FALSE, &attrs));
        return TRUE;
}

static gboolean
sftp_readdir(LimaSftpServer *s, guint32 id, SftpReader *r, GByteArray *reply)
{
        g_autoptr(GByteArray) entries = g_byte_array_new();
        guint32 count = 0;
        SftpHandle *h;
        guint32 hid;
        gsize start;

        if (!lima_sftp_read_handle(r, &hid))
                return FALSE;
        h = g_hash_table_lookup(s->handles, GUINT_TO_POINTER(hid));
        if (h == NULL || h->dir == NULL) {
                lima_sftp_reply_bad_handle(reply, id);
                return TRUE;
        }
        while (count < SFTP_READDIR_BATCH) {
                g_autofree gchar *longname = NULL;
                struct dirent *de;
                struct stat st;
                const gchar *stat_name;

                errno = 0;
                de = readdir(h->dir);
                if (de == NULL) {
                        if (errno != 0 && count == 0) {
                                lima_sftp_reply_errno(reply, id, errno);
                                return TRUE;
                        }
                        break;
                }
                stat_name = (h->is_root && strcmp(de->d_name, "..") == 0) ? "." : de->d_name;
                /* Gone since readdir listed it: skip it, as ls would. */
                if (fstatat(h->fd, stat_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        continue;
                longname = sftp_longname(s, de->d_name, &st);
                lima_sftp_put_text(entries, de->d_name);
                lima_sftp_put_text(entries, longname);
                lima_sftp_put_attrs(entries, &st);
                count++;
        }
        if (count == 0) {
                lima_sftp_reply_status(reply, id, SFTP_FX_EOF, "End of file");
                return TRUE;
        }
        start = lima_sftp_reply_begin(reply, SFTP_NAME);
        lima_sftp_put_u32(reply, id);
        lima_sftp_put_u32(reply, count);
        g_byte_array_append(reply, entries->data, entries->len);
        lima_sftp_reply_end(reply, start);
        return TRUE;
}

/* The shape of REMOVE, RMDIR, READLINK: one path, acted on without following it. */

static const struct {
        guint8 type;
        gboolean mutating; /* refused on a read-only share (OPEN decides by its flags) */
        SftpRequestFunc func;
} sftp_requests[] = {
        { SFTP_OPEN, FALSE, sftp_open_file },
        { SFTP_CLOSE, FALSE, sftp_close },
        { SFTP_READ, FALSE, sftp_read },
        { SFTP_WRITE, TRUE, sftp_write },
        { SFTP_LSTAT, FALSE, lima_sftp_lstat },
        { SFTP_FSTAT, FALSE, sftp_fstat },
        { SFTP_SETSTAT, TRUE, lima_sftp_setstat },
        { SFTP_FSETSTAT, TRUE, sftp_fsetstat },
        { SFTP_OPENDIR, FALSE, sftp_opendir },
        { SFTP_READDIR, FALSE, sftp_readdir },
        { SFTP_REMOVE, TRUE, lima_sftp_remove },
        { SFTP_MKDIR, TRUE, lima_sftp_mkdir },
        { SFTP_RMDIR, TRUE, lima_sftp_rmdir },
        { SFTP_REALPATH, FALSE, lima_sftp_realpath },
        { SFTP_STAT, FALSE, lima_sftp_stat },
        { SFTP_RENAME, TRUE, lima_sftp_rename },
        { SFTP_READLINK, FALSE, lima_sftp_readlink },
        { SFTP_SYMLINK, TRUE, lima_sftp_symlink },
        { SFTP_EXTENDED, FALSE, lima_sftp_extended },
};

static void
sftp_init(SftpReader *r, GByteArray *reply)
{
        guint32 version;
        gsize start;

        if (!lima_sftp_read_u32(r, &version)) {
                lima_sftp_reply_status(reply, 0, SFTP_FX_BAD_MESSAGE, "Bad message");
                return;
        }
        /* Version 3 whatever the client offers: it is the one sshfs and OpenSSH speak. */
        start = lima_sftp_reply_begin(reply, SFTP_VERSION);
        lima_sftp_put_u32(reply, 3);
        lima_sftp_put_text(reply, "posix-rename@openssh.com");
        lima_sftp_put_text(reply, "1");
        lima_sftp_put_text(reply, "statvfs@openssh.com");
        lima_sftp_put_text(reply, "2");
        lima_sftp_put_text(reply, "hardlink@openssh.com");
        lima_sftp_put_text(reply, "1");
        lima_sftp_put_text(reply, "fsync@openssh.com");
        lima_sftp_put_text(reply, "1");
        lima_sftp_reply_end(reply, start);
}

void
lima_sftp_server_handle_packet(LimaSftpServer *s, const guint8 *data, gsize len, GByteArray *reply)
{
        SftpReader r = { data, len };
        guint8 type;
        guint32 id;

        if (!lima_sftp_read_u8(&r, &type)) {
                lima_sftp_reply_status(reply, 0, SFTP_FX_BAD_MESSAGE, "Empty packet");
                return;
        }
        if (type == SFTP_INIT) {
                sftp_init(&r, reply);
                return;
        }
        if (!lima_sftp_read_u32(&r, &id)) {
                lima_sftp_reply_status(reply, 0, SFTP_FX_BAD_MESSAGE,
                                       "Packet without a request id");
                return;
        }
        for (gsize i = 0; i < G_N_ELEMENTS(sftp_requests); i++) {
                if (sftp_requests[i].type != type)
                        continue;
                if (sftp_requests[i].mutating && s->read_only) {
                        lima_sftp_reply_status(reply, id, SFTP_FX_PERMISSION_DENIED,
                                               "Read-only share");
                        return;
                }
                if (!sftp_requests[i].func(s, id, &r, reply))
                        lima_sftp_reply_status(reply, id, SFTP_FX_BAD_MESSAGE, "Bad message");
                return;
        }
        lima_sftp_reply_status(reply, id, SFTP_FX_OP_UNSUPPORTED, "Operation unsupported");
}

/* ---- the server ---- */

LimaSftpServer *
lima_sftp_server_new(const gchar *root, gboolean read_only, GError **error)
{
        g_autoptr(LimaSftpServer) s = g_new0(LimaSftpServer, 1);

        s->root.fd = -1;
        s->handles = g_hash_table_new_full(NULL, NULL, NULL, sftp_handle_free);
        s->user_names = g_hash_table_new_full(NULL, NULL, NULL, g_free);
        s->group_names = g_hash_table_new_full(NULL, NULL, NULL, g_free);
        s->next_handle = 1;
        s->read_only = read_only;
        if (!lima_sftp_root_init(&s->root, root, error))
                return NULL;
        return g_steal_pointer(&s);
}

void
lima_sftp_server_free(LimaSftpServer *s)
{
        if (s == NULL)
                return;
        g_hash_table_unref(s->handles);
        g_hash_table_unref(s->user_names);
        g_hash_table_unref(s->group_names);
        lima_sftp_root_clear(&s->root);
        g_free(s);
}

void
lima_sftp_server_set_use_openat2(LimaSftpServer *s, gboolean use_openat2)
{
        s->root.use_openat2 = use_openat2;
}
