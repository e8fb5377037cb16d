/* mountInotify in the running agent. Lima forwards events only for writable mounts, since
 * only there can the guest touch a file to raise an event; so do we. The watch starts when
 * the instance is Running, so the walk of large trees does not slow the boot. */
#include "lima-agent-inotify.h"

#include <glib/gi18n.h>

#include "lima-agent-prepare.h"
#include "lima-guest-link.h"
#include "lima-mount-inotify.h"
#include "lima-paths.h"

#define LIMA_GUEST_LINK_RETRY_MS     1000
#define LIMA_GUEST_LINK_KEEPALIVE_MS 15000

static void
lima_agent_on_guest_up(LimaGuestLink *link, const gchar *boot_id, gpointer user_data)
{
        g_message("guest agent answers (boot %s)", boot_id);
}

void
lima_agent_guest_link_start(LimaAgent *agent)
{
        g_autofree gchar *path = NULL;

        if (agent->guest_link != NULL)
                return;
        path = g_build_filename(agent->dir, LIMA_FILE_GA_SOCK, NULL);
        agent->guest_link = lima_guest_link_new(agent->event, path, lima_agent_on_guest_up, agent);
        lima_guest_link_set_keepalive(agent->guest_link, LIMA_GUEST_LINK_KEEPALIVE_MS);
        lima_guest_link_start(agent->guest_link, LIMA_GUEST_LINK_RETRY_MS);
}

static void
lima_agent_on_inotify_event(LimaGuestInotifyEvent event, const gchar *guest_path,
                            gpointer user_data)
{
        LimaAgent *agent = user_data;

        if (agent->guest_link != NULL)
                lima_guest_link_send_inotify(agent->guest_link, event, guest_path);
}

static void
lima_agent_on_inotify_warning(const gchar *location, const gchar *message, gpointer user_data)
{
        LimaAgent *agent = user_data;

        lima_agent_add_error(agent, message);
}

void
lima_agent_inotify_watch_mount(LimaAgent *agent, const LimaMount *mount)
{
        g_autoptr(GError) error = NULL;

        if (agent->inotify == NULL || !mount->writable.value)
                return;
        if (!lima_mount_inotify_add(agent->inotify, mount->location.value, mount->mount_point.value,
                                    &error)) {
                lima_agent_add_error(agent, error->message);
                return;
        }
        g_message("mountInotify: watching %s for %s", mount->location.value,
                  mount->mount_point.value);
}

void
lima_agent_inotify_unwatch_mount(LimaAgent *agent, const gchar *mount_point)
{
        if (agent->inotify != NULL && lima_mount_inotify_remove(agent->inotify, mount_point))
                g_message("mountInotify: no longer watching %s", mount_point);
}

void
lima_agent_inotify_start(LimaAgent *agent)
{
        g_autoptr(GError) error = NULL;

        g_autofree gchar *guestagent = NULL;

        if (!agent->cfg->mount_inotify.value || agent->inotify != NULL)
                return;
        /* Without it in the guest, nothing applies the events: say so rather than watch. */
        guestagent = lima_agent_find_guestagent();
        if (guestagent == NULL) {
                lima_agent_add_error(agent, _("mountInotify: lima-guestagent is neither next to "
                                              "lima-hostagent nor named by $LIMA_GUESTAGENT, so "
                                              "the guest has no agent to apply host events; "
                                              "reinstall limad"));
                return;
        }
        if (agent->guest_link == NULL || !lima_guest_link_is_up(agent->guest_link))
                g_message("mountInotify: the guest agent has not answered yet; events wait for "
                          "it");
        agent->inotify = lima_mount_inotify_new(agent->event, LIMA_MOUNT_INOTIFY_FOLD_MS,
                                                lima_agent_on_inotify_event,
                                                lima_agent_on_inotify_warning, agent, &error);
        if (agent->inotify == NULL) {
                lima_agent_add_error(agent, error->message);
                return;
        }
        for (guint i = 0; i < agent->mounts->len; i++) {
                LimaAgentMount *m = g_ptr_array_index(agent->mounts, i);
                lima_agent_inotify_watch_mount(agent, m->mount);
        }
}

void
lima_agent_inotify_stop(LimaAgent *agent)
{
        g_clear_pointer(&agent->inotify, lima_mount_inotify_free);
        g_clear_pointer(&agent->guest_link, lima_guest_link_free);
}
