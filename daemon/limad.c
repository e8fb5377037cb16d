/* limad: the instance manager and its D-Bus API. This build has only the config model;
 * the service itself comes with the real-instances work. */
#include <glib.h>
#include <stdio.h>

#include "config.h"

int
main(int argc, char **argv)
{
        if (argc > 1 && (g_str_equal(argv[1], "--help") || g_str_equal(argv[1], "-h"))) {
                printf("Usage: limad [--user|--system]\n\n"
                       "The limad instance manager (D-Bus service io.lima.lima1).\n"
                       "Not implemented in this build: it only prints this help.\n");
                return 0;
        }
        if (argc > 1 && g_str_equal(argv[1], "--version")) {
                printf("limad %s\n", LIMAD_VERSION);
                return 0;
        }
        fprintf(stderr, "limad: not implemented in this build yet; see --help\n");
        return 1;
}
