/* Guest root against OpenSSH's sftp-server as reverse-sshfs runs it: the SFTP test client
 * drives the real /usr/lib/openssh/sftp-server, confined by lima_sshfs_confined_server_argv()
 * (bwrap), and tries to leave the mount location: "..", absolute paths, a symlink to a
 * ~/.ssh-like folder and one to a shadow-like file of the owner's. Every one must find
 * nothing, while the location itself is served. Unconfined (the argv before issue 9), the
 * same requests read the secrets: the last case shows it, so the test proves the threat.
 * Skips without sftp-server, bwrap, or user namespaces. */
#include <errno.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lima-mount-sshfs.h"
#include "sftp-test-client.h"

#define SFTP_SERVER "/usr/lib/openssh/sftp-server"

typedef struct {
        int fd;
        GPid pid;
        guint32 next_id;
} Peer;

static gchar *top;      /* a temp folder: the location and, beside it, the owner's secrets */
static gchar *location; /* top/share */
static gchar *secrets;  /* top/home: .ssh/id_ed25519 and shadow */

static void
write_all(int fd, const guint8 *data, gsize len)
{
        while (len > 0) {
                ssize_t n = write(fd, data, len);
                if (n < 0 && errno == EINTR)
                        continue;
                g_assert_cmpint(n, >, 0);
                data += n;
                len -= n;
        }
}

static gboolean
read_all(int fd, guint8 *data, gsize len)
{
        while (len > 0) {
                ssize_t n = read(fd, data, len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return FALSE;
                data += n;
                len -= n;
        }
        return TRUE;
}

/* One request out, one framed reply back, over the server's stdin/stdout. */
static TestReply *
peer_request(Peer *p, GByteArray *pkt)
{
        TestReply *r = g_new0(TestReply, 1);
        guint8 head[4];
        guint32 len = pkt->len;
        guint8 len_be[4] = { len >> 24, len >> 16, len >> 8, len };

        write_all(p->fd, len_be, 4);
        write_all(p->fd, pkt->data, pkt->len);
        g_byte_array_unref(pkt);
        g_assert_true(read_all(p->fd, head, 4));
        len = (guint32)head[0] << 24 | (guint32)head[1] << 16 | (guint32)head[2] << 8 | head[3];
        g_assert_cmpuint(len, <, 1u << 20);
        r->raw = g_byte_array_sized_new(len + 4);
        g_byte_array_append(r->raw, head, 4);
        g_byte_array_set_size(r->raw, len + 4);
        g_assert_true(read_all(p->fd, r->raw->data + 4, len));
        r->pos = 4;
        r->type = r->raw->data[r->pos++];
        return r;
}

static Peer *
peer_start(gboolean confined)
{
        g_autoptr(LimaMount) m = lima_mount_new();
        g_autoptr(GPtrArray) argv = NULL;
        g_autoptr(GError) error = NULL;
        g_autofree gchar *bwrap = g_find_program_in_path("bwrap");
        Peer *p = g_new0(Peer, 1);
        GByteArray *init = g_byte_array_new();
        guint8 type = T_INIT;
        int fds[2];

        lima_string_set(&m->location, location, NULL);
        lima_string_set(&m->mount_point, "/mnt/share", NULL);
        lima_bool_set(&m->writable, FALSE, NULL);
        argv = confined ? lima_sshfs_confined_server_argv(bwrap, SFTP_SERVER, m)
                        : lima_sshfs_server_argv(SFTP_SERVER, m);
        g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), ==, 0);
        g_assert_true(g_spawn_async_with_pipes_and_fds(
            NULL, (const gchar *const *)argv->pdata, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL,
            fds[1], fds[1], -1, NULL, NULL, 0, &p->pid, NULL, NULL, NULL, &error));
        g_assert_no_error(error);
        close(fds[1]);
        p->fd = fds[0];
        p->next_id = 1;
        /* INIT has no id: version 3. */
        g_byte_array_append(init, &type, 1);
        pkt_u32(init, 3);
        {
                g_autoptr(TestReply) r = peer_request(p, init);
                g_assert_cmpuint(r->type, ==, 2); /* VERSION */
        }
        return p;
}

