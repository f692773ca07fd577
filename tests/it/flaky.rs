//! A tiny HTTP/1.1 server on 127.0.0.1:0 that misbehaves on purpose, for what httpmock cannot
//! do: drop a connection before answering, cut a body short or stall it, hold answers until
//! several requests have arrived. Each request gets the next [`Act`] of a script (the last one
//! repeats); every request is counted.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the server does with one request.
#[derive(Clone, Debug)]
pub enum Act {
    /// Close the connection without a byte of response.
    Drop,
    /// Send the status line, the headers (with the full `Content-Length`) and half the body, then
    /// close.
    CutBody(u16, String),
    /// Answer normally.
    Answer(u16, String),
    /// Answer with extra headers.
    AnswerWith(u16, Vec<(String, String)>, String),
    /// Send the status line, the headers and half the body, then nothing more (the connection
    /// stays open until the client gives up).
    StallBody(u16, String),
    /// Answer normally with a binary body.
    Bytes(u16, Vec<u8>),
    /// Send the status line, the headers (with the full `Content-Length`) and half the binary
    /// body, then close.
    CutBytes(u16, Vec<u8>),
    /// Send the status line, the headers and half the binary body, then nothing more (the
    /// connection stays open until the client gives up).
    StallBytes(u16, Vec<u8>),
    /// Wait at the barrier (until as many requests as it counts wait there), then play the act.
    Gate(Arc<tokio::sync::Barrier>, Box<Act>),
    /// The act of the first route whose text the request target (path and query) contains; a
    /// 404 when none does.
    ByTarget(Vec<(String, Act)>),
}

/// A running server; it stops when dropped.
pub struct Flaky {
    pub base_url: String,
    served: Arc<AtomicUsize>,
    paths: Arc<std::sync::Mutex<Vec<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Flaky {
    /// Starts a server that plays `script` (its last act repeats for every later request).
    pub async fn start(script: Vec<Act>) -> Flaky {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        let served = Arc::new(AtomicUsize::new(0));
        let paths = Arc::new(std::sync::Mutex::new(Vec::new()));
        let script = Arc::new(script);
        let (counter, seen) = (Arc::clone(&served), Arc::clone(&paths));
        let base: Arc<str> = base_url.clone().into();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (script, counter, seen) =
                    (Arc::clone(&script), Arc::clone(&counter), Arc::clone(&seen));
                tokio::spawn(serve(stream, script, counter, seen, Arc::clone(&base)));
            }
        });
        Flaky {
            base_url,
            served,
            paths,
            task,
        }
    }

    /// How many requests arrived.
    pub fn requests(&self) -> usize {
        self.served.load(Ordering::SeqCst)
    }

    /// The request targets (path and query) in arrival order.
    pub fn paths(&self) -> Vec<String> {
        self.paths.lock().unwrap().clone()
    }
}

impl Drop for Flaky {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(
    mut stream: TcpStream,
    script: Arc<Vec<Act>>,
    counter: Arc<AtomicUsize>,
    seen: Arc<std::sync::Mutex<Vec<String>>>,
    base: Arc<str>,
) {
    let mut buffer = Vec::new();
    loop {
        // Read one request head (requests of this crate have no body, or a form body that
        // `Content-Length` announces).
        let head_end = loop {
            if let Some(end) = find(&buffer, b"\r\n\r\n") {
                break end + 4;
            }
            let mut chunk = [0u8; 4096];
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buffer.extend_from_slice(&chunk[..n]),
            }
        };
        let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
        let length = head
            .lines()
            .find_map(|l| {
                let (name, value) = l.split_once(':')?;
                name.eq_ignore_ascii_case("content-length")
                    .then(|| value.trim().parse::<usize>().ok())?
            })
            .unwrap_or(0);
        while buffer.len() < head_end + length {
            let mut chunk = [0u8; 4096];
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buffer.extend_from_slice(&chunk[..n]),
            }
        }
        buffer.drain(..head_end + length);
        let target = head.split_whitespace().nth(1).unwrap_or("").to_owned();
        seen.lock().unwrap().push(target.clone());
        let n = counter.fetch_add(1, Ordering::SeqCst);
        let mut act = script[n.min(script.len() - 1)].clone();
        let act = loop {
            act = match act {
                Act::Gate(barrier, inner) => {
                    barrier.wait().await;
                    *inner
                }
                Act::ByTarget(routes) => routes
                    .into_iter()
                    .find(|(part, _)| target.contains(part.as_str()))
                    .map_or(Act::Answer(404, String::new()), |(_, act)| act),
                act => break act,
            };
        };
        let (status, headers, body, cut, stall): (u16, Vec<(String, String)>, Vec<u8>, bool, bool) =
            match act {
                Act::Drop => return,
                Act::CutBody(status, body) => (status, vec![], body.into_bytes(), true, false),
                Act::Answer(status, body) => (status, vec![], body.into_bytes(), false, false),
                Act::AnswerWith(status, headers, body) => {
                    (status, headers, body.into_bytes(), false, false)
                }
                Act::StallBody(status, body) => (status, vec![], body.into_bytes(), true, true),
                Act::Bytes(status, body) => (status, vec![], body, false, false),
                Act::CutBytes(status, body) => (status, vec![], body, true, false),
                Act::StallBytes(status, body) => (status, vec![], body, true, true),
                Act::Gate(..) | Act::ByTarget(_) => unreachable!("played above"),
            };
        let body = match String::from_utf8(body) {
            Ok(text) => text.replace("{base}", &base).into_bytes(),
            Err(binary) => binary.into_bytes(),
        };
        let mut response = format!(
            "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\n",
            body.len()
        );
        for (name, value) in headers {
            response += &format!("{name}: {value}\r\n");
        }
        response += "\r\n";
        let sent = if cut {
            &body[..body.len() / 2]
        } else {
            &body[..]
        };
        let mut response = response.into_bytes();
        response.extend_from_slice(sent);
        if stream.write_all(&response).await.is_err() {
            return;
        }
        let _ = stream.flush().await;
        if stall {
            // Hold the connection open without sending more, until the client closes it.
            let mut rest = [0u8; 64];
            while let Ok(n) = stream.read(&mut rest).await {
                if n == 0 {
                    break;
                }
            }
            return;
        }
        if cut {
            return;
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
