#define _XOPEN_SOURCE 700
#include "limad-store.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "lima-config-base.h"
#include "lima-config-resolve.h"
#include "lima-error.h"
#include "lima-instance-name.h"
#include "lima-owner.h"
#include "lima-paths.h"
#include "limad-error.h"

gboolean
limad_store_prepare_system_dir(const gchar *dir, GError **error)
{
        g_autofree gchar *keys = g_build_filename(dir, LIMA_PATHS_KEYS_DIR, NULL);
        const gchar *const dirs[] = { dir, keys };
        for (guint i = 0; i < G_N_ELEMENTS(dirs); i++) {
                struct stat st;
                if (g_mkdir_with_parents(dirs[i], 0755) != 0 || lstat(dirs[i], &st) != 0) {
                        int saved = errno;
                        g_set_error(error, LIMAD_ERROR, LIMAD_ERROR_FAILED,
                                    _("cannot create %s: %s"), dirs[i], g_strerror(saved));
                        return FALSE;
                }
                if (!S_ISDIR(st.st_mode) || st.st_uid != 0 || (st.st_mode & 022) != 0) {
                        g_set_error(error, LIMAD_ERROR, LIMAD_ERROR_FAILED,
                                    _("%s must be a folder that only root can write (it is "
                                      "%s, uid %u, mode %04o); fix it with `chown root: %s && "
                                      "chmod 0755 %s`"),
                                    dirs[i], S_ISDIR(st.st_mode) ? "a folder" : "not a folder",
                                    (guint)st.st_uid, (guint)(st.st_mode & 07777), dirs[i],
                                    dirs[i]);
                        return FALSE;
                }
        }
        return TRUE;
}

gboolean
limad_store_read_file(LimadManager *manager, const gchar *path, guint owner_uid, gchar **contents,
                      gsize *len, GError **error)
{
        if (!manager->system_mode)
                return g_file_get_contents(path, contents, len, error);
        return lima_owner_read_file(path, owner_uid, contents, len, error);
}

int
limad_store_open_log(LimadInstance *inst, const gchar *file, GError **error)
{
        g_autofree gchar *path = g_build_filename(inst->dir, file, NULL);
        struct stat st;
        int fd = open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0644);

        /* A hard link planted by the owner would hand someone else's file to them. */
        if (fd >= 0 &&
            (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1 ||
             (inst->manager->system_mode && st.st_uid != 0 && st.st_uid != inst->owner_uid) ||
             ftruncate(fd, 0) != 0 ||
             (inst->manager->system_mode && fchown(fd, inst->owner_uid, (gid_t)-1) != 0))) {
                close(fd);
                fd = -1;
                errno = errno == 0 ? EINVAL : errno;
        }
        if (fd < 0) {
                int saved = errno;
                g_set_error(error, LIMAD_ERROR, LIMAD_ERROR_FAILED, _("cannot open %s: %s"), path,
                            saved == ELOOP ? _("it is a symlink; remove it") : g_strerror(saved));
        }
        return fd;
}

static void
limad_store_export(LimadManager *manager, LimadInstance *inst)
{
        g_hash_table_replace(manager->instances, inst->name, inst);
        limad_manager_emit_object_added(manager, inst->path);
}

void
limad_store_load_all(LimadManager *manager)
{
        g_autoptr(GDir) dir = g_dir_open(manager->lima_home, 0, NULL);
        const gchar *entry;

        while (dir != NULL && (entry = g_dir_read_name(dir)) != NULL) {
                g_autofree gchar *config = NULL;
                LimadInstance *inst;
                if (entry[0] == '_' || entry[0] == '.' || !lima_instance_name_validate(entry, NULL))
                        continue;
                config = lima_paths_instance_file(manager->lima_home, entry, LIMA_FILE_CONFIG);
                if (!g_file_test(config, G_FILE_TEST_IS_REGULAR))
                        continue;
                inst = limad_instance_load(manager, entry);
                limad_store_export(manager, inst);
                limad_instance_refresh(inst);
                g_info("loaded instance %s (%s)", inst->name, inst->status);
        }
}

