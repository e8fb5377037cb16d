/* Serves a directory over SFTP on stdin/stdout with the builtin server, for trying it by hand:
 *   mkfifo f; sftp-serve DIR [--read-only] < f | sshfs :/ MNT -f -o slave > f */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "lima-sftp-server.h"

int
main(int argc, char **argv)
{
        g_autoptr(LimaSftpServer) s = NULL;
        g_autoptr(GError) error = NULL;
        gboolean read_only = argc == 3 && strcmp(argv[2], "--read-only") == 0;

        if (argc < 2 || argc > 3 || (argc == 3 && !read_only)) {
                fprintf(stderr, "usage: %s DIR [--read-only]\n", argv[0]);
                return 2;
        }
        /* stdout is a pipe: a peer that goes away must end the session, not the process. */
        signal(SIGPIPE, SIG_IGN);
        s = lima_sftp_server_new(argv[1], read_only, &error);
        if (s == NULL || !lima_sftp_server_run(s, 0, 1, NULL, &error)) {
                fprintf(stderr, "sftp-serve: %s\n", error->message);
                return 1;
        }
        return 0;
}
