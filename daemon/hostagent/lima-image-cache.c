#include "lima-image-cache.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "lima-error.h"
#include "lima-image-file.h"
#include "lima-paths.h"

#define LIMA_IMAGE_DATA              "data"
#define LIMA_IMAGE_URL               "url"
#define LIMA_IMAGE_PROGRESS_INTERVAL (100 * G_TIME_SPAN_MILLISECOND)
#define LIMA_IMAGE_READ_CHUNK        (1024 * 1024)
#define LIMA_IMAGE_CONNECT_TIMEOUT_S 30L
/* A transfer slower than this for this long is treated as stalled and given up. */
#define LIMA_IMAGE_LOW_SPEED_BYTES   1024L
#define LIMA_IMAGE_LOW_SPEED_SECONDS 60L
#define LIMA_IMAGE_MAX_REDIRECTS     10L

typedef struct {
        GChecksumType type;
        const gchar *algo; /* "sha256", "sha512" */
        gchar *hex;        /* lower case */
} LimaImageDigest;

typedef struct {
        LimaImageProgressFunc func;
        gpointer user_data;
        gchar *message;
        gint64 last_us;
} LimaImageProgress;

typedef struct {
        gint fd;
        const gchar *tmp_path;
        GChecksum *checksum; /* NULL without a digest */
        guint64 done;
        gint write_errno;
        LimaImageProgress *progress;
        GCancellable *cancellable;
} LimaImageTransfer;

