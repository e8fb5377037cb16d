/* The Manager object: create, find and validate instances; list templates. */
#include <errno.h>
#include <glib/gi18n.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "config.h"
#include "lima-config-base.h"
#include "lima-error.h"
#include "lima-host.h"
#include "lima-instance-name.h"
#include "lima-owner.h"
#include "lima-paths.h"
#include "limad-authorize.h"
#include "limad-error.h"
#include "limad-polkit.h"
#include "limad-manager.h"
#include "limad-store.h"
#include "limad-systemd.h"

/* Limits on what a caller may send, so a huge argument is an error, not a memory hog. */
#define LIMAD_MAX_YAML_BYTES    (4u * 1024 * 1024)
#define LIMAD_MAX_OPTION_MOUNTS 256

static LimadInstance *
limad_manager_lookup(LimadManager *manager, const gchar *name, sd_bus_error *ret_error)
{
        g_autoptr(GError) error = NULL;
        LimadInstance *inst;
        if (!lima_instance_name_validate(name, &error)) {
                limad_error_to_bus(error, ret_error);
                return NULL;
        }
        inst = g_hash_table_lookup(manager->instances, name);
        if (inst == NULL)
                sd_bus_error_setf(ret_error, LIMAD_DBUS_ERROR_PREFIX "NoSuchInstance",
                                  _("instance \"%s\" does not exist; `limactl list` shows the "
                                    "instances there are"),
                                  name);
        return inst;
}