/* --system: a mount is used by QEMU or a helper running as the owner, or by virtiofsd as
 * root; either way only what the owner may read (and write, when writable) is allowed. */
static gboolean
limad_store_check_mounts(const LimaConfig *cfg, guint owner_uid, const LimaOwner *given,
                         GError **error)
{
        g_autoptr(LimaOwner) looked_up = given == NULL ? lima_owner_lookup(owner_uid, error) : NULL;
        const LimaOwner *owner = given != NULL ? given : looked_up;
        g_autofree const gchar **locations = g_new0(const gchar *, cfg->mounts->len + 1);
        g_autofree gboolean *writable = g_new0(gboolean, cfg->mounts->len + 1);
        guint failed = 0;

        if (owner == NULL)
                return FALSE;
        for (guint i = 0; i < cfg->mounts->len; i++) {
                const LimaMount *m = g_ptr_array_index(cfg->mounts, i);
                locations[i] = m->location.value;
                writable[i] = m->writable.value;
        }
        if (!lima_owner_check_locations(owner, locations, writable, cfg->mounts->len, &failed,
                                        error)) {
                g_prefix_error(error, "mounts[%u]: ", failed);
                return FALSE;
        }
        return TRUE;
}

gboolean
limad_store_check_mount(LimadManager *manager, guint owner_uid, const gchar *location,
                        gboolean writable, GError **error)
{
        g_autoptr(LimaOwner) owner = NULL;
        if (!manager->system_mode)
                return TRUE;
        owner = lima_owner_lookup(owner_uid, error);
        return owner != NULL && lima_owner_check_location(owner, location, writable, error);
}

/* Every mount is a host folder served (and, with --system, checked as the owner): a bound
 * keeps one config from costing without limit. */
static gboolean
limad_store_check_mount_count(const LimaConfig *cfg, GError **error)
{
        if (cfg->mounts->len <= LIMAD_MAX_MOUNTS)
                return TRUE;
        g_set_error(error, LIMA_ERROR, LIMA_ERROR_INVALID_CONFIG,
                    _("the config has %u mounts; an instance may have at most %u: mount a common "
                      "parent folder instead"),
                    cfg->mounts->len, LIMAD_MAX_MOUNTS);
        return FALSE;
}

gchar *
limad_store_validate(LimadManager *manager, const gchar *name, const gchar *yaml,
                     const LimaConfigOptions *opts, guint owner_uid, gchar ***warnings,
                     gchar **composed, GError **error)
{
        return limad_store_validate_full(manager, name, yaml, opts, owner_uid, NULL, NULL, warnings,
                                         composed, error);
}

gchar *
limad_store_validate_full(LimadManager *manager, const gchar *name, const gchar *yaml,
                          const LimaConfigOptions *opts, guint owner_uid, const LimaHost *given,
                          const LimaOwner *owner, gchar ***warnings, gchar **composed,
                          GError **error)
{
        g_autofree gchar *file = g_strdup_printf("%s.yaml", name);
        g_autofree gchar *dir = lima_paths_instance_file(manager->lima_home, name, NULL);
        g_autoptr(LimaDiagnostics) diags = lima_diagnostics_new(file);
        g_autoptr(LimaConfig) cfg = NULL;
        g_autoptr(LimaConfig) filled = NULL;
        g_autoptr(LimaHost) made = given != NULL ? NULL
                                   : manager->system_mode
                                       ? lima_host_new_for_uid(name, dir, owner_uid)
                                       : lima_host_new_from_system(name, dir);
        const LimaHost *host = given != NULL ? given : made;
        g_autofree gchar *text = NULL;
        gboolean verbatim;

        cfg = lima_config_load_data(yaml, strlen(yaml), file, diags, error);
        if (cfg == NULL || !lima_diagnostics_check(diags, error))
                return NULL;
        /* Nothing to compose: the user's text is stored as written, comments and all
         * (libyaml drops comments, so a rewrite would lose them). */
        verbatim = cfg->base->len == 0 && opts == NULL;
        if (!limad_store_check_mount_count(cfg, error))
                return NULL;
        if (!lima_config_resolve_base_full(cfg, manager->system_mode ? LIMA_BASE_TEMPLATES_ONLY : 0,
                                           diags, error) ||
            !lima_diagnostics_check(diags, error))
                return NULL;
        if (opts != NULL && !lima_config_options_apply(opts, cfg, error))
                return NULL;
        text = verbatim ? g_strdup(yaml) : lima_config_to_yaml(cfg, error);
        if (text == NULL)
                return NULL;
        g_ptr_array_set_size(diags->items, 0);
        filled =
            lima_config_resolve_full(text, strlen(text), file, host, manager->lima_home,
                                     manager->system_mode ? LIMA_RESOLVE_SYSTEM : 0, diags, error);
        if (filled == NULL || !lima_diagnostics_check(diags, error) ||
            !limad_store_check_mount_count(filled, error))
                return NULL;
        if (manager->system_mode && !limad_store_check_mounts(filled, owner_uid, owner, error))
                return NULL;
        if (warnings != NULL)
                *warnings = lima_diagnostics_warnings(diags);
        if (composed != NULL)
                *composed = g_steal_pointer(&text);
        return lima_config_to_yaml(filled, error);
}

