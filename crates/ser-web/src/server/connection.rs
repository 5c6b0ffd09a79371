//! The accept loop: one hyper HTTP/1.1 connection per TCP connection, with the limits that
//! keep slow or hostile clients from holding the server (issue 25, finding 4).
//!
//! `axum::serve` has no timeouts and no connection limit, and its graceful shutdown waits for
//! every connection however long it stalls. This loop adds, per [`ServerConfig`]:
//!
//! - a **connection limit**: a slot (semaphore permit) is taken *before* `accept`, so a
//!   connection beyond the limit waits in the kernel's accept queue, costing this process no
//!   file descriptor and no memory, until a slot frees;
//! - a **header-read timeout** (hyper's own `header_read_timeout`): the whole request head must
//!   arrive within it. hyper starts this clock when it begins waiting for a head, i.e. at
//!   accept and again after each response, so it also bounds a silent or idle connection;
//! - an **idle timeout**: a connection with no request in flight on which no byte has moved
//!   for this long is closed (tracked by [`Activity`]);
//! - a **shutdown deadline**: on the signal the listener is closed, every connection is asked
//!   to finish its current request and close, and whatever is still open at the deadline is
//!   dropped.
//!
//! The body timeout is enforced where the body is read (`read_body` in the parent module),
//! because only the handler knows when it wants the body.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::ServerConfig;

/// How long to pause after an `accept` error that is not about one connection (typically
/// EMFILE/ENFILE, out of file descriptors): retrying at once would spin a core while nothing
/// can succeed. One second, as `axum::serve` and hyper's examples do.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_secs(1);

/// Serves `router` on `listener` under `config`'s limits until `signal` completes, then shuts
/// down within `config.shutdown_timeout`.
pub(super) async fn run(
    listener: TcpListener,
    router: Router,
    config: &ServerConfig,
    signal: impl Future<Output = ()>,
) -> io::Result<()> {
    let slots = Arc::new(Semaphore::new(config.max_connections.max(1)));
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(config.header_read_timeout);
    let idle = config.idle_timeout;
    let mut conns = JoinSet::new();
    let mut signal = std::pin::pin!(signal);
    loop {
        let slot = tokio::select! {
            () = &mut signal => break,
            Some(done) = conns.join_next(), if !conns.is_empty() => {
                if let Err(e) = done
                    && e.is_panic()
                {
                    tracing::error!("a connection task panicked: {e}");
                }
                continue;
            }
            slot = Arc::clone(&slots).acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break, // never closed; nothing left to serve if it were
            },
        };
        let tcp = tokio::select! {
            () = &mut signal => break,
            accepted = listener.accept() => match accepted {
                Ok((tcp, _peer)) => tcp,
                Err(e) => {
                    accept_error(e).await;
                    continue;
                }
            },
        };
        // Answers are written in one go; without this, Nagle's algorithm can hold a split
        // write back until the client's delayed ACK (up to 40 ms on Linux).
        let _ = tcp.set_nodelay(true);
        conns.spawn(serve_connection(
            http.clone(),
            tcp,
            router.clone(),
            idle,
            stop_rx.clone(),
            slot,
        ));
    }

    // Stop accepting: new connections are refused from here on.
    drop(listener);
    let _ = stop_tx.send(true);
    if !conns.is_empty() {
        tracing::info!(
            connections = conns.len(),
            "waiting up to {:?} for open connections to finish",
            config.shutdown_timeout
        );
    }
    let drained = tokio::time::timeout(config.shutdown_timeout, async {
        while conns.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            connections = conns.len(),
            "shutdown deadline of {:?} passed: dropping the connections still open",
            config.shutdown_timeout
        );
        conns.shutdown().await;
    }
    Ok(())
}

/// Logs an `accept` failure, and pauses unless it concerned only one connection.
async fn accept_error(e: io::Error) {
    // A connection reset or aborted between the handshake and `accept` is the client's
    // business; anything else (out of file descriptors, out of memory) is the server's.
    let one_connection = matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    );
    if one_connection {
        tracing::debug!("accept: {e}");
    } else {
        tracing::error!("accept failed: {e}; pausing {ACCEPT_ERROR_PAUSE:?}");
        tokio::time::sleep(ACCEPT_ERROR_PAUSE).await;
    }
}