static void
lima_image_digest_clear(LimaImageDigest *digest)
{
        g_clear_pointer(&digest->hex, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(LimaImageDigest, lima_image_digest_clear)

/* Parses "sha256:HEX" or "sha512:HEX"; an empty or NULL text leaves digest->hex NULL. */
static gboolean
lima_image_digest_parse(const gchar *text, LimaImageDigest *digest, GError **error)
{
        const gchar *hex;
        gsize want;

        if (text == NULL || *text == '\0')
                return TRUE;
        if (g_str_has_prefix(text, "sha256:")) {
                digest->type = G_CHECKSUM_SHA256;
                digest->algo = "sha256";
                want = 64;
        } else if (g_str_has_prefix(text, "sha512:")) {
                digest->type = G_CHECKSUM_SHA512;
                digest->algo = "sha512";
                want = 128;
        } else {
                want = 0;
        }
        hex = strchr(text, ':');
        for (const gchar *c = hex != NULL ? hex + 1 : ""; want > 0 && *c != '\0'; c++) {
                if (!g_ascii_isxdigit(*c))
                        want = 0;
        }
        if (want == 0 || hex == NULL || strlen(hex + 1) != want) {
                g_set_error(error, LIMA_ERROR, LIMA_ERROR_INVALID_CONFIG,
                            _("digest \"%s\" is invalid: write \"sha256:\" and 64 hex digits, or "
                              "\"sha512:\" and 128"),
                            text);
                return FALSE;
        }
        digest->hex = g_ascii_strdown(hex + 1, -1);
        return TRUE;
}

static gchar *
lima_image_digest_to_string(const LimaImageDigest *digest)
{
        return g_strdup_printf("%s:%s", digest->algo, digest->hex);
}

static void
lima_image_progress_report(LimaImageProgress *progress, guint64 done, guint64 total,
                           gboolean complete)
{
        gint64 now = g_get_monotonic_time();

        if (progress->func == NULL)
                return;
        if (!complete && progress->last_us != 0 &&
            now - progress->last_us < LIMA_IMAGE_PROGRESS_INTERVAL)
                return;
        progress->last_us = now;
        progress->func(done, total, progress->message, progress->user_data);
}

static void
lima_image_progress_start(LimaImageProgress *progress, gchar *message)
{
        g_free(progress->message);
        progress->message = message;
        progress->last_us = 0;
}

/* Hashes path with digest's algorithm into *actual ("algo:hex"). */
static gboolean
lima_image_hash_file(const gchar *path, const LimaImageDigest *digest, LimaImageProgress *progress,
                     GCancellable *cancellable, gchar **actual, GError **error)
{
        g_autoptr(GChecksum) checksum = g_checksum_new(digest->type);
        g_autofree guchar *buf = g_malloc(LIMA_IMAGE_READ_CHUNK);
        guint64 done = 0;
        GStatBuf st;
        gint fd = open(path, O_RDONLY | O_CLOEXEC);

        if (fd < 0)
                return lima_image_file_set_errno(error, errno, _("cannot open"), path);
        if (fstat(fd, &st) != 0) {
                close(fd);
                return lima_image_file_set_errno(error, errno, _("cannot read"), path);
        }
        lima_image_progress_start(progress, g_strdup_printf(_("Verifying %s"), path));
        for (;;) {
                gssize n = read(fd, buf, LIMA_IMAGE_READ_CHUNK);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        gint saved_errno = errno;
                        close(fd);
                        return lima_image_file_set_errno(error, saved_errno, _("cannot read"),
                                                         path);
                }
                if (n == 0)
                        break;
                if (g_cancellable_set_error_if_cancelled(cancellable, error)) {
                        close(fd);
                        return FALSE;
                }
                g_checksum_update(checksum, buf, n);
                done += (guint64)n;
                lima_image_progress_report(progress, done, (guint64)st.st_size, FALSE);
        }
        close(fd);
        lima_image_progress_report(progress, done, done, TRUE);
        *actual = g_strdup_printf("%s:%s", digest->algo, g_checksum_get_string(checksum));
        return TRUE;
}

/* ~, relative paths and file:// URLs as an absolute path. */
static gchar *
lima_image_local_path(const gchar *location, GError **error)
{
        g_autoptr(GError) local = NULL;
        g_autofree gchar *host = NULL;
        gchar *path;

        if (g_ascii_strncasecmp(location, "file://", 7) != 0) {
                if (g_str_equal(location, "~") || g_str_has_prefix(location, "~/"))
                        return g_build_filename(g_get_home_dir(), location + 1, NULL);
                return g_canonicalize_filename(location, NULL);
        }
        path = g_filename_from_uri(location, &host, &local);
        if (path == NULL) {
                g_set_error(error, LIMA_ERROR, LIMA_ERROR_INVALID_CONFIG,
                            _("\"%s\" is not a usable file:// URL (%s); write "
                              "file:///absolute/path"),
                            location, local->message);
                return NULL;
        }
        if (host != NULL && *host != '\0' && g_ascii_strcasecmp(host, "localhost") != 0) {
                g_set_error(error, LIMA_ERROR, LIMA_ERROR_INVALID_CONFIG,
                            _("\"%s\" names the host \"%s\"; file:// URLs must be local "
                              "(file:///absolute/path)"),
                            location, host);
                g_free(path);
                return NULL;
        }
        return path;
}

static gchar *
lima_image_fetch_local(const gchar *location, const LimaImageDigest *digest,
                       LimaImageProgress *progress, GCancellable *cancellable, GError **error)
{
        g_autofree gchar *path = lima_image_local_path(location, error);
        g_autofree gchar *actual = NULL;
        GStatBuf st;

        if (path == NULL)
                return NULL;
        if (g_stat(path, &st) != 0) {
                gint saved_errno = errno;
                if (saved_errno == ENOENT) {
                        g_set_error(error, LIMA_ERROR, LIMA_ERROR_NOT_FOUND,
                                    _("image file %s does not exist; check the image location "
                                      "in the config"),
                                    path);
                        return NULL;
                }
                lima_image_file_set_errno(error, saved_errno, _("cannot use"), path);
                return NULL;
        }
        if (S_ISDIR(st.st_mode)) {
                g_set_error(error, LIMA_ERROR, LIMA_ERROR_INVALID_CONFIG,
                            _("image location %s is a folder; name the image file in it"), path);
                return NULL;
        }
        if (g_access(path, R_OK) != 0) {
                lima_image_file_set_errno(error, errno, _("cannot read"), path);
                return NULL;
        }
        if (digest->hex == NULL)
                return g_steal_pointer(&path);
        if (!lima_image_hash_file(path, digest, progress, cancellable, &actual, error))
                return NULL;
        if (g_strcmp0(actual + strlen(digest->algo) + 1, digest->hex) != 0) {
                g_autofree gchar *expected = lima_image_digest_to_string(digest);
                g_set_error(error, LIMA_ERROR, LIMA_ERROR_FAILED,
                            _("%s does not match its digest: expected %s, got %s; fix the "
                              "digest in the config or replace the file"),
                            path, expected, actual);
                return NULL;
        }
        return g_steal_pointer(&path);
}

static gchar *
lima_image_digest_file_path(const gchar *dir, const LimaImageDigest *digest)
{
        g_autofree gchar *name = g_strdup_printf("%s.digest", digest->algo);
        return g_build_filename(dir, name, NULL);
}

/* Whether the digest file vouches for data: it holds the expected digest and was written for
 * this very data (same mtime; any write to data since would have moved it). */
static gboolean
lima_image_cache_trusted(const gchar *dir, const gchar *data, const LimaImageDigest *digest)
{
        g_autofree gchar *path = lima_image_digest_file_path(dir, digest);
        g_autofree gchar *contents = NULL;
        g_autofree gchar *expected = lima_image_digest_to_string(digest);
        GStatBuf data_st;
        GStatBuf digest_st;

        if (!g_file_get_contents(path, &contents, NULL, NULL))
                return FALSE;
        g_strstrip(contents);
        if (g_ascii_strcasecmp(contents, expected) != 0)
                return FALSE;
        if (g_stat(data, &data_st) != 0 || g_stat(path, &digest_st) != 0)
                return FALSE;
        return data_st.st_mtim.tv_sec == digest_st.st_mtim.tv_sec &&
               data_st.st_mtim.tv_nsec == digest_st.st_mtim.tv_nsec;
}

/* Records that data matched digest, stamped with data's mtime (see lima-image-cache.h). */
static gboolean
lima_image_cache_remember(const gchar *dir, const gchar *data, const LimaImageDigest *digest,
                          GError **error)
{
        g_autofree gchar *path = lima_image_digest_file_path(dir, digest);
        g_autofree gchar *contents = lima_image_digest_to_string(digest);
        GStatBuf st;

        if (g_stat(data, &st) != 0)
                return lima_image_file_set_errno(error, errno, _("cannot read"), data);
        return lima_image_file_write(path, contents, &st.st_mtim, error);
}

/* Checks a cached data file against digest. */
static gboolean
lima_image_cache_check(const gchar *url, const gchar *dir, const gchar *data,
                       const LimaImageDigest *digest, LimaImageProgress *progress,
                       GCancellable *cancellable, GError **error)
{
        g_autofree gchar *actual = NULL;
        g_autofree gchar *expected = NULL;
        g_autoptr(GError) local = NULL;

        if (digest->hex == NULL || lima_image_cache_trusted(dir, data, digest))
                return TRUE;
        if (!lima_image_hash_file(data, digest, progress, cancellable, &actual, error))
                return FALSE;
        expected = lima_image_digest_to_string(digest);
        if (g_ascii_strcasecmp(actual, expected) != 0) {
                /* Not replaced here: instance disks may be built on this very file. */
                g_set_error(error, LIMA_ERROR, LIMA_ERROR_FAILED,
                            _("the cached copy of %s does not match its digest: expected %s, got "
                              "%s; if the image changed upstream, update the digest in the "
                              "config; to download it again, remove %s (instances created from "
                              "the old copy may use it as their base disk)"),
                            url, expected, actual, dir);
                return FALSE;
        }
        /* Trusting from now on is only an optimisation; failing to record it is not fatal. */
        if (!lima_image_cache_remember(dir, data, digest, &local))
                g_debug("cannot record the digest of %s: %s", data, local->message);
        return TRUE;
}

static size_t
lima_image_transfer_write(char *ptr, size_t size, size_t nmemb, void *user_data)
{
        LimaImageTransfer *xfer = user_data;
        const gchar *data = ptr;
        gsize len = size * nmemb;
        gsize left = len;

        if (g_cancellable_is_cancelled(xfer->cancellable))
                return 0;
        while (left > 0) {
                gssize n = write(xfer->fd, data, left);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        xfer->write_errno = errno;
                        return 0;
                }
                data += n;
                left -= (gsize)n;
        }
        if (xfer->checksum != NULL)
                g_checksum_update(xfer->checksum, (const guchar *)ptr, (gssize)len);
        xfer->done += len;
        return len;
}

