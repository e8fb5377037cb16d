#include "limad-polkit.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <systemd/sd-event.h>
#include <time.h>

#include "limad-error.h"

#define POLKIT_NAME  "org.freedesktop.PolicyKit1"
#define POLKIT_PATH  "/org/freedesktop/PolicyKit1/Authority"
#define POLKIT_IFACE "org.freedesktop.PolicyKit1.Authority"
/* CheckAuthorizationFlags.AllowUserInteraction */
#define POLKIT_FLAG_ALLOW_INTERACTION 1u
/* Without a person in the loop polkit answers at once; with one, give them time to type. */
#define POLKIT_TIMEOUT_USEC             (25 * G_USEC_PER_SEC)
#define POLKIT_INTERACTIVE_TIMEOUT_USEC (300 * G_USEC_PER_SEC)
/* A re-dispatched call reaches its handler at once; an answer left this long never will. */
#define LIMAD_POLKIT_COLLECT_USEC (5 * G_USEC_PER_SEC)

struct _LimadPolkit {
        sd_bus *bus;
        GHashTable *queries; /* sd_bus_message* (the call) → LimadPolkitQuery* */
};

typedef struct {
        LimadPolkit *polkit;
        sd_bus_message *call;
        sd_bus_slot *slot;       /* NULL once answered */
        sd_event_source *expire; /* once answered: drops an answer nobody collects */
        gchar *action_id;
        LimadPolkitResult result;
        gchar *detail;
} LimadPolkitQuery;

static void
limad_polkit_query_free(LimadPolkitQuery *q)
{
        sd_bus_slot_unref(q->slot);
        sd_event_source_disable_unref(q->expire);
        sd_bus_message_unref(q->call);
        g_free(q->action_id);
        g_free(q->detail);
        g_free(q);
}

LimadPolkit *
limad_polkit_new(sd_bus *bus)
{
        LimadPolkit *polkit = g_new0(LimadPolkit, 1);
        polkit->bus = sd_bus_ref(bus);
        polkit->queries = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL,
                                                (GDestroyNotify)limad_polkit_query_free);
        return polkit;
}

void
limad_polkit_free(LimadPolkit *polkit)
{
        if (polkit == NULL)
                return;
        g_hash_table_unref(polkit->queries);
        sd_bus_unref(polkit->bus);
        g_free(polkit);
}

static LimadPolkitResult
limad_polkit_read_reply(sd_bus_message *reply, gchar **detail)
{
        const sd_bus_error *e = sd_bus_message_get_error(reply);
        int authorized = 0, challenge = 0;
        int r;

        if (e != NULL) {
                if (sd_bus_error_has_names(e, SD_BUS_ERROR_SERVICE_UNKNOWN,
                                           SD_BUS_ERROR_NAME_HAS_NO_OWNER))
                        return LIMAD_POLKIT_UNAVAILABLE;
                /* Our own timeout (25 s; 300 s for an authentication dialog): say so. */
                if (sd_bus_error_has_names(e, SD_BUS_ERROR_NO_REPLY, SD_BUS_ERROR_TIMEOUT))
                        *detail = g_strdup(_("polkit did not answer in time (was an "
                                             "authentication dialog left open?); try again, or "
                                             "ask an administrator"));
                else
                        *detail = g_strdup_printf("%s: %s", e->name, e->message);
                return LIMAD_POLKIT_ERROR;
        }
        r = sd_bus_message_enter_container(reply, 'r', "bba{ss}");
        if (r >= 0)
                r = sd_bus_message_read(reply, "bb", &authorized, &challenge);
        if (r < 0) {
                *detail = g_strdup_printf("unexpected answer from polkit: %s", g_strerror(-r));
                return LIMAD_POLKIT_ERROR;
        }
        if (authorized)
                return LIMAD_POLKIT_ALLOWED;
        return challenge ? LIMAD_POLKIT_CHALLENGE : LIMAD_POLKIT_DENIED;
}

/* An answered call that never came back to its handler: sd-bus answered it itself (its
 * object vanished meanwhile, say the instance was deleted). Without this the query, and the
 * call it holds, would stay for limad's lifetime. */
static int
limad_polkit_on_expire(sd_event_source *source, uint64_t usec, void *userdata)
{
        LimadPolkitQuery *q = userdata;
        g_message("dropping polkit's answer about %s for %s: the call did not come back (its "
                  "object is gone)",
                  q->action_id, sd_bus_message_get_sender(q->call));
        g_hash_table_remove(q->polkit->queries, q->call);
        return 0;
}

