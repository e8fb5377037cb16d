/* Who may do what (limad --system). Every instance has an owner, its creator. The owner may
 * start, stop, shell into, edit, delete and change the mounts of it; everyone else may only
 * read its properties; polkit admins (and root) may do everything. polkit decides through
 * the actions in dbus/io.lima.lima1.policy; without polkit on the bus, owners act on their
 * own instances and only root on others'. With --user everyone on the bus is the user:
 * everything is allowed. Reads are never checked. */
#pragma once

#include "limad-manager.h"

G_BEGIN_DECLS

#define LIMAD_ACTION_CREATE       "io.lima.lima1.create-instance"
#define LIMAD_ACTION_MANAGE_OWN   "io.lima.lima1.manage-own-instance"
#define LIMAD_ACTION_MANAGE_OTHER "io.lima.lima1.manage-other-instance"

/* Whether call's sender may act on inst (NULL: create an instance named name). what says
 * what the call does, in words ("stop", "delete", …), for the message.
 * Returns 1: allowed, go on; 0: polkit was asked, return 1 from the handler without
 * replying (the call is dispatched again with the answer); < 0: refused, ret_error is
 * io.lima.lima1.Error.AccessDenied naming the action and what to do. Call it before
 * reading the call's arguments. */
int limad_authorize(LimadManager *manager, sd_bus_message *call, LimadInstance *inst,
                    const gchar *what, sd_bus_error *ret_error);

/* The uid the sender of call runs as, from the bus (not from anything the caller says). */
int limad_authorize_caller_uid(sd_bus_message *call, uid_t *uid);

G_END_DECLS
