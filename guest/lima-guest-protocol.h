/*
 * The wire format between the host agent and lima-guestagent: the only thing shared by the
 * host and the guest, so it is plain C99 and libc (the guest binary is static and has no GLib).
 *
 * Transport: the virtio-serial port LIMA_GUEST_PORT_NAME. In the guest it is the character
 * device LIMA_GUEST_PORT_DEVICE; on the host, QEMU serves it as a unix socket
 * (chardev socket,server=on) at INSTANCE_DIR/LIMA_GUEST_HOST_SOCKET, which the host agent
 * connects to. Each host connection is one session: the agent starts it with READY.
 *
 * Framing: text lines, one message per line, each ending in '\n' and at most
 * LIMA_GUEST_LINE_MAX bytes counting the '\n'. A line is a keyword and its fields separated by
 * single spaces; every byte is printable ASCII (0x21-0x7e) or that space. No '\r', no NUL,
 * no leading, trailing or doubled spaces. Nothing is quoted: a field that may hold arbitrary
 * bytes (a path) is percent-encoded, so it never contains a space or a newline.
 *
 * Robustness: both sides treat the other as hostile. A reader keeps at most LIMA_GUEST_LINE_MAX
 * bytes of a line; a longer line is discarded up to and including its next '\n'
 * (LimaGuestLineBuffer does that). A line that does not parse, or a message meant for the other
 * direction, is logged and ignored; so is an unknown keyword, which lets a newer peer add
 * messages. An empty line is ignored silently: a peer may send one on connecting, to end any
 * partial line left from before. Changing an existing message bumps
 * LIMA_GUEST_PROTOCOL_VERSION.
 *
 * Messages, guest → host:
 *
 *   READY <version> <boot-id>
 *       Sent first on every session (agent start, and every reconnect after the host went
 *       away). <version> is LIMA_GUEST_PROTOCOL_VERSION in decimal (1-9 digits, not 0).
 *       <boot-id> is the guest kernel's /proc/sys/kernel/random/boot_id (a new value means the
 *       guest rebooted, the same value that only the agent or the connection restarted), or
 *       "unknown"; it is a token (below).
 *       In the guest, virtio-serial reports only whether a host is connected now, so a host
 *       that reconnects within milliseconds of leaving can go unnoticed and get no READY for
 *       its new connection (the guest did not reboot then). So a host must not wait for READY
 *       alone: after connecting it sends an empty line (ending any partial line) and a PING;
 *       a PONG means the agent is up, and it keeps the boot id of the last READY it got.
 *
 *   PONG <token>
 *       The answer to PING <token>, with the same token. A host ignores a PONG whose token it
 *       did not send.
 *
 *   BOOT <phase> ok
 *   BOOT <phase> failed <reason>
 *       Native boot (lima-guestagent boot): a step of this boot's provisioning is over.
 *       <phase> is one of plan (the seed's boot plan was read), user (the user, its key and
 *       sudo rule exist), sshd (sshd listens on port 22), mounts (every MOUNT of the plan was
 *       reported), provision (the boot script and provisioning scripts ran) and done (the
 *       last one). <reason> is percent-encoded text, 1 to LIMA_GUEST_REASON_MAX bytes decoded.
 *       A session replays every BOOT and MOUNT of the current boot after its READY, so a host
 *       that connects late misses nothing; a new boot id starts a new set.
 *
 *   MOUNT mounted <mount-point>
 *   MOUNT failed <mount-point> <reason>
 *       Native boot: a 9p/virtiofs mount of the plan (or a runtime virtiofs mount) is mounted
 *       or failed. <mount-point> is absolute and percent-encoded; <reason> as for BOOT.
 *
 * Messages, host → guest:
 *
 *   PING <token>
 *       Asks for PONG <token>. <token> is 1 to LIMA_GUEST_TOKEN_MAX bytes of [A-Za-z0-9._-].
 *       Messages are handled in order, so a PONG also means everything sent before its PING
 *       has been applied.
 *
 *   INOTIFY <event> <path>
 *       A file under a mountInotify mount changed on the host. <event> is MODIFY, CREATE,
 *       ATTRIB or DELETE; <path> is the absolute guest path, percent-encoded (below). Writes
 *       through 9p/virtiofs/sshfs raise no inotify event in the guest, so the agent makes the
 *       guest kernel raise one: it sets the mtime and atime of <path> to the current time
 *       (utimensat, not following a symlink) — for DELETE, of the parent directory, as the
 *       file is gone. A path that no longer exists is skipped silently. Such a touch also
 *       changes the host file's times and so comes back as a host ATTRIB event: the host side
 *       must not forward the events its own INOTIFY messages cause.
 *       The whole line must fit in LIMA_GUEST_LINE_MAX bytes; the host drops (and logs) an
 *       event whose path is too long to send.
 *
 * Percent-encoding: bytes in [A-Za-z0-9/._~-] stand for themselves, every other byte is '%'
 * and two hex digits (upper case when encoding; either case is decoded). Decoding also takes
 * any other printable ASCII byte as itself, and rejects a '%' without two hex digits, "%00" (a
 * path has no NUL) and any raw space, control or non-ASCII byte. Any byte string without a NUL
 * survives a round trip.
 */
