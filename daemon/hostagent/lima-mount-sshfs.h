/*
 * reverse-sshfs: one session per mount. The host runs
 *   ssh -F SSH_CONFIG lima-NAME -- sudo sshfs :LOCATION MOUNTPOINT -o slave -o allow_other …
 * and cross-connects ssh's stdin/stdout with an SFTP server on the host (OpenSSH's
 * sftp-server, or the builtin one through a callback), so the guest mounts the host's
 * directory while the host opens no port.
 *
 * The guest side is one remote command: detach whatever a dead session left at the mount
 * point, make it, exec sshfs (lima_sshfs_guest_prepare_command()), so a session costs one
 * ssh channel; with the agent's master connection (lima-agent-ssh.c) that is no handshake.
 *
 * lima-agent-mounts.c runs one session per mount, from the sd-event thread, never blocking:
 * lima_sshfs_session_start(), a child watch on ssh and on the server, and
 * lima_sshfs_session_check_spawn() every 300 ms until the guest has the mount. When either
 * child dies: lima_sshfs_session_child_exited(), lima_sshfs_session_forget_mount() (the
 * next command detaches the old mount), free, and start again at once; sessions that keep
 * ending before they mount are retried with a bounded backoff. lima_sshfs_session_free()
 * on stop umounts in the guest.
 *
 * agent_builtin_sftp(in_fd, out_fd, data) wraps lima_sftp_server_run(); it runs on a thread
 * of the session's own and must return when in_fd reaches EOF. It must not close the fds.
 */
#pragma once

#include <glib.h>
#include <sys/types.h>

#include "lima-config.h"

G_BEGIN_DECLS

typedef enum {
        LIMA_SFTP_DRIVER_OPENSSH, /* "openssh-sftp-server" */
        LIMA_SFTP_DRIVER_BUILTIN, /* "builtin" */
} LimaSftpDriver;

/* Serves SFTP on in_fd/out_fd (one socket: the same fd) until EOF. */
typedef void (*LimaSftpServeFunc)(int in_fd, int out_fd, gpointer data);

typedef struct {
        const gchar *ssh_config;         /* <instance dir>/ssh.config */
        const gchar *instance_name;      /* Host lima-NAME */
        const LimaMount *mount;          /* filled: location expanded, sshfs.* set */
        const gchar *ssh_binary;         /* NULL: $LIMA_SSH, else "ssh" on PATH */
        const gchar *sftp_server;        /* NULL: lima_host_find_sftp_server() */
        LimaSftpServeFunc builtin_serve; /* NULL: no builtin driver in this process */
        gpointer builtin_data;
        const gchar *log_path;        /* stderr of ssh and sftp-server, appended; NULL: inherit */
        gboolean direct;              /* ssh -o ControlPath=none: not on the master connection */
        const gchar *bwrap;           /* NULL: bwrap on PATH, which confines OpenSSH's server */
        gboolean require_confinement; /* --system: no OpenSSH server without bwrap */
} LimaSshfsOptions;

typedef struct _LimaSshfsSession LimaSshfsSession;

/* The mount's sftpDriver, defaulting as Lima does (OpenSSH's when installed). */
gboolean lima_sshfs_driver(const LimaMount *m, const gchar *sftp_server, gboolean builtin_available,
                           LimaSftpDriver *driver, GError **error);

/* The pieces, NULL-terminated argv arrays, for tests and --print style debugging. */
GPtrArray *lima_sshfs_guest_command(const LimaMount *m, GError **error);
/* sudo sh -c SCRIPT lima-sshfs MOUNTPOINT sshfs …: detaches a stale mount, makes the mount
 * point, runs guest (a lima_sshfs_guest_command(), taken) in one remote command. */
GPtrArray *lima_sshfs_guest_prepare_command(GPtrArray *guest, const gchar *mount_point);
GPtrArray *lima_sshfs_server_argv(const gchar *sftp_server, const LimaMount *m);
/* The same inside bwrap: OpenSSH's sftp-server has no root of its own (-d only sets where it
 * starts), so it runs in new user and mount namespaces whose view holds the location at its
 * own path, /usr and the few system files the binary needs, all read-only but the location
 * when writable. */
GPtrArray *lima_sshfs_confined_server_argv(const gchar *bwrap, const gchar *sftp_server,
                                           const LimaMount *m);
/* ssh … lima-NAME -- REMOTE, where REMOTE is the commands shell-quoted, joined by " || ". */
GPtrArray *lima_sshfs_ssh_argv(const LimaSshfsOptions *o, const gchar *const *const *commands);

LimaSshfsSession *lima_sshfs_session_start(const LimaSshfsOptions *o, GError **error);
/* Polls the guest (ssh … mountpoint -q) until the mount is there; blocking. */
gboolean lima_sshfs_session_wait_mounted(LimaSshfsSession *s, guint timeout_ms, GError **error);
/* Starts `ssh … mountpoint -q MOUNTPOINT` without waiting: its exit status 0 says the guest
 * has the mount. The caller reaps the pid. 0 when it cannot start. */
pid_t lima_sshfs_session_check_spawn(LimaSshfsSession *s, GError **error);
pid_t lima_sshfs_session_ssh_pid(const LimaSshfsSession *s);
/* 0 with the builtin driver (a thread, not a process). */
pid_t lima_sshfs_session_server_pid(const LimaSshfsSession *s);
/* The caller reaped pid (an sd-event child source): forget it. */
void lima_sshfs_session_child_exited(LimaSshfsSession *s, pid_t pid);
/* Both ends still run; does not reap. */
gboolean lima_sshfs_session_is_alive(LimaSshfsSession *s);
/* The guest's mount is left to the next session's command (it detaches a stale one), so
 * stop() need not reach the guest: for reconnecting without waiting on ssh. */
void lima_sshfs_session_forget_mount(LimaSshfsSession *s);
/* Best effort: umounts in the guest, then ends and reaps ssh and the server. Idempotent. */
void lima_sshfs_session_stop(LimaSshfsSession *s);
/* Stops it too. */
void lima_sshfs_session_free(LimaSshfsSession *s);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(LimaSshfsSession, lima_sshfs_session_free)

G_END_DECLS