/// Drives one connection until it ends, goes idle, or is dropped at the shutdown deadline.
/// Holds its connection slot until then.
async fn serve_connection(
    http: http1::Builder,
    tcp: TcpStream,
    router: Router,
    idle: Duration,
    mut stop: watch::Receiver<bool>,
    _slot: OwnedSemaphorePermit,
) {
    let activity = Arc::new(Activity::new());
    let io = TokioIo::new(Tracked {
        inner: tcp,
        activity: Arc::clone(&activity),
    });
    let router = TowerToHyperService::new(router);
    let requests = Arc::clone(&activity);
    let service = hyper::service::service_fn(move |req| {
        let busy = requests.begin();
        let answer = hyper::service::Service::call(&router, req);
        async move {
            let answer = answer.await;
            drop(busy);
            answer
        }
    });
    let mut conn = std::pin::pin!(http.serve_connection(io, service));
    let mut stopping = false;
    loop {
        tokio::select! {
            ended = conn.as_mut() => {
                if let Err(e) = ended {
                    // Header timeouts, resets and malformed requests land here.
                    tracing::debug!("connection closed: {e}");
                }
                return;
            }
            () = activity.idle(idle) => {
                tracing::debug!("closing a connection idle for {idle:?}");
                return;
            }
            _ = stop.wait_for(|&stop| stop), if !stopping => {
                // Finish the request in flight (answered with `Connection: close`), then
                // close; an idle connection closes at once.
                stopping = true;
                conn.as_mut().graceful_shutdown();
            }
        }
    }
}

/// When a connection last moved a byte, and how many of its requests are being answered.
struct Activity {
    opened: Instant,
    /// Milliseconds from `opened` to the last byte read or written.
    last_ms: AtomicU64,
    in_flight: AtomicUsize,
}

impl Activity {
    fn new() -> Self {
        Self {
            opened: Instant::now(),
            last_ms: AtomicU64::new(0),
            in_flight: AtomicUsize::new(0),
        }
    }

    fn touch(&self) {
        let ms = u64::try_from(self.opened.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_ms.store(ms, Ordering::Relaxed);
    }

    fn last(&self) -> Instant {
        self.opened + Duration::from_millis(self.last_ms.load(Ordering::Relaxed))
    }

    /// Marks a request in flight until the guard is dropped (its answer is ready, or the
    /// connection is gone).
    fn begin(self: &Arc<Self>) -> Busy {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        Busy(Arc::clone(self))
    }

    /// Completes once no request has been in flight and no byte has moved for `limit`. A
    /// request in flight never counts as idle: inference may run for seconds in silence.
    async fn idle(&self, limit: Duration) {
        loop {
            if self.in_flight.load(Ordering::Relaxed) > 0 {
                tokio::time::sleep(limit).await;
                continue;
            }
            let deadline = self.last() + limit;
            if deadline <= Instant::now() {
                return;
            }
            tokio::time::sleep_until(deadline).await;
        }
    }
}

/// A request in flight on a connection (see [`Activity::begin`]).
struct Busy(Arc<Activity>);

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.touch();
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The TCP stream, noting every byte that moves in [`Activity`].
struct Tracked {
    inner: TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for Tracked {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            this.activity.touch();
        }
        polled
    }
}

impl AsyncWrite for Tracked {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_write(cx, buf);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            this.activity.touch();
        }
        polled
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            this.activity.touch();
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Real time, short limits: the lower bounds are exact (a sleep never ends early), the
    // upper bounds leave room for a busy machine.
    const LIMIT: Duration = Duration::from_millis(200);

    #[tokio::test]
    async fn idle_waits_for_the_request_in_flight_then_the_limit() {
        let activity = Arc::new(Activity::new());
        let busy = activity.begin();
        let started = Instant::now();
        let idle = tokio::spawn({
            let activity = Arc::clone(&activity);
            async move { activity.idle(LIMIT).await }
        });
        // A request runs for 3 limits in silence: not idle.
        tokio::time::sleep(3 * LIMIT).await;
        assert!(!idle.is_finished());
        drop(busy);
        idle.await.unwrap();
        let took = started.elapsed();
        assert!(took >= 4 * LIMIT && took < 10 * LIMIT, "{took:?}");
    }

    #[tokio::test]
    async fn traffic_postpones_idle() {
        let activity = Activity::new();
        let started = Instant::now();
        let mut idle = std::pin::pin!(activity.idle(LIMIT));
        // A byte every half limit, five times: never idle meanwhile.
        for _ in 0..5 {
            tokio::select! {
                () = idle.as_mut() => panic!("idle while bytes are moving"),
                () = tokio::time::sleep(LIMIT / 2) => activity.touch(),
            }
        }
        idle.await;
        let took = started.elapsed();
        assert!(
            took >= LIMIT * 5 / 2 + LIMIT && took < 10 * LIMIT,
            "{took:?}"
        );
    }
}
