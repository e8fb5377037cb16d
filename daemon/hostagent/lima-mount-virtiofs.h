/*
 * One virtiofsd per virtiofs mount, started before QEMU (which connects to its socket), with
 * the instance owner's rights only: the agent, running as the owner (limad --user, and
 * limad --system after it dropped from root), forks a child that enters a user namespace of
 * its own, whose maps newuidmap/newgidmap write from the owner's /etc/subuid range (inside 0
 * -> the range's first id, the guest user's uid -> the owner), then a private mount and net
 * namespace where the location is bind-mounted (read-only when the mount is) on a private
 * tmpfs, and execs the C virtiofsd on a listening socket the agent made (--fd).
 *
 * From the sd-event thread, since the daemon gets PR_SET_PDEATHSIG and would die with a
 * worker thread that forked it:
 *
 *   agent->virtiofsd_bin = lima_virtiofsd_find(&error);          // once
 *   g_autofree gchar *sock = lima_qemu_virtiofsd_socket(plan, m->mount);
 *   LimaVirtiofsdIds ids = { .guest_uid = cfg->user_uid.value, .guest_gid = -1 };
 *   m->virtiofsd = lima_virtiofsd_start(agent->virtiofsd_bin, m->mount, sock, agent->dir,
 *                                       &ids, &error);
 *   // NULL: set that mount "failed" with error->message (a user without a subuid range
 *   // gets LIMA_ERROR_UNSUPPORTED naming /etc/subuid and the usermod that fixes it)
 *   sd_event_add_child(agent->event, &m->virtiofsd_child, lima_virtiofsd_pid(m->virtiofsd),
 *                      WEXITED, on_virtiofsd_exit, m);   // a dead daemon stops the VM
 *
 *   // lima_agent_finish(): after QEMU is gone (the daemon exits on disconnect anyway)
 *   m->virtiofsd_child = sd_event_source_disable_unref(m->virtiofsd_child);
 *   lima_virtiofsd_stop(m->virtiofsd);                 // SIGTERM, then SIGKILL; reaps
 *   g_clear_pointer(&m->virtiofsd, lima_virtiofsd_free);
 *
 * If sd-event already reaped the daemon (on_virtiofsd_exit), call lima_virtiofsd_exited()
 * before lima_virtiofsd_stop(), so stop() does not signal a pid that may be reused.
 */
#pragma once

#include <glib.h>
#include <sys/types.h>

#include "lima-config.h"

G_BEGIN_DECLS

typedef enum {
        LIMA_VIRTIOFSD_RUST, /* gitlab.com/virtio-fs/virtiofsd: --shared-dir, --sandbox */
        LIMA_VIRTIOFSD_C,    /* qemu <= 7.2's tools/virtiofsd: -o source=, root of a userns */
} LimaVirtiofsdFlavour;

typedef struct {
        gchar *path;
        LimaVirtiofsdFlavour flavour;
        gboolean has_readonly;  /* Rust: --readonly */
        gboolean has_translate; /* Rust: --translate-uid and --translate-gid */
} LimaVirtiofsdBinary;

/* Where to look, in order; lima_virtiofsd_find() uses the host's. */
typedef struct {
        const gchar *env_override;             /* $LIMA_VIRTIOFSD; NULL or "": none */
        const gchar *search_path;              /* $PATH; NULL: do not search */
        const gchar *const *descriptor_dirs;   /* QEMU vhost-user JSON descriptor dirs */
        const gchar *const *fallback_binaries; /* absolute paths */
} LimaVirtiofsdSearch;

/* The guest user's ids, which the user namespace maps to the owner (the caller); guest_gid
 * -1: the same number as guest_uid (Lima's guest user has a group of its own). owner_uid is
 * informational: the daemon always runs with the caller's ids. */
typedef struct {
        gint64 guest_uid;
        gint64 guest_gid;
        guint32 owner_uid;
} LimaVirtiofsdIds;

/* How one daemon runs: the pure input of lima_virtiofsd_argv(). */
typedef struct {
        const LimaMount *mount;
        const gchar *socket_path;
        gint listen_fd;              /* > 0: --fd=N instead of --socket-path */
        const gchar *source;         /* the directory served: the location or its read-only bind */
        gboolean privileged;         /* root (C: of its own user namespace): a sandbox */
        gboolean ro_by_binding;      /* source is already a read-only bind mount */
        const LimaVirtiofsdIds *ids; /* NULL: no translation */
        guint32 host_uid;
        guint32 host_gid;
} LimaVirtiofsdArgs;

typedef struct _LimaVirtiofsd LimaVirtiofsd;

/* $LIMA_VIRTIOFSD, virtiofsd on $PATH, QEMU's vhost-user descriptors ("type": "fs"), then
 * /usr/lib/qemu/virtiofsd and /usr/libexec/virtiofsd; probed with --help. */
LimaVirtiofsdBinary *lima_virtiofsd_find(GError **error);
LimaVirtiofsdBinary *lima_virtiofsd_find_in(const LimaVirtiofsdSearch *search, GError **error);
/* Runs path --help and tells the flavour and optional flags from what it lists. */
LimaVirtiofsdBinary *lima_virtiofsd_probe(const gchar *path, GError **error);
/* Tells the flavour from --help output; FALSE when it is neither. */
gboolean lima_virtiofsd_parse_help(const gchar *help, LimaVirtiofsdBinary *bin);
void lima_virtiofsd_binary_free(LimaVirtiofsdBinary *bin);

/* The C virtiofsd splits -o values at commas and unescapes backslashes (fuse_opt). */
gchar *lima_virtiofsd_fuse_opt_escape(const gchar *value);
/* The daemon's argv (argv[0] is bin->path), NULL-terminated; NULL with error for a value
 * that cannot be passed, or a read-only mount this daemon cannot enforce from args alone. */
GPtrArray *lima_virtiofsd_argv(const LimaVirtiofsdBinary *bin, const LimaVirtiofsdArgs *args,
                               GError **error);

/* Starts the C daemon for mount m, listening on socket_path (made here, mode 0600), in a
 * user namespace with the caller's rights (see above). A read-only mount is served from a
 * read-only bind mount that only the daemon's mount namespace has. Its stderr goes to
 * instance_dir/virtiofsd-TAG.stderr.log (opened without following links, regular files
 * only). bin NULL: lima_virtiofsd_find(). */
LimaVirtiofsd *lima_virtiofsd_start(const LimaVirtiofsdBinary *bin, const LimaMount *m,
                                    const gchar *socket_path, const gchar *instance_dir,
                                    const LimaVirtiofsdIds *ids, GError **error);
pid_t lima_virtiofsd_pid(const LimaVirtiofsd *d);
/* The caller reaped the daemon (an sd-event child source): forget its pid. */
void lima_virtiofsd_exited(LimaVirtiofsd *d);
/* SIGTERM, SIGKILL after 2 s, reaps, removes the socket. Safe to call twice. The agent may
 * signal the daemon: it created the daemon's user namespace. */
void lima_virtiofsd_stop(LimaVirtiofsd *d);
/* Stops it too. */
void lima_virtiofsd_free(LimaVirtiofsd *d);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(LimaVirtiofsdBinary, lima_virtiofsd_binary_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(LimaVirtiofsd, lima_virtiofsd_free)

G_END_DECLS
