//! The HTTP transport of the admission publisher: requests run on a small tokio runtime; answers
//! are queued and applied by the publisher's next tick (never in the HTTP callback; see
//! docs/arena-behaviour.md#answers).

use std::sync::mpsc::{Receiver, Sender, channel};
use std::time::Duration;

use super::admission::{AdmissionTransport, PublisherSettings, Snapshot};

/// Sends admission snapshots to the backend over HTTP from its own one-worker tokio runtime
/// (`nexori-admission`) and queues `(stateUpdateId, status, body)` answers for
/// [`poll_answers`](AdmissionTransport::poll_answers); a request without an answer (timeout,
/// connection error) comes back with status 0.
pub struct HttpTransport {
    /// Wait for each answer inside `send` (simulations: virtual time must not run ahead of a
    /// real HTTP exchange).
    blocking: bool,
    runtime: tokio::runtime::Runtime,
    client: reqwest::Client,
    answers_tx: Sender<(String, u16, String)>,
    answers_rx: Receiver<(String, u16, String)>,
}

impl HttpTransport {
    /// A transport whose requests each take at most `request_timeout`. With `blocking`, `send`
    /// waits for the answer (simulations against a real backend, so virtual time does not run
    /// ahead of the exchange); otherwise it returns at once.
    ///
    /// # Errors
    ///
    /// The I/O error of building the tokio runtime, or the HTTP client's build error (e.g. no TLS
    /// backend) wrapped as one.
    pub fn new(request_timeout: Duration, blocking: bool) -> std::io::Result<Self> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("nexori-admission")
            .enable_all()
            .build()?;
        let client = reqwest::Client::builder()
            .timeout(request_timeout)
            .build()
            .map_err(std::io::Error::other)?;
        let (answers_tx, answers_rx) = channel();
        Ok(Self {
            blocking,
            runtime,
            client,
            answers_tx,
            answers_rx,
        })
    }
}

impl AdmissionTransport for HttpTransport {
    fn send(&mut self, snapshot: &Snapshot, settings: &PublisherSettings) {
        let request = self
            .client
            .post(&settings.state_url)
            .bearer_auth(&settings.server_token)
            .header("Content-Type", "application/json")
            .header("X-Nexori-Server-Id", &settings.server_id)
            .header("X-Nexori-State-Update-Id", &snapshot.state_update_id)
            .header("X-Nexori-Sequence", snapshot.sequence.to_string())
            .header("X-Nexori-Sent-At-Epoch-Ms", snapshot.sent_at.to_string())
            .body(snapshot.body.to_string());
        let id = snapshot.state_update_id.clone();
        let tx = self.answers_tx.clone();
        let exchange = async move {
            let answer = match request.send().await {
                Ok(response) => {
                    let status = response.status().as_u16();
                    (id, status, response.text().await.unwrap_or_default())
                }
                Err(_) => (id, 0, String::new()),
            };
            let _ = tx.send(answer);
        };
        if self.blocking {
            self.runtime.block_on(exchange);
        } else {
            self.runtime.spawn(exchange);
        }
    }

    fn poll_answers(&mut self) -> Vec<(String, u16, String)> {
        self.answers_rx.try_iter().collect()
    }
}
