/* Asking polkit (org.freedesktop.PolicyKit1, over its D-Bus API) whether the sender of a bus
 * call may do an action. Asynchronous: the first time a handler asks about a call, the
 * question goes out and the answer is pending; when polkit answers, the call is dispatched
 * again and the second ask returns the answer. */
#pragma once

#include <glib.h>
#include <systemd/sd-bus.h>

G_BEGIN_DECLS

typedef enum {
        LIMAD_POLKIT_PENDING, /* asked; the call comes back when polkit answers */
        LIMAD_POLKIT_ALLOWED,
        LIMAD_POLKIT_DENIED,      /* polkit said no */
        LIMAD_POLKIT_CHALLENGE,   /* allowed after authentication, which was not allowed */
        LIMAD_POLKIT_UNAVAILABLE, /* no polkit on the bus */
        LIMAD_POLKIT_ERROR,       /* polkit failed to answer; detail says why */
} LimadPolkitResult;

typedef struct _LimadPolkit LimadPolkit;

LimadPolkit *limad_polkit_new(sd_bus *bus);
void limad_polkit_free(LimadPolkit *polkit);

/* Asks whether call's sender may do action_id; details (key, value, …, NULL) are shown to
 * polkit rules as action.lookup(key). The user is asked to authenticate only when the call
 * carries ALLOW_INTERACTIVE_AUTHORIZATION. *detail gets polkit's error, if any. */
LimadPolkitResult limad_polkit_check(LimadPolkit *polkit, sd_bus_message *call,
                                     const gchar *action_id, const gchar *const *details,
                                     gchar **detail);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(LimadPolkit, limad_polkit_free)

G_END_DECLS
