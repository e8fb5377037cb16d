/* limactl subcommands: each takes its own argv (argv[0] is the subcommand) and returns the
 * process exit code. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

int limactl_validate(int argc, char **argv);
int limactl_create(int argc, char **argv);
int limactl_start(int argc, char **argv);
int limactl_stop(int argc, char **argv);
int limactl_restart(int argc, char **argv);
int limactl_copy(int argc, char **argv);
int limactl_delete(int argc, char **argv);
int limactl_edit(int argc, char **argv);
int limactl_list(int argc, char **argv);
int limactl_info(int argc, char **argv);
int limactl_shell(int argc, char **argv);
int limactl_mount(int argc, char **argv);

/* Prints "limactl: MESSAGE" to stderr. */
void limactl_print_error(const gchar *fmt, ...) G_GNUC_PRINTF(1, 2);

/* Prints "limactl: MESSAGE" for error and returns the exit code for it: 2 for bad usage
 * (LIMACTL_ERROR_INVALID_ARGUMENT), else 1. */
int limactl_report_error(const GError *error);

G_END_DECLS
