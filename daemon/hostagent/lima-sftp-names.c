/* The builtin SFTP server's requests that name a path (resolved inside the root by
 * lima-sftp-root.c), and the OpenSSH extensions it announces. */
/* AT_EMPTY_PATH, renameat2. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "lima-sftp-private.h"

gboolean
lima_sftp_lstat(LimaSftpServer *s, guint32 id, SftpReader *r, GByteArray *reply)
{
        g_autofree gchar *path = lima_sftp_read_text(r);
        g_autofree gchar *name = NULL;
        struct stat st;
        int dfd;
        int rc;

        if (path == NULL)
                return FALSE;
        dfd = lima_sftp_root_open_parent(&s->root, path, &name);
        if (dfd < 0) {
                lima_sftp_reply_errno(reply, id, errno);
                return TRUE;
        }
        rc = fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW);
        if (rc < 0)
                lima_sftp_reply_errno(reply, id, errno);
        else
                lima_sftp_reply_attrs(reply, id, &st);
        close(dfd);
        return TRUE;
}

gboolean
lima_sftp_stat(LimaSftpServer *s, guint32 id, SftpReader *r, GByteArray *reply)
{
        g_autofree gchar *path = lima_sftp_read_text(r);
        struct stat st;
        int fd;

        if (path == NULL)
                return FALSE;
        fd = lima_sftp_root_open(&s->root, path, O_PATH, 0);
        if (fd < 0 || fstat(fd, &st) < 0)
                lima_sftp_reply_errno(reply, id, errno);
        else
                lima_sftp_reply_attrs(reply, id, &st);
        if (fd >= 0)
                close(fd);
        return TRUE;
}

/* Applies attributes in OpenSSH's order. An O_PATH fd cannot be truncated, chmod-ed or
 * touched directly, so those go through its /proc/self/fd link, which names exactly the
 * file already resolved inside root. 0 or an errno. */
int
lima_sftp_apply_attrs(int fd, gboolean o_path, const SftpAttrs *a)
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

gboolean
lima_sftp_setstat(LimaSftpServer *s, guint32 id, SftpReader *r, GByteArray *reply)
{
        g_autofree gchar *path = lima_sftp_read_text(r);
        SftpAttrs attrs;
        int fd;

        if (path == NULL || !lima_sftp_read_attrs(r, &attrs))
                return FALSE;
        fd = lima_sftp_root_open(&s->root, path, O_PATH, 0);
        if (fd < 0) {
                lima_sftp_reply_errno(reply, id, errno);
                return TRUE;
        }
        lima_sftp_reply_errno(reply, id, lima_sftp_apply_attrs(fd, TRUE, &attrs));
        close(fd);
        return TRUE;
}

static gboolean
sftp_named(LimaSftpServer *s, SftpReader *r, int *dfd, gchar **name, int *err)
{
        g_autofree gchar *path = lima_sftp_read_text(r);

        if (path == NULL)
                return FALSE;
        *dfd = lima_sftp_root_open_parent(&s->root, path, name);
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
        lima_sftp_reply_errno(reply, id, err);
        return TRUE;
}

gboolean
lima_sftp_remove(LimaSftpServer *s, guint32 id, SftpReader *r, GByteArray *reply)
{
        return sftp_unlink(s, id, r, reply, 0);
}

gboolean
lima_sftp_rmdir(LimaSftpServer *s, guint32 id, SftpReader *r, GByteArray *reply)
{
        return sftp_unlink(s, id, r, reply, AT_REMOVEDIR);
}

gboolean
lima_sftp_readlink(LimaSftpServer *s, guint32 id, SftpReader *r, GByteArray *reply)
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
                lima_sftp_reply_errno(reply, id, err);
                return TRUE;
        }
        /* The text as stored, even when it points outside: following it is what is confined. */
        target[n] = '\0';
        lima_sftp_reply_one_name(reply, id, target);
        return TRUE;
}

gboolean
lima_sftp_mkdir(LimaSftpServer *s, guint32 id, SftpReader *r, GByteArray *reply)
{
        g_autofree gchar *path = lima_sftp_read_text(r);
        g_autofree gchar *name = NULL;
        SftpAttrs attrs;
        mode_t mode;
        int dfd;

        if (path == NULL || !lima_sftp_read_attrs(r, &attrs))
                return FALSE;
        mode = (attrs.flags & SFTP_ATTR_PERMISSIONS) ? (attrs.perm & 07777) : 0777;
        dfd = lima_sftp_root_open_parent(&s->root, path, &name);
        if (dfd < 0) {
                lima_sftp_reply_errno(reply, id, errno);
                return TRUE;
        }
        lima_sftp_reply_errno(reply, id, mkdirat(dfd, name, mode) < 0 ? errno : 0);
        close(dfd);
        return TRUE;
}

gboolean
lima_sftp_realpath(LimaSftpServer *s, guint32 id, SftpReader *r, GByteArray *reply)
{
        g_autofree gchar *path = lima_sftp_read_text(r);
        g_autofree gchar *name = NULL;
        g_autofree gchar *resolved = NULL;
        int err;
        int fd;

        if (path == NULL)
                return FALSE;
        fd = lima_sftp_root_open(&s->root, path, O_PATH, 0);
        err = fd < 0 ? errno : 0;
        if (fd >= 0) {
                resolved = lima_sftp_root_client_path(&s->root, fd);
                err = resolved == NULL ? errno : 0;
                close(fd);
        } else if (err == ENOENT) {
                /* As OpenSSH: the last component need not exist yet. */
                int dfd = lima_sftp_root_open_parent(&s->root, path, &name);
                if (dfd >= 0) {
                        g_autofree gchar *dir = lima_sftp_root_client_path(&s->root, dfd);
                        if (dir != NULL)
                                resolved = g_build_filename(dir, name, NULL);
                        close(dfd);
                }
        }
        if (resolved == NULL)
                lima_sftp_reply_errno(reply, id, err != 0 ? err : ENOENT);
        else
                lima_sftp_reply_one_name(reply, id, resolved);
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
        int ofd = lima_sftp_root_open_parent(&s->root, oldpath, &oname);
        int nfd = -1;
        int err;

        if (ofd < 0) {
                lima_sftp_reply_errno(reply, id, errno);
                return;
        }
        nfd = lima_sftp_root_open_parent(&s->root, newpath, &nname);
        err = nfd < 0 ? errno : sftp_pair_apply(op, ofd, oname, nfd, nname);
        lima_sftp_reply_errno(reply, id, err);
        close(ofd);
        if (nfd >= 0)
                close(nfd);
}