static int
lima_image_transfer_progress(void *user_data, curl_off_t dltotal, curl_off_t dlnow,
                             curl_off_t ultotal, curl_off_t ulnow)
{
        LimaImageTransfer *xfer = user_data;

        if (g_cancellable_is_cancelled(xfer->cancellable))
                return 1;
        lima_image_progress_report(xfer->progress, (guint64)MAX(dlnow, 0), (guint64)MAX(dltotal, 0),
                                   FALSE);
        return 0;
}

static void
lima_image_curl_init_once(void)
{
        static gsize initialized = 0;

        if (g_once_init_enter(&initialized)) {
                curl_global_init(CURL_GLOBAL_DEFAULT);
                g_once_init_leave(&initialized, 1);
        }
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(CURL, curl_easy_cleanup)

/* Runs the transfer of url into xfer; the error names the URL and what to check. */
static gboolean
lima_image_curl_get(const gchar *url, LimaImageTransfer *xfer, GError **error)
{
        g_autoptr(CURL) curl = NULL;
        gchar errbuf[CURL_ERROR_SIZE] = "";
        CURLcode res;
        long status = 0;

        lima_image_curl_init_once();
        curl = curl_easy_init();
        if (curl == NULL) {
                g_set_error(error, LIMA_ERROR, LIMA_ERROR_FAILED,
                            _("cannot download %s: libcurl failed to start"), url);
                return FALSE;
        }
        curl_easy_setopt(curl, CURLOPT_URL, url);
        /* Redirects may only lead to http(s), never to file:// or other schemes. */
        curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
        curl_easy_setopt(curl, CURLOPT_MAXREDIRS, LIMA_IMAGE_MAX_REDIRECTS);
        curl_easy_setopt(curl, CURLOPT_FAILONERROR, 1L);
        curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, LIMA_IMAGE_CONNECT_TIMEOUT_S);
        curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, LIMA_IMAGE_LOW_SPEED_BYTES);
        curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, LIMA_IMAGE_LOW_SPEED_SECONDS);
        /* The agent may run threads; libcurl must not use signals for its timeouts. */
        curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(curl, CURLOPT_USERAGENT, "limad/" LIMAD_VERSION);
        curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
        curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, lima_image_transfer_write);
        curl_easy_setopt(curl, CURLOPT_WRITEDATA, xfer);
        curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, lima_image_transfer_progress);
        curl_easy_setopt(curl, CURLOPT_XFERINFODATA, xfer);
        curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);

        res = curl_easy_perform(curl);
        if (res == CURLE_OK)
                return TRUE;
        if (g_cancellable_set_error_if_cancelled(xfer->cancellable, error))
                return FALSE;
        if (xfer->write_errno != 0)
                return lima_image_file_set_errno(error, xfer->write_errno, _("cannot write"),
                                                 xfer->tmp_path);
        if (res == CURLE_HTTP_RETURNED_ERROR) {
                curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
                g_set_error(error, LIMA_ERROR, LIMA_ERROR_FAILED,
                            _("cannot download %s: the server answered HTTP %ld; check the "
                              "image location in the config"),
                            url, status);
                return FALSE;
        }
        g_set_error(error, LIMA_ERROR, LIMA_ERROR_FAILED,
                    _("cannot download %s: %s; check the network connection and the image "
                      "location in the config"),
                    url, *errbuf != '\0' ? errbuf : curl_easy_strerror(res));
        return FALSE;
}

