/*
 * limad-bus-fuzz: feeds every method and property of io.lima.lima1.Manager and .Instance
 * (the XML files in dbus/) random and malformed values from several clients at once, against a
 * running limad on the session bus (DBUS_SESSION_BUS_ADDRESS), while another client creates and
 * deletes instances so that calls land on objects that vanish under them.
 *
 * Every reply must be a success where success cannot change anything, or a named error:
 * io.lima.lima1.Error.*, or the org.freedesktop.DBus.Error.* names sd-bus itself uses for
 * calls it refuses (bad signature, unknown object/interface/property, read-only property).
 * No reply within the timeout is a hang; a "System.Error.*" name is an errno leaking out
 * unnamed. Both fail the run, as does any success of a call that would change the fixtures.
 *
 * Fixtures (made by the caller, tests/stress/test-bus-fuzz.sh): instance OK_NAME (valid,
 * stopped) and BAD_NAME (an invalid lima.yaml). Calls that could change them with good input
 * are only ever made with input that must be refused (an "arch: fuzzarch" line is added to
 * every YAML text a mutating call gets; locations never exist).
 *
 *   limad-bus-fuzz [--seed N] [--seconds S] [--clients N] OK_NAME BAD_NAME
 *
 * Prints its seed (rerun with --seed to replay one client's sequence), the call count, the
 * error-name histogram, and "FAIL:" lines; exits 1 on any failure.
 */
#include <errno.h>
#include <glib.h>
#include <stdio.h>
#include <string.h>
#include <systemd/sd-bus.h>

G_DEFINE_AUTOPTR_CLEANUP_FUNC(sd_bus_message, sd_bus_message_unref)

#define DEST            "io.lima.lima1"
#define MANAGER_PATH    "/io/lima/lima1"
#define MANAGER_IFACE   "io.lima.lima1.Manager"
#define INSTANCE_IFACE  "io.lima.lima1.Instance"
#define INSTANCE_PREFIX "/io/lima/lima1/instance"
#define ERROR_PREFIX    "io.lima.lima1.Error."
/* Long enough for a slow ValidateConfig of a megabyte under a loaded TCG host; a reply that
 * takes longer than this is a hang. */
#define CALL_TIMEOUT_USEC (60 * G_USEC_PER_SEC)
#define VANISH_SLOTS      4
#define MAX_FAIL_LINES    40

typedef struct {
        GMutex lock;
        GHashTable *histogram; /* error name or "ok" → count */
        GHashTable *methods;   /* method → count */
        guint64 calls;
        guint64 not_sent; /* refused by our own sd-bus while building (too deep, …) */
        guint failures;
        gint64 deadline;
        const gchar *ok_name;
        const gchar *bad_name;
        gchar *ok_path;
        gchar *bad_path;
        gchar *vanish_paths[VANISH_SLOTS];
} FuzzRun;

typedef struct {
        FuzzRun *run;
        guint32 seed;
        guint index;
} FuzzClient;

static void fuzz_fail(FuzzRun *run, const gchar *format, ...) G_GNUC_PRINTF(2, 3);

static void
fuzz_fail(FuzzRun *run, const gchar *format, ...)
{
        va_list ap;
        g_autofree gchar *text = NULL;

        va_start(ap, format);
        text = g_strdup_vprintf(format, ap);
        va_end(ap);
        g_mutex_lock(&run->lock);
        if (run->failures++ < MAX_FAIL_LINES)
                printf("FAIL: %s\n", text);
        g_mutex_unlock(&run->lock);
}

static void
fuzz_count(GHashTable *table, const gchar *key)
{
        gpointer old = g_hash_table_lookup(table, key);
        g_hash_table_insert(table, g_strdup(key), GUINT_TO_POINTER(GPOINTER_TO_UINT(old) + 1));
}

/* ---- random values ---- */

static const gchar *const odd_texts[] = {
        "",
        " ",
        "..",
        "../../etc/passwd",
        "/",
        "//",
        "/etc",
        "-rf",
        "--help",
        "a b",
        "name\nnewline",
        "tab\there",
        "\x01\x02\x7f",
        "\xef\xbf\xbe",              /* U+FFFE, a non-character */
        "\xe2\x80\xae\x65vil",       /* right-to-left override */
        "e\xcc\x81\xcc\x81\xcc\x81", /* combining marks */
        "\xf0\x9f\x92\xa9",          /* four bytes */
        "$(touch /tmp/limad-fuzz-pwned)",
        "`id`",
        "%s%s%s%n",
        "fz-ok",
        "default",
        "template:default",
        "template:../../../etc/passwd",
        "~",
        "~root",
        "/dev/zero",
        "/proc/self/mem",
        "io.lima.lima1.Error.Failed",
};

