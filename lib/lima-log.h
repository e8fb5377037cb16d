/* Log lines on stderr, for limad and lima-hostagent alike: with "<N>" priority prefixes when
 * stderr is the journal (systemd says so in JOURNAL_STREAM), plain elsewhere. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Whether stderr is the journal stream systemd gave us (JOURNAL_STREAM names its device
 * and inode; a child with stderr redirected elsewhere inherits the variable, not the
 * stream). */
gboolean lima_log_stderr_is_journal(void);
/* "<3>" … "<7>": the syslog priority journald reads from a line's start. */
const gchar *lima_log_priority_prefix(GLogLevelFlags level);

G_END_DECLS
