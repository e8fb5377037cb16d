/* mountInotify on the host: a recursive inotify watch of each mount's location, with events
 * folded and their paths translated to the guest's mount point (see lima-mount-inotify.c). */
#pragma once

#include <glib.h>
#include <systemd/sd-event.h>

#include "lima-guest-protocol.h"

G_BEGIN_DECLS

/* Same path and event within this window: one event. */
#define LIMA_MOUNT_INOTIFY_FOLD_MS 50
/* How long after an event is sent the guest's touch may come back as a host ATTRIB. */
#define LIMA_MOUNT_INOTIFY_ECHO_MS 5000

typedef struct _LimaMountInotify LimaMountInotify;

/* A folded event, ready for the guest: guest_path is absolute, under a mount point. */
typedef void (*LimaMountInotifyEmitFunc)(LimaGuestInotifyEvent event, const gchar *guest_path,
                                         gpointer user_data);
/* Something the user should know but that stops nothing (watch limit, lost events). */
typedef void (*LimaMountInotifyWarnFunc)(const gchar *location, const gchar *message,
                                         gpointer user_data);

LimaMountInotify *lima_mount_inotify_new(sd_event *event, guint fold_ms,
                                         LimaMountInotifyEmitFunc emit,
                                         LimaMountInotifyWarnFunc warn, gpointer user_data,
                                         GError **error);
void lima_mount_inotify_free(LimaMountInotify *w);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(LimaMountInotify, lima_mount_inotify_free)

/* Watches location (a directory) and everything below it; events name paths under
 * mount_point. The tree is walked a few directories per loop turn, so a large home folder
 * does not stall the agent. FALSE when location itself cannot be watched. */
gboolean lima_mount_inotify_add(LimaMountInotify *w, const gchar *location,
                                const gchar *mount_point, GError **error);

/* Stops watching the mount at mount_point; FALSE when none was watched there. */
gboolean lima_mount_inotify_remove(LimaMountInotify *w, const gchar *mount_point);

/* TRUE while directories are still waiting to be walked. */
gboolean lima_mount_inotify_is_scanning(LimaMountInotify *w);
guint lima_mount_inotify_n_watches(LimaMountInotify *w);

G_END_DECLS