#pragma once

#include <limits.h>
#include <stddef.h>
#include <string.h>

#define LIMA_GUEST_PORT_NAME        "io.lima.guestagent"
#define LIMA_GUEST_PORT_DEVICE      "/dev/virtio-ports/" LIMA_GUEST_PORT_NAME
#define LIMA_GUEST_HOST_SOCKET      "ga.sock"
#define LIMA_GUEST_PROTOCOL_VERSION 1
/* Bytes in one line including its '\n'. */
#define LIMA_GUEST_LINE_MAX  4096
#define LIMA_GUEST_TOKEN_MAX 64
/* Decoded bytes of a BOOT/MOUNT reason. */
#define LIMA_GUEST_REASON_MAX 512

typedef enum {
        LIMA_GUEST_MESSAGE_READY,   /* guest → host */
        LIMA_GUEST_MESSAGE_PONG,    /* guest → host */
        LIMA_GUEST_MESSAGE_PING,    /* host → guest */
        LIMA_GUEST_MESSAGE_INOTIFY, /* host → guest */
        LIMA_GUEST_MESSAGE_BOOT,    /* guest → host */
        LIMA_GUEST_MESSAGE_MOUNT,   /* guest → host */
} LimaGuestMessageType;

/* The native boot's steps, in the order the agent does them. */
typedef enum {
        LIMA_GUEST_BOOT_PLAN,
        LIMA_GUEST_BOOT_USER,
        LIMA_GUEST_BOOT_SSHD,
        LIMA_GUEST_BOOT_MOUNTS,
        LIMA_GUEST_BOOT_PROVISION,
        LIMA_GUEST_BOOT_DONE,
        LIMA_GUEST_BOOT_N_PHASES,
} LimaGuestBootPhase;

typedef enum {
        LIMA_GUEST_INOTIFY_MODIFY,
        LIMA_GUEST_INOTIFY_CREATE,
        LIMA_GUEST_INOTIFY_ATTRIB,
        LIMA_GUEST_INOTIFY_DELETE,
} LimaGuestInotifyEvent;

/* One parsed message; only the fields of its type are meaningful. Strings are NUL-terminated.
 * About 4 KiB: fine on a stack, and no allocation for a parser fed by the other side. */
typedef struct {
        LimaGuestMessageType type;
        unsigned int version;                   /* READY */
        char boot_id[LIMA_GUEST_TOKEN_MAX + 1]; /* READY */
        char token[LIMA_GUEST_TOKEN_MAX + 1];   /* PING, PONG */
        LimaGuestInotifyEvent event;            /* INOTIFY */
        char path[LIMA_GUEST_LINE_MAX];         /* INOTIFY, MOUNT: decoded, starts with '/' */
        size_t path_len;                        /* INOTIFY, MOUNT: strlen(path) */
        LimaGuestBootPhase phase;               /* BOOT */
        int ok;                                 /* BOOT, MOUNT: 1 ok/mounted, 0 failed */
        char reason[LIMA_GUEST_REASON_MAX + 1]; /* BOOT, MOUNT when failed; else "" */
} LimaGuestMessage;

static inline const char *
lima_guest_boot_phase_to_string(LimaGuestBootPhase phase)
{
        static const char *const names[] = {
                "plan", "user", "sshd", "mounts", "provision", "done"
        };

        if ((unsigned int)phase >= LIMA_GUEST_BOOT_N_PHASES)
                return NULL;
        return names[phase];
}

static inline const char *
lima_guest_inotify_event_to_string(LimaGuestInotifyEvent event)
{
        switch (event) {
        case LIMA_GUEST_INOTIFY_MODIFY:
                return "MODIFY";
        case LIMA_GUEST_INOTIFY_CREATE:
                return "CREATE";
        case LIMA_GUEST_INOTIFY_ATTRIB:
                return "ATTRIB";
        case LIMA_GUEST_INOTIFY_DELETE:
                return "DELETE";
        }
        return NULL;
}

