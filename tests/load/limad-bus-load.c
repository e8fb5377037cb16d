/*
 * limad-bus-load: a running limad on the session bus (DBUS_SESSION_BUS_ADDRESS) under read
 * load. INSTANCES instances are defined (created, never started); CLIENTS clients, each on
 * its own connection, call GetManagedObjects, GetInstance and Properties.Get in a loop,
 * while a trigger changes the config of stopped instances (SetConfig, alternating CPUs) so
 * that limad emits PropertiesChanged, which every client must receive, each one.
 *
 * limad's RSS (/proc/PID/status) is sampled each second: after WARMUP seconds it must not
 * grow by more than 5 %. Prints calls, calls/s and p50/p99/max latency per method.
 *
 *   limad-bus-load [--seconds S] [--warmup W] [--clients N] [--instances N] --pid PID
 *
 * Exits 1 when a call fails, a signal is missed or RSS grows too much.
 */
#include <glib.h>
#include <stdio.h>
#include <string.h>
#include <systemd/sd-bus.h>

#define DEST              "io.lima.lima1"
#define MANAGER_PATH      "/io/lima/lima1"
#define MANAGER_IFACE     "io.lima.lima1.Manager"
#define INSTANCE_IFACE    "io.lima.lima1.Instance"
#define INSTANCE_PREFIX   "/io/lima/lima1/instance"
#define CALL_TIMEOUT_USEC (30 * G_USEC_PER_SEC)
/* How many stopped instances the trigger rotates over, and how often it changes one. */
#define TRIGGER_INSTANCES     5
#define TRIGGER_INTERVAL_USEC (200 * 1000)
#define MAX_RSS_GROWTH        0.05

enum { OP_MANAGED_OBJECTS, OP_GET_INSTANCE, OP_GET_PROPERTY, N_OPS };
static const gchar *const op_names[N_OPS] = { "GetManagedObjects", "GetInstance",
                                              "Properties.Get" };

typedef struct {
        GMutex lock;
        gint64 deadline;
        gint instances;
        guint failures;
        GArray *latencies[N_OPS]; /* guint32 µs, all clients */
        guint triggers;           /* SetConfig calls that succeeded */
        gboolean triggers_done;
} LoadRun;

typedef struct {
        LoadRun *run;
        guint index;
        guint32 seed;
        guint signals; /* PropertiesChanged with CPUs, on the trigger instances */
} LoadClient;

static void load_fail(LoadRun *run, const gchar *format, ...) G_GNUC_PRINTF(2, 3);

static void
load_fail(LoadRun *run, const gchar *format, ...)
{
        va_list ap;
        g_autofree gchar *text = NULL;

        va_start(ap, format);
        text = g_strdup_vprintf(format, ap);
        va_end(ap);
        g_mutex_lock(&run->lock);
        if (run->failures++ < 20)
                printf("FAIL: %s\n", text);
        g_mutex_unlock(&run->lock);
}

static gchar *
load_instance_name(gint i)
{
        return g_strdup_printf("load-%02d", i);
}

static gchar *
load_instance_path(gint i)
{
        g_autofree gchar *name = load_instance_name(i);
        gchar *path = NULL;
        sd_bus_path_encode(INSTANCE_PREFIX, name, &path);
        return path;
}

/* Counts PropertiesChanged of the instance interface that carry CPUs: one per trigger. */
static int
load_on_properties_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        LoadClient *client = userdata;
        const char *iface = NULL;
        int r = sd_bus_message_read(m, "s", &iface);

        if (r < 0 || g_strcmp0(iface, INSTANCE_IFACE) != 0)
                return 0;
        r = sd_bus_message_enter_container(m, 'a', "{sv}");
        while (r >= 0 && (r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                const char *key = NULL;
                r = sd_bus_message_read(m, "s", &key);
                if (r >= 0 && g_str_equal(key, "CPUs"))
                        client->signals++;
                if (r >= 0)
                        r = sd_bus_message_skip(m, "v");
                if (r >= 0)
                        r = sd_bus_message_exit_container(m);
        }
        return 0;
}

