/* The one ssh invocation limactl uses (shell, copy, the lima wrapper): every option built
 * here from what limad reports, never a config file. The instance's ssh.config is written in
 * the owner's folder, so under limad --system root running `ssh -F` on it would run the
 * owner's ProxyCommand/LocalCommand as root (issue 9, hole 3). */
#pragma once

#include <glib.h>
#include <systemd/sd-bus.h>

#include "limactl-instance.h"

G_BEGIN_DECLS

typedef struct {
        gchar *user;         /* the guest user */
        guint port;          /* ssh on 127.0.0.1 */
        gchar *identity;     /* the owner's private key */
        gchar *control_path; /* the agent's master socket, or NULL: connect afresh */
} LimactlSshTarget;

void limactl_ssh_target_free(LimactlSshTarget *t);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(LimactlSshTarget, limactl_ssh_target_free)

/* The target of running instance inst. The master socket is used only when the caller is the
 * owner and use_master is set: a socket in the owner's folder would otherwise receive the
 * caller's terminal. */
LimactlSshTarget *limactl_ssh_target_new(sd_bus *bus, const LimactlInstance *inst,
                                         gboolean use_master, GError **error);

/* Root on another user's instance: ssh would open the key by a name its owner can swap after
 * any check (a link to root's own key, a FIFO). Reads t->identity once, without following
 * links, a regular file of owner_uid of at most 64 KiB, and points t->identity at a copy in
 * copy_dir (made 0700 if missing; must be the caller's and writable by no one else). */
gboolean limactl_ssh_take_key(LimactlSshTarget *t, uid_t owner_uid, const gchar *copy_dir,
                              GError **error);

/* Appends `-F /dev/null -o K=V …` for t to argv (a GPtrArray of owned strings): no system,
 * user or instance config file is read. port_flag: "-p" for ssh, "-P" for scp. */
void limactl_ssh_add_options(GPtrArray *argv, const LimactlSshTarget *t);

G_END_DECLS
