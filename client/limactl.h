/* limactl subcommands: each takes its own argv (argv[0] is the subcommand) and returns the
 * process exit code. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

int limactl_validate(int argc, char **argv);

/* Prints "limactl: MESSAGE" to stderr. */
void limactl_print_error(const gchar *fmt, ...) G_GNUC_PRINTF(1, 2);

G_END_DECLS