static gpointer
load_client_thread(gpointer data)
{
        LoadClient *client = data;
        LoadRun *run = client->run;
        g_autoptr(GRand) rand = g_rand_new_with_seed(client->seed);
        GArray *lat[N_OPS];
        sd_bus *bus = NULL;
        int r = sd_bus_open_user(&bus);

        if (r < 0) {
                load_fail(run, "client %u: cannot connect: %s", client->index, g_strerror(-r));
                return NULL;
        }
        r = sd_bus_match_signal(bus, NULL, DEST, NULL, "org.freedesktop.DBus.Properties",
                                "PropertiesChanged", load_on_properties_changed, client);
        if (r < 0) {
                load_fail(run, "client %u: cannot subscribe: %s", client->index, g_strerror(-r));
                return NULL;
        }
        for (guint i = 0; i < N_OPS; i++)
                lat[i] = g_array_new(FALSE, FALSE, sizeof(guint32));
        while (g_get_monotonic_time() < run->deadline) {
                static const gchar *const props[] = { "Name",   "Status", "CPUs", "Memory",
                                                      "Mounts", "Errors", "Dir" };
                sd_bus_error error = SD_BUS_ERROR_NULL;
                sd_bus_message *reply = NULL;
                gint op = g_rand_int_range(rand, 0, N_OPS);
                gint which = g_rand_int_range(rand, 0, run->instances);
                g_autofree gchar *name = load_instance_name(which);
                g_autofree gchar *path = load_instance_path(which);
                gint64 t0 = g_get_monotonic_time();
                guint32 us;

                if (op == OP_MANAGED_OBJECTS)
                        r = sd_bus_call_method(bus, DEST, MANAGER_PATH,
                                               "org.freedesktop.DBus.ObjectManager",
                                               "GetManagedObjects", &error, &reply, NULL);
                else if (op == OP_GET_INSTANCE)
                        r = sd_bus_call_method(bus, DEST, MANAGER_PATH, MANAGER_IFACE,
                                               "GetInstance", &error, &reply, "s", name);
                else
                        r = sd_bus_call_method(
                            bus, DEST, path, "org.freedesktop.DBus.Properties", "Get", &error,
                            &reply, "ss", INSTANCE_IFACE,
                            props[g_rand_int_range(rand, 0, G_N_ELEMENTS(props))]);
                us = (guint32)(g_get_monotonic_time() - t0);
                if (r < 0)
                        load_fail(run, "%s: %s", op_names[op],
                                  error.message ? error.message : g_strerror(-r));
                else
                        g_array_append_val(lat[op], us);
                sd_bus_message_unref(reply);
                sd_bus_error_free(&error);
                /* Signals that came in during the call wait in the queue: count them now. */
                while (sd_bus_process(bus, NULL) > 0)
                        ;
        }
        /* Every change the trigger made must arrive: wait for the last ones a little. */
        for (gint64 until = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
             g_get_monotonic_time() < until;) {
                g_mutex_lock(&run->lock);
                gboolean all = run->triggers_done && client->signals >= run->triggers;
                g_mutex_unlock(&run->lock);
                if (all)
                        break;
                while (sd_bus_process(bus, NULL) > 0)
                        ;
                sd_bus_wait(bus, 100 * 1000);
        }
        sd_bus_flush_close_unref(bus);
        g_mutex_lock(&run->lock);
        for (guint i = 0; i < N_OPS; i++) {
                g_array_append_vals(run->latencies[i], lat[i]->data, lat[i]->len);
                g_array_unref(lat[i]);
        }
        g_mutex_unlock(&run->lock);
        return NULL;
}