gboolean
lima_sftp_rename(LimaSftpServer *s, guint32 id, SftpReader *r, GByteArray *reply)
{
        g_autofree gchar *oldpath = lima_sftp_read_text(r);
        g_autofree gchar *newpath = lima_sftp_read_text(r);

        if (oldpath == NULL || newpath == NULL)
                return FALSE;
        sftp_pair(s, SFTP_PAIR_RENAME, id, oldpath, newpath, reply);
        return TRUE;
}

gboolean
lima_sftp_symlink(LimaSftpServer *s, guint32 id, SftpReader *r, GByteArray *reply)
{
        /* OpenSSH reads the link's text first and where to make it second, the reverse of the
         * draft; sshfs and every client follow OpenSSH. */
        g_autofree gchar *target = lima_sftp_read_text(r);
        g_autofree gchar *linkpath = lima_sftp_read_text(r);
        g_autofree gchar *name = NULL;
        int dfd;

        if (target == NULL || linkpath == NULL)
                return FALSE;
        dfd = lima_sftp_root_open_parent(&s->root, linkpath, &name);
        if (dfd < 0) {
                lima_sftp_reply_errno(reply, id, errno);
                return TRUE;
        }
        lima_sftp_reply_errno(reply, id, symlinkat(target, dfd, name) < 0 ? errno : 0);
        close(dfd);
        return TRUE;
}

static void
sftp_statvfs(LimaSftpServer *s, guint32 id, const gchar *path, GByteArray *reply)
{
        struct statvfs st;
        guint64 flag;
        gsize start;
        int fd = lima_sftp_root_open(&s->root, path, O_PATH, 0);

        if (fd < 0 || fstatvfs(fd, &st) < 0) {
                lima_sftp_reply_errno(reply, id, errno);
                if (fd >= 0)
                        close(fd);
                return;
        }
        close(fd);
        /* The guest should see a read-only share as one; 1 and 2 are the wire's RDONLY, NOSUID. */
        flag = ((st.f_flag & ST_RDONLY) || s->read_only ? 1 : 0) | (st.f_flag & ST_NOSUID ? 2 : 0);
        start = lima_sftp_reply_begin(reply, SFTP_EXTENDED_REPLY);
        lima_sftp_put_u32(reply, id);
        lima_sftp_put_u64(reply, st.f_bsize);
        lima_sftp_put_u64(reply, st.f_frsize);
        lima_sftp_put_u64(reply, st.f_blocks);
        lima_sftp_put_u64(reply, st.f_bfree);
        lima_sftp_put_u64(reply, st.f_bavail);
        lima_sftp_put_u64(reply, st.f_files);
        lima_sftp_put_u64(reply, st.f_ffree);
        lima_sftp_put_u64(reply, st.f_favail);
        lima_sftp_put_u64(reply, st.f_fsid);
        lima_sftp_put_u64(reply, flag);
        lima_sftp_put_u64(reply, st.f_namemax);
        lima_sftp_reply_end(reply, start);
}

gboolean
lima_sftp_extended(LimaSftpServer *s, guint32 id, SftpReader *r, GByteArray *reply)
{
        g_autofree gchar *request = lima_sftp_read_text(r);
        g_autofree gchar *a = NULL;
        g_autofree gchar *b = NULL;
        gboolean pair;

        if (request == NULL)
                return FALSE;
        if (strcmp(request, "fsync@openssh.com") == 0) {
                SftpHandle *h;
                guint32 hid;

                if (!lima_sftp_read_handle(r, &hid))
                        return FALSE;
                h = g_hash_table_lookup(s->handles, GUINT_TO_POINTER(hid));
                if (h == NULL)
                        lima_sftp_reply_bad_handle(reply, id);
                else
                        lima_sftp_reply_errno(reply, id, fsync(h->fd) < 0 ? errno : 0);
                return TRUE;
        }
        if (strcmp(request, "statvfs@openssh.com") == 0) {
                a = lima_sftp_read_text(r);
                if (a == NULL)
                        return FALSE;
                sftp_statvfs(s, id, a, reply);
                return TRUE;
        }
        pair = strcmp(request, "posix-rename@openssh.com") == 0 ||
               strcmp(request, "hardlink@openssh.com") == 0;
        if (!pair) {
                lima_sftp_reply_status(reply, id, SFTP_FX_OP_UNSUPPORTED, "Operation unsupported");
                return TRUE;
        }
        if (s->read_only) {
                lima_sftp_reply_status(reply, id, SFTP_FX_PERMISSION_DENIED, "Read-only share");
                return TRUE;
        }
        a = lima_sftp_read_text(r);
        b = lima_sftp_read_text(r);
        if (a == NULL || b == NULL)
                return FALSE;
        sftp_pair(s, request[0] == 'p' ? SFTP_PAIR_POSIX_RENAME : SFTP_PAIR_HARDLINK, id, a, b,
                  reply);
        return TRUE;
}