static gboolean
limad_store_write(const gchar *dir, const gchar *file, const gchar *contents, GError **error)
{
        g_autofree gchar *path = g_build_filename(dir, file, NULL);
        /* g_file_set_contents writes a temp file, fsyncs and renames: atomic. */
        return g_file_set_contents_full(path, contents, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0644,
                                        error);
}

static int
limad_store_rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
        return remove(path) == 0 || errno == ENOENT ? 0 : -1;
}

static gboolean
limad_store_rm_rf(const gchar *path, GError **error)
{
        if (nftw(path, limad_store_rm_entry, 16, FTW_DEPTH | FTW_PHYS) != 0 && errno != ENOENT) {
                int saved = errno;
                g_set_error(error, LIMAD_ERROR, LIMAD_ERROR_FAILED, _("cannot remove %s: %s"), path,
                            g_strerror(saved));
                return FALSE;
        }
        return TRUE;
}

/* --system: the owner's folder is emptied by a child running as the owner, so a symlink or
 * a folder swapped in during the walk can only ever reach the owner's own files. */
static gboolean
limad_store_rm_rf_as(const gchar *path, guint owner_uid, GError **error)
{
        g_autoptr(LimaOwner) owner = NULL;
        int status = 0;
        pid_t pid;

        if (owner_uid == 0)
                return limad_store_rm_rf(path, error);
        owner = lima_owner_lookup(owner_uid, error);
        if (owner == NULL)
                return FALSE;
        pid = fork();
        if (pid == 0) {
                GDir *dir;
                const gchar *entry;
                if (!lima_owner_drop(owner, TRUE, NULL))
                        _exit(1);
                dir = g_dir_open(path, 0, NULL);
                while (dir != NULL && (entry = g_dir_read_name(dir)) != NULL) {
                        g_autofree gchar *child = g_build_filename(path, entry, NULL);
                        if (!limad_store_rm_rf(child, NULL))
                                _exit(1);
                }
                _exit(0);
        }
        while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        if (pid < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                g_set_error(error, LIMAD_ERROR, LIMAD_ERROR_FAILED,
                            _("cannot empty %s as user %s; remove it by hand"), path, owner->name);
                return FALSE;
        }
        /* The folder itself is in limad's state folder: only root may remove it. Never a
         * recursive walk as root here: the owner could put a symlink in it meanwhile. */
        if (g_rmdir(path) != 0) {
                int saved = errno;
                g_set_error(error, LIMAD_ERROR, LIMAD_ERROR_FAILED,
                            _("cannot remove %s: %s; remove it by hand"), path, g_strerror(saved));
                return FALSE;
        }
        return TRUE;
}

