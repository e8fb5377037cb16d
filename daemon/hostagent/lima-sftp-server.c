/* O_PATH, renameat2, AT_EMPTY_PATH. */
#define _GNU_SOURCE
#include "lima-sftp-server.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <grp.h>
#include <limits.h>
#include <linux/openat2.h>
#include <poll.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* Packet types (draft-ietf-secsh-filexfer-02, section 3). */
enum {
        SFTP_INIT = 1,
        SFTP_VERSION = 2,
        SFTP_OPEN = 3,
        SFTP_CLOSE = 4,
        SFTP_READ = 5,
        SFTP_WRITE = 6,
        SFTP_LSTAT = 7,
        SFTP_FSTAT = 8,
        SFTP_SETSTAT = 9,
        SFTP_FSETSTAT = 10,
        SFTP_OPENDIR = 11,
        SFTP_READDIR = 12,
        SFTP_REMOVE = 13,
        SFTP_MKDIR = 14,
        SFTP_RMDIR = 15,
        SFTP_REALPATH = 16,
        SFTP_STAT = 17,
        SFTP_RENAME = 18,
        SFTP_READLINK = 19,
        SFTP_SYMLINK = 20,
        SFTP_STATUS = 101,
        SFTP_HANDLE = 102,
        SFTP_DATA = 103,
        SFTP_NAME = 104,
        SFTP_ATTRS = 105,
        SFTP_EXTENDED = 200,
        SFTP_EXTENDED_REPLY = 201,
};

enum {
        SFTP_FX_OK = 0,
        SFTP_FX_EOF = 1,
        SFTP_FX_NO_SUCH_FILE = 2,
        SFTP_FX_PERMISSION_DENIED = 3,
        SFTP_FX_FAILURE = 4,
        SFTP_FX_BAD_MESSAGE = 5,
        SFTP_FX_OP_UNSUPPORTED = 8,
};

#define SFTP_ATTR_SIZE        0x00000001u
#define SFTP_ATTR_UIDGID      0x00000002u
#define SFTP_ATTR_PERMISSIONS 0x00000004u
#define SFTP_ATTR_ACMODTIME   0x00000008u
#define SFTP_ATTR_EXTENDED    0x80000000u

#define SFTP_OPEN_READ   0x01u
#define SFTP_OPEN_WRITE  0x02u
#define SFTP_OPEN_APPEND 0x04u
#define SFTP_OPEN_CREAT  0x08u
#define SFTP_OPEN_TRUNC  0x10u
#define SFTP_OPEN_EXCL   0x20u

/* READ replies are capped so one fits a client's packet limit (OpenSSH's is 256 KiB). */
#define SFTP_MAX_READ (256 * 1024 - 1024)
/* Entries per READDIR reply, as OpenSSH sends. */
#define SFTP_READDIR_BATCH 100
/* Symlinks the fallback resolver follows in one lookup, as the kernel's MAXSYMLINKS. */
#define SFTP_MAX_SYMLINKS 40

typedef struct {
        int fd;
        DIR *dir; /* directory handles: owns fd */
        gboolean is_root;
} SftpHandle;

struct _LimaSftpServer {
        gchar *root; /* canonical, to turn /proc/self/fd links back into client paths */
        int root_fd;
        gboolean read_only;
        gboolean use_openat2;
        GHashTable *handles; /* guint32 id → SftpHandle */
        guint32 next_handle;
        GHashTable *user_names;  /* uid → name, for READDIR longnames */
        GHashTable *group_names; /* gid → name */
};

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

/* ---- reading requests ---- */

typedef struct {
        const guint8 *p;
        gsize left;
} SftpReader;

static gboolean
reader_u8(SftpReader *r, guint8 *v)
{
        if (r->left < 1)
                return FALSE;
        *v = r->p[0];
        r->p++;
        r->left--;
        return TRUE;
}

static gboolean
reader_u32(SftpReader *r, guint32 *v)
{
        if (r->left < 4)
                return FALSE;
        *v = (guint32)r->p[0] << 24 | (guint32)r->p[1] << 16 | (guint32)r->p[2] << 8 | r->p[3];
        r->p += 4;
        r->left -= 4;
        return TRUE;
}

static gboolean
reader_u64(SftpReader *r, guint64 *v)
{
        guint32 hi;
        guint32 lo;

        if (r->left < 8 || !reader_u32(r, &hi) || !reader_u32(r, &lo))
                return FALSE;
        *v = (guint64)hi << 32 | lo;
        return TRUE;
}

static gboolean
reader_string(SftpReader *r, const guint8 **data, guint32 *len)
{
        guint32 n;

        if (!reader_u32(r, &n) || n > r->left)
                return FALSE;
        *data = r->p;
        *len = n;
        r->p += n;
        r->left -= n;
        return TRUE;
}

/* A path or other text argument; NULL when truncated or when it holds a NUL, which would make
 * the kernel see a different path than the one the client sent. */
static gchar *
reader_text(SftpReader *r)
{
        const guint8 *data;
        guint32 len;

        if (!reader_string(r, &data, &len) || memchr(data, '\0', len) != NULL)
                return NULL;
        return g_strndup((const gchar *)data, len);
}

/* Handles are 4-byte ids; any other length parses but names no handle (id 0). */
static gboolean
reader_handle(SftpReader *r, guint32 *hid)
{
        const guint8 *data;
        guint32 len;

        if (!reader_string(r, &data, &len))
                return FALSE;
        *hid = len == 4 ? ((guint32)data[0] << 24 | (guint32)data[1] << 16 | (guint32)data[2] << 8 |
                           data[3])
                        : 0;
        return TRUE;
}

typedef struct {
        guint32 flags;
        guint64 size;
        guint32 uid;
        guint32 gid;
        guint32 perm;
        guint32 atime;
        guint32 mtime;
} SftpAttrs;

