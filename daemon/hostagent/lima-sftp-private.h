/*
 * Inside the builtin SFTP server (lima-sftp-server.c): the server's state and the requests
 * lima-sftp-names.c answers. Nothing outside lima-sftp-*.c includes this.
 */
#pragma once

#include <dirent.h>

#include "lima-sftp-root.h"
#include "lima-sftp-server.h"
#include "lima-sftp-wire.h"

G_BEGIN_DECLS

typedef struct {
        int fd;
        DIR *dir; /* directory handles: owns fd */
        gboolean is_root;
} SftpHandle;

struct _LimaSftpServer {
        LimaSftpRoot root;
        gboolean read_only;
        GHashTable *handles; /* guint32 id → SftpHandle */
        guint32 next_handle;
        GHashTable *user_names;  /* uid → name, for READDIR longnames */
        GHashTable *group_names; /* gid → name */
};

/* Each returns FALSE only when the request could not be parsed, having replied nothing; the
 * dispatcher then answers SSH_FX_BAD_MESSAGE. */
typedef gboolean (*SftpRequestFunc)(LimaSftpServer *s, guint32 id, SftpReader *r,
                                    GByteArray *reply);

void lima_sftp_reply_bad_handle(GByteArray *b, guint32 id);

/* Applies attributes in OpenSSH's order; 0 or an errno. o_path: fd is an O_PATH fd. */
int lima_sftp_apply_attrs(int fd, gboolean o_path, const SftpAttrs *a);

/* lima-sftp-names.c: the requests that name a path, and the extensions. */
gboolean lima_sftp_lstat(LimaSftpServer *s, guint32 id, SftpReader *r, GByteArray *reply);
gboolean lima_sftp_stat(LimaSftpServer *s, guint32 id, SftpReader *r, GByteArray *reply);
gboolean lima_sftp_setstat(LimaSftpServer *s, guint32 id, SftpReader *r, GByteArray *reply);
gboolean lima_sftp_remove(LimaSftpServer *s, guint32 id, SftpReader *r, GByteArray *reply);
gboolean lima_sftp_rmdir(LimaSftpServer *s, guint32 id, SftpReader *r, GByteArray *reply);
gboolean lima_sftp_readlink(LimaSftpServer *s, guint32 id, SftpReader *r, GByteArray *reply);
gboolean lima_sftp_mkdir(LimaSftpServer *s, guint32 id, SftpReader *r, GByteArray *reply);
gboolean lima_sftp_realpath(LimaSftpServer *s, guint32 id, SftpReader *r, GByteArray *reply);
gboolean lima_sftp_rename(LimaSftpServer *s, guint32 id, SftpReader *r, GByteArray *reply);
gboolean lima_sftp_symlink(LimaSftpServer *s, guint32 id, SftpReader *r, GByteArray *reply);
gboolean lima_sftp_extended(LimaSftpServer *s, guint32 id, SftpReader *r, GByteArray *reply);

G_END_DECLS