/* YAML that must be refused, whatever else it says, or that is hostile to a parser. */
static const gchar *const odd_yamls[] = {
        "cpus: banana",
        "cpus: -1",
        "cpus: 99999999999999999999999",
        "memory: 1 PiB",
        "disk: -5GiB",
        "mounts: 5",
        "mounts: [{location: 5}]",
        "mounts: [{location: /nonexistent/fz, mountPoint: relative}]",
        "vmType: xen",
        "mountType: nfs",
        "images: {}",
        "images: [[[[]]]]",
        "base: /dev/zero",
        "base: /proc/self/mem",
        "base: template:../../../../etc/shadow",
        "base: [base: [base: x]]",
        "a: &a [*a]",
        "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
        "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
        "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
        "g: [*f, *f, *f, *f, *f, *f, *f, *f, *f]",
        "%YAML 9.9\n---\nx: 1",
        "--- !!binary\nAAAA",
        "? [complex, key]\n: value",
        "\t- tabs are not indentation",
        "key: 'unterminated",
        "{",
        "]",
        "provision: [{mode: system, script: \"#!/bin/sh\\nrm -rf /\"}]",
        "env: {LD_PRELOAD: /tmp/evil.so}",
        "portForwards: [{guestPort: 99999999}]",
        "ssh: {localPort: -1}",
};

/* Bytes a message may still grow by: dbus-daemon drops a client whose message passes its
 * limit (32 MiB by default), which would test the bus, not limad. Reset for each message. */
static __thread gsize fuzz_budget;

static gsize
fuzz_take(gsize want)
{
        gsize got = MIN(want, fuzz_budget);
        fuzz_budget -= got;
        return got;
}

static gchar *
fuzz_text(GRand *rand)
{
        switch (g_rand_int_range(rand, 0, 8)) {
        case 0:
        case 1:
                return g_strdup(odd_texts[g_rand_int_range(rand, 0, G_N_ELEMENTS(odd_texts))]);
        case 2: { /* short printable junk */
                gint len = g_rand_int_range(rand, 1, 40);
                GString *s = g_string_sized_new(len);
                for (gint i = 0; i < len; i++)
                        g_string_append_c(s, (gchar)g_rand_int_range(rand, 0x20, 0x7f));
                return g_string_free(s, FALSE);
        }
        case 3: { /* valid UTF-8 from all over the code space (no NUL, no surrogates) */
                gint len = g_rand_int_range(rand, 1, 64);
                GString *s = g_string_new(NULL);
                for (gint i = 0; i < len; i++) {
                        gunichar c = g_rand_int_range(rand, 1, 0x10ffff);
                        if (c >= 0xd800 && c <= 0xdfff)
                                c = 0xfffd;
                        g_string_append_unichar(s, c);
                }
                return g_string_free(s, FALSE);
        }
        case 4: { /* long: up to 256 KiB, now and then beyond limad's YAML limit */
                gsize len = fuzz_take(g_rand_int_range(rand, 0, 8) == 0
                                          ? 4 * 1024 * 1024 + 17
                                          : g_rand_int_range(rand, 256, 262144));
                gchar *s = g_malloc(len + 1);
                memset(s, 'a' + g_rand_int_range(rand, 0, 26), len);
                s[len] = '\0';
                return s;
        }
        case 5: { /* deep: brackets or nested mappings */
                gint depth = g_rand_int_range(rand, 10, 20000);
                GString *s = g_string_new("x: ");
                for (gint i = 0; i < depth; i++)
                        g_string_append(s, g_rand_boolean(rand) ? "[" : "{a: ");
                return g_string_free(s, FALSE);
        }
        case 6:
                return g_strdup(odd_yamls[g_rand_int_range(rand, 0, G_N_ELEMENTS(odd_yamls))]);
        default:
                return g_strdup_printf(
                    "/nonexistent/fz-%08x/%s", g_rand_int(rand),
                    odd_texts[g_rand_int_range(rand, 0, G_N_ELEMENTS(odd_texts))]);
        }
}

/* A YAML text no config can accept: junk, then an architecture that does not exist. */
static gchar *
fuzz_bad_yaml(GRand *rand)
{
        g_autofree gchar *junk = fuzz_text(rand);
        return g_strdup_printf("%s\narch: fuzzarch\n", junk);
}

