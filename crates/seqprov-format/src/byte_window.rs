//! A sliding window over a byte stream, for decoding a bundle without holding the whole
//! file: the decoder sees the bytes read but not yet consumed, asks for more when an item
//! ends past them, and the consumed bytes are dropped before the next read. So the window
//! never holds more than the largest item being decoded plus one read.

use std::io::{self, Read};

/// How many bytes one read asks for.
const READ_SIZE: usize = 1 << 20;

/// The bytes of a stream that have been read but not yet consumed.
pub(crate) struct ByteWindow<R> {
    reader: R,
    buf: Vec<u8>,
    /// Where the unconsumed bytes start in `buf`.
    start: usize,
    /// Offset in the stream of `buf[start]`.
    offset: u64,
    eof: bool,
}

impl<R: Read> ByteWindow<R> {
    /// A window at the start of `reader`, empty until [`ByteWindow::read_more`].
    pub(crate) fn new(reader: R) -> ByteWindow<R> {
        ByteWindow {
            reader,
            buf: Vec::new(),
            start: 0,
            offset: 0,
            eof: false,
        }
    }

    /// The bytes read and not yet consumed.
    pub(crate) fn available(&self) -> &[u8] {
        &self.buf[self.start..]
    }

    /// Offset in the stream of the first available byte.
    pub(crate) fn offset(&self) -> u64 {
        self.offset
    }

    /// Drop the first `n` available bytes.
    pub(crate) fn consume(&mut self, n: usize) {
        debug_assert!(n <= self.available().len());
        self.start += n;
        self.offset += n as u64;
    }

    /// Read up to one more block after the available bytes (dropping the consumed ones
    /// first); false when the stream has ended and nothing more came.
    pub(crate) fn read_more(&mut self) -> io::Result<bool> {
        if self.eof {
            return Ok(false);
        }
        if self.start > 0 {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        self.buf.reserve_exact(READ_SIZE);
        let read = (&mut self.reader)
            .take(READ_SIZE as u64)
            .read_to_end(&mut self.buf)?;
        if read == 0 {
            self.eof = true;
        }
        Ok(read > 0)
    }

    /// Drop the bytes already consumed and give back memory beyond what the next reads
    /// need: after a large seal, the window does not keep the seal's size resident.
    pub(crate) fn release_consumed(&mut self) {
        self.buf.drain(..self.start);
        self.start = 0;
        self.buf.shrink_to(self.buf.len().max(2 * READ_SIZE));
    }

    /// The offset of the end of the stream: the available bytes and whatever is left
    /// are counted, not held (what is left is read and dropped).
    pub(crate) fn count_to_end(&mut self) -> io::Result<u64> {
        let left = if self.eof {
            0
        } else {
            io::copy(&mut self.reader, &mut io::sink())?
        };
        self.eof = true;
        Ok(self.offset + self.available().len() as u64 + left)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_consumes_and_returns_the_rest() {
        let data: Vec<u8> = (0..3_000_000u32).map(|i| i as u8).collect();
        let mut window = ByteWindow::new(&data[..]);
        assert!(window.available().is_empty());
        assert!(window.read_more().unwrap());
        assert_eq!(window.available(), &data[..READ_SIZE]);
        window.consume(10);
        assert_eq!(window.offset(), 10);
        assert!(window.read_more().unwrap());
        assert_eq!(window.available(), &data[10..2 * READ_SIZE]);
        window.consume(5);
        assert_eq!(window.count_to_end().unwrap(), data.len() as u64);
        assert_eq!(window.available(), &data[15..2 * READ_SIZE]);
    }

    #[test]
    fn the_end_of_the_stream_is_reported_once_nothing_more_comes() {
        let mut window = ByteWindow::new(&b"abc"[..]);
        assert!(window.read_more().unwrap());
        assert!(!window.read_more().unwrap());
        assert!(!window.read_more().unwrap());
        assert_eq!(window.available(), b"abc");
    }
}