static int
limad_polkit_on_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error)
{
        LimadPolkitQuery *q = userdata;
        int r;

        q->slot = sd_bus_slot_unref(q->slot);
        q->result = limad_polkit_read_reply(reply, &q->detail);
        /* Dispatch the call again: its handler asks once more and gets the answer. */
        r = sd_bus_enqueue_for_read(q->polkit->bus, q->call);
        if (r < 0) {
                g_warning("cannot re-dispatch a call after polkit answered: %s", g_strerror(-r));
                sd_bus_reply_method_errorf(q->call, SD_BUS_ERROR_FAILED,
                                           "limad lost the call while asking polkit");
                g_hash_table_remove(q->polkit->queries, q->call);
                return 0;
        }
        r = sd_event_add_time_relative(sd_bus_get_event(q->polkit->bus), &q->expire,
                                       CLOCK_MONOTONIC, LIMAD_POLKIT_COLLECT_USEC, 0,
                                       limad_polkit_on_expire, q);
        if (r < 0)
                g_warning("cannot time out polkit's answer: %s", g_strerror(-r));
        return 0;
}

static int
limad_polkit_send(LimadPolkit *polkit, LimadPolkitQuery *q, const gchar *const *details)
{
        g_autoptr(sd_bus_message) request = NULL;
        gboolean interactive = sd_bus_message_get_allow_interactive_authorization(q->call) > 0;
        const char *sender = sd_bus_message_get_sender(q->call);
        int r;

        if (sender == NULL)
                return -EBADMSG;
        r = sd_bus_message_new_method_call(polkit->bus, &request, POLKIT_NAME, POLKIT_PATH,
                                           POLKIT_IFACE, "CheckAuthorization");
        /* The subject is the caller's unique name: polkitd asks the bus who it is, so the
         * caller cannot claim to be someone else. */
        if (r >= 0)
                r = sd_bus_message_append(request, "(sa{sv})s", "system-bus-name", 1, "name", "s",
                                          sender, q->action_id);
        if (r >= 0)
                r = sd_bus_message_open_container(request, 'a', "{ss}");
        for (guint i = 0; r >= 0 && details != NULL && details[i] != NULL && details[i + 1]; i += 2)
                r = sd_bus_message_append(request, "{ss}", details[i], details[i + 1]);
        if (r >= 0)
                r = sd_bus_message_close_container(request);
        if (r >= 0)
                r = sd_bus_message_append(request, "us",
                                          interactive ? POLKIT_FLAG_ALLOW_INTERACTION : 0u, "");
        if (r < 0)
                return r;
        return sd_bus_call_async(polkit->bus, &q->slot, request, limad_polkit_on_reply, q,
                                 interactive ? POLKIT_INTERACTIVE_TIMEOUT_USEC
                                             : POLKIT_TIMEOUT_USEC);
}

LimadPolkitResult
limad_polkit_check(LimadPolkit *polkit, sd_bus_message *call, const gchar *action_id,
                   const gchar *const *details, gchar **detail)
{
        LimadPolkitQuery *q = g_hash_table_lookup(polkit->queries, call);
        LimadPolkitResult result;
        int r;

        if (q != NULL) {
                /* The same call, asked about another action (a handler that checks twice),
                 * is a bug: never let one answer stand for another. */
                if (q->slot != NULL || !g_str_equal(q->action_id, action_id)) {
                        *detail = g_strdup("a second polkit question about one call");
                        return LIMAD_POLKIT_ERROR;
                }
                result = q->result;
                *detail = g_steal_pointer(&q->detail);
                g_hash_table_remove(polkit->queries, call);
                return result;
        }
        q = g_new0(LimadPolkitQuery, 1);
        q->polkit = polkit;
        q->call = sd_bus_message_ref(call);
        q->action_id = g_strdup(action_id);
        r = limad_polkit_send(polkit, q, details);
        if (r < 0) {
                limad_polkit_query_free(q);
                *detail = g_strdup_printf("cannot ask polkit: %s", g_strerror(-r));
                return LIMAD_POLKIT_ERROR;
        }
        g_hash_table_replace(polkit->queries, call, q);
        return LIMAD_POLKIT_PENDING;
}