/* Changes CPUs of stopped instances back and forth: each SetConfig emits PropertiesChanged. */
static gpointer
load_trigger_thread(gpointer data)
{
        LoadRun *run = data;
        sd_bus *bus = NULL;
        guint n = 0;

        if (sd_bus_open_user(&bus) < 0)
                return NULL;
        for (guint i = 0; g_get_monotonic_time() < run->deadline; i++) {
                g_autofree gchar *path = load_instance_path(i % TRIGGER_INSTANCES);
                g_autofree gchar *yaml = g_strdup_printf(
                    "images: [{location: /nonexistent/limad-load.qcow2, arch: x86_64}]\n"
                    "cpus: %u\n",
                    1 + (i / TRIGGER_INSTANCES) % 2);
                sd_bus_error error = SD_BUS_ERROR_NULL;
                int r = sd_bus_call_method(bus, DEST, path, INSTANCE_IFACE, "SetConfig", &error,
                                           NULL, "s", yaml);
                if (r < 0)
                        load_fail(run, "SetConfig: %s",
                                  error.message ? error.message : g_strerror(-r));
                else
                        n++;
                sd_bus_error_free(&error);
                g_usleep(TRIGGER_INTERVAL_USEC);
        }
        g_mutex_lock(&run->lock);
        run->triggers = n;
        run->triggers_done = TRUE;
        g_mutex_unlock(&run->lock);
        sd_bus_flush_close_unref(bus);
        return NULL;
}

static guint64
load_rss_kb(gint pid)
{
        g_autofree gchar *path = g_strdup_printf("/proc/%d/status", pid);
        g_autofree gchar *text = NULL;
        const gchar *line;

        if (!g_file_get_contents(path, &text, NULL, NULL))
                return 0;
        line = strstr(text, "\nVmRSS:");
        return line != NULL ? g_ascii_strtoull(line + 7, NULL, 10) : 0;
}

static gint
load_compare_u32(gconstpointer a, gconstpointer b)
{
        guint32 x = *(const guint32 *)a, y = *(const guint32 *)b;
        return x < y ? -1 : x > y ? 1 : 0;
}

static double
load_percentile_ms(GArray *sorted, double p)
{
        if (sorted->len == 0)
                return 0;
        guint i = (guint)(p * (sorted->len - 1) + 0.5);
        return g_array_index(sorted, guint32, i) / 1000.0;
}

