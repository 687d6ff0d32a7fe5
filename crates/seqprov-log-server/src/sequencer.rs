//! Group commit (spec/log.md §3): request threads hand each checked entry to one
//! sequencer thread over a bounded channel; the sequencer takes everything pending (at
//! most [`MAX_BATCH`] entries), appends it with one [`LogDir::append_cosigned`] (checkpoint
//! signed, batch durable in the journal, tiles in place, checkpoint cosigned and in place)
//! and only then answers every waiter with its entry's index. The same entry submitted twice, in one batch or in two, is one entry.
//! A [`LogTask`] (publishing the checkpoint again with fresh cosignatures) runs on the same
//! thread between two batches.

use std::collections::HashMap;
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, RwLock};
use std::thread::JoinHandle;

use seqprov_log::log_dir::LogDir;
use seqprov_log::proof_text::TlogProof;
use seqprov_log::{Hash, LogError};

/// The most entries one batch integrates.
pub const MAX_BATCH: usize = 4096;

/// How many submissions may wait for the sequencer before request threads block.
pub const QUEUE_DEPTH: usize = 2 * MAX_BATCH;

/// Signs the checkpoint of a new tree (size, root) with the log key.
pub type SignCheckpoint = Box<dyn FnMut(u64, &Hash) -> Result<Vec<u8>, LogError> + Send>;

/// Adds witness cosignatures to a log-signed checkpoint note.
pub type CosignCheckpoint = Box<dyn FnMut(&[u8]) -> Result<Vec<u8>, LogError> + Send>;

/// How the sequencer makes a published checkpoint: signed, then (once the batch is
/// durable) cosigned.
pub struct PublishCheckpoint {
    /// Signs a new tree's checkpoint.
    pub sign: SignCheckpoint,
    /// Adds witness cosignatures to it.
    pub cosign: CosignCheckpoint,
}

impl PublishCheckpoint {
    /// The signed and cosigned checkpoint of the tree (size, root).
    pub fn publish(&mut self, size: u64, root: &Hash) -> Result<Vec<u8>, LogError> {
        let note = (self.sign)(size, root)?;
        (self.cosign)(&note)
    }
}

/// Told of every batch once it is published: the entries new to the log with their
/// indexes (duplicates left out) and the published checkpoint.
pub type OnCommit = Box<dyn FnMut(&[(u64, Vec<u8>)], &[u8]) + Send>;

/// Why a submission was not appended.
#[derive(Clone, Debug, thiserror::Error, PartialEq, Eq)]
pub enum SequencerError {
    /// The sequencer has stopped (the server is shutting down).
    #[error("the log is shutting down")]
    Stopped,
    /// Appending the batch failed; nothing of it was published.
    #[error("the log could not append: {0}")]
    Append(String),
}

/// Work for the sequencer: a submission waiting for its batch, or a task on the log
/// between batches.
enum Job {
    Append(Append),
    Task(LogTask),
}

/// One submission waiting for its batch.
struct Append {
    entry: Vec<u8>,
    reply: SyncSender<Result<TlogProof, SequencerError>>,
}

/// A task run on the sequencer's thread between two batches, with the log and the
/// sequencer's [`PublishCheckpoint`] and [`OnCommit`] (e.g. publishing the checkpoint again
/// with fresh cosignatures, spec/log.md §6).
pub type LogTask = Box<dyn FnOnce(&mut LogDir, &mut PublishCheckpoint, &mut OnCommit) + Send>;

/// A request thread's way to the sequencer; cheap to clone.
#[derive(Clone)]
pub struct SequencerHandle {
    jobs: SyncSender<Job>,
}

impl SequencerHandle {
    /// Submits one entry and waits until the batch that includes it is durable and its
    /// checkpoint published; returns the entry's receipt against that checkpoint (with an
    /// earlier index if the entry was already in the log).
    pub fn append(&self, entry: Vec<u8>) -> Result<TlogProof, SequencerError> {
        let (reply, answer) = sync_channel(1);
        let job = Job::Append(Append { entry, reply });
        match self.jobs.try_send(job) {
            Ok(()) => {}
            Err(TrySendError::Full(job)) => {
                self.jobs.send(job).map_err(|_| SequencerError::Stopped)?;
            }
            Err(TrySendError::Disconnected(_)) => return Err(SequencerError::Stopped),
        }
        answer.recv().map_err(|_| SequencerError::Stopped)?
    }

