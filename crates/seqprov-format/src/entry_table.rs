//! The entries of a parsed bundle, held compactly: one fixed-size record per entry and
//! one buffer holding every path and link target, instead of one heap value per entry
//! and per path. A decoded entry list then costs less than twice its size on disk even
//! when its entries are the smallest the format allows (issue 12 item 7,
//! `spec/bundle.md` §13), and a million sealed files cost about 100 bytes each plus
//! their paths.
//!
//! [`EntryTable`] is read through [`EntryRef`], a borrowed view of one entry;
//! [`EntryRef::to_entry`] makes an owned [`Entry`] where one is needed.

use crate::manifest::{Bytes32, Entry, EntryKind};
use crate::run_record::FastqContent;

/// `Record::flags` bits.
const HAS_SIZE: u8 = 1;
const HAS_BLAKE3: u8 = 2;
const HAS_TARGET: u8 = 4;
/// No [`Extra`] for this entry.
const NO_EXTRA: u32 = u32::MAX;

/// One entry's fixed part.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Record {
    salt: Bytes32,
    /// Zero when absent (see `flags`).
    blake3: Bytes32,
    /// Zero when absent (see `flags`).
    size: u64,
    /// Where the path begins in [`EntryTable::text`]; the link target, if any, follows it.
    text_start: u64,
    path_len: u32,
    /// Zero when there is no target (see `flags`).
    target_len: u32,
    /// Index into [`EntryTable::extras`], or [`NO_EXTRA`].
    extra: u32,
    kind: EntryKind,
    flags: u8,
}

/// The fields few entries have.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Extra {
    sha256: Option<Bytes32>,
    content: Option<Box<FastqContent>>,
}

/// Entries in list order, held compactly (see the module documentation).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EntryTable {
    records: Vec<Record>,
    /// Every path and link target, one after another.
    text: String,
    extras: Vec<Extra>,
}

/// Why an entry could not be added to an [`EntryTable`].
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("the entry table is full: more than {} entries with sha256 or content, or more text than fits in memory", u32::MAX - 1)]
pub struct TableFull;

impl EntryTable {
    /// An empty table with room for `entries` records.
    pub fn with_capacity(entries: usize) -> EntryTable {
        EntryTable {
            records: Vec::with_capacity(entries),
            text: String::new(),
            extras: Vec::new(),
        }
    }

    /// Add an entry at the end.
    pub fn push(&mut self, entry: &Entry) -> Result<(), TableFull> {
        let path_len = u32::try_from(entry.path.len()).map_err(|_| TableFull)?;
        let target_len = entry
            .target
            .as_deref()
            .map_or(Ok(0), |t| u32::try_from(t.len()))
            .map_err(|_| TableFull)?;
        let extra = if entry.sha256.is_some() || entry.content.is_some() {
            let index = u32::try_from(self.extras.len()).map_err(|_| TableFull)?;
            if index == NO_EXTRA {
                return Err(TableFull);
            }
            self.extras.push(Extra {
                sha256: entry.sha256,
                content: entry.content.clone(),
            });
            index
        } else {
            NO_EXTRA
        };
        let text_start = self.text.len() as u64;
        self.text.push_str(&entry.path);
        if let Some(target) = &entry.target {
            self.text.push_str(target);
        }
        let mut flags = 0;
        if entry.size.is_some() {
            flags |= HAS_SIZE;
        }
        if entry.blake3.is_some() {
            flags |= HAS_BLAKE3;
        }
        if entry.target.is_some() {
            flags |= HAS_TARGET;
        }
        self.records.push(Record {
            salt: entry.salt,
            blake3: entry.blake3.unwrap_or(Bytes32([0; 32])),
            size: entry.size.unwrap_or(0),
            text_start,
            path_len,
            target_len,
            extra,
            kind: entry.kind,
            flags,
        });
        Ok(())
    }

    /// How many entries the table holds.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Whether the table holds no entry.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// Entry `index`, if there is one.
    pub fn get(&self, index: usize) -> Option<EntryRef<'_>> {
        self.records.get(index).map(|record| EntryRef {
            table: self,
            record,
        })
    }

    /// Every entry, in list order.
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            table: self,
            records: self.records.iter(),
        }
    }

    /// Every entry as an owned [`Entry`], in list order.
    pub fn to_entries(&self) -> Vec<Entry> {
        self.iter().map(|e| e.to_entry()).collect()
    }
}

impl<'a> IntoIterator for &'a EntryTable {
    type Item = EntryRef<'a>;
    type IntoIter = Iter<'a>;

    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

impl TryFrom<&[Entry]> for EntryTable {
    type Error = TableFull;

    fn try_from(entries: &[Entry]) -> Result<EntryTable, TableFull> {
        let mut table = EntryTable::with_capacity(entries.len());
        for entry in entries {
            table.push(entry)?;
        }
        Ok(table)
    }
}

/// The entries of an [`EntryTable`], in order.
#[derive(Clone, Debug)]
pub struct Iter<'a> {
    table: &'a EntryTable,
    records: std::slice::Iter<'a, Record>,
}

impl<'a> Iterator for Iter<'a> {
    type Item = EntryRef<'a>;

    fn next(&mut self) -> Option<EntryRef<'a>> {
        self.records.next().map(|record| EntryRef {
            table: self.table,
            record,
        })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.records.size_hint()
    }
}

