/*
 * The SFTP version 3 wire format (draft-ietf-secsh-filexfer-02) for the builtin server:
 * packet and status codes, a bounds-checked reader for request bodies and writers for framed
 * replies. Every read says whether the bytes were there; nothing here trusts the client.
 */
#pragma once

#include <glib.h>
#include <sys/stat.h>

G_BEGIN_DECLS

/* Packet types (section 3). */
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
typedef struct {
        const guint8 *p;
        gsize left;
} SftpReader;

typedef struct {
        guint32 flags;
        guint64 size;
        guint32 uid;
        guint32 gid;
        guint32 perm;
        guint32 atime;
        guint32 mtime;
} SftpAttrs;

gboolean lima_sftp_read_u8(SftpReader *r, guint8 *v);
gboolean lima_sftp_read_u32(SftpReader *r, guint32 *v);
gboolean lima_sftp_read_u64(SftpReader *r, guint64 *v);
gboolean lima_sftp_read_string(SftpReader *r, const guint8 **data, guint32 *len);
/* A path or other text argument; NULL when truncated or when it holds a NUL, which would make
 * the kernel see a different path than the one the client sent. */
gchar *lima_sftp_read_text(SftpReader *r);
/* Handles are 4-byte ids; any other length parses but names no handle (id 0). */
gboolean lima_sftp_read_handle(SftpReader *r, guint32 *hid);
gboolean lima_sftp_read_attrs(SftpReader *r, SftpAttrs *a);
void lima_sftp_put_u8(GByteArray *b, guint8 v);
void lima_sftp_put_u32(GByteArray *b, guint32 v);
void lima_sftp_put_u64(GByteArray *b, guint64 v);
void lima_sftp_put_string(GByteArray *b, const void *data, gsize len);
void lima_sftp_put_text(GByteArray *b, const gchar *text);
/* Starts a reply; the returned offset goes to lima_sftp_reply_end, which fills in the length. */
gsize lima_sftp_reply_begin(GByteArray *b, guint8 type);
void lima_sftp_reply_end(GByteArray *b, gsize start);
void lima_sftp_reply_status(GByteArray *b, guint32 id, guint32 code, const gchar *message);
void lima_sftp_reply_ok(GByteArray *b, guint32 id);
/* The same mapping as OpenSSH's sftp-server, so sshfs turns codes back into the errno it
 * would get there; the text keeps the exact errno for whoever reads logs. */
void lima_sftp_reply_errno(GByteArray *b, guint32 id, int err);
void lima_sftp_reply_handle(GByteArray *b, guint32 id, guint32 hid);
void lima_sftp_put_attrs(GByteArray *b, const struct stat *st);
void lima_sftp_reply_attrs(GByteArray *b, guint32 id, const struct stat *st);
/* REALPATH and READLINK answer with one name and no attributes. */
void lima_sftp_reply_one_name(GByteArray *b, guint32 id, const gchar *name);
G_END_DECLS
