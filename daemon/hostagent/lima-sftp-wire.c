#include "lima-sftp-wire.h"

#include <errno.h>
#include <string.h>

gboolean
lima_sftp_read_u8(SftpReader *r, guint8 *v)
{
        if (r->left < 1)
                return FALSE;
        *v = r->p[0];
        r->p++;
        r->left--;
        return TRUE;
}

gboolean
lima_sftp_read_u32(SftpReader *r, guint32 *v)
{
        if (r->left < 4)
                return FALSE;
        *v = (guint32)r->p[0] << 24 | (guint32)r->p[1] << 16 | (guint32)r->p[2] << 8 | r->p[3];
        r->p += 4;
        r->left -= 4;
        return TRUE;
}

gboolean
lima_sftp_read_u64(SftpReader *r, guint64 *v)
{
        guint32 hi;
        guint32 lo;

        if (r->left < 8 || !lima_sftp_read_u32(r, &hi) || !lima_sftp_read_u32(r, &lo))
                return FALSE;
        *v = (guint64)hi << 32 | lo;
        return TRUE;
}

gboolean
lima_sftp_read_string(SftpReader *r, const guint8 **data, guint32 *len)
{
        guint32 n;

        if (!lima_sftp_read_u32(r, &n) || n > r->left)
                return FALSE;
        *data = r->p;
        *len = n;
        r->p += n;
        r->left -= n;
        return TRUE;
}

/* A path or other text argument; NULL when truncated or when it holds a NUL, which would make
 * the kernel see a different path than the one the client sent. */
gchar *
lima_sftp_read_text(SftpReader *r)
{
        const guint8 *data;
        guint32 len;

        if (!lima_sftp_read_string(r, &data, &len) || memchr(data, '\0', len) != NULL)
                return NULL;
        return g_strndup((const gchar *)data, len);
}

/* Handles are 4-byte ids; any other length parses but names no handle (id 0). */
gboolean
lima_sftp_read_handle(SftpReader *r, guint32 *hid)
{
        const guint8 *data;
        guint32 len;

        if (!lima_sftp_read_string(r, &data, &len))
                return FALSE;
        *hid = len == 4 ? ((guint32)data[0] << 24 | (guint32)data[1] << 16 | (guint32)data[2] << 8 |
                           data[3])
                        : 0;
        return TRUE;
}

gboolean
lima_sftp_read_attrs(SftpReader *r, SftpAttrs *a)
{
        memset(a, 0, sizeof(*a));
        if (!lima_sftp_read_u32(r, &a->flags))
                return FALSE;
        if ((a->flags & SFTP_ATTR_SIZE) && !lima_sftp_read_u64(r, &a->size))
                return FALSE;
        if ((a->flags & SFTP_ATTR_UIDGID) &&
            (!lima_sftp_read_u32(r, &a->uid) || !lima_sftp_read_u32(r, &a->gid)))
                return FALSE;
        if ((a->flags & SFTP_ATTR_PERMISSIONS) && !lima_sftp_read_u32(r, &a->perm))
                return FALSE;
        if ((a->flags & SFTP_ATTR_ACMODTIME) &&
            (!lima_sftp_read_u32(r, &a->atime) || !lima_sftp_read_u32(r, &a->mtime)))
                return FALSE;
        if (a->flags & SFTP_ATTR_EXTENDED) {
                guint32 count;

                /* A huge count cannot spin: every pair consumes at least 8 bytes. */
                if (!lima_sftp_read_u32(r, &count))
                        return FALSE;
                for (guint32 i = 0; i < count; i++) {
                        const guint8 *data;
                        guint32 len;

                        if (!lima_sftp_read_string(r, &data, &len) ||
                            !lima_sftp_read_string(r, &data, &len))
                                return FALSE;
                }
        }
        return TRUE;
}

/* ---- writing replies ---- */

void
lima_sftp_put_u8(GByteArray *b, guint8 v)
{
        g_byte_array_append(b, &v, 1);
}

void
lima_sftp_put_u32(GByteArray *b, guint32 v)
{
        guint8 be[4] = { v >> 24, v >> 16, v >> 8, v };

        g_byte_array_append(b, be, sizeof(be));
}

