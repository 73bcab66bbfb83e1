//! Serves an axum [`Router`] over HTTP/1.1 with the limits `axum::serve` does not have, for both
//! HTTP servers of the binary (`nexori serve` and `nexori backend`):
//!
//! - **A connection cap** ([`ConnectionLimits::max_connections`]). At the cap the server stops
//!   accepting until a connection closes: further clients wait in the kernel's listen backlog and
//!   are served when a slot frees, instead of being accepted and dropped at once. That is the
//!   kinder choice for a legitimate client (its request is late, not refused), and with the
//!   header-read timeout below a slot held by a client that sends nothing frees within that
//!   timeout. A connection holds its slot until its socket closes, so a WebSocket upgraded from it
//!   (the bridge) keeps counting.
//! - **A header-read timeout** ([`ConnectionLimits::header_read_timeout`]): a client that has not
//!   sent a request's whole head (request line and headers) in time is disconnected. The clock
//!   also runs while a kept-alive connection waits for its next request, so idle connections are
//!   closed after the same time. Bodies are not timed here: the handlers read them with their own
//!   limits.
//! - **Graceful shutdown**: when `shutdown` completes, the listener closes, idle connections close,
//!   requests in progress finish, and [`serve`] returns once every connection has ended (upgraded
//!   WebSockets are their handlers' to close, as with `axum::serve`).
//!
//! WebSocket upgrades work as with `axum::serve`: connections are served with upgrades enabled.
//!
//! Knows nothing of Nexori: it depends on no other Nexori crate, so the reference backend can use
//! it without the host.

#![warn(missing_docs)]

use std::future::Future;
use std::io;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};

/// Connections served at once unless configured otherwise.
pub const DEFAULT_MAX_CONNECTIONS: u32 = 256;
/// Time a client has to send a request's head unless configured otherwise.
pub const DEFAULT_HEADER_READ_TIMEOUT_MS: u64 = 10_000;

/// The limits [`serve`] applies to every connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// Open connections at most (at least 1); at the cap no further connection is accepted until
    /// one closes.
    pub max_connections: u32,
    /// How long a client may take to send a request's head, or wait idle between requests.
    pub header_read_timeout: Duration,
}

impl Default for ConnectionLimits {
    /// [`DEFAULT_MAX_CONNECTIONS`] and [`DEFAULT_HEADER_READ_TIMEOUT_MS`].
    fn default() -> Self {
        ConnectionLimits {
            max_connections: DEFAULT_MAX_CONNECTIONS,
            header_read_timeout: Duration::from_millis(DEFAULT_HEADER_READ_TIMEOUT_MS),
        }
    }
}

/// Serves `router` on `listener` until `shutdown` completes, then shuts down gracefully (see the
/// module docs) and returns.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()>,
) {
    let slots = Arc::new(Semaphore::new(
        (limits.max_connections.max(1) as usize).min(Semaphore::MAX_PERMITS),
    ));
    // `true` tells connections to finish; each connection task holds a receiver until it ends, so
    // the sender sees when the last one is gone.
    let (closing_tx, closing_rx) = watch::channel(false);
    let mut shutdown = pin!(shutdown);
    loop {
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => slot.expect("the semaphore is never closed"),
            () = &mut shutdown => break,
        };
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => {
                    // Bridge commands and replies are small writes that must leave at once: with
                    // Nagle's algorithm one waits for the peer's delayed ACK (40 ms on Linux).
                    if let Err(e) = stream.set_nodelay(true) {
                        tracing::debug!(target: "nexori::http", "TCP_NODELAY not set: {e}");
                    }
                    stream
                }
                Err(e) => {
                    accept_error(e).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let router = router.clone();
        let mut closing = closing_rx.clone();
        tokio::spawn(async move {
            let io = TokioIo::new(Counted {
                stream,
                _slot: slot,
            });
            let mut http = hyper::server::conn::http1::Builder::new();
            http.timer(TokioTimer::new())
                .header_read_timeout(limits.header_read_timeout);
            let connection = http
                .serve_connection(io, TowerToHyperService::new(router))
                .with_upgrades();
            let mut connection = pin!(connection);
            let served = tokio::select! {
                served = connection.as_mut() => served,
                () = async { let _ = closing.wait_for(|closing| *closing).await; } => {
                    connection.as_mut().graceful_shutdown();
                    connection.await
                }
            };
            // A timed-out head, a reset or a malformed request: the client's problem, not ours.
            if let Err(e) = served {
                tracing::debug!(target: "nexori::http", "connection ended: {e}");
            }
        });
    }
    drop(listener);
    drop(closing_rx);
    closing_tx.send_replace(true);
    closing_tx.closed().await;
}

/// As `axum::serve` does: errors about one connection are skipped; others (out of file
/// descriptors, say) are logged and accepting pauses for a moment rather than spinning.
async fn accept_error(e: io::Error) {
    if matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    ) {
        return;
    }
    tracing::error!(target: "nexori::http", "accepting a connection failed: {e}");
    tokio::time::sleep(Duration::from_secs(1)).await;
}

/// A socket that holds a connection slot until it is dropped, whoever owns it by then (hyper, or
/// the WebSocket it was upgraded to).
struct Counted {
    stream: TcpStream,
    _slot: OwnedSemaphorePermit,
}

impl AsyncRead for Counted {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Counted {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}