/* Downloads url into a temp file in dir; checks digest; publishes it as data. */
static gboolean
lima_image_download(const gchar *url, const gchar *dir, const gchar *data,
                    const LimaImageDigest *digest, LimaImageProgress *progress,
                    GCancellable *cancellable, GError **error)
{
        g_autofree gchar *tmp_path = NULL;
        g_autofree gchar *url_path = g_build_filename(dir, LIMA_IMAGE_URL, NULL);
        g_autoptr(GChecksum) checksum = digest->hex != NULL ? g_checksum_new(digest->type) : NULL;
        LimaImageTransfer xfer = { 0 };
        gboolean existed = FALSE;
        gboolean ok;

        xfer.fd = lima_image_file_open_tmp(data, 0644, &tmp_path, error);
        if (xfer.fd < 0)
                return FALSE;
        xfer.tmp_path = tmp_path;
        xfer.checksum = checksum;
        xfer.progress = progress;
        xfer.cancellable = cancellable;
        lima_image_progress_start(progress, g_strdup_printf(_("Downloading %s"), url));

        ok = lima_image_curl_get(url, &xfer, error);
        if (ok && fsync(xfer.fd) != 0)
                ok = lima_image_file_set_errno(error, errno, _("cannot sync"), tmp_path);
        close(xfer.fd);
        if (ok && checksum != NULL && g_strcmp0(g_checksum_get_string(checksum), digest->hex)) {
                g_autofree gchar *expected = lima_image_digest_to_string(digest);
                g_set_error(error, LIMA_ERROR, LIMA_ERROR_FAILED,
                            _("%s does not match its digest: expected %s, got %s:%s; nothing was "
                              "cached. If the image changed upstream, update the digest in the "
                              "config; otherwise the download was damaged: try again"),
                            url, expected, digest->algo, g_checksum_get_string(checksum));
                ok = FALSE;
        }
        ok = ok && lima_image_file_write(url_path, url, NULL, error);
        if (!ok) {
                g_unlink(tmp_path);
                return FALSE;
        }
        lima_image_progress_report(progress, xfer.done, xfer.done, TRUE);
        if (!lima_image_file_publish(tmp_path, data, &existed, error))
                return FALSE;
        /* When another agent published the same URL first, its copy is the one in use. */
        if (existed)
                return lima_image_cache_check(url, dir, data, digest, progress, cancellable, error);
        if (digest->hex != NULL && !lima_image_cache_remember(dir, data, digest, error))
                return FALSE;
        return TRUE;
}

