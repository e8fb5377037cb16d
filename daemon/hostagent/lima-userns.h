/*
 * A user namespace for a helper that must serve with its owner's rights only (virtiofsd):
 * the owner's subordinate ids from /etc/subuid and /etc/subgid, and the maps written for a
 * waiting child by newuidmap/newgidmap, run as the owner. One path for limad --user and
 * --system: the agent starts helpers after dropping to the owner, so nothing here runs as
 * root and the kernel checks every map against the owner's own ranges.
 */
#pragma once

#include <glib.h>
#include <sys/types.h>

G_BEGIN_DECLS

/* Inside the namespace: 0 is the daemon itself, inner_uid/inner_gid the guest user's ids. */
typedef struct {
        uid_t owner_uid;
        gid_t owner_gid;
        uid_t sub_uid; /* what inside uid 0 is on the host: the first id of the owner's range */
        gid_t sub_gid;
        guint32 inner_uid; /* the guest user's uid, seen as the owner on the host */
        guint32 inner_gid;
} LimaUsernsMap;

/* The first subordinate id of user (by name or uid) in a subuid/subgid file; FALSE with
 * LIMA_ERROR_UNSUPPORTED naming the file and the usermod command that adds a range. */
gboolean lima_userns_subid(const gchar *path, const gchar *user, guint32 uid, guint32 *first,
                           GError **error);

/* Fills map for the calling user (the owner) from /etc/subuid and /etc/subgid. */
gboolean lima_userns_map_for_self(guint32 inner_uid, guint32 inner_gid, LimaUsernsMap *map,
                                  GError **error);

/* newuidmap/newgidmap's arguments: "PID 0 SUB 1 INNER OWNER 1" (one line when the guest
 * user is root, which never happens for a Lima guest). NULL-terminated. */
GPtrArray *lima_userns_map_argv(const gchar *tool, pid_t pid, guint32 sub, guint32 inner,
                                guint32 owner);

/* Writes pid's uid and gid maps (pid has called unshare(CLONE_NEWUSER) and waits). */
gboolean lima_userns_write_maps(pid_t pid, const LimaUsernsMap *map, GError **error);

G_END_DECLS
