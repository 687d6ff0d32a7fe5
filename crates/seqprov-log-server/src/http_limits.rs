//! The bounds both HTTP services (the log, the witness) hold every client to
//! (spec/log.md §4): a read and write timeout on each connection, a deadline for a
//! request's whole body, and a limit on the connections open at once. tiny_http (patched,
//! vendor/README.md) applies the first and the last, and bounds request heads; the body is
//! read here, in bounded chunks and under the deadline, never into a buffer sized by the
//! client's `Content-Length`.

use std::io::Read as _;
use std::time::{Duration, Instant};

/// The bounds of one HTTP service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpLimits {
    /// Read and write timeout of every connection (each read or write waits at most this
    /// long), and the time a client has to send a request's head once it has begun.
    pub connection_timeout: Duration,
    /// The time a client has to send a request's whole body, from when the handler starts
    /// reading it (checked after every read, so a client is cut off at most one
    /// `connection_timeout` after it).
    pub body_deadline: Duration,
    /// The most connections open at once; one more is answered `503` and closed.
    pub max_connections: usize,
    /// The most connections open at once from one IP address; one more from it is
    /// answered `503` and closed (one client cannot hold them all).
    pub max_connections_per_ip: usize,
    /// The slowest a client may take a response, in bytes per second on average after a
    /// grace of `connection_timeout` (0: no bound); slower, the response is cut and the
    /// connection closed, so a client reading a little at a time cannot hold a worker.
    pub min_response_rate: u64,
}

impl Default for HttpLimits {
    fn default() -> HttpLimits {
        HttpLimits {
            connection_timeout: Duration::from_secs(10),
            body_deadline: Duration::from_secs(10),
            max_connections: 256,
            max_connections_per_ip: 64,
            min_response_rate: 64 * 1024,
        }
    }
}

impl HttpLimits {
    /// tiny_http's limits for these bounds (head lines of at most 8 KiB, heads of at most
    /// 64 KiB and 100 headers).
    pub(crate) fn server_limits(&self) -> tiny_http::ServerLimits {
        tiny_http::ServerLimits {
            connection_timeout: Some(self.connection_timeout),
            max_connections: self.max_connections.max(1),
            max_connections_per_ip: self.max_connections_per_ip.max(1),
            min_write_rate: self.min_response_rate,
            ..tiny_http::ServerLimits::default()
        }
    }
}

/// Why a request body was not read.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    /// Longer than the endpoint accepts (`413`).
    #[error("the body is over {limit} bytes")]
    TooLarge {
        /// The endpoint's limit.
        limit: usize,
    },
    /// Shorter than its `Content-Length` (`400`).
    #[error("the body is shorter than its Content-Length")]
    Short,
    /// Not sent within the deadline, or a read timed out (`408`).
    #[error("the body was not sent in time")]
    Slow,
    /// The connection failed (`400`).
    #[error("reading the body: {0}")]
    Io(std::io::Error),
}

impl BodyError {
    /// The HTTP status the client gets.
    pub fn status(&self) -> u16 {
        match self {
            BodyError::TooLarge { .. } => 413,
            BodyError::Short | BodyError::Io(_) => 400,
            BodyError::Slow => 408,
        }
    }
}

/// How much of a body is read at once.
const CHUNK: usize = 64 * 1024;

/// Reads a request's body: `TooLarge` before reading anything when its `Content-Length`
/// is over `limit`; otherwise read in chunks of at most 64 KiB (the buffer grows with what
/// arrived, never with what was announced) until its end or `limit + 1` bytes, failing
/// with `Slow` once `deadline` has passed since the call.
pub fn read_body(
    request: &mut tiny_http::Request,
    limit: usize,
    deadline: Duration,
) -> Result<Vec<u8>, BodyError> {
    let declared = request.body_length();
    if declared.is_some_and(|len| len > limit) {
        return Err(BodyError::TooLarge { limit });
    }
    let until = Instant::now() + deadline;
    let body = read_bounded(request.as_reader(), limit, until)?;
    if declared.is_some_and(|len| body.len() < len) {
        return Err(BodyError::Short);
    }
    Ok(body)
}

/// Reads `reader` to its end, at most `limit` bytes, in chunks, until `until`.
fn read_bounded(
    reader: &mut dyn std::io::Read,
    limit: usize,
    until: Instant,
) -> Result<Vec<u8>, BodyError> {
    let mut body = Vec::new();
    let mut chunk = vec![0u8; CHUNK];
    let mut reader = reader.take(limit as u64 + 1);
    loop {
        if Instant::now() > until {
            return Err(BodyError::Slow);
        }
        match reader.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => body.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return Err(BodyError::Slow);
            }
            Err(e) => return Err(BodyError::Io(e)),
        }
    }
    if body.len() > limit {
        return Err(BodyError::TooLarge { limit });
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Gives one byte per read, waiting `pause` before each.
    struct Trickle {
        left: usize,
        pause: Duration,
    }

    impl std::io::Read for Trickle {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.left == 0 || buf.is_empty() {
                return Ok(0);
            }
            std::thread::sleep(self.pause);
            self.left -= 1;
            buf[0] = b'x';
            Ok(1)
        }
    }

    #[test]
    fn a_trickled_body_is_cut_off_at_the_deadline() {
        let mut trickle = Trickle {
            left: 1000,
            pause: Duration::from_millis(20),
        };
        let start = Instant::now();
        let got = read_bounded(&mut trickle, 10_000, start + Duration::from_millis(200));
        assert!(matches!(got, Err(BodyError::Slow)), "{got:?}");
        assert!(start.elapsed() < Duration::from_millis(600));
        assert!(trickle.left > 900, "read {} bytes", 1000 - trickle.left);
    }

    #[test]
    fn a_body_over_the_limit_is_refused_after_limit_plus_one_bytes() {
        let mut endless = std::io::repeat(b'x');
        let got = read_bounded(
            &mut endless,
            100_000,
            Instant::now() + Duration::from_secs(5),
        );
        assert!(
            matches!(got, Err(BodyError::TooLarge { limit: 100_000 })),
            "{got:?}"
        );
    }
}