static gboolean
reader_attrs(SftpReader *r, SftpAttrs *a)
{
        memset(a, 0, sizeof(*a));
        if (!reader_u32(r, &a->flags))
                return FALSE;
        if ((a->flags & SFTP_ATTR_SIZE) && !reader_u64(r, &a->size))
                return FALSE;
        if ((a->flags & SFTP_ATTR_UIDGID) && (!reader_u32(r, &a->uid) || !reader_u32(r, &a->gid)))
                return FALSE;
        if ((a->flags & SFTP_ATTR_PERMISSIONS) && !reader_u32(r, &a->perm))
                return FALSE;
        if ((a->flags & SFTP_ATTR_ACMODTIME) &&
            (!reader_u32(r, &a->atime) || !reader_u32(r, &a->mtime)))
                return FALSE;
        if (a->flags & SFTP_ATTR_EXTENDED) {
                guint32 count;

                /* A huge count cannot spin: every pair consumes at least 8 bytes. */
                if (!reader_u32(r, &count))
                        return FALSE;
                for (guint32 i = 0; i < count; i++) {
                        const guint8 *data;
                        guint32 len;

                        if (!reader_string(r, &data, &len) || !reader_string(r, &data, &len))
                                return FALSE;
                }
        }
        return TRUE;
}

/* ---- writing replies ---- */

static void
put_u8(GByteArray *b, guint8 v)
{
        g_byte_array_append(b, &v, 1);
}

static void
put_u32(GByteArray *b, guint32 v)
{
        guint8 be[4] = { v >> 24, v >> 16, v >> 8, v };

        g_byte_array_append(b, be, sizeof(be));
}

static void
put_u64(GByteArray *b, guint64 v)
{
        put_u32(b, v >> 32);
        put_u32(b, (guint32)v);
}

static void
put_string(GByteArray *b, const void *data, gsize len)
{
        put_u32(b, (guint32)len);
        g_byte_array_append(b, data, (guint)len);
}

static void
put_text(GByteArray *b, const gchar *text)
{
        put_string(b, text, strlen(text));
}

/* Starts a reply; the returned offset goes to reply_end, which fills in the length. */
static gsize
reply_begin(GByteArray *b, guint8 type)
{
        gsize start = b->len;

        put_u32(b, 0);
        put_u8(b, type);
        return start;
}

static void
reply_end(GByteArray *b, gsize start)
{
        guint32 len = (guint32)(b->len - start - 4);

        b->data[start] = len >> 24;
        b->data[start + 1] = len >> 16;
        b->data[start + 2] = len >> 8;
        b->data[start + 3] = len;
}

static void
reply_status(GByteArray *b, guint32 id, guint32 code, const gchar *message)
{
        gsize start = reply_begin(b, SFTP_STATUS);

        put_u32(b, id);
        put_u32(b, code);
        put_text(b, message);
        put_text(b, "en");
        reply_end(b, start);
}

static void
reply_ok(GByteArray *b, guint32 id)
{
        reply_status(b, id, SFTP_FX_OK, "Success");
}

/* The same mapping as OpenSSH's sftp-server, so sshfs turns codes back into the errno it
 * would get there; the text keeps the exact errno for whoever reads logs. */
static void
reply_errno(GByteArray *b, guint32 id, int err)
{
        guint32 code;

        switch (err) {
        case 0:
                code = SFTP_FX_OK;
                break;
        case ENOENT:
        case ENOTDIR:
        case EBADF:
        case ELOOP:
                code = SFTP_FX_NO_SUCH_FILE;
                break;
        case EPERM:
        case EACCES:
        case EFAULT:
                code = SFTP_FX_PERMISSION_DENIED;
                break;
        case ENAMETOOLONG:
        case EINVAL:
                code = SFTP_FX_BAD_MESSAGE;
                break;
        case ENOSYS:
                code = SFTP_FX_OP_UNSUPPORTED;
                break;
        default:
                code = SFTP_FX_FAILURE;
                break;
        }
        reply_status(b, id, code, err == 0 ? "Success" : g_strerror(err));
}

static void
reply_handle(GByteArray *b, guint32 id, guint32 hid)
{
        gsize start = reply_begin(b, SFTP_HANDLE);
        guint8 be[4] = { hid >> 24, hid >> 16, hid >> 8, hid };

        put_u32(b, id);
        put_string(b, be, sizeof(be));
        reply_end(b, start);
}

static void
put_attrs_stat(GByteArray *b, const struct stat *st)
{
        put_u32(b, SFTP_ATTR_SIZE | SFTP_ATTR_UIDGID | SFTP_ATTR_PERMISSIONS | SFTP_ATTR_ACMODTIME);
        put_u64(b, (guint64)st->st_size);
        put_u32(b, st->st_uid);
        put_u32(b, st->st_gid);
        put_u32(b, st->st_mode);
        put_u32(b, (guint32)st->st_atime);
        put_u32(b, (guint32)st->st_mtime);
}

static void
reply_attrs(GByteArray *b, guint32 id, const struct stat *st)
{
        gsize start = reply_begin(b, SFTP_ATTRS);

        put_u32(b, id);
        put_attrs_stat(b, st);
        reply_end(b, start);
}

/* REALPATH and READLINK answer with one name and no attributes. */
static void
reply_one_name(GByteArray *b, guint32 id, const gchar *name)
{
        gsize start = reply_begin(b, SFTP_NAME);

        put_u32(b, id);
        put_u32(b, 1);
        put_text(b, name);
        put_text(b, name);
        put_u32(b, 0);
        reply_end(b, start);
}

/* ---- resolving paths inside root ---- */

static int
sftp_open_openat2(LimaSftpServer *s, const gchar *path, int flags, mode_t mode)
{
        struct open_how how = { 0 };

        how.flags = (guint64)(flags | O_CLOEXEC);
        how.mode = (flags & O_CREAT) ? mode : 0;
        how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
        /* RESOLVE_IN_ROOT answers EAGAIN when a concurrent rename could have let ".." escape. */
        for (guint i = 0; i < 16; i++) {
                long fd = syscall(SYS_openat2, s->root_fd, path, &how, sizeof(how));
                if (fd >= 0 || errno != EAGAIN)
                        return (int)fd;
        }
        return -1;
}

/* Pushes the components of path onto a stack whose top is the next one to walk. */
static void
walk_push(GPtrArray *pending, const gchar *path)
{
        g_auto(GStrv) parts = g_strsplit(path, "/", -1);

        for (guint i = g_strv_length(parts); i > 0; i--)
                g_ptr_array_add(pending, g_strdup(parts[i - 1]));
}

static void
walk_pop_to(GArray *dirs, guint len)
{
        while (dirs->len > len) {
                close(g_array_index(dirs, int, dirs->len - 1));
                g_array_set_size(dirs, dirs->len - 1);
        }
}

