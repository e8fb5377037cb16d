#include "limad-authorize.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <pwd.h>

#include "limad-error.h"
#include "limad-polkit.h"

int
limad_authorize_caller_uid(sd_bus_message *call, uid_t *uid)
{
        g_autoptr(sd_bus_creds) creds = NULL;
        int r = sd_bus_query_sender_creds(call, SD_BUS_CREDS_EUID, &creds);
        if (r >= 0)
                r = sd_bus_creds_get_euid(creds, uid);
        return r;
}

static gchar *
limad_authorize_user_name(uid_t uid)
{
        struct passwd *pw = getpwuid(uid);
        return pw != NULL ? g_strdup(pw->pw_name) : g_strdup_printf("uid %u", (guint)uid);
}

static int
limad_authorize_deny(sd_bus_error *ret_error, uid_t uid, LimadInstance *inst, const gchar *what,
                     const gchar *action, const gchar *why)
{
        g_autofree gchar *user = limad_authorize_user_name(uid);
        g_autofree gchar *owner = inst != NULL ? limad_authorize_user_name(inst->owner_uid) : NULL;
        if (inst == NULL)
                return sd_bus_error_setf(ret_error, LIMAD_DBUS_ERROR_PREFIX "AccessDenied",
                                         _("%s may not %s (polkit action %s): %s"), user, what,
                                         action, why);
        return sd_bus_error_setf(ret_error, LIMAD_DBUS_ERROR_PREFIX "AccessDenied",
                                 _("%s may not %s instance \"%s\" of %s (polkit action %s): %s"),
                                 user, what, inst->name, owner, action, why);
}

int
limad_authorize(LimadManager *manager, sd_bus_message *call, LimadInstance *inst, const gchar *what,
                sd_bus_error *ret_error)
{
        g_autofree gchar *detail = NULL;
        g_autofree gchar *owner_text = NULL;
        const gchar *action;
        gboolean own;
        uid_t uid = (uid_t)-1;
        int r;

        if (!manager->system_mode)
                return 1;
        r = limad_authorize_caller_uid(call, &uid);
        if (r < 0)
                return sd_bus_error_setf(ret_error, LIMAD_DBUS_ERROR_PREFIX "AccessDenied",
                                         _("cannot tell who is calling: %s"), g_strerror(-r));
        if (uid == 0)
                return 1;
        own = inst == NULL || inst->owner_uid == uid;
        action = inst == NULL ? LIMAD_ACTION_CREATE
                 : own        ? LIMAD_ACTION_MANAGE_OWN
                              : LIMAD_ACTION_MANAGE_OTHER;
        owner_text = g_strdup_printf("%u", inst != NULL ? inst->owner_uid : (guint)uid);
        {
                const gchar *const details[] = {
                        "instance",  inst != NULL ? inst->name : "",
                        "owner-uid", owner_text,
                        "operation", what,
                        NULL,
                };
                switch (limad_polkit_check(manager->polkit, call, action, details, &detail)) {
                case LIMAD_POLKIT_PENDING:
                        return 0;
                case LIMAD_POLKIT_ALLOWED:
                        return 1;
                case LIMAD_POLKIT_UNAVAILABLE:
                        /* No polkit: people act on what they own, only root on the rest. */
                        if (own)
                                return 1;
                        return limad_authorize_deny(
                            ret_error, uid, inst, what, action,
                            _("polkit is not running, so only root may act on other users' "
                              "instances; ask its owner or root"));
                case LIMAD_POLKIT_CHALLENGE:
                        return limad_authorize_deny(
                            ret_error, uid, inst, what, action,
                            _("it needs an administrator's authentication; run it from a "
                              "terminal with a polkit agent (limactl asks for it), or ask an "
                              "administrator"));
                case LIMAD_POLKIT_DENIED:
                        return limad_authorize_deny(
                            ret_error, uid, inst, what, action,
                            own ? _("the administrator's polkit rules forbid it")
                                : _("only its owner and administrators may; ask its owner"));
                case LIMAD_POLKIT_ERROR:
                        break;
                }
        }
        g_warning("polkit check of %s for uid %u failed: %s", action, (guint)uid, detail);
        return limad_authorize_deny(ret_error, uid, inst, what, action, detail);
}