/* a{sv} from the bus → limactl's flags. Unknown keys and wrong types are refused by name. */
static int
limad_manager_read_options(sd_bus_message *m, LimaConfigOptions *opts, sd_bus_error *ret_error)
{
        int r = sd_bus_message_enter_container(m, 'a', "{sv}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                const char *key = NULL;
                const char *contents = NULL;
                r = sd_bus_message_read(m, "s", &key);
                if (r < 0)
                        return r;
                r = sd_bus_message_peek_type(m, NULL, &contents);
                if (r < 0)
                        return r;
#define EXPECT(sig)                                                                                \
        if (!g_str_equal(contents, sig))                                                           \
                return sd_bus_error_setf(ret_error, LIMAD_DBUS_ERROR_PREFIX "InvalidArgument",     \
                                         _("option \"%s\" must have type %s, not %s"), key, sig,   \
                                         contents);
                if (g_str_equal(key, "cpus")) {
                        guint32 v;
                        EXPECT("u");
                        r = sd_bus_message_read(m, "v", "u", &v);
                        opts->cpus = v;
                } else if (g_str_equal(key, "memory") || g_str_equal(key, "disk") ||
                           g_str_equal(key, "vmType") || g_str_equal(key, "mountType")) {
                        const char *v;
                        EXPECT("s");
                        r = sd_bus_message_read(m, "v", "s", &v);
                        if (r >= 0) {
                                gchar **slot = g_str_equal(key, "memory")   ? &opts->memory
                                               : g_str_equal(key, "disk")   ? &opts->disk
                                               : g_str_equal(key, "vmType") ? &opts->vm_type
                                                                            : &opts->mount_type;
                                g_free(*slot);
                                *slot = g_strdup(v);
                        }
                } else if (g_str_equal(key, "mountWritable") || g_str_equal(key, "mountInotify") ||
                           g_str_equal(key, "mountOnly") || g_str_equal(key, "mountNone")) {
                        int v;
                        EXPECT("b");
                        r = sd_bus_message_read(m, "v", "b", &v);
                        if (g_str_equal(key, "mountWritable"))
                                opts->mount_writable = v;
                        else if (g_str_equal(key, "mountInotify"))
                                opts->mount_inotify = v;
                        else if (g_str_equal(key, "mountOnly"))
                                opts->mount_only = v;
                        else
                                opts->mount_none = v;
                } else if (g_str_equal(key, "mounts")) {
                        const char *loc, *mp;
                        int w;
                        EXPECT("a(ssb)");
                        r = sd_bus_message_enter_container(m, 'v', "a(ssb)");
                        if (r >= 0)
                                r = sd_bus_message_enter_container(m, 'a', "(ssb)");
                        while (r >= 0 && (r = sd_bus_message_read(m, "(ssb)", &loc, &mp, &w)) > 0) {
                                if (opts->mounts->len >= LIMAD_MAX_OPTION_MOUNTS)
                                        return sd_bus_error_setf(
                                            ret_error, LIMAD_DBUS_ERROR_PREFIX "InvalidArgument",
                                            _("more than %d mounts"), LIMAD_MAX_OPTION_MOUNTS);
                                lima_config_options_add_mount(opts, loc, mp, w);
                        }
                        if (r >= 0)
                                r = sd_bus_message_exit_container(m);
                        if (r >= 0)
                                r = sd_bus_message_exit_container(m);
                } else {
                        return sd_bus_error_setf(ret_error,
                                                 LIMAD_DBUS_ERROR_PREFIX "InvalidArgument",
                                                 _("unknown option \"%s\"; known: cpus, memory, "
                                                   "disk, vmType, mountType, mountWritable, "
                                                   "mountInotify, mountOnly, mountNone, mounts"),
                                                 key);
                }
#undef EXPECT
                if (r < 0)
                        return r;
                r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(m);
}

static int
limad_manager_check_yaml_size(const char *yaml, sd_bus_error *ret_error)
{
        if (strlen(yaml) > LIMAD_MAX_YAML_BYTES)
                return sd_bus_error_setf(ret_error, LIMAD_DBUS_ERROR_PREFIX "InvalidConfig",
                                         _("the config is %zu bytes; the limit is %u"),
                                         strlen(yaml), LIMAD_MAX_YAML_BYTES);
        return 0;
}

static int
limad_manager_method_create(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        LimadManager *manager = userdata;
        g_autoptr(LimaConfigOptions) opts = lima_config_options_new();
        g_autoptr(GError) error = NULL;
        const char *name = NULL;
        const char *yaml = NULL;
        LimadInstance *inst;
        uid_t uid = getuid();
        int r;

        r = limad_authorize(manager, m, NULL, _("create an instance"), ret_error);
        if (r <= 0)
                return r < 0 ? r : 1;
        if (manager->system_mode && (r = limad_authorize_caller_uid(m, &uid)) < 0)
                return r;
        r = sd_bus_message_read(m, "ss", &name, &yaml);
        if (r < 0)
                return r;
        r = limad_manager_read_options(m, opts, ret_error);
        if (r < 0)
                return r;
        r = limad_manager_check_yaml_size(yaml, ret_error);
        if (r < 0)
                return r;
        inst = limad_store_create(manager, name, yaml, opts, uid, &error);
        if (inst == NULL)
                return limad_error_to_bus(error, ret_error);
        g_message("created instance %s", inst->name);
        return sd_bus_reply_method_return(m, "o", inst->path);
}

static int
limad_manager_method_get_instance(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        LimadManager *manager = userdata;
        const char *name = NULL;
        LimadInstance *inst;
        int r = sd_bus_message_read(m, "s", &name);
        if (r < 0)
                return r;
        inst = limad_manager_lookup(manager, name, ret_error);
        if (inst == NULL)
                return -ENOENT;
        return sd_bus_reply_method_return(m, "o", inst->path);
}

/* ValidateConfig runs on a worker thread, one call at a time: a big config (its bases, its
 * mount checks in a child as the caller) holds up other ValidateConfig calls, never the
 * main loop, so every other method keeps answering. Finished jobs come back through an
 * eventfd and are replied to on the main loop. */
typedef struct {
        LimadManager *manager;
        sd_bus_message *call;
        gchar *yaml;
        guint uid;
        LimaHost *host;   /* looked up on the main loop: getpwuid() is not thread-safe */
        LimaOwner *owner; /* --system */
        gchar *filled;
        gchar **warnings;
        GError *error;
} LimadValidateJob;

static GThreadPool *validate_pool;
static GAsyncQueue *validate_done;
static int validate_eventfd = -1;
static sd_event_source *validate_source;

static void
limad_validate_job_free(LimadValidateJob *job)
{
        sd_bus_message_unref(job->call);
        g_free(job->yaml);
        lima_host_free(job->host);
        lima_owner_free(job->owner);
        g_free(job->filled);
        g_strfreev(job->warnings);
        g_clear_error(&job->error);
        g_free(job);
}

static void
limad_validate_worker(gpointer data, gpointer user_data)
{
        LimadValidateJob *job = data;
        uint64_t one = 1;
        job->filled =
            limad_store_validate_full(job->manager, "default", job->yaml, NULL, job->uid, job->host,
                                      job->owner, &job->warnings, NULL, &job->error);
        g_async_queue_push(validate_done, job);
        while (write(validate_eventfd, &one, sizeof(one)) < 0 && errno == EINTR)
                ;
}

static void
limad_validate_reply(LimadValidateJob *job)
{
        g_autoptr(sd_bus_message) reply = NULL;
        int r;
        if (job->filled == NULL) {
                sd_bus_error e = SD_BUS_ERROR_NULL;
                limad_error_to_bus(job->error, &e);
                r = sd_bus_reply_method_error(job->call, &e);
                sd_bus_error_free(&e);
        } else {
                r = sd_bus_message_new_method_return(job->call, &reply);
                if (r >= 0)
                        r = sd_bus_message_append(reply, "s", job->filled);
                if (r >= 0)
                        r = sd_bus_message_append_strv(reply, job->warnings);
                if (r >= 0)
                        r = sd_bus_send(NULL, reply, NULL);
        }
        /* The caller may be gone: nothing to do about a reply that cannot be sent. */
        if (r < 0)
                g_debug("ValidateConfig reply not sent: %s", g_strerror(-r));
}

static int
limad_validate_on_done(sd_event_source *source, int fd, uint32_t revents, void *userdata)
{
        LimadValidateJob *job;
        uint64_t count;
        while (read(fd, &count, sizeof(count)) < 0 && errno == EINTR)
                ;
        while ((job = g_async_queue_try_pop(validate_done)) != NULL) {
                limad_validate_reply(job);
                limad_validate_job_free(job);
        }
        return 0;
}

static gboolean
limad_validate_setup(LimadManager *manager, GError **error)
{
        int r;
        if (validate_pool != NULL)
                return TRUE;
        validate_eventfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (validate_eventfd < 0) {
                g_set_error(error, LIMAD_ERROR, LIMAD_ERROR_FAILED, "eventfd: %s",
                            g_strerror(errno));
                return FALSE;
        }
        r = sd_event_add_io(manager->event, &validate_source, validate_eventfd, EPOLLIN,
                            limad_validate_on_done, NULL);
        if (r < 0) {
                g_set_error(error, LIMAD_ERROR, LIMAD_ERROR_FAILED, "sd_event_add_io: %s",
                            g_strerror(-r));
                return FALSE;
        }
        validate_done = g_async_queue_new();
        validate_pool = g_thread_pool_new(limad_validate_worker, NULL, 1, FALSE, error);
        return validate_pool != NULL;
}

static int
limad_manager_method_validate(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        LimadManager *manager = userdata;
        g_autoptr(GError) error = NULL;
        g_autofree gchar *dir = NULL;
        LimadValidateJob *job;
        const char *yaml = NULL;
        uid_t uid = getuid();
        int r;

        /* Composing reads templates and checks mounts as root: as costly and as telling as a
         * create, so the same people may ask. */
        r = limad_authorize(manager, m, NULL, _("validate a config"), ret_error);
        if (r <= 0)
                return r < 0 ? r : 1;
        r = sd_bus_message_read(m, "s", &yaml);
        if (r < 0)
                return r;
        r = limad_manager_check_yaml_size(yaml, ret_error);
        if (r < 0)
                return r;
        /* Filled as the caller's config would be: their home, their mount permissions. */
        if (manager->system_mode && (r = limad_authorize_caller_uid(m, &uid)) < 0)
                return r;
        if (!limad_validate_setup(manager, &error))
                return limad_error_to_bus(error, ret_error);
        job = g_new0(LimadValidateJob, 1);
        job->manager = manager;
        job->call = sd_bus_message_ref(m);
        job->yaml = g_strdup(yaml);
        job->uid = uid;
        dir = lima_paths_instance_file(manager->lima_home, "default", NULL);
        job->host = manager->system_mode ? lima_host_new_for_uid("default", dir, uid)
                                         : lima_host_new_from_system("default", dir);
        if (manager->system_mode && (job->owner = lima_owner_lookup(uid, &error)) == NULL) {
                limad_validate_job_free(job);
                return limad_error_to_bus(error, ret_error);
        }
        g_thread_pool_push(validate_pool, job, NULL);
        return 1;
}

static int
limad_manager_method_list_templates(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        g_autoptr(GPtrArray) names = lima_templates_list();
        g_autoptr(sd_bus_message) reply = NULL;
        int r = sd_bus_message_new_method_return(m, &reply);

        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(ss)");
        for (guint i = 0; r >= 0 && i < names->len; i++) {
                const gchar *name = g_ptr_array_index(names, i);
                g_autofree gchar *path = lima_template_locate(name, NULL);
                r = sd_bus_message_append(reply, "(ss)", name, path != NULL ? path : "");
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static int
limad_manager_get_property(sd_bus *bus, const char *path, const char *interface,
                           const char *property, sd_bus_message *reply, void *userdata,
                           sd_bus_error *error)
{
        if (g_str_equal(property, "Version"))
                return sd_bus_message_append(reply, "s", LIMAD_VERSION);
        return sd_bus_message_append(reply, "s", LIMA_COMPAT_VERSION);
}

static const sd_bus_vtable limad_manager_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD_WITH_ARGS(
            "CreateInstance", SD_BUS_ARGS("s", name, "s", yaml, "a{sv}", options),
            SD_BUS_RESULT("o", instance), limad_manager_method_create, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetInstance", SD_BUS_ARGS("s", name), SD_BUS_RESULT("o", instance),
                                limad_manager_method_get_instance, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ValidateConfig", SD_BUS_ARGS("s", yaml),
                                SD_BUS_RESULT("s", filled, "as", warnings),
                                limad_manager_method_validate, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListTemplates", SD_BUS_NO_ARGS, SD_BUS_RESULT("a(ss)", templates),
                                limad_manager_method_list_templates, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_PROPERTY("Version", "s", limad_manager_get_property, 0,
                        SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("LimaVersion", "s", limad_manager_get_property, 0,
                        SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_VTABLE_END,
};

/* /io/lima/lima1/instance/ENCODED → the instance, for the fallback vtable. */
static int
limad_manager_find_instance(sd_bus *bus, const char *path, const char *interface, void *userdata,
                            void **found, sd_bus_error *ret_error)
{
        LimadManager *manager = userdata;
        g_autofree gchar *name = NULL;
        LimadInstance *inst;
        int r = sd_bus_path_decode(path, LIMAD_INSTANCE_PREFIX, &name);
        if (r <= 0)
                return 0;
        inst = g_hash_table_lookup(manager->instances, name);
        if (inst == NULL)
                return 0;
        *found = inst;
        return 1;
}

static int
limad_manager_enumerate(sd_bus *bus, const char *prefix, void *userdata, char ***nodes,
                        sd_bus_error *ret_error)
{
        LimadManager *manager = userdata;
        g_autoptr(GStrvBuilder) builder = g_strv_builder_new();
        g_auto(GStrv) paths = NULL;
        GHashTableIter iter;
        gpointer value;
        gsize n;
        char **out;

        g_hash_table_iter_init(&iter, manager->instances);
        while (g_hash_table_iter_next(&iter, NULL, &value))
                g_strv_builder_add(builder, ((LimadInstance *)value)->path);
        paths = g_strv_builder_end(builder);
        /* sd-bus frees the list with free(), not g_free(). */
        n = g_strv_length(paths);
        out = calloc(n + 1, sizeof(char *));
        if (out == NULL)
                return -ENOMEM;
        for (gsize i = 0; i < n; i++)
                out[i] = strdup(paths[i]);
        *nodes = out;
        return 0;
}

gboolean
limad_manager_export(LimadManager *manager, sd_bus *bus, GError **error)
{
        int r = sd_bus_add_object_vtable(bus, NULL, LIMAD_MANAGER_PATH, LIMAD_MANAGER_IFACE,
                                         limad_manager_vtable, manager);
        if (r >= 0)
                r = sd_bus_add_fallback_vtable(bus, NULL, LIMAD_INSTANCE_PREFIX,
                                               LIMAD_INSTANCE_IFACE, limad_instance_vtable,
                                               limad_manager_find_instance, manager);
        if (r >= 0)
                r = sd_bus_add_node_enumerator(bus, NULL, LIMAD_INSTANCE_PREFIX,
                                               limad_manager_enumerate, manager);
        if (r >= 0)
                r = sd_bus_add_object_manager(bus, NULL, LIMAD_MANAGER_PATH);
        if (r < 0) {
                g_set_error(error, LIMAD_ERROR, LIMAD_ERROR_FAILED, "cannot export the API: %s",
                            g_strerror(-r));
                return FALSE;
        }
        return TRUE;
}

/* The bus (when there is one) and every peer connection. */
static GPtrArray *
limad_manager_buses(LimadManager *manager)
{
        GPtrArray *buses = g_ptr_array_new();
        if (manager->bus != NULL)
                g_ptr_array_add(buses, manager->bus);
        for (guint i = 0; i < manager->peers->len; i++)
                g_ptr_array_add(buses, g_ptr_array_index(manager->peers, i));
        return buses;
}

void
limad_manager_emit_object_added(LimadManager *manager, const gchar *path)
{
        g_autoptr(GPtrArray) buses = limad_manager_buses(manager);
        for (guint i = 0; i < buses->len; i++)
                sd_bus_emit_object_added(g_ptr_array_index(buses, i), path);
}

void
limad_manager_emit_object_removed(LimadManager *manager, const gchar *path)
{
        g_autoptr(GPtrArray) buses = limad_manager_buses(manager);
        for (guint i = 0; i < buses->len; i++)
                sd_bus_emit_object_removed(g_ptr_array_index(buses, i), path);
}

void
limad_manager_emit_properties_changed(LimadManager *manager, const gchar *path, gchar **names)
{
        g_autoptr(GPtrArray) buses = limad_manager_buses(manager);
        for (guint i = 0; i < buses->len; i++)
                sd_bus_emit_properties_changed_strv(g_ptr_array_index(buses, i), path,
                                                    LIMAD_INSTANCE_IFACE, names);
}

void
limad_manager_emit_progress(LimadManager *manager, const gchar *path, const gchar *stage,
                            gdouble fraction, const gchar *message)
{
        g_autoptr(GPtrArray) buses = limad_manager_buses(manager);
        for (guint i = 0; i < buses->len; i++)
                sd_bus_emit_signal(g_ptr_array_index(buses, i), path, LIMAD_INSTANCE_IFACE,
                                   "Progress", "sds", stage, fraction, message);
}

LimadManager *
limad_manager_new(sd_event *event, sd_bus *bus, const gchar *lima_home, gboolean system_mode,
                  GError **error)
{
        LimadManager *manager = g_new0(LimadManager, 1);

        manager->event = sd_event_ref(event);
        manager->bus = bus != NULL ? sd_bus_ref(bus) : NULL;
        manager->peers = g_ptr_array_new();
        manager->lima_home = g_strdup(lima_home);
        manager->system_mode = system_mode;
        if (system_mode)
                manager->polkit = limad_polkit_new(bus);
        manager->instances = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
                                                   (GDestroyNotify)limad_instance_unref);
        if (bus != NULL && !limad_manager_export(manager, bus, error)) {
                limad_manager_free(manager);
                return NULL;
        }
        /* Without a bus there is no systemd manager to ask: limad spawns the agents. */
        if (bus != NULL)
                manager->systemd = limad_systemd_new(manager);
        limad_store_load_all(manager);
        return manager;
}

void
limad_manager_free(LimadManager *manager)
{
        if (manager == NULL)
                return;
        g_clear_pointer(&manager->systemd, limad_systemd_free);
        g_hash_table_unref(manager->instances);
        limad_polkit_free(manager->polkit);
        /* Peer connections belong to limad-peer.c, which closes them. */
        g_ptr_array_unref(manager->peers);
        sd_bus_unref(manager->bus);
        sd_event_unref(manager->event);
        g_free(manager->lima_home);
        g_free(manager->hostagent_path);
        g_free(manager);
}