/* For kernels without openat2: every step is an O_NOFOLLOW openat from a directory already
 * inside root; ".." pops a stack of those directories instead of asking the kernel, and
 * symlink text is expanded here, an absolute target restarting at root. A directory moved out
 * of root while a lookup walks through it is the one race this cannot close. */
static int
sftp_open_walk(LimaSftpServer *s, const gchar *path, int flags, mode_t mode)
{
        g_autoptr(GPtrArray) pending = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(GArray) dirs = g_array_new(FALSE, FALSE, sizeof(int));
        gboolean follow_last = !(flags & O_NOFOLLOW);
        gboolean done = FALSE;
        guint links = 0;
        int fd = -1;
        int err = 0;

        g_array_append_val(dirs, s->root_fd);
        walk_push(pending, path);
        while (pending->len > 0 && !done) {
                g_autofree gchar *name = g_ptr_array_steal_index(pending, pending->len - 1);
                gboolean last = pending->len == 0;
                int top = g_array_index(dirs, int, dirs->len - 1);
                int next;

                if (*name == '\0' || strcmp(name, ".") == 0)
                        continue;
                if (strcmp(name, "..") == 0) {
                        walk_pop_to(dirs, MAX(dirs->len - 1, 1));
                        continue;
                }
                if (!last || follow_last) {
                        gchar target[PATH_MAX];
                        ssize_t n = readlinkat(top, name, target, sizeof(target) - 1);

                        if (n >= 0) {
                                if (++links > SFTP_MAX_SYMLINKS) {
                                        err = ELOOP;
                                        done = TRUE;
                                        continue;
                                }
                                target[n] = '\0';
                                if (target[0] == '/')
                                        walk_pop_to(dirs, 1);
                                walk_push(pending, target);
                                continue;
                        }
                        /* EINVAL: not a symlink; a missing last name may be about to be made. */
                        if (errno != EINVAL && !(last && errno == ENOENT)) {
                                err = errno;
                                done = TRUE;
                                continue;
                        }
                }
                if (last) {
                        /* O_NOFOLLOW: a symlink swapped in since readlinkat fails, not escapes. */
                        fd = openat(top, name, flags | O_NOFOLLOW | O_CLOEXEC, mode);
                        err = fd < 0 ? errno : 0;
                        done = TRUE;
                        continue;
                }
                next = openat(top, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (next < 0) {
                        err = errno;
                        done = TRUE;
                        continue;
                }
                g_array_append_val(dirs, next);
        }
        if (!done) {
                /* The path ended in a directory ("", ".", "..", a trailing slash). */
                fd = openat(g_array_index(dirs, int, dirs->len - 1), ".",
                            (flags & ~O_NOFOLLOW) | O_CLOEXEC, mode);
                err = fd < 0 ? errno : 0;
        }
        walk_pop_to(dirs, 1);
        errno = err;
        return fd;
}

/* Opens path as if root were "/"; flags may hold O_NOFOLLOW for the last component. -1 and
 * errno on failure. */
static int
sftp_open(LimaSftpServer *s, const gchar *path, int flags, mode_t mode)
{
        if (*path == '\0')
                path = ".";
        if (s->use_openat2)
                return sftp_open_openat2(s, path, flags, mode);
        return sftp_open_walk(s, path, flags, mode);
}

/* For requests that act on a name itself rather than on what a symlink there points to: a
 * directory inside root and one component to hand to an *at() call. A path that ends in ".",
 * ".." or is root gets the directory itself and ".", so no ".." ever reaches the kernel. */
static int
sftp_open_parent(LimaSftpServer *s, const gchar *path, gchar **name)
{
        g_autofree gchar *copy = g_strdup(*path != '\0' ? path : ".");
        gsize len = strlen(copy);
        gchar *slash;
        const gchar *last;

        while (len > 1 && copy[len - 1] == '/')
                copy[--len] = '\0';
        slash = strrchr(copy, '/');
        last = slash != NULL ? slash + 1 : copy;
        if (*last == '\0' || strcmp(last, ".") == 0 || strcmp(last, "..") == 0) {
                *name = g_strdup(".");
                return sftp_open(s, copy, O_PATH | O_DIRECTORY, 0);
        }
        *name = g_strdup(last);
        if (slash == NULL)
                return sftp_open(s, ".", O_PATH | O_DIRECTORY, 0);
        if (slash == copy)
                return sftp_open(s, "/", O_PATH | O_DIRECTORY, 0);
        *slash = '\0';
        return sftp_open(s, copy, O_PATH | O_DIRECTORY, 0);
}

/* The client's name ("/"-rooted) for a file open inside root; NULL and errno if the kernel
 * places it outside, e.g. after a rename moved it out. */
static gchar *
sftp_client_path(LimaSftpServer *s, int fd)
{
        g_autofree gchar *proc = g_strdup_printf("/proc/self/fd/%d", fd);
        g_autofree gchar *host = g_file_read_link(proc, NULL);
        gsize root_len = strlen(s->root);

        if (host == NULL) {
                errno = ENOENT;
                return NULL;
        }
        if (strcmp(s->root, "/") == 0)
                return g_steal_pointer(&host);
        if (strncmp(host, s->root, root_len) != 0 ||
            (host[root_len] != '\0' && host[root_len] != '/')) {
                errno = ENOENT;
                return NULL;
        }
        return g_strdup(host[root_len] != '\0' ? host + root_len : "/");
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

static void
reply_bad_handle(GByteArray *b, guint32 id)
{
        reply_status(b, id, SFTP_FX_FAILURE, "Invalid handle");
}

static void
reply_too_many_handles(GByteArray *b, guint32 id)
{
        reply_status(b, id, SFTP_FX_FAILURE, "Too many open handles");
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

/* Each returns FALSE only when the request could not be parsed, having replied nothing; the
 * dispatcher then answers SSH_FX_BAD_MESSAGE. */
typedef gboolean (*SftpRequestFunc)(LimaSftpServer *s, guint32 id, SftpReader *r,
                                    GByteArray *reply);

static gboolean
sftp_open_file(LimaSftpServer *s, guint32 id, SftpReader *r, GByteArray *reply)
{
        g_autofree gchar *path = reader_text(r);
        guint32 pflags;
        SftpAttrs attrs;
        SftpHandle *h;
        guint32 hid;
        mode_t mode;
        int flags;
        int fd;

        if (path == NULL || !reader_u32(r, &pflags) || !reader_attrs(r, &attrs))
                return FALSE;
        if (s->read_only &&
            (pflags & (SFTP_OPEN_WRITE | SFTP_OPEN_APPEND | SFTP_OPEN_CREAT | SFTP_OPEN_TRUNC))) {
                reply_status(reply, id, SFTP_FX_PERMISSION_DENIED, "Read-only share");
                return TRUE;
        }
        if (g_hash_table_size(s->handles) >= LIMA_SFTP_MAX_HANDLES) {
                reply_too_many_handles(reply, id);
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
        fd = sftp_open(s, path, flags, mode);
        if (fd < 0) {
                reply_errno(reply, id, errno);
                return TRUE;
        }
        h = g_new0(SftpHandle, 1);
        h->fd = fd;
        sftp_handle_add(s, h, &hid);
        reply_handle(reply, id, hid);
        return TRUE;
}

static gboolean
sftp_opendir(LimaSftpServer *s, guint32 id, SftpReader *r, GByteArray *reply)
{
        g_autofree gchar *path = reader_text(r);
        struct stat st;
        SftpHandle *h;
        guint32 hid;
        DIR *dir = NULL;
        int fd;

        if (path == NULL)
                return FALSE;
        if (g_hash_table_size(s->handles) >= LIMA_SFTP_MAX_HANDLES) {
                reply_too_many_handles(reply, id);
                return TRUE;
        }
        fd = sftp_open(s, path, O_RDONLY | O_DIRECTORY | O_NONBLOCK, 0);
        if (fd < 0 || fstat(fd, &st) < 0 || (dir = fdopendir(fd)) == NULL) {
                int err = errno;
                if (fd >= 0)
                        close(fd);
                reply_errno(reply, id, err);
                return TRUE;
        }
        h = g_new0(SftpHandle, 1);
        h->fd = fd;
        h->dir = dir;
        /* Its ".." entry is outside: READDIR must not describe it. */
        {
                struct stat root_st;
                h->is_root = fstat(s->root_fd, &root_st) == 0 && root_st.st_dev == st.st_dev &&
                             root_st.st_ino == st.st_ino;
        }
        sftp_handle_add(s, h, &hid);
        reply_handle(reply, id, hid);
        return TRUE;
}

static gboolean
sftp_close(LimaSftpServer *s, guint32 id, SftpReader *r, GByteArray *reply)
{
        SftpHandle *h;
        guint32 hid;
        int rc;

        if (!reader_handle(r, &hid))
                return FALSE;
        h = g_hash_table_lookup(s->handles, GUINT_TO_POINTER(hid));
        if (h == NULL) {
                reply_bad_handle(reply, id);
                return TRUE;
        }
        g_hash_table_steal(s->handles, GUINT_TO_POINTER(hid));
        /* close() can report a write error that pwrite did not (NFS, quota); pass it on. */
        rc = h->dir != NULL ? closedir(h->dir) : close(h->fd);
        reply_errno(reply, id, rc < 0 ? errno : 0);
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

        if (!reader_handle(r, &hid) || !reader_u64(r, &offset) || !reader_u32(r, &len))
                return FALSE;
        h = g_hash_table_lookup(s->handles, GUINT_TO_POINTER(hid));
        if (h == NULL) {
                reply_bad_handle(reply, id);
                return TRUE;
        }
        len = MIN(len, SFTP_MAX_READ);
        start = reply_begin(reply, SFTP_DATA);
        put_u32(reply, id);
        put_u32(reply, 0);
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
                        reply_status(reply, id, SFTP_FX_EOF, "End of file");
                else
                        reply_errno(reply, id, err);
                return TRUE;
        }
        g_byte_array_set_size(reply, (guint)(data_at + (gsize)n));
        reply->data[data_at - 4] = (guint32)n >> 24;
        reply->data[data_at - 3] = (guint32)n >> 16;
        reply->data[data_at - 2] = (guint32)n >> 8;
        reply->data[data_at - 1] = (guint32)n;
        reply_end(reply, start);
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

        if (!reader_handle(r, &hid) || !reader_u64(r, &offset) || !reader_string(r, &data, &len))
                return FALSE;
        h = g_hash_table_lookup(s->handles, GUINT_TO_POINTER(hid));
        if (h == NULL) {
                reply_bad_handle(reply, id);
                return TRUE;
        }
        if (offset > (guint64)G_MAXINT64 - len) {
                reply_errno(reply, id, EFBIG);
                return TRUE;
        }
        while (done < len) {
                ssize_t n = pwrite(h->fd, data + done, len - done, (off_t)(offset + done));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0) {
                        reply_errno(reply, id, n < 0 ? errno : ENOSPC);
                        return TRUE;
                }
                done += (gsize)n;
        }
        reply_ok(reply, id);
        return TRUE;
}

static gboolean
sftp_lstat(LimaSftpServer *s, guint32 id, SftpReader *r, GByteArray *reply)
{
        g_autofree gchar *path = reader_text(r);
        g_autofree gchar *name = NULL;
        struct stat st;
        int dfd;
        int rc;

        if (path == NULL)
                return FALSE;
        dfd = sftp_open_parent(s, path, &name);
        if (dfd < 0) {
                reply_errno(reply, id, errno);
                return TRUE;
        }
        rc = fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW);
        if (rc < 0)
                reply_errno(reply, id, errno);
        else
                reply_attrs(reply, id, &st);
        close(dfd);
        return TRUE;
}

static gboolean
sftp_stat(LimaSftpServer *s, guint32 id, SftpReader *r, GByteArray *reply)
{
        g_autofree gchar *path = reader_text(r);
        struct stat st;
        int fd;

        if (path == NULL)
                return FALSE;
        fd = sftp_open(s, path, O_PATH, 0);
        if (fd < 0 || fstat(fd, &st) < 0)
                reply_errno(reply, id, errno);
        else
                reply_attrs(reply, id, &st);
        if (fd >= 0)
                close(fd);
        return TRUE;
}

static gboolean
sftp_fstat(LimaSftpServer *s, guint32 id, SftpReader *r, GByteArray *reply)
{
        SftpHandle *h;
        struct stat st;
        guint32 hid;

        if (!reader_handle(r, &hid))
                return FALSE;
        h = g_hash_table_lookup(s->handles, GUINT_TO_POINTER(hid));
        if (h == NULL)
                reply_bad_handle(reply, id);
        else if (fstat(h->fd, &st) < 0)
                reply_errno(reply, id, errno);
        else
                reply_attrs(reply, id, &st);
        return TRUE;
}

/* Applies attributes in OpenSSH's order. An O_PATH fd cannot be truncated, chmod-ed or
 * touched directly, so those go through its /proc/self/fd link, which names exactly the
 * file already resolved inside root. 0 or an errno. */
static int
sftp_apply_attrs(int fd, gboolean o_path, const SftpAttrs *a)
{
        g_autofree gchar *proc = g_strdup_printf("/proc/self/fd/%d", fd);

        if (a->flags & SFTP_ATTR_SIZE) {
                if (a->size > (guint64)G_MAXINT64)
                        return EINVAL;
                if ((o_path ? truncate(proc, (off_t)a->size) : ftruncate(fd, (off_t)a->size)) < 0)
                        return errno;
        }
        if (a->flags & SFTP_ATTR_PERMISSIONS) {
                mode_t mode = a->perm & 07777;
                if ((o_path ? chmod(proc, mode) : fchmod(fd, mode)) < 0)
                        return errno;
        }
        if (a->flags & SFTP_ATTR_ACMODTIME) {
                struct timespec times[2] = { { a->atime, 0 }, { a->mtime, 0 } };
                if ((o_path ? utimensat(AT_FDCWD, proc, times, 0) : futimens(fd, times)) < 0)
                        return errno;
        }
        if (a->flags & SFTP_ATTR_UIDGID) {
                if (fchownat(fd, "", a->uid, a->gid, AT_EMPTY_PATH) < 0)
                        return errno;
        }
        return 0;
}

static gboolean
sftp_setstat(LimaSftpServer *s, guint32 id, SftpReader *r, GByteArray *reply)
{
        g_autofree gchar *path = reader_text(r);
        SftpAttrs attrs;
        int fd;

        if (path == NULL || !reader_attrs(r, &attrs))
                return FALSE;
        fd = sftp_open(s, path, O_PATH, 0);
        if (fd < 0) {
                reply_errno(reply, id, errno);
                return TRUE;
        }
        reply_errno(reply, id, sftp_apply_attrs(fd, TRUE, &attrs));
        close(fd);
        return TRUE;
}

static gboolean
sftp_fsetstat(LimaSftpServer *s, guint32 id, SftpReader *r, GByteArray *reply)
{
        SftpAttrs attrs;
        SftpHandle *h;
        guint32 hid;

        if (!reader_handle(r, &hid) || !reader_attrs(r, &attrs))
                return FALSE;
        h = g_hash_table_lookup(s->handles, GUINT_TO_POINTER(hid));
        if (h == NULL)
                reply_bad_handle(reply, id);
        else
                reply_errno(reply, id, sftp_apply_attrs(h->fd, FALSE, &attrs));
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

        if (!reader_handle(r, &hid))
                return FALSE;
        h = g_hash_table_lookup(s->handles, GUINT_TO_POINTER(hid));
        if (h == NULL || h->dir == NULL) {
                reply_bad_handle(reply, id);
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
                                reply_errno(reply, id, errno);
                                return TRUE;
                        }
                        break;
                }
                stat_name = (h->is_root && strcmp(de->d_name, "..") == 0) ? "." : de->d_name;
                /* Gone since readdir listed it: skip it, as ls would. */
                if (fstatat(h->fd, stat_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        continue;
                longname = sftp_longname(s, de->d_name, &st);
                put_text(entries, de->d_name);
                put_text(entries, longname);
                put_attrs_stat(entries, &st);
                count++;
        }
        if (count == 0) {
                reply_status(reply, id, SFTP_FX_EOF, "End of file");
                return TRUE;
        }
        start = reply_begin(reply, SFTP_NAME);
        put_u32(reply, id);
        put_u32(reply, count);
        g_byte_array_append(reply, entries->data, entries->len);
        reply_end(reply, start);
        return TRUE;
}

/* The shape of REMOVE, RMDIR, READLINK: one path, acted on without following it. */
static gboolean
sftp_named(LimaSftpServer *s, SftpReader *r, int *dfd, gchar **name, int *err)
{
        g_autofree gchar *path = reader_text(r);

        if (path == NULL)
                return FALSE;
        *dfd = sftp_open_parent(s, path, name);
        *err = *dfd < 0 ? errno : 0;
        return TRUE;
}

/* REMOVE and RMDIR: one unlinkat() through the confined parent, flags telling which. */
static gboolean
sftp_unlink(LimaSftpServer *s, guint32 id, SftpReader *r, GByteArray *reply, int flags)
{
        g_autofree gchar *name = NULL;
        int dfd;
        int err;

        if (!sftp_named(s, r, &dfd, &name, &err))
                return FALSE;
        if (dfd >= 0) {
                err = unlinkat(dfd, name, flags) < 0 ? errno : 0;
                close(dfd);
        }
        reply_errno(reply, id, err);
        return TRUE;
}

static gboolean
sftp_remove(LimaSftpServer *s, guint32 id, SftpReader *r, GByteArray *reply)
{
        return sftp_unlink(s, id, r, reply, 0);
}

static gboolean
sftp_rmdir(LimaSftpServer *s, guint32 id, SftpReader *r, GByteArray *reply)
{
        return sftp_unlink(s, id, r, reply, AT_REMOVEDIR);
}

static gboolean
sftp_readlink(LimaSftpServer *s, guint32 id, SftpReader *r, GByteArray *reply)
{
        g_autofree gchar *name = NULL;
        gchar target[PATH_MAX];
        ssize_t n = -1;
        int dfd;
        int err;

        if (!sftp_named(s, r, &dfd, &name, &err))
                return FALSE;
        if (dfd >= 0) {
                n = readlinkat(dfd, name, target, sizeof(target) - 1);
                err = n < 0 ? errno : 0;
                close(dfd);
        }
        if (n < 0) {
                reply_errno(reply, id, err);
                return TRUE;
        }
        /* The text as stored, even when it points outside: following it is what is confined. */
        target[n] = '\0';
        reply_one_name(reply, id, target);
        return TRUE;
}

static gboolean
sftp_mkdir(LimaSftpServer *s, guint32 id, SftpReader *r, GByteArray *reply)
{
        g_autofree gchar *path = reader_text(r);
        g_autofree gchar *name = NULL;
        SftpAttrs attrs;
        mode_t mode;
        int dfd;

        if (path == NULL || !reader_attrs(r, &attrs))
                return FALSE;
        mode = (attrs.flags & SFTP_ATTR_PERMISSIONS) ? (attrs.perm & 07777) : 0777;
        dfd = sftp_open_parent(s, path, &name);
        if (dfd < 0) {
                reply_errno(reply, id, errno);
                return TRUE;
        }
        reply_errno(reply, id, mkdirat(dfd, name, mode) < 0 ? errno : 0);
        close(dfd);
        return TRUE;
}

static gboolean
sftp_realpath(LimaSftpServer *s, guint32 id, SftpReader *r, GByteArray *reply)
{
        g_autofree gchar *path = reader_text(r);
        g_autofree gchar *name = NULL;
        g_autofree gchar *resolved = NULL;
        int err;
        int fd;

        if (path == NULL)
                return FALSE;
        fd = sftp_open(s, path, O_PATH, 0);
        err = fd < 0 ? errno : 0;
        if (fd >= 0) {
                resolved = sftp_client_path(s, fd);
                err = resolved == NULL ? errno : 0;
                close(fd);
        } else if (err == ENOENT) {
                /* As OpenSSH: the last component need not exist yet. */
                int dfd = sftp_open_parent(s, path, &name);
                if (dfd >= 0) {
                        g_autofree gchar *dir = sftp_client_path(s, dfd);
                        if (dir != NULL)
                                resolved = g_build_filename(dir, name, NULL);
                        close(dfd);
                }
        }
        if (resolved == NULL)
                reply_errno(reply, id, err != 0 ? err : ENOENT);
        else
                reply_one_name(reply, id, resolved);
        return TRUE;
}

/* Two paths, both acted on without following the last component: RENAME, posix-rename,
 * hardlink and, for its second argument only, SYMLINK. */
typedef enum {
        SFTP_PAIR_RENAME,
        SFTP_PAIR_POSIX_RENAME,
        SFTP_PAIR_HARDLINK,
} SftpPairOp;

static int
sftp_pair_apply(SftpPairOp op, int ofd, const gchar *oname, int nfd, const gchar *nname)
{
        struct stat st;

        switch (op) {
        case SFTP_PAIR_POSIX_RENAME:
                return renameat(ofd, oname, nfd, nname) < 0 ? errno : 0;
        case SFTP_PAIR_HARDLINK:
                return linkat(ofd, oname, nfd, nname, 0) < 0 ? errno : 0;
        case SFTP_PAIR_RENAME:
        default:
                /* SFTP v3 RENAME must not replace an existing target. */
                if (renameat2(ofd, oname, nfd, nname, RENAME_NOREPLACE) == 0)
                        return 0;
                if (errno != EINVAL)
                        return errno;
                /* A filesystem without RENAME_NOREPLACE: check, then rename (racy, as OpenSSH
                 * is for directories). */
                if (fstatat(nfd, nname, &st, AT_SYMLINK_NOFOLLOW) == 0)
                        return EEXIST;
                return renameat(ofd, oname, nfd, nname) < 0 ? errno : 0;
        }
}

static void
sftp_pair(LimaSftpServer *s, SftpPairOp op, guint32 id, const gchar *oldpath, const gchar *newpath,
          GByteArray *reply)
{
        g_autofree gchar *oname = NULL;
        g_autofree gchar *nname = NULL;
        int ofd = sftp_open_parent(s, oldpath, &oname);
        int nfd = -1;
        int err;

        if (ofd < 0) {
                reply_errno(reply, id, errno);
                return;
        }
        nfd = sftp_open_parent(s, newpath, &nname);
        err = nfd < 0 ? errno : sftp_pair_apply(op, ofd, oname, nfd, nname);
        reply_errno(reply, id, err);
        close(ofd);
        if (nfd >= 0)
                close(nfd);
}

static gboolean
sftp_rename(LimaSftpServer *s, guint32 id, SftpReader *r, GByteArray *reply)
{
        g_autofree gchar *oldpath = reader_text(r);
        g_autofree gchar *newpath = reader_text(r);

        if (oldpath == NULL || newpath == NULL)
                return FALSE;
        sftp_pair(s, SFTP_PAIR_RENAME, id, oldpath, newpath, reply);
        return TRUE;
}

static gboolean
sftp_symlink(LimaSftpServer *s, guint32 id, SftpReader *r, GByteArray *reply)
{
        /* OpenSSH reads the link's text first and where to make it second, the reverse of the
         * draft; sshfs and every client follow OpenSSH. */
        g_autofree gchar *target = reader_text(r);
        g_autofree gchar *linkpath = reader_text(r);
        g_autofree gchar *name = NULL;
        int dfd;

        if (target == NULL || linkpath == NULL)
                return FALSE;
        dfd = sftp_open_parent(s, linkpath, &name);
        if (dfd < 0) {
                reply_errno(reply, id, errno);
                return TRUE;
        }
        reply_errno(reply, id, symlinkat(target, dfd, name) < 0 ? errno : 0);
        close(dfd);
        return TRUE;
}

static void
sftp_statvfs(LimaSftpServer *s, guint32 id, const gchar *path, GByteArray *reply)
{
        struct statvfs st;
        guint64 flag;
        gsize start;
        int fd = sftp_open(s, path, O_PATH, 0);

        if (fd < 0 || fstatvfs(fd, &st) < 0) {
                reply_errno(reply, id, errno);
                if (fd >= 0)
                        close(fd);
                return;
        }
        close(fd);
        /* The guest should see a read-only share as one; 1 and 2 are the wire's RDONLY, NOSUID. */
        flag = ((st.f_flag & ST_RDONLY) || s->read_only ? 1 : 0) | (st.f_flag & ST_NOSUID ? 2 : 0);
        start = reply_begin(reply, SFTP_EXTENDED_REPLY);
        put_u32(reply, id);
        put_u64(reply, st.f_bsize);
        put_u64(reply, st.f_frsize);
        put_u64(reply, st.f_blocks);
        put_u64(reply, st.f_bfree);
        put_u64(reply, st.f_bavail);
        put_u64(reply, st.f_files);
        put_u64(reply, st.f_ffree);
        put_u64(reply, st.f_favail);
        put_u64(reply, st.f_fsid);
        put_u64(reply, flag);
        put_u64(reply, st.f_namemax);
        reply_end(reply, start);
}

static gboolean
sftp_extended(LimaSftpServer *s, guint32 id, SftpReader *r, GByteArray *reply)
{
        g_autofree gchar *request = reader_text(r);
        g_autofree gchar *a = NULL;
        g_autofree gchar *b = NULL;
        gboolean pair;

        if (request == NULL)
                return FALSE;
        if (strcmp(request, "fsync@openssh.com") == 0) {
                SftpHandle *h;
                guint32 hid;

                if (!reader_handle(r, &hid))
                        return FALSE;
                h = g_hash_table_lookup(s->handles, GUINT_TO_POINTER(hid));
                if (h == NULL)
                        reply_bad_handle(reply, id);
                else
                        reply_errno(reply, id, fsync(h->fd) < 0 ? errno : 0);
                return TRUE;
        }
        if (strcmp(request, "statvfs@openssh.com") == 0) {
                a = reader_text(r);
                if (a == NULL)
                        return FALSE;
                sftp_statvfs(s, id, a, reply);
                return TRUE;
        }
        pair = strcmp(request, "posix-rename@openssh.com") == 0 ||
               strcmp(request, "hardlink@openssh.com") == 0;
        if (!pair) {
                reply_status(reply, id, SFTP_FX_OP_UNSUPPORTED, "Operation unsupported");
                return TRUE;
        }
        if (s->read_only) {
                reply_status(reply, id, SFTP_FX_PERMISSION_DENIED, "Read-only share");
                return TRUE;
        }
        a = reader_text(r);
        b = reader_text(r);
        if (a == NULL || b == NULL)
                return FALSE;
        sftp_pair(s, request[0] == 'p' ? SFTP_PAIR_POSIX_RENAME : SFTP_PAIR_HARDLINK, id, a, b,
                  reply);
        return TRUE;
}

static const struct {
        guint8 type;
        gboolean mutating; /* refused on a read-only share (OPEN decides by its flags) */
        SftpRequestFunc func;
} sftp_requests[] = {
        { SFTP_OPEN, FALSE, sftp_open_file },    { SFTP_CLOSE, FALSE, sftp_close },
        { SFTP_READ, FALSE, sftp_read },         { SFTP_WRITE, TRUE, sftp_write },
        { SFTP_LSTAT, FALSE, sftp_lstat },       { SFTP_FSTAT, FALSE, sftp_fstat },
        { SFTP_SETSTAT, TRUE, sftp_setstat },    { SFTP_FSETSTAT, TRUE, sftp_fsetstat },
        { SFTP_OPENDIR, FALSE, sftp_opendir },   { SFTP_READDIR, FALSE, sftp_readdir },
        { SFTP_REMOVE, TRUE, sftp_remove },      { SFTP_MKDIR, TRUE, sftp_mkdir },
        { SFTP_RMDIR, TRUE, sftp_rmdir },        { SFTP_REALPATH, FALSE, sftp_realpath },
        { SFTP_STAT, FALSE, sftp_stat },         { SFTP_RENAME, TRUE, sftp_rename },
        { SFTP_READLINK, FALSE, sftp_readlink }, { SFTP_SYMLINK, TRUE, sftp_symlink },
        { SFTP_EXTENDED, FALSE, sftp_extended },
};

static void
sftp_init(SftpReader *r, GByteArray *reply)
{
        guint32 version;
        gsize start;

        if (!reader_u32(r, &version)) {
                reply_status(reply, 0, SFTP_FX_BAD_MESSAGE, "Bad message");
                return;
        }
        /* Version 3 whatever the client offers: it is the one sshfs and OpenSSH speak. */
        start = reply_begin(reply, SFTP_VERSION);
        put_u32(reply, 3);
        put_text(reply, "posix-rename@openssh.com");
        put_text(reply, "1");
        put_text(reply, "statvfs@openssh.com");
        put_text(reply, "2");
        put_text(reply, "hardlink@openssh.com");
        put_text(reply, "1");
        put_text(reply, "fsync@openssh.com");
        put_text(reply, "1");
        reply_end(reply, start);
}

void
lima_sftp_server_handle_packet(LimaSftpServer *s, const guint8 *data, gsize len, GByteArray *reply)
{
        SftpReader r = { data, len };
        guint8 type;
        guint32 id;

        if (!reader_u8(&r, &type)) {
                reply_status(reply, 0, SFTP_FX_BAD_MESSAGE, "Empty packet");
                return;
        }
        if (type == SFTP_INIT) {
                sftp_init(&r, reply);
                return;
        }
        if (!reader_u32(&r, &id)) {
                reply_status(reply, 0, SFTP_FX_BAD_MESSAGE, "Packet without a request id");
                return;
        }
        for (gsize i = 0; i < G_N_ELEMENTS(sftp_requests); i++) {
                if (sftp_requests[i].type != type)
                        continue;
                if (sftp_requests[i].mutating && s->read_only) {
                        reply_status(reply, id, SFTP_FX_PERMISSION_DENIED, "Read-only share");
                        return;
                }
                if (!sftp_requests[i].func(s, id, &r, reply))
                        reply_status(reply, id, SFTP_FX_BAD_MESSAGE, "Bad message");
                return;
        }
        reply_status(reply, id, SFTP_FX_OP_UNSUPPORTED, "Operation unsupported");
}

/* ---- the server and its stream ---- */

LimaSftpServer *
lima_sftp_server_new(const gchar *root, gboolean read_only, GError **error)
{
        g_autoptr(LimaSftpServer) s = g_new0(LimaSftpServer, 1);
        g_autofree gchar *canonical = realpath(root, NULL);
        struct open_how how = { .flags = O_PATH | O_CLOEXEC, .resolve = RESOLVE_IN_ROOT };
        long probe;

        s->root_fd = -1;
        s->handles = g_hash_table_new_full(NULL, NULL, NULL, sftp_handle_free);
        s->user_names = g_hash_table_new_full(NULL, NULL, NULL, g_free);
        s->group_names = g_hash_table_new_full(NULL, NULL, NULL, g_free);
        s->next_handle = 1;
        s->read_only = read_only;
        if (canonical == NULL) {
                int err = errno;
                g_set_error(error, G_IO_ERROR, g_io_error_from_errno(err),
                            _("Cannot serve %s over SFTP: %s"), root, g_strerror(err));
                return NULL;
        }
        s->root = g_steal_pointer(&canonical);
        s->root_fd = open(s->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (s->root_fd < 0) {
                int err = errno;
                g_set_error(error, G_IO_ERROR, g_io_error_from_errno(err),
                            _("Cannot serve %s over SFTP: %s; it must be a directory"), root,
                            g_strerror(err));
                return NULL;
        }
        /* Older kernels (< 5.6) and some seccomp filters lack openat2: walk by hand there. */
        probe = syscall(SYS_openat2, s->root_fd, ".", &how, sizeof(how));
        s->use_openat2 = probe >= 0;
        if (probe >= 0)
                close((int)probe);
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
        if (s->root_fd >= 0)
                close(s->root_fd);
        g_free(s->root);
        g_free(s);
}

void
lima_sftp_server_set_use_openat2(LimaSftpServer *s, gboolean use_openat2)
{
        s->use_openat2 = use_openat2;
}

/* Waits until fd is ready for events or the cancellable fires (cancel_fd, -1 without one). */
static gboolean
sftp_wait(int fd, short events, int cancel_fd, GCancellable *cancellable, GError **error)
{
        struct pollfd fds[2] = { { fd, events, 0 }, { cancel_fd, POLLIN, 0 } };

        for (;;) {
                int n = poll(fds, cancel_fd >= 0 ? 2 : 1, -1);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        int err = errno;
                        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(err),
                                    _("SFTP session: poll failed: %s"), g_strerror(err));
                        return FALSE;
                }
                if (g_cancellable_set_error_if_cancelled(cancellable, error))
                        return FALSE;
                if (fds[0].revents != 0)
                        return TRUE;
        }
}