/* --system: the owner's SSH keys folder, made once and only ever theirs. */
static gboolean
limad_store_prepare_keys(LimadManager *manager, const LimaOwner *owner, GError **error)
{
        g_autofree gchar *keys = lima_paths_keys_home(manager->lima_home, TRUE, owner->uid);
        struct stat st;
        if (mkdir(keys, 0700) != 0 && errno != EEXIST) {
                int saved = errno;
                g_set_error(error, LIMAD_ERROR, LIMAD_ERROR_FAILED, _("cannot create %s: %s"), keys,
                            g_strerror(saved));
                return FALSE;
        }
        if (lstat(keys, &st) != 0 || !S_ISDIR(st.st_mode) ||
            (st.st_uid != owner->uid && chown(keys, owner->uid, owner->gid) != 0)) {
                g_set_error(error, LIMAD_ERROR, LIMAD_ERROR_FAILED,
                            _("%s is not a folder of user %s; remove it"), keys, owner->name);
                return FALSE;
        }
        return TRUE;
}

LimadInstance *
limad_store_create(LimadManager *manager, const gchar *name, const gchar *yaml,
                   const LimaConfigOptions *opts, guint owner_uid, GError **error)
{
        g_autofree gchar *composed = NULL;
        g_autofree gchar *filled = NULL;
        g_autofree gchar *final_dir = NULL;
        g_autofree gchar *tmp_template = NULL;
        g_autofree gchar *owner_text = g_strdup_printf("%u\n", owner_uid);
        gchar *tmp_dir;
        LimadInstance *inst;

        if (!lima_instance_name_validate(name, error))
                return NULL;
        if (g_hash_table_contains(manager->instances, name)) {
                g_set_error(error, LIMAD_ERROR, LIMAD_ERROR_EXISTS,
                            _("instance \"%s\" already exists; pick another name or delete it "
                              "first"),
                            name);
                return NULL;
        }
        g_autoptr(LimaOwner) owner = NULL;

        filled = limad_store_validate(manager, name, yaml, opts, owner_uid, NULL, &composed, error);
        if (filled == NULL)
                return NULL;
        if (manager->system_mode) {
                owner = lima_owner_lookup(owner_uid, error);
                if (owner == NULL || !limad_store_prepare_keys(manager, owner, error))
                        return NULL;
        }
        if (g_mkdir_with_parents(manager->lima_home, 0700) != 0) {
                int saved = errno;
                g_set_error(error, LIMAD_ERROR, LIMAD_ERROR_FAILED, _("cannot create %s: %s"),
                            manager->lima_home, g_strerror(saved));
                return NULL;
        }
        /* Built under a hidden name, then renamed into place: all or nothing. */
        tmp_template = g_build_filename(manager->lima_home, ".create-XXXXXX", NULL);
        tmp_dir = g_mkdtemp_full(tmp_template, 0700);
        if (tmp_dir == NULL) {
                int saved = errno;
                g_set_error(error, LIMAD_ERROR, LIMAD_ERROR_FAILED, _("cannot create %s: %s"),
                            tmp_template, g_strerror(saved));
                return NULL;
        }
        if (!limad_store_write(tmp_dir, LIMA_FILE_CONFIG, composed, error) ||
            !limad_store_write(tmp_dir, LIMA_FILE_VERSION, LIMA_COMPAT_VERSION, error) ||
            !limad_store_write(tmp_dir, LIMA_FILE_OWNER, owner_text, error)) {
                limad_store_rm_rf(tmp_dir, NULL);
                return NULL;
        }
        /* --system: the folder is the owner's (their host agent writes its disk, sockets and
         * logs there; only they can read it). The files limad wrote stay root's. */
        if (owner != NULL && chown(tmp_dir, owner->uid, owner->gid) != 0) {
                int saved = errno;
                limad_store_rm_rf(tmp_dir, NULL);
                g_set_error(error, LIMAD_ERROR, LIMAD_ERROR_FAILED,
                            _("cannot give %s to user %s: %s"), tmp_dir, owner->name,
                            g_strerror(saved));
                return NULL;
        }
        final_dir = lima_paths_instance_file(manager->lima_home, name, NULL);
        if (rename(tmp_dir, final_dir) != 0) {
                int saved = errno;
                /* The folder may be the owner's by now: emptied as them, never walked as root. */
                if (owner != NULL)
                        limad_store_rm_rf_as(tmp_dir, owner->uid, NULL);
                else
                        limad_store_rm_rf(tmp_dir, NULL);
                if (saved == EEXIST || saved == ENOTEMPTY)
                        g_set_error(error, LIMAD_ERROR, LIMAD_ERROR_EXISTS,
                                    _("%s already exists; pick another name or remove it"),
                                    final_dir);
                else
                        g_set_error(error, LIMAD_ERROR, LIMAD_ERROR_FAILED,
                                    _("cannot create %s: %s"), final_dir, g_strerror(saved));
                return NULL;
        }
        inst = limad_instance_load(manager, name);
        limad_store_export(manager, inst);
        return inst;
}

