/* The pure parts of limactl: how values are shown and how flags are read. Nothing here talks
 * to the bus, so client/test-limactl-format.c tests it all. */
#pragma once

#include <glib.h>

#include "limactl-instance.h"

G_BEGIN_DECLS

/* Bytes as Lima's list shows them (go-units BytesSize): "4GiB", "1.5MiB", "512B". */
gchar *limactl_format_bytes(guint64 bytes);

/* lima-NAME with '.' and '_' turned into '-', as Lima names the guest host. */
gchar *limactl_instance_hostname(const gchar *name);

/* --memory/--disk: a bare number is GiB ("4", "1.5" → "4GiB", "1.5GiB"); anything else must be
 * a size ("512MiB"). Returns the value for CreateInstance's options. */
gchar *limactl_size_flag_parse(const gchar *flag, const gchar *text, GError **error);

/* A Go duration ("10m", "1h30m", "90s", "1.5h", "500ms") in microseconds. */
gboolean limactl_duration_parse(const gchar *text, guint64 *usec);
/* And back, as Go prints it: "10m0s", "1h30m0s", "1.5s". */
gchar *limactl_duration_format(guint64 usec);

/* The instance name Lima derives from a file or template name: its basename, lower case,
 * without .yaml/.yml. NULL when that is not a valid instance name. */
gchar *limactl_instance_name_from_path(const gchar *path);

/* One --mount/--mount-only value: DIR[:w], or several separated by commas as Lima's flag
 * takes them. "~" is the home folder and relative paths are made absolute against cwd,
 * because limad does not share our working folder. */
typedef struct {
        gchar *location;
        gchar *mount_point; /* "" lets limad choose (the location) */
        gboolean writable;
} LimaMountStatusSpec;

void limactl_mount_spec_free(LimaMountStatusSpec *spec);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(LimaMountStatusSpec, limactl_mount_spec_free)

gboolean limactl_mount_flag_parse(const gchar *value, const gchar *cwd, const gchar *home,
                                  GPtrArray *specs, GError **error);

/* `limactl mount add`'s LOCATION[:MOUNTPOINT]: the location made absolute as for --mount,
 * the mount point as given ("" when left out: limad uses the location). */
gboolean limactl_mount_arg_parse(const gchar *value, const gchar *cwd, const gchar *home,
                                 gchar **location, gchar **mount_point, GError **error);

/* The folder in the guest that host folder cwd is mounted at, or NULL when no mount (other
 * than failed ones) holds it. The most specific mount wins. */
gchar *limactl_workdir_translate(const gchar *cwd, GPtrArray *mounts);

/* The command line `limactl shell` runs over ssh: cd to workdir (NULL: the guest home), then
 * exec COMMAND (each word quoted for the remote shell) or a login shell. */
/* The same with --shell SHELL (NULL: the login shell; commands then go through SHELL -l -c)
 * and env, NAME=VALUE strings set with env(1) before it (--preserve-env). */
gchar *limactl_format_shell_script_full(const gchar *workdir, gboolean explicit_workdir,
                                        const gchar *shell, const gchar *const *env,
                                        gchar **command);
/* The NAME=VALUE entries of envp that --preserve-env carries: Lima's block list left out. */
GStrv limactl_format_preserved_env(const gchar *const *envp);
/* text with control characters replaced, fit for a terminal. */
gchar *limactl_format_sanitize(const gchar *text);
gchar *limactl_format_shell_script(const gchar *workdir, gboolean explicit_workdir,
                                   gchar **command);

/* --format TEXT: a Go-template-like text where {{.Field}} stands for a field of the instance.
 */
typedef struct _LimactlFormat LimactlFormat;

LimactlFormat *limactl_format_compile(const gchar *text, GError **error);
gchar *limactl_format_expand(const LimactlFormat *format, const LimactlInstance *inst);
void limactl_format_free(LimactlFormat *format);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(LimactlFormat, limactl_format_free)

/* The table of `limactl list`, header included; the part of each Dir under home is shown as
 * "~". */
gchar *limactl_format_table(GPtrArray *instances, const gchar *home);

/* One instance as a line of JSON with Lima's keys (no newline). */
gchar *limactl_format_json(const LimactlInstance *inst);

/* The progress line of `limactl start` on a terminal: "[=====>     ] 42% stage: message",
 * cut to columns - 1 characters so it never wraps (columns 0: no limit). */
gchar *limactl_format_progress(gdouble fraction, const gchar *stage, const gchar *message,
                               guint columns);

G_END_DECLS
