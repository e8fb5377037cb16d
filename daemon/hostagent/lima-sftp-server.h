/*
 * The "builtin" sftpDriver of reverse-sshfs: an SFTP version 3 server
 * (draft-ietf-secsh-filexfer-02) that serves one directory over a plain byte stream, the
 * stdin/stdout pipe that `sshfs -o slave` in the guest reaches through ssh. libssh cannot do
 * this: its server side needs an SSH session.
 *
 * Every path the client names is resolved inside root, as if root were "/": "..", absolute
 * paths and symlinks cannot leave it. The client is the guest, so every packet is hostile
 * until parsed: malformed requests get an SSH_FX_BAD_MESSAGE status, never a crash.
 *
 * One server serves one stream; it is not thread-safe, so the host agent runs one per mount,
 * each on its own thread.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* The largest packet accepted: a 256 KiB WRITE plus its header. */
#define LIMA_SFTP_MAX_PACKET (256 * 1024 + 1024)
/* Open file and directory handles one client may hold at a time. */
#define LIMA_SFTP_MAX_HANDLES 1024

typedef struct _LimaSftpServer LimaSftpServer;

/* Serves root (which must be a directory). With read_only, every request that would change
 * anything gets SSH_FX_PERMISSION_DENIED. */
LimaSftpServer *lima_sftp_server_new(const gchar *root, gboolean read_only, GError **error);
void lima_sftp_server_free(LimaSftpServer *s);

/* Handles one packet: data is its body (the type byte onward, without the 4-byte length);
 * the framed reply, length included, is appended to reply. Never fails: a bad request gets a
 * status reply. */
void lima_sftp_server_handle_packet(LimaSftpServer *s, const guint8 *data, gsize len,
                                    GByteArray *reply);

/* Reads packets from in_fd and writes replies to out_fd until the client closes its end
 * (TRUE) or an I/O error, an oversized packet or cancellation ends the session (FALSE). The
 * fds are left open. A caller whose out_fd is a pipe must ignore SIGPIPE. */
gboolean lima_sftp_server_run(LimaSftpServer *s, int in_fd, int out_fd, GCancellable *cancellable,
                              GError **error);

/* For tests: FALSE makes path resolution use the component-by-component fallback that serves
 * kernels without openat2(2). */
void lima_sftp_server_set_use_openat2(LimaSftpServer *s, gboolean use_openat2);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(LimaSftpServer, lima_sftp_server_free)

G_END_DECLS
