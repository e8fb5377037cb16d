/* The builtin SFTP server's stream: framed packets in, framed replies out, until EOF. */
#include <errno.h>
#include <glib/gi18n.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lima-sftp-server.h"
#include "lima-sftp-wire.h"

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
                                lima_sftp_reply_status(out, 0, SFTP_FX_BAD_MESSAGE,
                                                       "Packet too long");
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