/* Compares a length-delimited field with a keyword, without reading past the field. */
static inline int
lima_guest_field_equals(const char *field, size_t len, const char *keyword)
{
        return strlen(keyword) == len && memcmp(field, keyword, len) == 0;
}

/* 0 and the event for one of the four names, -1 otherwise. */
static inline int
lima_guest_inotify_event_from_string(const char *s, size_t len, LimaGuestInotifyEvent *event)
{
        static const LimaGuestInotifyEvent all[] = { LIMA_GUEST_INOTIFY_MODIFY,
                                                     LIMA_GUEST_INOTIFY_CREATE,
                                                     LIMA_GUEST_INOTIFY_ATTRIB,
                                                     LIMA_GUEST_INOTIFY_DELETE };

        for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
                if (lima_guest_field_equals(s, len, lima_guest_inotify_event_to_string(all[i]))) {
                        *event = all[i];
                        return 0;
                }
        }
        return -1;
}

/* Hand-written rather than <ctype.h>: those depend on the locale. */
static inline int
lima_guest_char_is_alnum(unsigned char c)
{
        return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/* The bytes that stand for themselves in a percent-encoded path. */
static inline int
lima_guest_char_is_unreserved(unsigned char c)
{
        return lima_guest_char_is_alnum(c) || c == '/' || c == '.' || c == '_' || c == '~' ||
               c == '-';
}

static inline int
lima_guest_hex_value(unsigned char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        return -1;
}

/* strlen() that stops at max: strnlen() is POSIX, not C99. */
static inline size_t
lima_guest_bounded_strlen(const char *s, size_t max)
{
        size_t n = 0;

        while (n < max && s[n] != '\0')
                n++;
        return n;
}

/* 1 when s[0..len) is a valid PING/PONG token or boot id. */
static inline int
lima_guest_token_is_valid(const char *s, size_t len)
{
        if (len == 0 || len > LIMA_GUEST_TOKEN_MAX)
                return 0;
        for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char)s[i];
                if (!lima_guest_char_is_alnum(c) && c != '.' && c != '_' && c != '-')
                        return 0;
        }
        return 1;
}

/* Encodes in[0..in_len) into out, NUL-terminated. Returns the encoded length (without the NUL),
 * or -1 when out (out_size bytes) is too small. */
static inline int
lima_guest_percent_encode(const char *in, size_t in_len, char *out, size_t out_size)
{
        static const char hex[] = "0123456789ABCDEF";
        size_t n = 0;

        if (out_size > INT_MAX)
                out_size = INT_MAX;
        for (size_t i = 0; i < in_len; i++) {
                unsigned char c = (unsigned char)in[i];
                if (lima_guest_char_is_unreserved(c)) {
                        if (out_size - n < 2)
                                return -1;
                        out[n++] = (char)c;
                } else {
                        if (out_size - n < 4)
                                return -1;
                        out[n++] = '%';
                        out[n++] = hex[c >> 4];
                        out[n++] = hex[c & 0xf];
                }
        }
        if (out_size - n < 1)
                return -1;
        out[n] = '\0';
        return (int)n;
}

/* Decodes in[0..in_len) into out, NUL-terminated. Returns the decoded length (without the NUL),
 * or -1 for a malformed encoding (see the top of this file) or when out is too small. */
static inline int
lima_guest_percent_decode(const char *in, size_t in_len, char *out, size_t out_size)
{
        size_t n = 0;

        if (out_size > INT_MAX)
                out_size = INT_MAX;
        for (size_t i = 0; i < in_len; i++) {
                unsigned char c = (unsigned char)in[i];
                if (out_size - n < 2)
                        return -1;
                if (c == '%') {
                        int hi, lo;
                        if (in_len - i < 3)
                                return -1;
                        hi = lima_guest_hex_value((unsigned char)in[i + 1]);
                        lo = lima_guest_hex_value((unsigned char)in[i + 2]);
                        if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
                                return -1;
                        out[n++] = (char)(hi << 4 | lo);
                        i += 2;
                } else if (c > 0x20 && c < 0x7f) {
                        out[n++] = (char)c;
                } else {
                        return -1;
                }
        }
        if (out_size - n < 1)
                return -1;
        out[n] = '\0';
        return (int)n;
}