void
lima_sftp_put_u64(GByteArray *b, guint64 v)
{
        lima_sftp_put_u32(b, v >> 32);
        lima_sftp_put_u32(b, (guint32)v);
}

void
lima_sftp_put_string(GByteArray *b, const void *data, gsize len)
{
        lima_sftp_put_u32(b, (guint32)len);
        g_byte_array_append(b, data, (guint)len);
}

void
lima_sftp_put_text(GByteArray *b, const gchar *text)
{
        lima_sftp_put_string(b, text, strlen(text));
}

/* Starts a reply; the returned offset goes to lima_sftp_reply_end, which fills in the length. */
gsize
lima_sftp_reply_begin(GByteArray *b, guint8 type)
{
        gsize start = b->len;

        lima_sftp_put_u32(b, 0);
        lima_sftp_put_u8(b, type);
        return start;
}

void
lima_sftp_reply_end(GByteArray *b, gsize start)
{
        guint32 len = (guint32)(b->len - start - 4);

        b->data[start] = len >> 24;
        b->data[start + 1] = len >> 16;
        b->data[start + 2] = len >> 8;
        b->data[start + 3] = len;
}

void
lima_sftp_reply_status(GByteArray *b, guint32 id, guint32 code, const gchar *message)
{
        gsize start = lima_sftp_reply_begin(b, SFTP_STATUS);

        lima_sftp_put_u32(b, id);
        lima_sftp_put_u32(b, code);
        lima_sftp_put_text(b, message);
        lima_sftp_put_text(b, "en");
        lima_sftp_reply_end(b, start);
}

void
lima_sftp_reply_ok(GByteArray *b, guint32 id)
{
        lima_sftp_reply_status(b, id, SFTP_FX_OK, "Success");
}

/* The same mapping as OpenSSH's sftp-server, so sshfs turns codes back into the errno it
 * would get there; the text keeps the exact errno for whoever reads logs. */
void
lima_sftp_reply_errno(GByteArray *b, guint32 id, int err)
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
        lima_sftp_reply_status(b, id, code, err == 0 ? "Success" : g_strerror(err));
}

void
lima_sftp_reply_handle(GByteArray *b, guint32 id, guint32 hid)
{
        gsize start = lima_sftp_reply_begin(b, SFTP_HANDLE);
        guint8 be[4] = { hid >> 24, hid >> 16, hid >> 8, hid };

        lima_sftp_put_u32(b, id);
        lima_sftp_put_string(b, be, sizeof(be));
        lima_sftp_reply_end(b, start);
}

void
lima_sftp_put_attrs(GByteArray *b, const struct stat *st)
{
        lima_sftp_put_u32(b, SFTP_ATTR_SIZE | SFTP_ATTR_UIDGID | SFTP_ATTR_PERMISSIONS |
                                 SFTP_ATTR_ACMODTIME);
        lima_sftp_put_u64(b, (guint64)st->st_size);
        lima_sftp_put_u32(b, st->st_uid);
        lima_sftp_put_u32(b, st->st_gid);
        lima_sftp_put_u32(b, st->st_mode);
        lima_sftp_put_u32(b, (guint32)st->st_atime);
        lima_sftp_put_u32(b, (guint32)st->st_mtime);
}

void
lima_sftp_reply_attrs(GByteArray *b, guint32 id, const struct stat *st)
{
        gsize start = lima_sftp_reply_begin(b, SFTP_ATTRS);

        lima_sftp_put_u32(b, id);
        lima_sftp_put_attrs(b, st);
        lima_sftp_reply_end(b, start);
}

/* REALPATH and READLINK answer with one name and no attributes. */
void
lima_sftp_reply_one_name(GByteArray *b, guint32 id, const gchar *name)
{
        gsize start = lima_sftp_reply_begin(b, SFTP_NAME);

        lima_sftp_put_u32(b, id);
        lima_sftp_put_u32(b, 1);
        lima_sftp_put_text(b, name);
        lima_sftp_put_text(b, name);
        lima_sftp_put_u32(b, 0);
        lima_sftp_reply_end(b, start);
}