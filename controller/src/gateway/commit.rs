//! Group commit of what agents answer: acknowledgements of pushes, reports and command
//! results from every session go into one queue, and a committer writes whatever has
//! queued up in one transaction, then tells each session its answer is stored.
//!
//! Owns: the queue, the committer tasks (one on SQLite, where writers serialise anyway;
//! [`GatewayOptions::concurrent_writes`](super::GatewayOptions) on PostgreSQL), the batch
//! size, and the turn-taking with the dispatcher (claims for a fleet-wide push go first,
//! so deliveries are not queued behind answers).
//! Must never: confirm an answer before its batch has committed — a session sends the
//! agent its `ack` only after [`Answers::record`] returns, so a crash loses nothing the
//! agent was told is stored.

use std::sync::Arc;

use tokio::sync::{Mutex, mpsc, oneshot, watch};

use super::Inner;
use crate::domain::Timestamp;
use crate::store::{AgentAnswer, Engine, StoreError};

/// At most this many answers per transaction: a batch holds the write lock for a few
/// tens of milliseconds at most, so a claim waiting for its turn waits little.
const MAX_BATCH: usize = 256;

/// Why an answer was not stored.
#[derive(Debug)]
pub(super) enum Refused {
    /// Refused on its own (unknown push, revoked device); the others in its batch were
    /// stored.
    Answer(StoreError),
    /// The batch failed (database unavailable); nothing in it was stored.
    Batch(String),
}

struct Job {
    answer: AgentAnswer,
    done: oneshot::Sender<Result<(), Refused>>,
}

/// The sessions' side of the queue.
#[derive(Debug)]
pub(super) struct Answers {
    queue: mpsc::UnboundedSender<Job>,
    jobs: Arc<Mutex<mpsc::UnboundedReceiver<Job>>>,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Job").field("answer", &self.answer).finish()
    }
}

impl Default for Answers {
    fn default() -> Self {
        let (queue, jobs) = mpsc::unbounded_channel();
        Answers {
            queue,
            jobs: Arc::new(Mutex::new(jobs)),
        }
    }
}

impl Answers {
    /// Queues `answer` and waits until its batch has committed (or failed).
    pub(super) async fn record(&self, answer: AgentAnswer) -> Result<(), Refused> {
        let (done, stored) = oneshot::channel();
        self.queue
            .send(Job { answer, done })
            .map_err(|_| Refused::Batch("the gateway is stopping".into()))?;
        stored
            .await
            .unwrap_or_else(|_| Err(Refused::Batch("the gateway is stopping".into())))
    }
}

/// Runs the committers until `shutdown` turns true.
pub(super) async fn run(gw: Arc<Inner>, shutdown: watch::Receiver<bool>) {
    let committers = match gw.store.engine() {
        Engine::Sqlite => 1,
        Engine::Postgres => gw.options.concurrent_writes.max(1),
    };
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..committers {
        let gw = Arc::clone(&gw);
        let mut shutdown = shutdown.clone();
        tasks.spawn(async move {
            loop {
                let batch = tokio::select! {
                    () = crate::gateway::stopped(&mut shutdown) => break,
                    batch = next_batch(&gw.answers) => batch,
                };
                if batch.is_empty() {
                    break;
                }
                commit(&gw, batch).await;
            }
        });
    }
    while tasks.join_next().await.is_some() {}
}

/// Waits for one answer, then takes whatever else has queued, up to [`MAX_BATCH`].
async fn next_batch(answers: &Answers) -> Vec<Job> {
    let mut jobs = answers.jobs.lock().await;
    let mut batch = Vec::new();
    if jobs.recv_many(&mut batch, MAX_BATCH).await == 0 {
        return batch;
    }
    batch
}

async fn commit(gw: &Inner, batch: Vec<Job>) {
    let (answers, waiting): (Vec<AgentAnswer>, Vec<_>) =
        batch.into_iter().map(|j| (j.answer, j.done)).unzip();
    // The dispatcher's claims go first (see the module doc).
    let turn = gw.claiming.lock().await;
    let recorded = gw.store.record_answers(&answers, Timestamp::now()).await;
    drop(turn);
    match recorded {
        Ok(results) => {
            for (done, result) in waiting.into_iter().zip(results) {
                let _ = done.send(result.map_err(Refused::Answer));
            }
        }
        Err(e) => {
            tracing::warn!(error = %e, answers = answers.len(), "Cannot store agents' answers.");
            let reason = e.to_string();
            for done in waiting {
                let _ = done.send(Err(Refused::Batch(reason.clone())));
            }
        }
    }
}
