/* lima-guestagent: runs inside the guest; reports readiness and applies mountInotify events.
 * Not built yet. */
#include <stdio.h>
#include <string.h>

int
main(int argc, char **argv)
{
        if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
                printf("Usage: lima-guestagent\n\n"
                       "The agent inside a limad guest. Not implemented in this build: it only "
                       "prints this help.\n");
                return 0;
        }
        fprintf(stderr, "lima-guestagent: not implemented in this build yet; see --help\n");
        return 1;
}
