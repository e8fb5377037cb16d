/* A tiny SFTP v3 client for the tests: builds request packets, sends them through
 * lima_sftp_server_handle_packet and takes the one reply apart. */
#pragma once

#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>

#include "lima-sftp-server.h"

enum {
        T_INIT = 1,
        T_OPEN = 3,
        T_CLOSE = 4,
        T_READ = 5,
        T_WRITE = 6,
        T_LSTAT = 7,
        T_FSTAT = 8,
        T_SETSTAT = 9,
        T_FSETSTAT = 10,
        T_OPENDIR = 11,
        T_READDIR = 12,
        T_REMOVE = 13,
        T_MKDIR = 14,
        T_RMDIR = 15,
        T_REALPATH = 16,
        T_STAT = 17,
        T_RENAME = 18,
        T_READLINK = 19,
        T_SYMLINK = 20,
        T_STATUS = 101,
        T_HANDLE = 102,
        T_DATA = 103,
        T_NAME = 104,
        T_ATTRS = 105,
        T_EXTENDED = 200,
        T_EXTENDED_REPLY = 201,
};

enum {
        FX_OK = 0,
        FX_EOF = 1,
        FX_NO_SUCH_FILE = 2,
        FX_PERMISSION_DENIED = 3,
        FX_FAILURE = 4,
        FX_BAD_MESSAGE = 5,
        FX_OP_UNSUPPORTED = 8,
};

enum {
        A_SIZE = 0x1,
        A_UIDGID = 0x2,
        A_PERM = 0x4,
        A_TIME = 0x8,
};

enum {
        O_R = 0x01,
        O_W = 0x02,
        O_A = 0x04,
        O_C = 0x08,
        O_T = 0x10,
        O_X = 0x20,
};

static inline void
pkt_u32(GByteArray *b, guint32 v)
{
        guint8 be[4] = { v >> 24, v >> 16, v >> 8, v };
        g_byte_array_append(b, be, 4);
}

static inline void
pkt_u64(GByteArray *b, guint64 v)
{
        pkt_u32(b, v >> 32);
        pkt_u32(b, (guint32)v);
}

static inline void
pkt_bytes(GByteArray *b, const void *data, gsize len)
{
        pkt_u32(b, (guint32)len);
        g_byte_array_append(b, data, (guint)len);
}

static inline void
pkt_str(GByteArray *b, const gchar *text)
{
        pkt_bytes(b, text, strlen(text));
}

/* A request body (no length prefix): type, then id. */
static inline GByteArray *
pkt_new(guint8 type, guint32 id)
{
        GByteArray *b = g_byte_array_new();
        g_byte_array_append(b, &type, 1);
        pkt_u32(b, id);
        return b;
}

/* A reply taken apart as it is read. */
typedef struct {
        GByteArray *raw;
        gsize pos;
        guint8 type;
} TestReply;

static inline void
test_reply_free(TestReply *r)
{
        g_byte_array_unref(r->raw);
        g_free(r);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TestReply, test_reply_free)

static inline guint32
rep_u32(TestReply *r)
{
        const guint8 *p;
        g_assert_cmpuint(r->raw->len - r->pos, >=, 4);
        p = r->raw->data + r->pos;
        r->pos += 4;
        return (guint32)p[0] << 24 | (guint32)p[1] << 16 | (guint32)p[2] << 8 | p[3];
}

static inline guint64
rep_u64(TestReply *r)
{
        guint64 hi = rep_u32(r);
        return hi << 32 | rep_u32(r);
}

static inline gchar *
rep_str(TestReply *r, gsize *len_out)
{
        guint32 len = rep_u32(r);
        gchar *s;
        g_assert_cmpuint(r->raw->len - r->pos, >=, len);
        /* Not g_strndup: handles hold NUL bytes. */
        s = g_malloc(len + 1);
        memcpy(s, r->raw->data + r->pos, len);
        s[len] = '\0';
        r->pos += len;
        if (len_out != NULL)
                *len_out = len;
        return s;
}

typedef struct {
        guint32 flags;
        guint64 size;
        guint32 uid, gid, perm, atime, mtime;
} TestAttrs;

static inline TestAttrs
rep_attrs(TestReply *r)
{
        TestAttrs a = { 0 };
        a.flags = rep_u32(r);
        if (a.flags & A_SIZE)
                a.size = rep_u64(r);
        if (a.flags & A_UIDGID) {
                a.uid = rep_u32(r);
                a.gid = rep_u32(r);
        }
        if (a.flags & A_PERM)
                a.perm = rep_u32(r);
        if (a.flags & A_TIME) {
                a.atime = rep_u32(r);
                a.mtime = rep_u32(r);
        }
        return a;
}

/* Sends one request; checks the reply is exactly one well-framed packet. */
static inline TestReply *
test_send(LimaSftpServer *s, const guint8 *data, gsize len)
{
        TestReply *r = g_new0(TestReply, 1);
        guint32 framed;

        r->raw = g_byte_array_new();
        lima_sftp_server_handle_packet(s, data, len, r->raw);
        g_assert_cmpuint(r->raw->len, >=, 5);
        framed = rep_u32(r);
        g_assert_cmpuint(framed, ==, r->raw->len - 4);
        r->type = r->raw->data[r->pos++];
        return r;
}

static inline TestReply *
test_request(LimaSftpServer *s, GByteArray *pkt, guint32 id)
{
        TestReply *r = test_send(s, pkt->data, pkt->len);
        g_byte_array_unref(pkt);
        if (r->type != 2)
                g_assert_cmpuint(rep_u32(r), ==, id);
        return r;
}

/* The status code of a STATUS reply; fails the test on any other reply. */
static inline guint32
test_status(LimaSftpServer *s, GByteArray *pkt, guint32 id)
{
        g_autoptr(TestReply) r = test_request(s, pkt, id);
        g_autofree gchar *message = NULL;
        g_autofree gchar *lang = NULL;
        guint32 code;

        g_assert_cmpuint(r->type, ==, T_STATUS);
        code = rep_u32(r);
        message = rep_str(r, NULL);
        lang = rep_str(r, NULL);
        g_assert_cmpstr(message, !=, "");
        g_assert_cmpuint(r->pos, ==, r->raw->len);
        return code;
}