static void
peer_stop(Peer *p)
{
        int status;
        close(p->fd);
        kill(p->pid, SIGTERM);
        waitpid(p->pid, &status, 0);
        g_spawn_close_pid(p->pid);
        g_free(p);
}

/* The first bytes of path as the server serves it, or NULL with the status code it gave. */
static gchar *
peer_read(Peer *p, const gchar *path, guint32 *status)
{
        guint32 id = p->next_id++;
        GByteArray *open = pkt_new(T_OPEN, id);
        g_autoptr(TestReply) r = NULL;
        g_autofree gchar *handle = NULL;
        gsize handle_len = 0;

        pkt_str(open, path);
        pkt_u32(open, O_R);
        pkt_u32(open, 0);
        r = peer_request(p, open);
        g_assert_cmpuint(rep_u32(r), ==, id);
        if (r->type == T_STATUS) {
                *status = rep_u32(r);
                return NULL;
        }
        g_assert_cmpuint(r->type, ==, T_HANDLE);
        handle = rep_str(r, &handle_len);
        {
                guint32 rid = p->next_id++;
                GByteArray *read = pkt_new(T_READ, rid);
                g_autoptr(TestReply) d = NULL;
                guint32 hl = handle_len;
                pkt_bytes(read, handle, hl);
                pkt_u64(read, 0);
                pkt_u32(read, 4096);
                d = peer_request(p, read);
                g_assert_cmpuint(rep_u32(d), ==, rid);
                if (d->type != T_DATA) {
                        *status = rep_u32(d);
                        return NULL;
                }
                *status = FX_OK;
                return rep_str(d, NULL);
        }
}

/* What the server says path resolves to (REALPATH), or NULL on a STATUS. */
static gchar *
peer_realpath(Peer *p, const gchar *path)
{
        guint32 id = p->next_id++;
        GByteArray *pkt = pkt_new(T_REALPATH, id);
        g_autoptr(TestReply) r = NULL;
        pkt_str(pkt, path);
        r = peer_request(p, pkt);
        g_assert_cmpuint(rep_u32(r), ==, id);
        if (r->type != T_NAME)
                return NULL;
        g_assert_cmpuint(rep_u32(r), ==, 1);
        return rep_str(r, NULL);
}

static void
test_confined_escapes(void)
{
        Peer *p = peer_start(TRUE);
        g_autofree gchar *inside = g_build_filename(location, "hello.txt", NULL);
        g_autofree gchar *up_key = g_strconcat(location, "/../home/.ssh/id_ed25519", NULL);
        g_autofree gchar *abs_key = g_build_filename(secrets, ".ssh", "id_ed25519", NULL);
        g_autofree gchar *abs_shadow = g_build_filename(secrets, "shadow", NULL);
        g_autofree gchar *via_ssh = g_build_filename(location, "ssh", "id_ed25519", NULL);
        g_autofree gchar *via_shadow = g_build_filename(location, "shadow", NULL);
        g_autofree gchar *data = NULL;
        const gchar *attempts[] = { up_key,        "../home/shadow", abs_key,
                                    abs_shadow,    via_ssh,          via_shadow,
                                    "/etc/shadow", "/root/.bashrc",  NULL };
        guint32 status = 0;

        data = peer_read(p, inside, &status);
        g_test_message("read %s: status %u", inside, status);
        g_assert_cmpstr(data, ==, "hello from the share\n");
        for (guint i = 0; attempts[i] != NULL; i++) {
                g_autofree gchar *got = peer_read(p, attempts[i], &status);
                g_test_message("read %s: %s", attempts[i],
                               got != NULL                 ? "READ (escaped!)"
                               : status == FX_NO_SUCH_FILE ? "no such file"
                                                           : "refused");
                g_assert_null(got);
                g_assert_true(status == FX_NO_SUCH_FILE || status == FX_PERMISSION_DENIED);
        }
        /* ".." above the location is an empty folder of the sandbox, not the owner's. */
        {
                g_autofree gchar *up = g_strconcat(location, "/..", NULL);
                g_autofree gchar *resolved = peer_realpath(p, up);
                g_autofree gchar *key = NULL;
                g_test_message("realpath %s: %s", up, resolved != NULL ? resolved : "(none)");
                key = peer_read(p, up_key, &status);
                g_assert_null(key);
        }
        peer_stop(p);
}