/* A location that is never an existing folder, so no AddMount can succeed. */
static gchar *
fuzz_bad_location(GRand *rand)
{
        g_autofree gchar *junk = fuzz_text(rand);
        if (g_rand_boolean(rand))
                return g_strdup_printf("/nonexistent/fz/%s", junk);
        return g_strdup_printf("relative/%s", junk);
}

static int fuzz_append_variant(sd_bus_message *m, GRand *rand, gint depth);

/* a{sv}: limad's known option keys with any type, and unknown keys. */
static int
fuzz_append_dict(sd_bus_message *m, GRand *rand, gint depth)
{
        static const gchar *const keys[] = { "cpus",      "memory",        "disk",         "vmType",
                                             "mountType", "mountWritable", "mountInotify", "mounts",
                                             "mountOnly", "mountNone",     "type",         "" };
        gint n = g_rand_int_range(rand, 0, 8) == 0 ? g_rand_int_range(rand, 0, 3000)
                                                   : g_rand_int_range(rand, 0, 5);
        int r = sd_bus_message_open_container(m, 'a', "{sv}");

        for (gint i = 0; r >= 0 && i < n; i++) {
                g_autofree gchar *key =
                    g_rand_int_range(rand, 0, 4) == 0
                        ? fuzz_text(rand)
                        : g_strdup(keys[g_rand_int_range(rand, 0, G_N_ELEMENTS(keys))]);
                r = sd_bus_message_open_container(m, 'e', "sv");
                if (r >= 0)
                        r = sd_bus_message_append(m, "s", key);
                if (r >= 0)
                        r = fuzz_append_variant(m, rand, depth + 1);
                if (r >= 0)
                        r = sd_bus_message_close_container(m);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        return r;
}

/* Any value in a variant: the right types for the option keys, wrong ones, deep nesting
 * (beyond D-Bus's limit of 64 now and then: our own sd-bus then refuses to send it). */
static int
fuzz_append_variant(sd_bus_message *m, GRand *rand, gint depth)
{
        g_autofree gchar *text = fuzz_text(rand);
        gint kind = depth > 70 ? g_rand_int_range(rand, 0, 6) : g_rand_int_range(rand, 0, 11);
        int r;

        switch (kind) {
        case 0:
                return sd_bus_message_append(m, "v", "s", text);
        case 1:
                return sd_bus_message_append(m, "v", "u", g_rand_int(rand));
        case 2:
                return sd_bus_message_append(m, "v", "b", g_rand_int(rand));
        case 3:
                return sd_bus_message_append(m, "v", "t", ((guint64)g_rand_int(rand) << 32));
        case 4:
                return sd_bus_message_append(m, "v", "d", g_rand_double_range(rand, -1e300, 1e300));
        case 5:
                return sd_bus_message_append(m, "v", "i", (gint32)g_rand_int(rand));
        case 6: /* mounts' own type, with hostile entries */
                r = sd_bus_message_open_container(m, 'v', "a(ssb)");
                if (r >= 0)
                        r = sd_bus_message_open_container(m, 'a', "(ssb)");
                for (gint i = 0, n = g_rand_int_range(rand, 0, 200); r >= 0 && i < n; i++) {
                        g_autofree gchar *loc = fuzz_bad_location(rand);
                        g_autofree gchar *mp = fuzz_text(rand);
                        r = sd_bus_message_append(m, "(ssb)", loc, mp, g_rand_boolean(rand));
                }
                if (r >= 0)
                        r = sd_bus_message_close_container(m);
                if (r >= 0)
                        r = sd_bus_message_close_container(m);
                return r;
        case 7: /* a variant in a variant in a variant … */
                r = sd_bus_message_open_container(m, 'v', "v");
                if (r >= 0)
                        r = fuzz_append_variant(m, rand, depth + 1);
                if (r >= 0)
                        r = sd_bus_message_close_container(m);
                return r;
        case 8:
                r = sd_bus_message_open_container(m, 'v', "a{sv}");
                if (r >= 0)
                        r = fuzz_append_dict(m, rand, depth + 1);
                if (r >= 0)
                        r = sd_bus_message_close_container(m);
                return r;
        case 9: { /* a big byte array */
                gsize len = fuzz_take(g_rand_int_range(rand, 0, 1 << 20));
                g_autofree guint8 *bytes = g_malloc0(len + 1);
                r = sd_bus_message_open_container(m, 'v', "ay");
                if (r >= 0)
                        r = sd_bus_message_append_array(m, 'y', bytes, len);
                if (r >= 0)
                        r = sd_bus_message_close_container(m);
                return r;
        }
        default:
                return sd_bus_message_append(m, "v", "o", "/io/lima/lima1/instance/x");
        }
}

/* ---- calls ---- */

static const gchar *
fuzz_pick_path(FuzzClient *client, GRand *rand)
{
        FuzzRun *run = client->run;
        static const gchar *const odd_paths[] = { "/",
                                                  "/io",
                                                  "/io/lima/lima1/instance",
                                                  INSTANCE_PREFIX "/_",
                                                  INSTANCE_PREFIX "/fz_2dok/x",
                                                  INSTANCE_PREFIX "/nosuch" };
        switch (g_rand_int_range(rand, 0, 6)) {
        case 0:
                return run->ok_path;
        case 1:
                return run->bad_path;
        case 2:
        case 3:
                return run->vanish_paths[g_rand_int_range(rand, 0, VANISH_SLOTS)];
        case 4:
                return MANAGER_PATH;
        default:
                return odd_paths[g_rand_int_range(rand, 0, G_N_ELEMENTS(odd_paths))];
        }
}

static gboolean
fuzz_is_vanish_path(FuzzRun *run, const gchar *path)
{
        for (guint i = 0; i < VANISH_SLOTS; i++)
                if (g_str_equal(path, run->vanish_paths[i]))
                        return TRUE;
        return FALSE;
}

/* Builds one random call. *mutating is set when a success would have changed a fixture. */
static int
fuzz_build_call(FuzzClient *client, sd_bus *bus, GRand *rand, sd_bus_message **ret,
                const gchar **ret_label, gboolean *mutating)
{
        FuzzRun *run = client->run;
        g_autoptr(sd_bus_message) m = NULL;
        const gchar *path = fuzz_pick_path(client, rand);
        gboolean vanish = fuzz_is_vanish_path(run, path);
        gint what = g_rand_int_range(rand, 0, 17);
        int r;

        *mutating = FALSE;
        switch (what) {
        case 0: { /* CreateInstance: a bad name, or a fine name with a bad config */
                g_autofree gchar *name =
                    g_rand_boolean(rand) ? fuzz_text(rand)
                                         : g_strdup_printf("fz-new-%u", g_rand_int(rand) % 1000);
                g_autofree gchar *yaml = fuzz_bad_yaml(rand);
                *ret_label = "CreateInstance";
                *mutating = TRUE;
                r = sd_bus_message_new_method_call(bus, &m, DEST, MANAGER_PATH, MANAGER_IFACE,
                                                   "CreateInstance");
                if (r >= 0)
                        r = sd_bus_message_append(m, "ss", name, yaml);
                if (r >= 0)
                        r = fuzz_append_dict(m, rand, 0);
                break;
        }
        case 1: {
                g_autofree gchar *name = fuzz_text(rand);
                *ret_label = "GetInstance";
                r = sd_bus_message_new_method_call(bus, &m, DEST, MANAGER_PATH, MANAGER_IFACE,
                                                   "GetInstance");
                if (r >= 0)
                        r = sd_bus_message_append(m, "s", name);
                break;
        }
        case 2: {
                g_autofree gchar *yaml =
                    g_rand_boolean(rand) ? fuzz_text(rand) : fuzz_bad_yaml(rand);
                *ret_label = "ValidateConfig";
                r = sd_bus_message_new_method_call(bus, &m, DEST, MANAGER_PATH, MANAGER_IFACE,
                                                   "ValidateConfig");
                if (r >= 0)
                        r = sd_bus_message_append(m, "s", yaml);
                break;
        }
        case 3:
                *ret_label = "ListTemplates";
                r = sd_bus_message_new_method_call(bus, &m, DEST, MANAGER_PATH, MANAGER_IFACE,
                                                   "ListTemplates");
                break;
        case 4: /* Start only where it cannot start anything: BAD_NAME or no instance */
                *ret_label = "Start";
                r = sd_bus_message_new_method_call(
                    bus, &m, DEST, vanish || path == run->ok_path ? run->bad_path : path,
                    INSTANCE_IFACE, "Start");
                if (r >= 0)
                        r = fuzz_append_dict(m, rand, 0);
                break;
        case 5:
                *ret_label = "Stop";
                r = sd_bus_message_new_method_call(bus, &m, DEST, path, INSTANCE_IFACE, "Stop");
                if (r >= 0)
                        r = sd_bus_message_append(m, "b", g_rand_boolean(rand));
                break;
        case 6: /* Delete only where vanishing is the point, or where there is nothing */
                *ret_label = "Delete";
                r = sd_bus_message_new_method_call(bus, &m, DEST,
                                                   path == run->ok_path || path == run->bad_path
                                                       ? INSTANCE_PREFIX "/nosuch"
                                                       : path,
                                                   INSTANCE_IFACE, "Delete");
                if (r >= 0)
                        r = sd_bus_message_append(m, "b", g_rand_boolean(rand));
                break;
        case 7: {
                g_autofree gchar *yaml = fuzz_bad_yaml(rand);
                *ret_label = "SetConfig";
                *mutating = !vanish;
                r = sd_bus_message_new_method_call(bus, &m, DEST, path, INSTANCE_IFACE,
                                                   "SetConfig");
                if (r >= 0)
                        r = sd_bus_message_append(m, "s", yaml);
                break;
        }
        case 8:
                *ret_label = "GetConfig";
                r = sd_bus_message_new_method_call(bus, &m, DEST, path, INSTANCE_IFACE,
                                                   "GetConfig");
                break;
        case 9: {
                g_autofree gchar *loc = fuzz_bad_location(rand);
                g_autofree gchar *mp = fuzz_text(rand);
                *ret_label = "AddMount";
                *mutating = !vanish;
                r = sd_bus_message_new_method_call(bus, &m, DEST, path, INSTANCE_IFACE, "AddMount");
                if (r >= 0)
                        r = sd_bus_message_append(m, "ssb", loc, mp, g_rand_boolean(rand));
                if (r >= 0)
                        r = fuzz_append_dict(m, rand, 0);
                break;
        }
        case 10: {
                g_autofree gchar *junk = fuzz_text(rand);
                g_autofree gchar *mp = g_strdup_printf("/fz-nomount/%s", junk);
                *ret_label = "RemoveMount";
                *mutating = !vanish;
                r = sd_bus_message_new_method_call(bus, &m, DEST, path, INSTANCE_IFACE,
                                                   "RemoveMount");
                if (r >= 0)
                        r = sd_bus_message_append(m, "s", g_rand_boolean(rand) ? mp : junk);
                break;
        }
        case 11:
        case 12: { /* Properties.Get/GetAll/Set, known and unknown names */
                static const gchar *const ifaces[] = { INSTANCE_IFACE, MANAGER_IFACE,
                                                       "org.freedesktop.DBus.Properties",
                                                       "io.lima.lima1.Nope", "" };
                static const gchar *const props[] = {
                        "Name",    "Status",      "OwnerUID", "VMType",  "Arch",   "CPUs",
                        "Memory",  "Disk",        "Dir",      "SSHPort", "Mounts", "Errors",
                        "Version", "LimaVersion", "Nope",     ""
                };
                const gchar *iface = ifaces[g_rand_int_range(rand, 0, G_N_ELEMENTS(ifaces))];
                const gchar *prop = props[g_rand_int_range(rand, 0, G_N_ELEMENTS(props))];
                gint op = g_rand_int_range(rand, 0, 3);
                *ret_label = op == 0   ? "Properties.Get"
                             : op == 1 ? "Properties.GetAll"
                                       : "Properties.Set";
                *mutating = op == 2;
                r = sd_bus_message_new_method_call(bus, &m, DEST, path,
                                                   "org.freedesktop.DBus.Properties",
                                                   op == 0   ? "Get"
                                                   : op == 1 ? "GetAll"
                                                             : "Set");
                if (r >= 0)
                        r = sd_bus_message_append(m, "s", iface);
                if (r >= 0 && op != 1)
                        r = sd_bus_message_append(m, "s", prop);
                if (r >= 0 && op == 2)
                        r = fuzz_append_variant(m, rand, 0);
                break;
        }
        case 13:
                *ret_label = "GetManagedObjects";
                r = sd_bus_message_new_method_call(
                    bus, &m, DEST, path, "org.freedesktop.DBus.ObjectManager", "GetManagedObjects");
                break;
        case 14:
                *ret_label = "Introspect";
                r = sd_bus_message_new_method_call(
                    bus, &m, DEST, path, "org.freedesktop.DBus.Introspectable", "Introspect");
                break;
        default: { /* a known method with the wrong arguments altogether */
                static const gchar *const methods[] = {
                        "CreateInstance", "GetInstance", "ValidateConfig", "Start",
                        "Stop",           "Delete",      "SetConfig",      "AddMount",
                        "RemoveMount",    "GetConfig",   "ListTemplates",  "NoSuchMethod"
                };
                const gchar *method = methods[g_rand_int_range(rand, 0, G_N_ELEMENTS(methods))];
                gboolean on_manager =
                    g_str_equal(method, "CreateInstance") || g_str_equal(method, "GetInstance") ||
                    g_str_equal(method, "ValidateConfig") || g_str_equal(method, "ListTemplates");
                /* Wrong types must never get as far as acting; Delete/Start with a bad
                 * signature on a fixture would be a bug that the state check then shows. */
                *ret_label = "wrong-signature";
                *mutating = TRUE;
                r = sd_bus_message_new_method_call(bus, &m, DEST, on_manager ? MANAGER_PATH : path,
                                                   on_manager ? MANAGER_IFACE : INSTANCE_IFACE,
                                                   method);
                for (gint i = 0, n = g_rand_int_range(rand, 0, 4); r >= 0 && i < n; i++) {
                        switch (g_rand_int_range(rand, 0, 4)) {
                        case 0:
                                r = sd_bus_message_append(m, "u", g_rand_int(rand));
                                break;
                        case 1:
                                r = sd_bus_message_append(m, "ai", 2, 1, 2);
                                break;
                        case 2:
                                r = fuzz_append_variant(m, rand, 0);
                                break;
                        default:
                                r = sd_bus_message_append(m, "(ss)", "x", "y");
                                break;
                        }
                }
                /* Delete(b)/Stop(b) with a bool would be well-formed: make it never so. */
                if (r >= 0)
                        r = sd_bus_message_append(m, "d", 1.5);
                break;
        }
        }
        if (r < 0)
                return r;
        *ret = g_steal_pointer(&m);
        return 0;
}

/* Whether an error name is one a client can act on: limad's own, or sd-bus's standard ones
 * for calls it refuses before limad sees them. */
static gboolean
fuzz_error_is_named(const gchar *name)
{
        static const gchar *const standard[] = {
                "org.freedesktop.DBus.Error.InvalidArgs",
                "org.freedesktop.DBus.Error.UnknownMethod",
                "org.freedesktop.DBus.Error.UnknownObject",
                "org.freedesktop.DBus.Error.UnknownInterface",
                "org.freedesktop.DBus.Error.UnknownProperty",
                "org.freedesktop.DBus.Error.PropertyReadOnly",
        };
        if (g_str_has_prefix(name, ERROR_PREFIX) && strlen(name) > strlen(ERROR_PREFIX))
                return TRUE;
        for (guint i = 0; i < G_N_ELEMENTS(standard); i++)
                if (g_str_equal(name, standard[i]))
                        return TRUE;
        return FALSE;
}

static gpointer
fuzz_client_thread(gpointer data)
{
        FuzzClient *client = data;
        FuzzRun *run = client->run;
        g_autoptr(GRand) rand = g_rand_new_with_seed(client->seed);
        g_autoptr(GHashTable) histogram =
            g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        g_autoptr(GHashTable) methods =
            g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        sd_bus *bus = NULL;
        guint64 calls = 0, not_sent = 0;
        int r = sd_bus_open_user(&bus);

        if (r < 0) {
                fuzz_fail(run, "client %u: cannot connect to the session bus: %s", client->index,
                          g_strerror(-r));
                return NULL;
        }
        while (g_get_monotonic_time() < run->deadline) {
                g_autoptr(sd_bus_message) call = NULL;
                g_autoptr(sd_bus_message) reply = NULL;
                sd_bus_error error = SD_BUS_ERROR_NULL;
                const gchar *label = "?";
                gboolean mutating = FALSE;

                fuzz_budget = 16 * 1024 * 1024;
                if (fuzz_build_call(client, bus, rand, &call, &label, &mutating) < 0) {
                        not_sent++;
                        continue;
                }
                calls++;
                fuzz_count(methods, label);
                r = sd_bus_call(bus, call, CALL_TIMEOUT_USEC, &error, &reply);
                if (r >= 0) {
                        fuzz_count(histogram, "(success)");
                        if (mutating)
                                fuzz_fail(run, "%s on %s succeeded with input that must be refused",
                                          label, sd_bus_message_get_path(call));
                } else if (error.name == NULL) {
                        fuzz_fail(run, "%s: the call itself failed: %s", label, g_strerror(-r));
                        fuzz_count(histogram, "(no reply)");
                } else {
                        fuzz_count(histogram, error.name);
                        if (g_str_equal(error.name, SD_BUS_ERROR_NO_REPLY) ||
                            g_str_equal(error.name, SD_BUS_ERROR_TIMEOUT))
                                fuzz_fail(run, "%s on %s: no answer in %u s (hang?)", label,
                                          sd_bus_message_get_path(call),
                                          (guint)(CALL_TIMEOUT_USEC / G_USEC_PER_SEC));
                        else if (!fuzz_error_is_named(error.name))
                                fuzz_fail(run, "%s on %s: unnamed error %s: %s", label,
                                          sd_bus_message_get_path(call), error.name,
                                          error.message ? error.message : "");
                }
                sd_bus_error_free(&error);
                if (!sd_bus_is_open(bus)) {
                        fuzz_fail(run, "client %u: the bus connection closed after %s",
                                  client->index, label);
                        break;
                }
        }
        sd_bus_flush_close_unref(bus);

        g_mutex_lock(&run->lock);
        run->calls += calls;
        run->not_sent += not_sent;
        GHashTableIter iter;
        gpointer key, value;
        g_hash_table_iter_init(&iter, histogram);
        while (g_hash_table_iter_next(&iter, &key, &value)) {
                gpointer old = g_hash_table_lookup(run->histogram, key);
                g_hash_table_insert(
                    run->histogram, g_strdup(key),
                    GUINT_TO_POINTER(GPOINTER_TO_UINT(old) + GPOINTER_TO_UINT(value)));
        }
        g_hash_table_iter_init(&iter, methods);
        while (g_hash_table_iter_next(&iter, &key, &value)) {
                gpointer old = g_hash_table_lookup(run->methods, key);
                g_hash_table_insert(
                    run->methods, g_strdup(key),
                    GUINT_TO_POINTER(GPOINTER_TO_UINT(old) + GPOINTER_TO_UINT(value)));
        }
        g_mutex_unlock(&run->lock);
        return NULL;
}

/* Creates and deletes fz-vanish-N over and over, so that the clients' calls on those paths
 * find the object, find it half gone, or find nothing. */
static gpointer
fuzz_churn_thread(gpointer data)
{
        FuzzRun *run = data;
        sd_bus *bus = NULL;
        guint64 cycles = 0;
        const gchar *yaml = "images: [{location: /nonexistent/limad-fuzz.qcow2, arch: x86_64}]\n";
        int r = sd_bus_open_user(&bus);

        if (r < 0)
                return NULL;
        for (guint i = 0; g_get_monotonic_time() < run->deadline; i++) {
                g_autofree gchar *name = g_strdup_printf("fz-vanish-%u", i % VANISH_SLOTS);
                sd_bus_error error = SD_BUS_ERROR_NULL;
                r = sd_bus_call_method(bus, DEST, MANAGER_PATH, MANAGER_IFACE, "CreateInstance",
                                       &error, NULL, "ssa{sv}", name, yaml, 0);
                if (r < 0 && !sd_bus_error_has_name(&error, ERROR_PREFIX "Exists"))
                        fuzz_fail(run, "churn: CreateInstance %s: %s: %s", name,
                                  error.name ? error.name : g_strerror(-r),
                                  error.message ? error.message : "");
                sd_bus_error_free(&error);
                g_usleep(g_random_int_range(0, 30000));
                cycles++;
                if (i % VANISH_SLOTS != VANISH_SLOTS - 1)
                        continue;
                /* Delete all slots but one: the other clients delete some too. */
                for (guint k = 0; k + 1 < VANISH_SLOTS; k++) {
                        sd_bus_call_method(bus, DEST, run->vanish_paths[k], INSTANCE_IFACE,
                                           "Delete", &error, NULL, "b", 0);
                        sd_bus_error_free(&error);
                }
        }
        for (guint k = 0; k < VANISH_SLOTS; k++)
                sd_bus_call_method(bus, DEST, run->vanish_paths[k], INSTANCE_IFACE, "Delete", NULL,
                                   NULL, "b", 1);
        printf("# churn: %" G_GUINT64_FORMAT " instances created and deleted under the clients\n",
               cycles);
        sd_bus_flush_close_unref(bus);
        return NULL;
}

static gint
fuzz_compare_counts(gconstpointer a, gconstpointer b, gpointer table)
{
        guint ca = GPOINTER_TO_UINT(g_hash_table_lookup(table, *(const gchar *const *)a));
        guint cb = GPOINTER_TO_UINT(g_hash_table_lookup(table, *(const gchar *const *)b));
        return ca < cb ? 1 : ca > cb ? -1 : 0;
}

static void
fuzz_print_table(const gchar *title, GHashTable *table)
{
        guint n = 0;
        g_autofree gpointer *keys = g_hash_table_get_keys_as_array(table, &n);

        g_qsort_with_data(keys, n, sizeof(gpointer), fuzz_compare_counts, table);
        printf("# %s:\n", title);
        for (guint i = 0; i < n; i++)
                printf("#   %8u  %s\n", GPOINTER_TO_UINT(g_hash_table_lookup(table, keys[i])),
                       (const gchar *)keys[i]);
}

int
main(int argc, char **argv)
{
        gint64 seed = -1;
        gint seconds = 45;
        gint clients = 4;
        GOptionEntry entries[] = {
                { "seed", 0, 0, G_OPTION_ARG_INT64, &seed, "PRNG seed (default: random)", "N" },
                { "seconds", 0, 0, G_OPTION_ARG_INT, &seconds, "how long to run", "S" },
                { "clients", 0, 0, G_OPTION_ARG_INT, &clients, "concurrent clients", "N" },
                { NULL }
        };
        g_autoptr(GOptionContext) context = g_option_context_new("OK_NAME BAD_NAME");
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) threads = g_ptr_array_new();
        g_autofree FuzzClient *fuzz_clients = NULL;
        FuzzRun run = { 0 };
        sd_bus *bus = NULL;
        g_autofree gchar *version = NULL;
        sd_bus_error bus_error = SD_BUS_ERROR_NULL;
        gint64 started;

        g_option_context_add_main_entries(context, entries, NULL);
        if (!g_option_context_parse(context, &argc, &argv, &error) || argc != 3 || clients < 1) {
                fprintf(stderr,
                        "usage: %s [--seed N] [--seconds S] [--clients N] OK_NAME "
                        "BAD_NAME\n",
                        argv[0]);
                return 2;
        }
        if (seed < 0)
                seed = g_random_int();
        setvbuf(stdout, NULL, _IOLBF, 0);
        printf("# seed %" G_GINT64_FORMAT ", %d clients, %d s\n", seed, clients, seconds);

        g_mutex_init(&run.lock);
        run.histogram = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        run.methods = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        run.ok_name = argv[1];
        run.bad_name = argv[2];
        sd_bus_path_encode(INSTANCE_PREFIX, run.ok_name, &run.ok_path);
        sd_bus_path_encode(INSTANCE_PREFIX, run.bad_name, &run.bad_path);
        for (guint k = 0; k < VANISH_SLOTS; k++) {
                g_autofree gchar *name = g_strdup_printf("fz-vanish-%u", k);
                sd_bus_path_encode(INSTANCE_PREFIX, name, &run.vanish_paths[k]);
        }
        started = g_get_monotonic_time();
        run.deadline = started + (gint64)seconds * G_USEC_PER_SEC;

        fuzz_clients = g_new0(FuzzClient, clients);
        for (gint i = 0; i < clients; i++) {
                fuzz_clients[i] = (FuzzClient){ &run, (guint32)seed + (guint32)i, (guint)i };
                g_ptr_array_add(threads,
                                g_thread_new("fuzz", fuzz_client_thread, &fuzz_clients[i]));
        }
        g_ptr_array_add(threads, g_thread_new("churn", fuzz_churn_thread, &run));
        for (guint i = 0; i < threads->len; i++)
                g_thread_join(g_ptr_array_index(threads, i));

        /* limad must still answer, promptly. */
        if (sd_bus_open_user(&bus) < 0 ||
            sd_bus_get_property_string(bus, DEST, MANAGER_PATH, MANAGER_IFACE, "Version",
                                       &bus_error, &version) < 0)
                fuzz_fail(&run, "limad does not answer after the run: %s",
                          bus_error.message ? bus_error.message : "no bus");
        sd_bus_error_free(&bus_error);
        sd_bus_flush_close_unref(bus);

        printf("# %" G_GUINT64_FORMAT " calls in %.1f s (%.0f/s), %" G_GUINT64_FORMAT
               " not sent (refused by the client's own sd-bus)\n",
               run.calls, (g_get_monotonic_time() - started) / 1e6,
               run.calls / ((g_get_monotonic_time() - started) / 1e6), run.not_sent);
        fuzz_print_table("calls by method", run.methods);
        fuzz_print_table("replies by error name", run.histogram);
        printf("# %u failures (seed %" G_GINT64_FORMAT ")\n", run.failures, seed);
        g_hash_table_unref(run.histogram);
        g_hash_table_unref(run.methods);
        g_free(run.ok_path);
        g_free(run.bad_path);
        for (guint k = 0; k < VANISH_SLOTS; k++)
                g_free(run.vanish_paths[k]);
        return run.failures == 0 ? 0 : 1;
}