/* 0 and the value for 1-9 decimal digits that are not all zero, -1 otherwise. */
static inline int
lima_guest_parse_version(const char *s, size_t len, unsigned int *version)
{
        unsigned int v = 0;

        if (len == 0 || len > 9)
                return -1;
        for (size_t i = 0; i < len; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return -1;
                v = v * 10 + (unsigned int)(s[i] - '0');
        }
        if (v == 0)
                return -1;
        *version = v;
        return 0;
}

/* "<ok-word>" alone, or "failed <reason>" with a non-empty percent-encoded reason of at most
 * LIMA_GUEST_REASON_MAX bytes: sets out->ok and out->reason. 0 when valid, -1 otherwise. */
static inline int
lima_guest_parse_status(const char *const *fields, const size_t *lens, size_t n_fields,
                        const char *ok_word, LimaGuestMessage *out)
{
        int n;

        if (n_fields == 1 && lima_guest_field_equals(fields[0], lens[0], ok_word)) {
                out->ok = 1;
                out->reason[0] = '\0';
                return 0;
        }
        if (n_fields != 2 || !lima_guest_field_equals(fields[0], lens[0], "failed"))
                return -1;
        n = lima_guest_percent_decode(fields[1], lens[1], out->reason, sizeof(out->reason));
        if (n <= 0)
                return -1;
        out->ok = 0;
        return 0;
}

/* Parses line[0..len), which may end in one '\n' and may hold any bytes (a NUL makes it
 * invalid). Returns 0 and fills out, or -1 (out is then unspecified). */
static inline int
lima_guest_message_parse_n(const char *line, size_t len, LimaGuestMessage *out)
{
        const char *fields[5];
        size_t lens[5];
        size_t n_fields = 0;
        size_t start = 0;

        if (len > 0 && line[len - 1] == '\n')
                len--;
        if (len == 0 || len >= LIMA_GUEST_LINE_MAX)
                return -1;
        /* Split at single spaces; any other byte outside 0x21-0x7e rejects the line. */
        for (size_t i = 0; i <= len; i++) {
                if (i < len && line[i] != ' ') {
                        unsigned char c = (unsigned char)line[i];
                        if (c <= 0x20 || c >= 0x7f)
                                return -1;
                        continue;
                }
                if (i == start || n_fields == sizeof(fields) / sizeof(fields[0]))
                        return -1;
                fields[n_fields] = line + start;
                lens[n_fields] = i - start;
                n_fields++;
                start = i + 1;
        }

        memset(out, 0, sizeof(*out));
        if (lima_guest_field_equals(fields[0], lens[0], "READY")) {
                if (n_fields != 3 ||
                    lima_guest_parse_version(fields[1], lens[1], &out->version) < 0 ||
                    !lima_guest_token_is_valid(fields[2], lens[2]))
                        return -1;
                out->type = LIMA_GUEST_MESSAGE_READY;
                memcpy(out->boot_id, fields[2], lens[2]);
                return 0;
        }
        if (lima_guest_field_equals(fields[0], lens[0], "PING") ||
            lima_guest_field_equals(fields[0], lens[0], "PONG")) {
                if (n_fields != 2 || !lima_guest_token_is_valid(fields[1], lens[1]))
                        return -1;
                out->type = lima_guest_field_equals(fields[0], lens[0], "PING")
                                ? LIMA_GUEST_MESSAGE_PING
                                : LIMA_GUEST_MESSAGE_PONG;
                memcpy(out->token, fields[1], lens[1]);
                return 0;
        }
        if (lima_guest_field_equals(fields[0], lens[0], "INOTIFY")) {
                int n;
                if (n_fields != 3 ||
                    lima_guest_inotify_event_from_string(fields[1], lens[1], &out->event) < 0)
                        return -1;
                n = lima_guest_percent_decode(fields[2], lens[2], out->path, sizeof(out->path));
                if (n < 0 || out->path[0] != '/')
                        return -1;
                out->type = LIMA_GUEST_MESSAGE_INOTIFY;
                out->path_len = (size_t)n;
                return 0;
        }
        if (lima_guest_field_equals(fields[0], lens[0], "BOOT")) {
                int found = 0;
                if (n_fields < 3)
                        return -1;
                for (unsigned int p = 0; p < LIMA_GUEST_BOOT_N_PHASES && !found; p++) {
                        const char *name = lima_guest_boot_phase_to_string((LimaGuestBootPhase)p);
                        if (lima_guest_field_equals(fields[1], lens[1], name)) {
                                out->phase = (LimaGuestBootPhase)p;
                                found = 1;
                        }
                }
                if (!found ||
                    lima_guest_parse_status(fields + 2, lens + 2, n_fields - 2, "ok", out) < 0)
                        return -1;
                out->type = LIMA_GUEST_MESSAGE_BOOT;
                return 0;
        }
        if (lima_guest_field_equals(fields[0], lens[0], "MOUNT")) {
                const char *status[2];
                size_t status_lens[2];
                int n;
                /* MOUNT <status> <path> [<reason>]: the status check wants <status> [<reason>]. */
                if (n_fields < 3)
                        return -1;
                status[0] = fields[1];
                status_lens[0] = lens[1];
                status[1] = n_fields > 3 ? fields[3] : NULL;
                status_lens[1] = n_fields > 3 ? lens[3] : 0;
                if (n_fields > 4 ||
                    lima_guest_parse_status(status, status_lens, n_fields - 2, "mounted", out) < 0)
                        return -1;
                n = lima_guest_percent_decode(fields[2], lens[2], out->path, sizeof(out->path));
                if (n < 0 || out->path[0] != '/')
                        return -1;
                out->type = LIMA_GUEST_MESSAGE_MOUNT;
                out->path_len = (size_t)n;
                return 0;
        }
        return -1;
}