static gboolean
sftp_write_all(int fd, GByteArray *out, int cancel_fd, GCancellable *cancellable, GError **error)
{
        gsize done = 0;
        gboolean is_socket = TRUE;

        while (done < out->len) {
                ssize_t n;

                if (!sftp_wait(fd, POLLOUT, cancel_fd, cancellable, error))
                        return FALSE;
                /* MSG_NOSIGNAL: a guest that hangs up must not kill the agent with SIGPIPE. */
                n = is_socket
                        ? send(fd, out->data + done, out->len - done, MSG_NOSIGNAL | MSG_DONTWAIT)
                        : write(fd, out->data + done, out->len - done);
                if (n < 0 && errno == ENOTSOCK) {
                        is_socket = FALSE;
                        continue;
                }
                if (n < 0 && (errno == EINTR || errno == EAGAIN))
                        continue;
                if (n < 0) {
                        int err = errno;
                        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(err),
                                    _("SFTP session: cannot write a reply: %s"), g_strerror(err));
                        return FALSE;
                }
                done += (gsize)n;
        }
        g_byte_array_set_size(out, 0);
        return TRUE;
}

static guint32
sftp_be32(const guint8 *p)
{
        return (guint32)p[0] << 24 | (guint32)p[1] << 16 | (guint32)p[2] << 8 | p[3];
}

