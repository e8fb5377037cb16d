/* The per-user SSH key pair every instance trusts: $LIMA_HOME/_config/user and user.pub, as
 * Lima keeps it, so instances made by Lima and by limad accept the same key. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* $LIMA_HOME/_config/user: the private key ssh is given with -i. */
gchar *lima_ssh_keys_private_path(const gchar *lima_home);

/* Makes the ed25519 pair when it is missing (or only user.pub when just that is missing) and
 * returns the public key line, without its newline. Safe to call from several processes. */
gchar *lima_ssh_keys_ensure(const gchar *lima_home, GError **error);

G_END_DECLS