/* lima_guest_message_parse_n() for a NUL-terminated line. */
static inline int
lima_guest_message_parse(const char *line, LimaGuestMessage *out)
{
        return lima_guest_message_parse_n(line, strlen(line), out);
}

/* Appends s[0..len) at buf + *n when it fits (keeping room for a NUL), else returns -1. */
static inline int
lima_guest_append(char *buf, size_t size, size_t *n, const char *s, size_t len)
{
        if (size - *n <= len)
                return -1;
        memcpy(buf + *n, s, len);
        *n += len;
        return 0;
}

static inline int
lima_guest_append_str(char *buf, size_t size, size_t *n, const char *s)
{
        return lima_guest_append(buf, size, n, s, strlen(s));
}

/* Appends percent-encoded s, failing when it does not fit. */
static inline int
lima_guest_append_encoded(char *buf, size_t size, size_t *n, const char *s, size_t len)
{
        int encoded = lima_guest_percent_encode(s, len, buf + *n, size - *n);

        if (encoded < 0)
                return -1;
        *n += (size_t)encoded;
        return 0;
}

/* The BOOT and MOUNT lines, without the '\n'. */
static inline int
lima_guest_format_report(const LimaGuestMessage *msg, char *buf, size_t size, size_t *n)
{
        size_t reason_len = lima_guest_bounded_strlen(msg->reason, sizeof(msg->reason));
        size_t path_len = lima_guest_bounded_strlen(msg->path, sizeof(msg->path));
        const char *phase = lima_guest_boot_phase_to_string(msg->phase);

        if (!msg->ok && (reason_len == 0 || reason_len > LIMA_GUEST_REASON_MAX))
                return -1;
        if (msg->type == LIMA_GUEST_MESSAGE_BOOT) {
                if (phase == NULL || lima_guest_append_str(buf, size, n, "BOOT ") < 0 ||
                    lima_guest_append_str(buf, size, n, phase) < 0 ||
                    lima_guest_append_str(buf, size, n, msg->ok ? " ok" : " failed ") < 0)
                        return -1;
        } else {
                if (msg->path[0] != '/' || path_len == sizeof(msg->path) ||
                    lima_guest_append_str(buf, size, n,
                                          msg->ok ? "MOUNT mounted " : "MOUNT failed ") < 0 ||
                    lima_guest_append_encoded(buf, size, n, msg->path, path_len) < 0 ||
                    (!msg->ok && lima_guest_append_str(buf, size, n, " ") < 0))
                        return -1;
        }
        if (!msg->ok && lima_guest_append_encoded(buf, size, n, msg->reason, reason_len) < 0)
                return -1;
        return 0;
}

/* Writes msg as one line, '\n' included, NUL-terminated, into buf (size bytes). Returns the
 * line's length with its '\n', or -1 when msg is not valid (bad token, relative path, …) or
 * when it does not fit in buf or in LIMA_GUEST_LINE_MAX. For INOTIFY, path_len is ignored:
 * path is read up to its NUL. */
