//! The hook through which checks ride along with hashing: every chunk the engine hashes
//! is handed, in order, to a sink (a format check, a content hasher, an outboard tree).

/// Receives every chunk of a file as it is hashed, in order.
pub trait ChunkSink {
    /// The next bytes of the file.
    fn update(&mut self, chunk: &[u8]);
}

/// An optional sink: `None` ignores everything.
impl<S: ChunkSink> ChunkSink for Option<S> {
    fn update(&mut self, chunk: &[u8]) {
        if let Some(sink) = self {
            sink.update(chunk);
        }
    }
}

/// A sink that ignores everything.
pub struct NoSink;

impl ChunkSink for NoSink {
    fn update(&mut self, _chunk: &[u8]) {}
}

/// Two sinks fed the same chunks.
pub struct Tee<'a>(pub &'a mut dyn ChunkSink, pub &'a mut dyn ChunkSink);

impl ChunkSink for Tee<'_> {
    fn update(&mut self, chunk: &[u8]) {
        self.0.update(chunk);
        self.1.update(chunk);
    }
}