impl DoubleEndedIterator for Iter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.records.next_back().map(|record| EntryRef {
            table: self.table,
            record,
        })
    }
}

impl ExactSizeIterator for Iter<'_> {}

/// One entry of an [`EntryTable`], borrowed; the accessors return what [`Entry`]'s
/// fields hold.
#[derive(Clone, Copy, Debug)]
pub struct EntryRef<'a> {
    table: &'a EntryTable,
    record: &'a Record,
}

impl PartialEq for EntryRef<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.path() == other.path()
            && self.record.kind == other.record.kind
            && self.record.salt == other.record.salt
            && self.size() == other.size()
            && self.blake3() == other.blake3()
            && self.sha256() == other.sha256()
            && self.target() == other.target()
            && self.content() == other.content()
    }
}

impl Eq for EntryRef<'_> {}

impl<'a> EntryRef<'a> {
    fn text(&self, start: u64, len: u32) -> &'a str {
        // Offsets were taken from `text` as it was built, at character boundaries.
        let start = start as usize;
        &self.table.text[start..start + len as usize]
    }

    fn extra(&self) -> Option<&'a Extra> {
        self.table.extras.get(self.record.extra as usize)
    }

    /// The entry's path.
    pub fn path(&self) -> &'a str {
        self.text(self.record.text_start, self.record.path_len)
    }

    /// What the path is.
    pub fn kind(&self) -> EntryKind {
        self.record.kind
    }

    /// The entry's salt.
    pub fn salt(&self) -> &'a Bytes32 {
        &self.record.salt
    }

    /// The file's size (files only).
    pub fn size(&self) -> Option<u64> {
        (self.record.flags & HAS_SIZE != 0).then_some(self.record.size)
    }

    /// The file's BLAKE3 digest (files only).
    pub fn blake3(&self) -> Option<Bytes32> {
        (self.record.flags & HAS_BLAKE3 != 0).then_some(self.record.blake3)
    }

    /// The file's SHA-256 digest (files of seals made with SHA-256 only).
    pub fn sha256(&self) -> Option<Bytes32> {
        self.extra().and_then(|e| e.sha256)
    }

    /// The link's target text (symlinks only).
    pub fn target(&self) -> Option<&'a str> {
        (self.record.flags & HAS_TARGET != 0).then(|| {
            self.text(
                self.record.text_start + u64::from(self.record.path_len),
                self.record.target_len,
            )
        })
    }

    /// The FASTQ content identity (FASTQ files sealed with `--content` only).
    pub fn content(&self) -> Option<&'a FastqContent> {
        self.extra().and_then(|e| e.content.as_deref())
    }

    /// The entry as an owned [`Entry`].
    pub fn to_entry(&self) -> Entry {
        Entry {
            path: self.path().to_string(),
            kind: self.kind(),
            salt: *self.salt(),
            size: self.size(),
            blake3: self.blake3(),
            sha256: self.sha256(),
            target: self.target().map(str::to_string),
            content: self.content().map(|c| Box::new(*c)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries() -> Vec<Entry> {
        let mut file = Entry::bare("a/b.fastq".into(), EntryKind::File, Bytes32([1; 32]));
        file.size = Some(0);
        file.blake3 = Some(Bytes32([2; 32]));
        let mut with_sha = file.clone();
        with_sha.path = "a/c.fastq".into();
        with_sha.sha256 = Some(Bytes32([3; 32]));
        with_sha.content = Some(Box::new(FastqContent {
            reads: 1,
            bases: 4,
            digest: Bytes32([4; 32]),
        }));
        let mut link = Entry::bare("a/é".into(), EntryKind::Symlink, Bytes32([5; 32]));
        link.target = Some("../ü/x".into());
        let dir = Entry::bare("z".into(), EntryKind::Dir, Bytes32([6; 32]));
        vec![file, with_sha, link, dir]
    }

    #[test]
    fn every_field_of_every_kind_comes_back_as_it_went_in() {
        let entries = entries();
        let table = EntryTable::try_from(entries.as_slice()).unwrap();
        assert_eq!(table.len(), 4);
        assert_eq!(table.to_entries(), entries);
        let link = table.get(2).unwrap();
        assert_eq!((link.path(), link.target()), ("a/é", Some("../ü/x")));
        assert_eq!(link.size(), None);
        assert_eq!(
            table.get(0).unwrap().size(),
            Some(0),
            "a size of 0 is a size"
        );
        assert_eq!(table.get(0).unwrap().sha256(), None);
        assert!(table.get(4).is_none());
        assert_eq!(table.iter().next_back().unwrap().path(), "z");
    }

    #[test]
    fn an_entry_with_an_empty_target_keeps_it() {
        let mut link = Entry::bare("l".into(), EntryKind::Symlink, Bytes32([0; 32]));
        link.target = Some(String::new());
        let table = EntryTable::try_from(std::slice::from_ref(&link)).unwrap();
        assert_eq!(table.get(0).unwrap().target(), Some(""));
        assert_eq!(table.get(0).unwrap().to_entry(), link);
    }

    #[test]
    fn a_record_is_at_most_96_bytes() {
        assert!(std::mem::size_of::<Record>() <= 96);
    }
}