static gchar *
lima_image_fetch_url(const gchar *cache_home, const gchar *url, const LimaImageDigest *digest,
                     LimaImageProgress *progress, GCancellable *cancellable, GError **error)
{
        g_autofree gchar *dir = lima_paths_download_dir(cache_home, url);
        g_autofree gchar *data = g_build_filename(dir, LIMA_IMAGE_DATA, NULL);
        gboolean ok;

        if (g_file_test(data, G_FILE_TEST_EXISTS)) {
                if (!lima_image_cache_check(url, dir, data, digest, progress, cancellable, error))
                        return NULL;
                return g_steal_pointer(&data);
        }
        /* Private: a URL may carry a token, and "url" records it. */
        if (g_mkdir_with_parents(dir, 0700) != 0) {
                lima_image_file_set_errno(error, errno, _("cannot create"), dir);
                return NULL;
        }
        lima_image_file_remove_stale_tmp(dir);
        ok = lima_image_download(url, dir, data, digest, progress, cancellable, error);
        if (!ok) {
                /* Leave no trace of a failed first download; fails harmlessly if not empty. */
                g_rmdir(dir);
                return NULL;
        }
        return g_steal_pointer(&data);
}

gchar *
lima_image_fetch(const gchar *cache_home, const LimaFile *file, LimaImageProgressFunc progress,
                 gpointer user_data, GCancellable *cancellable, GError **error)
{
        const gchar *location = file->location.value;
        g_auto(LimaImageDigest) digest = { 0 };
        LimaImageProgress report = { .func = progress, .user_data = user_data };
        g_autofree gchar *scheme = NULL;
        gchar *path = NULL;

        g_return_val_if_fail(cache_home != NULL, NULL);
        g_return_val_if_fail(error == NULL || *error == NULL, NULL);

        if (location == NULL || *location == '\0') {
                g_set_error(error, LIMA_ERROR, LIMA_ERROR_INVALID_CONFIG,
                            _("the image has no location; set it to a URL or a local path"));
                return NULL;
        }
        if (g_cancellable_set_error_if_cancelled(cancellable, error))
                return NULL;
        if (!lima_image_digest_parse(file->digest.value, &digest, error)) {
                g_prefix_error(error, "%s: ", location);
                return NULL;
        }
        /* Lima's rule: anything without "://" is a local path. */
        if (strstr(location, "://") != NULL)
                scheme = g_uri_parse_scheme(location);
        if (scheme == NULL || g_ascii_strcasecmp(scheme, "file") == 0) {
                path = lima_image_fetch_local(location, &digest, &report, cancellable, error);
        } else if (g_ascii_strcasecmp(scheme, "http") == 0 ||
                   g_ascii_strcasecmp(scheme, "https") == 0) {
                path = lima_image_fetch_url(cache_home, location, &digest, &report, cancellable,
                                            error);
        } else {
                g_set_error(error, LIMA_ERROR, LIMA_ERROR_UNSUPPORTED,
                            _("cannot fetch %s: \"%s\" URLs are not supported; use http://, "
                              "https://, file:// or a local path"),
                            location, scheme);
        }
        g_free(report.message);
        return path;
}

const LimaImage *
lima_image_select(GPtrArray *images, const gchar *arch, GError **error)
{
        g_autoptr(GPtrArray) offered = g_ptr_array_new();
        g_autofree gchar *list = NULL;

        g_return_val_if_fail(arch != NULL, NULL);

        for (guint i = 0; images != NULL && i < images->len; i++) {
                const LimaImage *img = g_ptr_array_index(images, i);
                const gchar *img_arch = img->file.arch.value;

                if (g_strcmp0(img_arch, arch) == 0)
                        return img;
                if (img_arch != NULL &&
                    !g_ptr_array_find_with_equal_func(offered, img_arch, g_str_equal, NULL))
                        g_ptr_array_add(offered, (gpointer)img_arch);
        }
        if (offered->len == 0) {
                g_set_error(error, LIMA_ERROR, LIMA_ERROR_NOT_FOUND,
                            _("the config lists no image for %s; add one under images:"), arch);
                return NULL;
        }
        g_ptr_array_add(offered, NULL);
        list = g_strjoinv(", ", (gchar **)offered->pdata);
        g_set_error(error, LIMA_ERROR, LIMA_ERROR_NOT_FOUND,
                    _("the config lists no image for %s, only for %s; add an image for %s or "
                      "set arch: to one of those"),
                    arch, list, arch);
        return NULL;
}