    /// Runs `task` on the sequencer's thread after the batch in progress, before the next;
    /// returns once it has run.
    pub fn run_task(&self, task: LogTask) -> Result<(), SequencerError> {
        let (done, finished) = sync_channel::<()>(1);
        let task: LogTask = Box::new(move |log, publish, on_commit| {
            task(log, publish, on_commit);
            let _ = done.send(());
        });
        self.jobs
            .send(Job::Task(task))
            .map_err(|_| SequencerError::Stopped)?;
        finished.recv().map_err(|_| SequencerError::Stopped)
    }
}

/// Starts the sequencer thread over `log`. It runs until every [`SequencerHandle`] is
/// dropped, then integrates what is still queued and ends.
pub fn start(
    log: Arc<RwLock<LogDir>>,
    publish: PublishCheckpoint,
    on_commit: OnCommit,
) -> std::io::Result<(SequencerHandle, JoinHandle<()>)> {
    let (jobs, queue) = sync_channel(QUEUE_DEPTH);
    let thread = std::thread::Builder::new()
        .name("seqprov-log-sequencer".into())
        .spawn(move || run(&log, &queue, publish, on_commit))?;
    Ok((SequencerHandle { jobs }, thread))
}

/// The sequencer loop: one batch at a time until the channel is closed and empty.
fn run(
    log: &RwLock<LogDir>,
    queue: &Receiver<Job>,
    mut publish: PublishCheckpoint,
    mut on_commit: OnCommit,
) {
    while let Ok(first) = queue.recv() {
        let mut batch = Vec::new();
        let mut tasks = Vec::new();
        let mut next = Some(first);
        while let Some(job) = next.take() {
            match job {
                Job::Append(append) => batch.push(append),
                Job::Task(task) => tasks.push(task),
            }
            if batch.len() < MAX_BATCH {
                next = queue.try_recv().ok();
            }
        }
        if !batch.is_empty() {
            commit(log, batch, &mut publish, &mut on_commit);
        }
        for task in tasks {
            let mut dir = match log.write() {
                Ok(dir) => dir,
                Err(poisoned) => poisoned.into_inner(),
            };
            task(&mut dir, &mut publish, &mut on_commit);
        }
    }
}

/// Integrates one batch and answers its waiters.
fn commit(
    log: &RwLock<LogDir>,
    batch: Vec<Append>,
    publish: &mut PublishCheckpoint,
    on_commit: &mut OnCommit,
) {
    // Each distinct entry once, in order of arrival; `slot[i]` is job i's distinct entry.
    let mut distinct: Vec<Vec<u8>> = Vec::with_capacity(batch.len());
    let mut slot = Vec::with_capacity(batch.len());
    let mut replies = Vec::with_capacity(batch.len());
    {
        let mut seen: HashMap<&[u8], usize> = HashMap::with_capacity(batch.len());
        let mut order: Vec<(usize, usize)> = Vec::with_capacity(batch.len());
        for (i, job) in batch.iter().enumerate() {
            let next = seen.len();
            let at = *seen.entry(job.entry.as_slice()).or_insert(next);
            if at == next {
                order.push((i, at));
            }
            slot.push(at);
        }
        for (i, _) in order {
            distinct.push(batch[i].entry.clone());
        }
    }
    for job in batch {
        replies.push(job.reply);
    }
    let outcome = {
        let mut dir = match log.write() {
            Ok(dir) => dir,
            Err(poisoned) => poisoned.into_inner(),
        };
        let old_size = dir.size();
        dir.append_cosigned(&distinct, &mut *publish.sign, &mut *publish.cosign)
            .inspect(|indexes| {
                let fresh: Vec<(u64, Vec<u8>)> = indexes
                    .iter()
                    .zip(&distinct)
                    .filter(|(index, _)| **index >= old_size)
                    .map(|(index, entry)| (*index, entry.clone()))
                    .collect();
                on_commit(&fresh, dir.checkpoint());
            })
            // Each receipt is made here, under the lock the batch holds: a request thread
            // that took the log's read lock afterwards waited behind every later batch
            // (the next batch takes the write lock again before a woken reader runs), which
            // made `POST /add` under a steady stream of submissions slow.
            .map(|indexes| {
                indexes
                    .iter()
                    .map(|&index| {
                        dir.receipt(index)
                            .map_err(|e| SequencerError::Append(e.to_string()))
                    })
                    .collect::<Vec<_>>()
            })
    };
    match outcome {
        Ok(receipts) => {
            for (reply, at) in replies.into_iter().zip(slot) {
                let answer = receipts.get(at).cloned().unwrap_or_else(|| {
                    Err(SequencerError::Append(
                        "the log returned too few indexes".into(),
                    ))
                });
                let _ = reply.send(answer);
            }
        }
        Err(e) => {
            let error = SequencerError::Append(e.to_string());
            for reply in replies {
                let _ = reply.send(Err(error.clone()));
            }
        }
    }
}
