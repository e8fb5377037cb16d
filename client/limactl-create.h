/* The create flags, shared by `limactl create` and `limactl start` (which creates a missing
 * instance first, as Lima's does). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
        gchar *name;
        gint cpus;
        gchar *memory;
        gchar *disk;
        gchar *vm_type;
        gchar *arch;
        GStrv mounts;
        GStrv mounts_only;
        gboolean mount_none;
        gchar *mount_type;
        gboolean mount_writable;
        gboolean mount_inotify;
        GStrv sets;
        GStrv params;
        gboolean plain;
        gchar *containerd;
        gboolean list_templates;
        GStrv args;
} LimactlCreateFlags;

#define LIMACTL_CREATE_FLAGS_INIT                                                                  \
        {                                                                                          \
                .cpus = -1                                                                         \
        }

void limactl_create_flags_clear(LimactlCreateFlags *flags);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(LimactlCreateFlags, limactl_create_flags_clear)

/* Adds the create flags (not --list-templates nor the arguments) to ctx's main group. */
void limactl_create_add_entries(GOptionContext *ctx, LimactlCreateFlags *flags);

/* Whether any flag that changes the config was given. */
gboolean limactl_create_flags_given(const LimactlCreateFlags *flags);

/* Creates the instance that arg (NULL, NAME, FILE.yaml, template:NAME or -) names, with
 * flags; *name is set to its name. quiet: no "run limactl start" hint (start goes on). */
int limactl_create_instance(LimactlCreateFlags *flags, const gchar *arg, gboolean quiet,
                            gchar **name);

/* The flags as `limactl edit NAME …` arguments, for an instance that exists already; the
 * create-only ones (--arch, --containerd, --plain, --param) are left out with Lima's warning. */
GPtrArray *limactl_create_edit_argv(const LimactlCreateFlags *flags, const gchar *name);

/* Lima's yq expressions for --arch, --containerd, --plain, --param and --set. */
gboolean limactl_create_yq_exprs(const LimactlCreateFlags *flags, GPtrArray *exprs, GError **error);

/* --tty[=BOOL]: -1 unset, else 0/1. A GOptionArgFunc for G_OPTION_FLAG_OPTIONAL_ARG. */
extern gint limactl_tty_flag;
gboolean limactl_tty_flag_parse(const gchar *option, const gchar *value, gpointer data,
                                GError **error);
/* Whether to behave as on a terminal: --tty, else whether fd is one. */
gboolean limactl_use_tty(int fd);

G_END_DECLS
