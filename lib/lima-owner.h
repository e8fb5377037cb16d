/* Acting as an instance's owner (limad --system): who they are, dropping a process to their
 * ids, and asking the kernel — not our own reading of mode bits — what they may access. */
#pragma once

#include <glib.h>
#include <sys/types.h>

G_BEGIN_DECLS

typedef struct {
        uid_t uid;
        gid_t gid;
        gchar *name;
        gchar *home;
        gid_t *groups; /* supplementary groups, gathered up front: safe to use after fork() */
        gint n_groups;
} LimaOwner;

/* The passwd entry and groups of uid; LIMA_ERROR_NOT_FOUND when there is no such user. */
LimaOwner *lima_owner_lookup(uid_t uid, GError **error);
void lima_owner_free(LimaOwner *owner);

/* Drops the calling process for good to owner's uid, gid and groups (real, effective and
 * saved), and points HOME, USER and LOGNAME at them. Only async-signal-safe calls, so a
 * forked child may use it; the environment is left alone when child is TRUE. */
gboolean lima_owner_drop(const LimaOwner *owner, gboolean child, GError **error);

/* Whether owner may use location as a mount: read and search it, and write it when
 * writable. Asked in a child dropped to owner, so ACLs, groups and read-only file systems
 * count. A read-only file system (EROFS, also what a sandboxed unit sees) is not refused:
 * it is no permission the owner lacks. A location that does not exist yet must be creatable by
 * owner. On refusal: LIMA_ERROR_PERMISSION_DENIED naming the location and the permission missing.
 */
gboolean lima_owner_check_location(const LimaOwner *owner, const gchar *location, gboolean writable,
                                   GError **error);

/* The same for n locations at once, asked in one child; *failed: the index refused. */
gboolean lima_owner_check_locations(const LimaOwner *owner, const gchar *const *locations,
                                    const gboolean *writable, guint n, guint *failed,
                                    GError **error);

/* Reads path, a file in a folder someone else controls, as root: no symlink is followed,
 * and only a regular file that owner_uid (or root, with one link) owns is read, so a
 * planted link cannot show root's files to that someone. */
gboolean lima_owner_read_file(const gchar *path, uid_t owner_uid, gchar **contents, gsize *len,
                              GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(LimaOwner, lima_owner_free)

G_END_DECLS