static gboolean
sftp_session(LimaSftpServer *s, int in_fd, int out_fd, int cancel_fd, GCancellable *cancellable,
             GError **error)
{
        g_autoptr(GByteArray) in = g_byte_array_new();
        g_autoptr(GByteArray) out = g_byte_array_new();

        for (;;) {
                gsize consumed = 0;
                gsize have;
                ssize_t n;

                while (in->len - consumed >= 4) {
                        guint32 len = sftp_be32(in->data + consumed);

                        if (len > LIMA_SFTP_MAX_PACKET) {
                                /* The stream cannot be resynchronised: answer, then hang up. */
                                reply_status(out, 0, SFTP_FX_BAD_MESSAGE, "Packet too long");
                                sftp_write_all(out_fd, out, cancel_fd, cancellable, NULL);
                                g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                                            _("SFTP session: the client sent a packet of %u "
                                              "bytes, more than %u"),
                                            len, (guint)LIMA_SFTP_MAX_PACKET);
                                return FALSE;
                        }
                        if (in->len - consumed - 4 < len)
                                break;
                        lima_sftp_server_handle_packet(s, in->data + consumed + 4, len, out);
                        consumed += 4 + (gsize)len;
                        /* Flush often: many small READs must not pile up replies in memory. */
                        if (out->len >= 64 * 1024 &&
                            !sftp_write_all(out_fd, out, cancel_fd, cancellable, error))
                                return FALSE;
                }
                if (out->len > 0 && !sftp_write_all(out_fd, out, cancel_fd, cancellable, error))
                        return FALSE;
                if (consumed > 0)
                        g_byte_array_remove_range(in, 0, (guint)consumed);

                if (!sftp_wait(in_fd, POLLIN, cancel_fd, cancellable, error))
                        return FALSE;
                have = in->len;
                g_byte_array_set_size(in, (guint)(have + 64 * 1024));
                n = read(in_fd, in->data + have, 64 * 1024);
                g_byte_array_set_size(in, (guint)(have + (n > 0 ? (gsize)n : 0)));
                if (n < 0 && (errno == EINTR || errno == EAGAIN))
                        continue;
                if (n < 0) {
                        int err = errno;
                        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(err),
                                    _("SFTP session: cannot read a request: %s"), g_strerror(err));
                        return FALSE;
                }
                if (n == 0) {
                        if (in->len == 0)
                                return TRUE;
                        g_set_error(error, G_IO_ERROR, G_IO_ERROR_PARTIAL_INPUT,
                                    _("SFTP session: the client hung up in the middle of a "
                                      "packet"));
                        return FALSE;
                }
        }
}

gboolean
lima_sftp_server_run(LimaSftpServer *s, int in_fd, int out_fd, GCancellable *cancellable,
                     GError **error)
{
        GPollFD cancel = { -1, 0, 0 };
        gboolean ok;

        if (cancellable != NULL && !g_cancellable_make_pollfd(cancellable, &cancel))
                cancel.fd = -1;
        ok = sftp_session(s, in_fd, out_fd, cancel.fd, cancellable, error);
        if (cancel.fd >= 0)
                g_cancellable_release_fd(cancellable);
        return ok;
}
