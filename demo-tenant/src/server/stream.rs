//! Bodies made as they are sent, never whole in memory: a producer on a blocking thread writes
//! into [`Chunks`], which hands the connection chunks of about 64 KiB through a channel of a few
//! chunks. The channel's bound is the backpressure: a slow client slows the producer, and a
//! client that goes away (or a tenant that stops) stops it at its next chunk. So a body of any
//! size costs the server a few chunks of memory.

use std::io::{self, Write};
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};
use tokio::sync::mpsc;

/// About how many bytes a chunk holds.
pub(crate) const CHUNK: usize = 64 * 1024;
/// How many chunks may wait for the client.
const QUEUED: usize = 4;

type Chunk = Result<Bytes, io::Error>;

/// A response body fed by a producer (see [`streamed`]). An `Err` chunk aborts the response:
/// hyper closes the connection, and the client sees its body end with an error.
#[derive(Debug)]
pub(crate) struct ChannelBody {
    chunks: mpsc::Receiver<Chunk>,
    /// An error received and held back for one poll, so that hyper writes out the data it
    /// buffered before it (it drops its buffer when a body fails).
    failing: Option<io::Error>,
}

impl Body for ChannelBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        if let Some(error) = self.failing.take() {
            return Poll::Ready(Some(Err(error)));
        }
        match self.chunks.poll_recv(cx) {
            Poll::Ready(Some(Err(error))) => {
                // Pending once: hyper flushes what it holds, then polls again for the error.
                self.failing = Some(error);
                cx.waker().wake_by_ref();
                Poll::Pending
            }
            other => other.map(|chunk| chunk.map(|chunk| chunk.map(Frame::data))),
        }
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::default()
    }
}

/// Where a producer writes: bytes are buffered until a chunk is full, then sent.
#[derive(Debug)]
pub(crate) struct Chunks {
    sender: Option<mpsc::Sender<Chunk>>,
    buffer: Vec<u8>,
}

impl Chunks {
    /// Sends what is buffered (an error when the client went away).
    fn send_buffer(&mut self) -> io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(
            &mut self.buffer,
            Vec::with_capacity(CHUNK + CHUNK / 4),
        ));
        match &self.sender {
            Some(sender) => sender
                .blocking_send(Ok(chunk))
                .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the client went away")),
            None => Ok(()),
        }
    }

    /// Sends what is buffered and ends the body cleanly; later writes are dropped.
    pub(crate) fn end(&mut self) {
        let _ = self.send_buffer();
        self.sender = None;
    }

    /// Sends what is buffered, then cuts the connection (the client's body ends with an
    /// error, as a dropped download does); later writes are dropped.
    pub(crate) fn cut(&mut self) {
        let _ = self.send_buffer();
        if let Some(sender) = self.sender.take() {
            let _ = sender.blocking_send(Err(io::Error::new(
                io::ErrorKind::ConnectionAborted,
                "download cut on purpose",
            )));
        }
    }
}

impl Write for Chunks {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if self.sender.is_none() {
            return Ok(data.len());
        }
        self.buffer.extend_from_slice(data);
        if self.buffer.len() >= CHUNK {
            self.send_buffer()?;
        }
        Ok(data.len())
    }

    /// Chunks go when full, or at the end: a flush sends nothing early.
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A body that `produce` writes on a blocking thread as the client reads it. When `produce`
/// returns `Ok`, what it wrote is sent and the body ends; when it fails (other than because the
/// client went away), the connection is cut.
pub(crate) fn streamed(
    produce: impl FnOnce(&mut Chunks) -> io::Result<()> + Send + 'static,
) -> ChannelBody {
    let (sender, receiver) = mpsc::channel(QUEUED);
    tokio::task::spawn_blocking(move || {
        let mut chunks = Chunks {
            sender: Some(sender),
            buffer: Vec::with_capacity(CHUNK + CHUNK / 4),
        };
        match produce(&mut chunks) {
            Ok(()) => chunks.end(),
            Err(_) => chunks.cut(),
        }
    });
    ChannelBody {
        chunks: receiver,
        failing: None,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use http_body_util::BodyExt;

    use super::*;

    /// However much a producer has to write, it is never more than a few chunks ahead of what
    /// the client has read: the server holds a few chunks, never a whole body.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_producer_stays_a_few_chunks_ahead_of_the_reader() {
        const TOTAL: usize = 64 * 1024 * 1024;
        let produced = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&produced);
        let mut body = streamed(move |chunks| {
            let block = [7u8; 1024];
            for _ in 0..TOTAL / block.len() {
                // Counted before it is written: never less than what was read.
                counter.fetch_add(block.len(), Ordering::SeqCst);
                chunks.write_all(&block)?;
            }
            Ok(())
        });
        let mut read = 0;
        while let Some(frame) = body.frame().await {
            read += frame.unwrap().into_data().unwrap().len();
            let ahead = produced.load(Ordering::SeqCst) - read;
            // Queued chunks, the one being sent, and the one being filled.
            assert!(
                ahead <= (QUEUED + 2) * (CHUNK + 1024),
                "{ahead} bytes ahead"
            );
        }
        assert_eq!(read, TOTAL);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_cut_body_ends_with_an_error_after_its_data() {
        let mut body = streamed(|chunks| {
            chunks.write_all(b"half")?;
            chunks.cut();
            chunks.write_all(b"dropped")
        });
        let first = body.frame().await.unwrap().unwrap().into_data().unwrap();
        assert_eq!(&first[..], b"half");
        assert!(body.frame().await.unwrap().is_err());
        assert!(body.frame().await.is_none());
    }
}