static inline int
lima_guest_message_format(const LimaGuestMessage *msg, char *buf, size_t size)
{
        size_t boot_id_len = lima_guest_bounded_strlen(msg->boot_id, sizeof(msg->boot_id));
        size_t token_len = lima_guest_bounded_strlen(msg->token, sizeof(msg->token));
        size_t path_len = lima_guest_bounded_strlen(msg->path, sizeof(msg->path));
        const char *event = lima_guest_inotify_event_to_string(msg->event);
        char version[16];
        size_t v = sizeof(version);
        size_t n = 0;
        int encoded;

        if (size > LIMA_GUEST_LINE_MAX + 1)
                size = LIMA_GUEST_LINE_MAX + 1;
        if (size == 0)
                return -1;
        switch (msg->type) {
        case LIMA_GUEST_MESSAGE_READY:
                if (msg->version == 0 || msg->version > 999999999 ||
                    !lima_guest_token_is_valid(msg->boot_id, boot_id_len))
                        return -1;
                version[--v] = '\0';
                for (unsigned int x = msg->version; x > 0; x /= 10)
                        version[--v] = (char)('0' + x % 10);
                if (lima_guest_append_str(buf, size, &n, "READY ") < 0 ||
                    lima_guest_append_str(buf, size, &n, version + v) < 0 ||
                    lima_guest_append_str(buf, size, &n, " ") < 0 ||
                    lima_guest_append(buf, size, &n, msg->boot_id, boot_id_len) < 0)
                        return -1;
                break;
        case LIMA_GUEST_MESSAGE_PING:
        case LIMA_GUEST_MESSAGE_PONG:
                if (!lima_guest_token_is_valid(msg->token, token_len) ||
                    lima_guest_append_str(buf, size, &n,
                                          msg->type == LIMA_GUEST_MESSAGE_PING ? "PING "
                                                                               : "PONG ") < 0 ||
                    lima_guest_append(buf, size, &n, msg->token, token_len) < 0)
                        return -1;
                break;
        case LIMA_GUEST_MESSAGE_INOTIFY:
                if (event == NULL || msg->path[0] != '/' ||
                    lima_guest_append_str(buf, size, &n, "INOTIFY ") < 0 ||
                    lima_guest_append_str(buf, size, &n, event) < 0 ||
                    lima_guest_append_str(buf, size, &n, " ") < 0)
                        return -1;
                encoded = lima_guest_percent_encode(msg->path, path_len, buf + n, size - n);
                if (encoded < 0)
                        return -1;
                n += (size_t)encoded;
                break;
        case LIMA_GUEST_MESSAGE_BOOT:
        case LIMA_GUEST_MESSAGE_MOUNT:
                if (lima_guest_format_report(msg, buf, size, &n) < 0)
                        return -1;
                break;
        default:
                return -1;
        }
        if (lima_guest_append_str(buf, size, &n, "\n") < 0)
                return -1;
        buf[n] = '\0';
        return (int)n;
}

/* Splits a byte stream into lines, holding at most one line (LIMA_GUEST_LINE_MAX bytes).
 * Zero-initialise it (or memset) before the first feed and at each new session; a partial
 * line left at the end of a session is not a message. */
typedef struct {
        char buf[LIMA_GUEST_LINE_MAX];
        size_t len;
        int discarding; /* inside an overlong line: dropping bytes up to its '\n' */
} LimaGuestLineBuffer;

typedef void (*LimaGuestLineFunc)(const char *line, size_t len, void *user_data);

/* Calls func for each complete line in data[0..len) and what earlier feeds left, with the line
 * without its '\n' and NUL-terminated (it may hold other NULs: use len). Returns how many
 * overlong lines were discarded, counted when their discarding starts. */
static inline size_t
lima_guest_line_buffer_feed(LimaGuestLineBuffer *lb, const char *data, size_t len,
                            LimaGuestLineFunc func, void *user_data)
{
        size_t n_discarded = 0;

        for (size_t i = 0; i < len; i++) {
                char c = data[i];
                if (lb->discarding) {
                        if (c == '\n')
                                lb->discarding = 0;
                        continue;
                }
                if (c == '\n') {
                        lb->buf[lb->len] = '\0';
                        func(lb->buf, lb->len, user_data);
                        lb->len = 0;
                        continue;
                }
                /* The last byte of buf is the '\n''s slot: the line must end by then. */
                if (lb->len == sizeof(lb->buf) - 1) {
                        lb->len = 0;
                        lb->discarding = 1;
                        n_discarded++;
                        continue;
                }
                lb->buf[lb->len++] = c;
        }
        return n_discarded;
}
