//! A layer blob as a blocking `Read`: a task on the registry runtime pulls the async stream into a
//! bounded channel, the reader takes chunks from it. At most `CHANNEL_CHUNKS` chunks wait in
//! memory; when the reader is dropped the task stops and the connection closes.

use std::io::Read;

use bytes::Bytes as Chunk;
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use tokio::sync::mpsc;

use super::error::{ErrorContext, RegistryProblem};

/// Chunks in flight between the network and the reader (each as reqwest hands it, ~16 KiB).
const CHANNEL_CHUNKS: usize = 16;

type BlobStream = BoxStream<'static, Result<Chunk, std::io::Error>>;

/// The blocking end of a layer download.
pub(crate) struct BlobReader {
    chunks: mpsc::Receiver<std::io::Result<Chunk>>,
    current: Chunk,
    offset: usize,
    received: u64,
    expected: u64,
}

impl BlobReader {
    /// Starts pulling `stream` (at most `expected` bytes) on `runtime`.
    pub(crate) fn spawn(runtime: &tokio::runtime::Runtime, mut stream: BlobStream, expected: u64, context: ErrorContext) -> Self {
        let (sender, chunks) = mpsc::channel(CHANNEL_CHUNKS);
        runtime.spawn(async move {
            let mut sent = 0u64;
            while let Some(chunk) = stream.next().await {
                let item = match chunk {
                    Ok(chunk) => {
                        sent += chunk.len() as u64;
                        if sent > expected { Err(problem(RegistryProblem::TooLarge { what: "layer", size: sent, limit: expected })) } else { Ok(chunk) }
                    }
                    Err(error) => Err(problem(context.io_problem(&error, "layer"))),
                };
                let stop = item.is_err();
                if sender.send(item).await.is_err() || stop {
                    return;
                }
            }
        });
        Self { chunks, current: Chunk::new(), offset: 0, received: 0, expected }
    }
}

impl Read for BlobReader {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        while self.offset == self.current.len() {
            match self.chunks.blocking_recv() {
                Some(Ok(chunk)) => {
                    self.received += chunk.len() as u64;
                    self.current = chunk;
                    self.offset = 0;
                }
                Some(Err(error)) => return Err(error),
                // The sender checked the upper bound; a short blob is caught here.
                None if self.received < self.expected => {
                    return Err(problem(RegistryProblem::Truncated { what: "layer", received: self.received, expected: self.expected }));
                }
                None => return Ok(0),
            }
        }
        let count = buffer.len().min(self.current.len() - self.offset);
        buffer[..count].copy_from_slice(&self.current[self.offset..self.offset + count]);
        self.offset += count;
        Ok(count)
    }
}

/// A registry problem as the I/O error a `Read` returns; the message is the problem's.
fn problem(problem: RegistryProblem) -> std::io::Error {
    std::io::Error::other(problem)
}