int
main(int argc, char **argv)
{
        gint seconds = 60, warmup = -1, clients = 10, instances = 50, pid = 0;
        GOptionEntry entries[] = {
                { "seconds", 0, 0, G_OPTION_ARG_INT, &seconds, "load duration", "S" },
                { "warmup", 0, 0, G_OPTION_ARG_INT, &warmup,
                  "RSS baseline after W s (default: 60, or a third of a shorter run)", "W" },
                { "clients", 0, 0, G_OPTION_ARG_INT, &clients, "concurrent clients", "N" },
                { "instances", 0, 0, G_OPTION_ARG_INT, &instances, "instances to define", "N" },
                { "pid", 0, 0, G_OPTION_ARG_INT, &pid, "limad's process id", "PID" },
                { NULL }
        };
        g_autoptr(GOptionContext) context = g_option_context_new(NULL);
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) threads = g_ptr_array_new();
        g_autofree LoadClient *load_clients = NULL;
        LoadRun run = { 0 };
        sd_bus *bus = NULL;
        guint64 rss_base = 0, rss_max = 0, rss_start, rss_end;
        gint64 started, t0;
        guint64 total = 0;
        double growth;

        g_option_context_add_main_entries(context, entries, NULL);
        if (!g_option_context_parse(context, &argc, &argv, &error) || pid <= 0 || clients < 1 ||
            instances < TRIGGER_INSTANCES) {
                fprintf(stderr,
                        "usage: %s --pid LIMAD_PID [--seconds S] [--warmup W] "
                        "[--clients N] [--instances N≥%d]\n",
                        argv[0], TRIGGER_INSTANCES);
                return 2;
        }
        if (warmup < 0)
                warmup = MIN(60, seconds / 3);
        setvbuf(stdout, NULL, _IOLBF, 0);
        g_mutex_init(&run.lock);
        run.instances = instances;
        for (guint i = 0; i < N_OPS; i++)
                run.latencies[i] = g_array_new(FALSE, FALSE, sizeof(guint32));

        if (sd_bus_open_user(&bus) < 0) {
                printf("FAIL: no session bus\n");
                return 1;
        }
        t0 = g_get_monotonic_time();
        for (gint i = 0; i < instances; i++) {
                g_autofree gchar *name = load_instance_name(i);
                sd_bus_error bus_error = SD_BUS_ERROR_NULL;
                int r = sd_bus_call_method(
                    bus, DEST, MANAGER_PATH, MANAGER_IFACE, "CreateInstance", &bus_error, NULL,
                    "ssa{sv}", name,
                    "images: [{location: /nonexistent/limad-load.qcow2, arch: x86_64}]\n", 0);
                if (r < 0 && !sd_bus_error_has_name(&bus_error, "io.lima.lima1.Error.Exists")) {
                        printf("FAIL: CreateInstance %s: %s\n", name, bus_error.message);
                        return 1;
                }
                sd_bus_error_free(&bus_error);
        }
        sd_bus_flush_close_unref(bus);
        printf("# %d instances defined in %.1f s; %d clients for %d s (RSS baseline at %d s)\n",
               instances, (g_get_monotonic_time() - t0) / 1e6, clients, seconds, warmup);

        rss_start = load_rss_kb(pid);
        started = g_get_monotonic_time();
        run.deadline = started + (gint64)seconds * G_USEC_PER_SEC;
        load_clients = g_new0(LoadClient, clients);
        for (gint i = 0; i < clients; i++) {
                load_clients[i] = (LoadClient){ &run, (guint)i, (guint32)i + 1, 0 };
                g_ptr_array_add(threads,
                                g_thread_new("load", load_client_thread, &load_clients[i]));
        }
        g_ptr_array_add(threads, g_thread_new("trigger", load_trigger_thread, &run));
        for (gint s = 1; g_get_monotonic_time() < run.deadline; s++) {
                g_usleep(G_USEC_PER_SEC);
                guint64 rss = load_rss_kb(pid);
                if (rss == 0) {
                        load_fail(&run, "limad (pid %d) is gone after %d s", pid, s);
                        break;
                }
                if (s == warmup)
                        rss_base = rss;
                if (s > warmup)
                        rss_max = MAX(rss_max, rss);
                if (s % 10 == 0)
                        printf("# %3d s: limad RSS %" G_GUINT64_FORMAT " kB\n", s, rss);
        }
        for (guint i = 0; i < threads->len; i++)
                g_thread_join(g_ptr_array_index(threads, i));
        rss_end = load_rss_kb(pid);
        if (rss_base == 0)
                rss_base = rss_start;
        rss_max = MAX(rss_max, rss_end);

        printf("# %-18s %9s %8s %8s %8s %8s\n", "method", "calls", "calls/s", "p50 ms", "p99 ms",
               "max ms");
        for (guint i = 0; i < N_OPS; i++) {
                GArray *a = run.latencies[i];
                g_array_sort(a, load_compare_u32);
                total += a->len;
                printf("# %-18s %9u %8.0f %8.2f %8.2f %8.2f\n", op_names[i], a->len,
                       a->len / (double)seconds, load_percentile_ms(a, 0.50),
                       load_percentile_ms(a, 0.99), load_percentile_ms(a, 1.0));
        }
        printf("# total %" G_GUINT64_FORMAT " calls, %.0f/s\n", total, total / (double)seconds);

        printf("# PropertiesChanged: %u changes made; received per client:", run.triggers);
        for (gint i = 0; i < clients; i++) {
                printf(" %u", load_clients[i].signals);
                if (load_clients[i].signals != run.triggers)
                        load_fail(&run, "client %d received %u of %u PropertiesChanged", i,
                                  load_clients[i].signals, run.triggers);
        }
        printf("\n");
        if (run.triggers == 0)
                load_fail(&run, "no change was made, so no signal was checked");

        growth = rss_base > 0 ? ((double)rss_max - (double)rss_base) / (double)rss_base : 0;
        printf("# limad RSS: %" G_GUINT64_FORMAT " kB at start, %" G_GUINT64_FORMAT
               " kB at %d s, at most %" G_GUINT64_FORMAT " kB after (%+.1f %%), %" G_GUINT64_FORMAT
               " kB at the end\n",
               rss_start, rss_base, warmup, rss_max, growth * 100, rss_end);
        if (growth > MAX_RSS_GROWTH)
                load_fail(&run, "limad's RSS grew %.1f %% after %d s (limit %.0f %%)", growth * 100,
                          warmup, MAX_RSS_GROWTH * 100);
        printf("# %u failures\n", run.failures);
        for (guint i = 0; i < N_OPS; i++)
                g_array_unref(run.latencies[i]);
        return run.failures == 0 ? 0 : 1;
}
