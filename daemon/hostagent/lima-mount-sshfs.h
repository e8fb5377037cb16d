/*
 * reverse-sshfs: one session per mount. The host runs
 *   ssh -F SSH_CONFIG lima-NAME -- sudo sshfs :LOCATION MOUNTPOINT -o slave -o allow_other …
 * and cross-connects ssh's stdin/stdout with an SFTP server on the host (OpenSSH's
 * sftp-server, or the builtin one through a callback), so the guest mounts the host's
 * directory while the host opens no port.
 *
 * Integration in lima-hostagent.c (mountType reverse-sshfs), once the guest's sshd answers
 * (after the ready worker reports ok), from the sd-event thread:
 *
 *   LimaSshfsOptions o = { .ssh_config = ssh_config_path, .instance_name = agent->name,
 *                          .mount = m->mount, .log_path = "<dir>/ha.sshfs.log",
 *                          .builtin_serve = agent_builtin_sftp, .builtin_data = agent };
 *   m->sshfs = lima_sshfs_session_start(&o, &error);    // NULL: mount "failed", Degraded
 *   // optional, from a worker: lima_sshfs_session_wait_mounted(m->sshfs, 10000, &error)
 *   sd_event_add_child(agent->event, &m->ssh_child, lima_sshfs_session_ssh_pid(m->sshfs),
 *                      WEXITED, on_sshfs_exit, m);
 *   if (lima_sshfs_session_server_pid(m->sshfs) > 0)    // 0 with the builtin driver
 *           sd_event_add_child(..., server pid, ..., on_sshfs_exit, m);
 *
 *   // on_sshfs_exit (either pid died; with the builtin driver ssh dies when the server
 *   // returns): lima_sshfs_session_child_exited(m->sshfs, si->si_pid); drop both sources;
 *   // unless stopping: lima_sshfs_session_stop(m->sshfs), free it, start a new session
 *   // at once (the guest is back within a second or two; target 5 s), state "mounted".
 *
 *   // lima_agent_stop(), before asking the guest to power off:
 *   drop both child sources; lima_sshfs_session_free(m->sshfs);   // umounts, kills, reaps
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
        const gchar *log_path; /* stderr of ssh and sftp-server, appended; NULL: inherit */
} LimaSshfsOptions;

typedef struct _LimaSshfsSession LimaSshfsSession;

/* The mount's sftpDriver, defaulting as Lima does (OpenSSH's when installed). */
gboolean lima_sshfs_driver(const LimaMount *m, const gchar *sftp_server, gboolean builtin_available,
                           LimaSftpDriver *driver, GError **error);

/* The pieces, NULL-terminated argv arrays, for tests and --print style debugging. */
GPtrArray *lima_sshfs_guest_command(const LimaMount *m, GError **error);
GPtrArray *lima_sshfs_server_argv(const gchar *sftp_server, const LimaMount *m);
/* ssh … lima-NAME -- REMOTE, where REMOTE is the commands shell-quoted, joined by " || ". */
GPtrArray *lima_sshfs_ssh_argv(const LimaSshfsOptions *o, const gchar *const *const *commands);

LimaSshfsSession *lima_sshfs_session_start(const LimaSshfsOptions *o, GError **error);
/* Polls the guest (ssh … mountpoint -q) until the mount is there; blocking. */
gboolean lima_sshfs_session_wait_mounted(LimaSshfsSession *s, guint timeout_ms, GError **error);
pid_t lima_sshfs_session_ssh_pid(const LimaSshfsSession *s);
/* 0 with the builtin driver (a thread, not a process). */
pid_t lima_sshfs_session_server_pid(const LimaSshfsSession *s);
/* The caller reaped pid (an sd-event child source): forget it. */
void lima_sshfs_session_child_exited(LimaSshfsSession *s, pid_t pid);
/* Both ends still run; does not reap. */
gboolean lima_sshfs_session_is_alive(LimaSshfsSession *s);
/* Best effort: umounts in the guest, then ends and reaps ssh and the server. Idempotent. */
void lima_sshfs_session_stop(LimaSshfsSession *s);
/* Stops it too. */
void lima_sshfs_session_free(LimaSshfsSession *s);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(LimaSshfsSession, lima_sshfs_session_free)

G_END_DECLS
