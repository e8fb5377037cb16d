/* lima-hostagent NAME: runs one instance (QEMU, mounts, guest link). Not built yet. */
#include <glib.h>
#include <stdio.h>

#include "config.h"

int
main(int argc, char **argv)
{
        if (argc > 1 && (g_str_equal(argv[1], "--help") || g_str_equal(argv[1], "-h"))) {
                printf("Usage: lima-hostagent NAME\n\n"
                       "Runs instance NAME: QEMU, its mounts and the guest agent link.\n"
                       "Not implemented in this build: it only prints this help.\n");
                return 0;
        }
        fprintf(stderr, "lima-hostagent: not implemented in this build yet; see --help\n");
        return 1;
}
