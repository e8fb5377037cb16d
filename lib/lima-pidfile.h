/* Pid files of the processes an instance runs (ha.pid, qemu.pid). */
#pragma once

#include <glib.h>
#include <sys/types.h>

G_BEGIN_DECLS

/* The pid in path when that process still runs and its command line contains expect (a
 * recycled pid runs something else); 0 otherwise. */
pid_t lima_pidfile_alive(const gchar *path, const gchar *expect);

G_END_DECLS