/* The same attempts against the server as it ran before: it hands out the owner's key. */
static void
test_unconfined_reads_secrets(void)
{
        Peer *p = peer_start(FALSE);
        g_autofree gchar *via_ssh = g_build_filename(location, "ssh", "id_ed25519", NULL);
        g_autofree gchar *got = NULL;
        guint32 status = 0;

        got = peer_read(p, via_ssh, &status);
        g_test_message("unconfined read %s: %s", via_ssh, got != NULL ? got : "(refused)");
        g_assert_cmpstr(got, ==, "PRIVATE KEY\n");
        peer_stop(p);
}

static gboolean
can_confine(void)
{
        g_autofree gchar *bwrap = g_find_program_in_path("bwrap");
        const gchar *argv[] = { bwrap, "--unshare-user", "--ro-bind", "/", "/", "true", NULL };
        gint status = -1;
        if (bwrap == NULL)
                return FALSE;
        return g_spawn_sync(NULL, (gchar **)argv, NULL,
                            G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL,
                            NULL, NULL, &status, NULL) &&
               g_spawn_check_wait_status(status, NULL);
}

int
main(int argc, char **argv)
{
        g_autofree gchar *ssh = NULL;
        g_autofree gchar *path = NULL;
        int rc;

        g_test_init(&argc, &argv, NULL);
        if (!g_file_test(SFTP_SERVER, G_FILE_TEST_IS_EXECUTABLE)) {
                g_test_skip("no " SFTP_SERVER " (openssh-sftp-server)");
                return g_test_run();
        }
        if (!can_confine()) {
                g_test_skip("bwrap is missing or user namespaces are off");
                return g_test_run();
        }
        top = g_dir_make_tmp("limad-sftp-confined-XXXXXX", NULL);
        location = g_build_filename(top, "share", NULL);
        secrets = g_build_filename(top, "home", NULL);
        ssh = g_build_filename(secrets, ".ssh", NULL);
        g_assert_cmpint(g_mkdir_with_parents(location, 0755), ==, 0);
        g_assert_cmpint(g_mkdir_with_parents(ssh, 0700), ==, 0);
        path = g_build_filename(location, "hello.txt", NULL);
        g_assert_true(g_file_set_contents(path, "hello from the share\n", -1, NULL));
        g_free(path);
        path = g_build_filename(ssh, "id_ed25519", NULL);
        g_assert_true(g_file_set_contents(path, "PRIVATE KEY\n", -1, NULL));
        g_chmod(path, 0600);
        g_free(path);
        path = g_build_filename(secrets, "shadow", NULL);
        g_assert_true(g_file_set_contents(path, "root:$y$secret:19000::::::\n", -1, NULL));
        g_chmod(path, 0600);
        g_free(path);
        /* What the guest (root, writing through a writable mount) or the owner plants. */
        path = g_build_filename(location, "ssh", NULL);
        g_assert_cmpint(symlink(ssh, path), ==, 0);
        g_free(path);
        path = g_build_filename(location, "shadow", NULL);
        g_assert_cmpint(symlink("../home/shadow", path), ==, 0);

        g_test_add_func("/sftp-confined/escapes-refused", test_confined_escapes);
        g_test_add_func("/sftp-confined/unconfined-reads-secrets", test_unconfined_reads_secrets);
        rc = g_test_run();
        {
                const gchar *rm[] = { "rm", "-rf", top, NULL };
                g_spawn_sync(NULL, (gchar **)rm, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL,
                             NULL, NULL);
        }
        return rc;
}