void
limad_store_remove_runtime_files(LimadInstance *inst)
{
        const gchar *files[] = { LIMA_FILE_HA_PID, LIMA_FILE_QEMU_PID, LIMA_FILE_HA_SOCK,
                                 LIMA_FILE_QMP_SOCK, LIMA_FILE_GA_SOCK };
        for (guint i = 0; i < G_N_ELEMENTS(files); i++) {
                g_autofree gchar *path = g_build_filename(inst->dir, files[i], NULL);
                g_unlink(path);
        }
}

gboolean
limad_store_delete(LimadManager *manager, LimadInstance *inst, GError **error)
{
        g_autofree gchar *trash = NULL;
        g_autoptr(LimadInstance) hold = limad_instance_ref(inst);
        (void)hold; /* keeps inst alive while it may be dropped */

        /* Renamed away first, so a half-deleted folder never looks like an instance. */
        trash = g_strdup_printf("%s/.delete-%s-%d", manager->lima_home, inst->name, getpid());
        if (rename(inst->dir, trash) != 0 && errno != ENOENT) {
                int saved = errno;
                g_set_error(error, LIMAD_ERROR, LIMAD_ERROR_FAILED, _("cannot delete %s: %s"),
                            inst->dir, g_strerror(saved));
                return FALSE;
        }
        limad_manager_emit_object_removed(manager, inst->path);
        g_hash_table_remove(manager->instances, inst->name);
        inst->manager = NULL;
        if (manager->system_mode)
                return limad_store_rm_rf_as(trash, inst->owner_uid, error);
        return limad_store_rm_rf(trash, error);
}

/* Writes composed as lima.yaml and reloads the config from it. Mounts follows the config
 * only when stopped: while running, the agent reports them. */
static gboolean
limad_store_save(LimadManager *manager, LimadInstance *inst, const gchar *composed,
                 gboolean running, GError **error)
{
        LimadInstance *fresh;

        if (!limad_store_write(inst->dir, LIMA_FILE_CONFIG, composed, error))
                return FALSE;
        /* Reload so every property follows the new config. */
        fresh = limad_instance_load(manager, inst->name);
        lima_config_free(inst->cfg);
        inst->cfg = g_steal_pointer(&fresh->cfg);
        if (!running) {
                g_ptr_array_set_size(inst->errors, 0);
                g_ptr_array_set_size(inst->mounts, 0);
                g_ptr_array_extend_and_steal(inst->mounts, g_steal_pointer(&fresh->mounts));
                fresh->mounts = g_ptr_array_new();
        }
        limad_instance_unref(fresh);
        if (running)
                limad_instance_emit_changed(inst, "VMType", "Arch", "CPUs", "Memory", "Disk", NULL);
        else
                limad_instance_emit_changed(inst, "VMType", "Arch", "CPUs", "Memory", "Disk",
                                            "Mounts", "Errors", NULL);
        return TRUE;
}

gboolean
limad_store_set_config(LimadManager *manager, LimadInstance *inst, const gchar *yaml,
                       GError **error)
{
        g_autofree gchar *composed = NULL;
        g_autofree gchar *filled = limad_store_validate(manager, inst->name, yaml, NULL,
                                                        inst->owner_uid, NULL, &composed, error);

        if (filled == NULL)
                return FALSE;
        return limad_store_save(manager, inst, composed, FALSE, error);
}

gboolean
limad_store_save_running_config(LimadManager *manager, LimadInstance *inst, const gchar *composed,
                                GError **error)
{
        return limad_store_save(manager, inst, composed, TRUE, error);
}
