//! Memory-mapped reading that survives the file shrinking underneath it.
//!
//! Reading a page of a memory map beyond the current end of the file raises SIGBUS,
//! which would kill the process. A file being hashed may be truncated by a concurrent
//! writer (or an attacker), so every live map is registered in a small table, and a
//! process-wide SIGBUS handler replaces the pages of a registered map that can no
//! longer be read with zero-filled anonymous pages and marks the map as *faulted*.
//! The hashing then finishes on zeros, and the caller turns the mark into a
//! "file changed while it was being read" error. A SIGBUS at any other address is
//! passed on to the previous handler (by default the process dies, as it would have).

use std::fs::File;
use std::sync::Once;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use memmap2::Mmap;

/// How many maps may be registered at once; callers fall back to `read` beyond this.
const SLOTS: usize = 128;

struct Slot {
    start: AtomicUsize,
    len: AtomicUsize,
    faulted: AtomicBool,
}

#[allow(clippy::declare_interior_mutable_const)]
const EMPTY_SLOT: Slot = Slot {
    start: AtomicUsize::new(0),
    len: AtomicUsize::new(0),
    faulted: AtomicBool::new(false),
};

static TABLE: [Slot; SLOTS] = [EMPTY_SLOT; SLOTS];
static PAGE_SIZE: AtomicUsize = AtomicUsize::new(4096);
static INSTALL: Once = Once::new();
static mut PREVIOUS: std::mem::MaybeUninit<libc::sigaction> = std::mem::MaybeUninit::zeroed();

/// A read-only memory map of a whole file, registered with the SIGBUS handler.
pub struct MappedFile {
    // Field order matters: nothing here is dropped before `slot` is released in `drop`.
    map: Mmap,
    slot: usize,
}

impl MappedFile {
    /// Map `file` (of `len` bytes, `len > 0`); `None` when no table slot is free.
    pub fn map(file: &File, len: usize) -> std::io::Result<Option<MappedFile>> {
        install_handler();
        // SAFETY: the map is read-only and shared. Concurrent modification of the file can
        // change the bytes we read (detected afterwards by comparing metadata) and truncation
        // can make pages unreadable, which raises SIGBUS; the handler installed above turns
        // that into zero pages and a `faulted` mark for every map registered in TABLE, and
        // this map is registered below before any byte of it is read.
        let map = unsafe { memmap2::MmapOptions::new().len(len).map(file)? };
        let start = map.as_ptr() as usize;
        for (index, slot) in TABLE.iter().enumerate() {
            if slot
                .start
                .compare_exchange(0, usize::MAX, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
            {
                slot.faulted.store(false, Ordering::Release);
                slot.len.store(map.len(), Ordering::Release);
                slot.start.store(start, Ordering::Release);
                let _ = map.advise(memmap2::Advice::Sequential);
                return Ok(Some(MappedFile { map, slot: index }));
            }
        }
        Ok(None)
    }

    /// The mapped bytes. After a fault, unreadable pages read as zeros.
    pub fn bytes(&self) -> &[u8] {
        &self.map
    }

    /// True if some page could not be read because the file had shrunk.
    pub fn faulted(&self) -> bool {
        TABLE[self.slot].faulted.load(Ordering::Acquire)
    }
}

impl Drop for MappedFile {
    fn drop(&mut self) {
        // Unregister before the map itself is unmapped (fields drop after this body).
        TABLE[self.slot].start.store(usize::MAX, Ordering::Release);
        TABLE[self.slot].len.store(0, Ordering::Release);
        TABLE[self.slot].start.store(0, Ordering::Release);
    }
}

fn install_handler() {
    INSTALL.call_once(|| {
        // SAFETY: sysconf and sigaction are called with valid arguments; the handler only
        // uses async-signal-safe operations (atomics, mmap, sigaction).
        unsafe {
            let page = libc::sysconf(libc::_SC_PAGESIZE);
            if page > 0 {
                PAGE_SIZE.store(page as usize, Ordering::Relaxed);
            }
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_sigbus as *const () as usize;
            action.sa_flags = libc::SA_SIGINFO | libc::SA_NODEFER;
            libc::sigemptyset(&mut action.sa_mask);
            let previous = &raw mut PREVIOUS;
            libc::sigaction(libc::SIGBUS, &action, (*previous).as_mut_ptr());
        }
    });
}

extern "C" fn on_sigbus(
    _signal: libc::c_int,
    info: *mut libc::siginfo_t,
    _context: *mut libc::c_void,
) {
    // SAFETY: the kernel passes a valid siginfo_t for SA_SIGINFO handlers.
    let address = unsafe { (*info).si_addr() } as usize;
    let page = PAGE_SIZE.load(Ordering::Relaxed);
    for slot in TABLE.iter() {
        let start = slot.start.load(Ordering::Acquire);
        let len = slot.len.load(Ordering::Acquire);
        if start == 0 || start == usize::MAX || address < start || address >= start + len {
            continue;
        }
        let from = address & !(page - 1);
        let end = (start + len).div_ceil(page) * page;
        // SAFETY: [from, end) lies inside a live read-only map that this process registered
        // and that the faulting thread is reading; replacing it with anonymous zero pages
        // (MAP_FIXED) keeps it mapped until MappedFile unmaps the whole range.
        let replaced = unsafe {
            libc::mmap(
                from as *mut libc::c_void,
                end - from,
                libc::PROT_READ,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED,
                -1,
                0,
            )
        };
        if replaced != libc::MAP_FAILED {
            slot.faulted.store(true, Ordering::Release);
            return;
        }
    }
    // Not one of ours: restore the previous disposition; returning re-runs the faulting
    // instruction, which raises SIGBUS again under it.
    // SAFETY: PREVIOUS was filled by sigaction before this handler could run.
    unsafe {
        let previous = &raw const PREVIOUS;
        libc::sigaction(libc::SIGBUS, (*previous).as_ptr(), std::ptr::null_mut());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// Regression test for the SIGBUS hazard: a file truncated after it was mapped must
    /// give a `faulted` map, not kill the process.
    #[test]
    fn truncated_file_faults_instead_of_crashing() {
        let mut file = tempfile::tempfile().unwrap();
        let len = 1 << 20;
        file.write_all(&vec![0xAB; len]).unwrap();
        let mapped = MappedFile::map(&file, len).unwrap().unwrap();
        assert!(!mapped.faulted());
        file.set_len(1000).unwrap();
        let sum: u64 = mapped.bytes().iter().map(|&b| b as u64).sum();
        assert!(mapped.faulted());
        // The first page still holds the file's bytes; the rest reads as zeros.
        assert!((1000 * 0xAB..=4096 * 0xAB).contains(&sum), "{sum}");
    }

    #[test]
    fn intact_file_does_not_fault() {
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(&[1u8; 10_000]).unwrap();
        let mapped = MappedFile::map(&file, 10_000).unwrap().unwrap();
        assert_eq!(mapped.bytes().len(), 10_000);
        assert_eq!(
            mapped.bytes().iter().map(|&b| b as usize).sum::<usize>(),
            10_000
        );
        assert!(!mapped.faulted());
    }
}
