/* libFuzzer target: any sequence of packets into the builtin SFTP server
 * (daemon/hostagent/lima-sftp-server.c) on a fresh temp root. Must never crash, hang or leak,
 * answer each packet with exactly one framed reply, and never touch anything outside root.
 *
 * Input: one byte of mode (bit 0: read-only share, bit 1: the no-openat2 fallback walk), then
 * packets, each a 2-byte big-endian length and that many bytes (cut short at the end). Seeds:
 * tests/sftp/fuzz-corpus. */
#define _GNU_SOURCE
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "lima-sftp-server.h"

static gchar *fuzz_top;  /* holds root and a canary beside it */
static gchar *fuzz_root; /* served, rebuilt for every input */
static gchar *fuzz_canary;

static int
remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
        /* Keep going on errors: a root left behind makes fuzz_build_root abort, loudly. */
        if (type == FTW_DP)
                rmdir(path);
        else
                unlink(path);
        return 0;
}

static void
fuzz_build_root(void)
{
        g_autofree gchar *d = g_build_filename(fuzz_root, "d", NULL);
        static const gchar *const links[][2] = {
                { "etc", "/etc" },  { "up", "../canary" }, { "loop", "loop" },
                { "top", "../.." }, { "d/back", "../f" },
        };

        /* Inputs chmod directories to 0; the fuzzer runs as root, or this would need a
         * chmod pass before removing. */
        nftw(fuzz_root, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
        if (g_mkdir(fuzz_root, 0755) < 0 || g_mkdir(d, 0755) < 0)
                abort();
        {
                g_autofree gchar *f = g_build_filename(fuzz_root, "f", NULL);
                g_autofree gchar *g = g_build_filename(d, "g", NULL);
                if (!g_file_set_contents(f, "0123456789", -1, NULL) ||
                    !g_file_set_contents(g, "g", -1, NULL))
                        abort();
        }
        for (gsize i = 0; i < G_N_ELEMENTS(links); i++) {
                g_autofree gchar *path = g_build_filename(fuzz_root, links[i][0], NULL);
                if (symlink(links[i][1], path) < 0)
                        abort();
        }
}

/* Anything outside root changed means the confinement failed: crash so libFuzzer keeps it. */
static void
fuzz_check_outside(void)
{
        g_autoptr(GDir) dir = g_dir_open(fuzz_top, 0, NULL);
        g_autofree gchar *canary = NULL;
        const gchar *name;
        struct stat st;

        if (dir == NULL)
                abort();
        while ((name = g_dir_read_name(dir)) != NULL) {
                if (strcmp(name, "root") != 0 && strcmp(name, "canary") != 0) {
                        fprintf(stderr, "fuzz-sftp: %s appeared outside root\n", name);
                        abort();
                }
        }
        if (lstat(fuzz_canary, &st) < 0 || !S_ISREG(st.st_mode) || (st.st_mode & 07777) != 0644 ||
            !g_file_get_contents(fuzz_canary, &canary, NULL, NULL) ||
            strcmp(canary, "canary") != 0) {
                fprintf(stderr, "fuzz-sftp: the canary outside root changed\n");
                abort();
        }
}

static void
fuzz_cleanup(void)
{
        nftw(fuzz_top, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
        /* tmpfs when there is one: every input rebuilds the root, and disk metadata is slow. */
        fuzz_top =
            g_strdup(g_file_test("/dev/shm", G_FILE_TEST_IS_DIR) ? "/dev/shm/limad-fuzz-sftp-XXXXXX"
                                                                 : "/tmp/limad-fuzz-sftp-XXXXXX");
        if (g_mkdtemp(fuzz_top) == NULL)
                abort();
        fuzz_root = g_build_filename(fuzz_top, "root", NULL);
        fuzz_canary = g_build_filename(fuzz_top, "canary", NULL);
        if (!g_file_set_contents(fuzz_canary, "canary", -1, NULL) || chmod(fuzz_canary, 0644) < 0)
                abort();
        umask(022);
        atexit(fuzz_cleanup);
        return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        g_autoptr(LimaSftpServer) s = NULL;
        g_autoptr(GByteArray) reply = g_byte_array_new();
        gsize pos = 1;

        if (size < 1)
                return 0;
        fuzz_build_root();
        s = lima_sftp_server_new(fuzz_root, data[0] & 1, NULL);
        if (s == NULL)
                abort();
        if (data[0] & 2)
                lima_sftp_server_set_use_openat2(s, FALSE);
        while (pos < size) {
                gsize len = (gsize)data[pos] << 8 | (pos + 1 < size ? data[pos + 1] : 0);
                guint32 framed;

                pos = MIN(pos + 2, size);
                len = MIN(len, size - pos);
                g_byte_array_set_size(reply, 0);
                lima_sftp_server_handle_packet(s, data + pos, len, reply);
                pos += len;
                if (reply->len < 5)
                        abort();
                framed = (guint32)reply->data[0] << 24 | (guint32)reply->data[1] << 16 |
                         (guint32)reply->data[2] << 8 | reply->data[3];
                if (framed != reply->len - 4)
                        abort();
        }
        g_clear_pointer(&s, lima_sftp_server_free);
        fuzz_check_outside();
        return 0;
}
