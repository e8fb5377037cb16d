#include "lima-agent-worker.h"

#include <errno.h>
#include <gio/gio.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct _LimaWorker {
        GAsyncQueue *queue; /* LimaWorkerMessage* */
        int wake_fd;
        sd_event_source *source;
        GThread *thread;
        GCancellable *cancellable;
        LimaWorkerFunc func;
        gpointer data;
        LimaWorkerReport report;
        gpointer user_data;
};

static void
lima_worker_message_free(LimaWorkerMessage *msg)
{
        g_free(msg->stage);
        g_free(msg->message);
        g_clear_error(&msg->error);
        g_free(msg);
}

static void
lima_worker_post(LimaWorker *worker, LimaWorkerMessage *msg)
{
        guint64 one = 1;
        g_async_queue_push(worker->queue, msg);
        if (write(worker->wake_fd, &one, sizeof(one)) < 0)
                g_warning("cannot wake the main loop: %s", g_strerror(errno));
}

void
lima_worker_progress(LimaWorker *worker, const gchar *stage, gdouble fraction, const gchar *fmt,
                     ...)
{
        LimaWorkerMessage *msg;
        va_list args;
        if (worker == NULL) /* running without a thread: --print-qemu-argv */
                return;
        msg = g_new0(LimaWorkerMessage, 1);
        msg->stage = g_strdup(stage);
        msg->fraction = fraction;
        va_start(args, fmt);
        msg->message = g_strdup_vprintf(fmt, args);
        va_end(args);
        lima_worker_post(worker, msg);
}

static gpointer
lima_worker_thread(gpointer data)
{
        LimaWorker *worker = data;
        LimaWorkerMessage *msg = g_new0(LimaWorkerMessage, 1);
        msg->ok = worker->func(worker, worker->data, &msg->error);
        if (!msg->ok && msg->error == NULL)
                g_set_error_literal(&msg->error, G_IO_ERROR, G_IO_ERROR_FAILED, "failed");
        lima_worker_post(worker, msg);
        return NULL;
}

static int
lima_worker_on_wake(sd_event_source *source, int fd, uint32_t revents, void *userdata)
{
        LimaWorker *worker = userdata;
        LimaWorkerMessage *msg;
        guint64 count;

        if (read(fd, &count, sizeof(count)) < 0 && errno != EAGAIN)
                g_warning("worker wake-up: %s", g_strerror(errno));
        while ((msg = g_async_queue_try_pop(worker->queue)) != NULL) {
                worker->report(msg, worker->user_data);
                lima_worker_message_free(msg);
        }
        return 0;
}

LimaWorker *
lima_worker_start(sd_event *event, const gchar *name, LimaWorkerFunc func, gpointer data,
                  LimaWorkerReport report, gpointer user_data)
{
        LimaWorker *worker = g_new0(LimaWorker, 1);
        worker->queue = g_async_queue_new();
        worker->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        worker->cancellable = g_cancellable_new();
        worker->func = func;
        worker->data = data;
        worker->report = report;
        worker->user_data = user_data;
        sd_event_add_io(event, &worker->source, worker->wake_fd, EPOLLIN, lima_worker_on_wake,
                        worker);
        worker->thread = g_thread_new(name, lima_worker_thread, worker);
        return worker;
}

void
lima_worker_cancel(LimaWorker *worker)
{
        g_cancellable_cancel(worker->cancellable);
}

gboolean
lima_worker_cancelled(LimaWorker *worker)
{
        return worker != NULL && g_cancellable_is_cancelled(worker->cancellable);
}

GCancellable *
lima_worker_get_cancellable(LimaWorker *worker)
{
        return worker != NULL ? worker->cancellable : NULL;
}

void
lima_worker_free(LimaWorker *worker)
{
        LimaWorkerMessage *msg;
        if (worker == NULL)
                return;
        g_cancellable_cancel(worker->cancellable);
        g_thread_join(worker->thread);
        while ((msg = g_async_queue_try_pop(worker->queue)) != NULL)
                lima_worker_message_free(msg);
        g_async_queue_unref(worker->queue);
        sd_event_source_disable_unref(worker->source);
        close(worker->wake_fd);
        g_object_unref(worker->cancellable);
        g_free(worker);
}
