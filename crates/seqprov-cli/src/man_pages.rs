//! `seqprov man --out DIR`: the manual pages (roff, section 1), one per command, rendered
//! by `clap_mangen` from the same argument definitions the binary parses with.
//!
//! Each page is written atomically (`seqprov::write_atomically`: a temporary file created
//! with `O_EXCL | O_NOFOLLOW`, fsync, rename), so a reader never sees half a page and a
//! symbolic link at a page's name is replaced, never written through. Before anything is
//! written every destination is checked: a name that is taken by anything but a page an
//! earlier `seqprov man` wrote (a symbolic link, a directory, a FIFO, another program's
//! file) stops the command with exit 2 and nothing is written.

use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::CommandFactory;
use seqprov::{ExitStatus, Overwrite};

use crate::args::{Cli, ManArgs};
use crate::terminal_text::terminal_safe;

/// The first line of every page written: a roff comment that marks the file as one
/// `seqprov man` may replace.
pub(crate) const PAGE_MARKER: &str =
    ".\\\" Written by `seqprov man`; the next `seqprov man` replaces this file.\n";

/// One manual page: its file name (`seqprov-custody-append.1`) and its roff text.
#[derive(Debug)]
pub(crate) struct ManPage {
    /// The file name, `TITLE.1`.
    pub file_name: String,
    /// The page, starting with [`PAGE_MARKER`].
    pub roff: Vec<u8>,
}

/// Every page: `seqprov.1` and one per (nested) subcommand, parents first.
pub(crate) fn man_pages() -> Result<Vec<ManPage>> {
    let mut command = Cli::command().disable_help_subcommand(true);
    command.build();
    let mut pages = Vec::new();
    collect_pages(&command, &mut pages)?;
    Ok(pages)
}

fn collect_pages(command: &clap::Command, pages: &mut Vec<ManPage>) -> Result<()> {
    // Subcommands carry no version of their own; each page's footer names the release.
    let man = clap_mangen::Man::new(command.clone().version(env!("CARGO_PKG_VERSION")));
    let mut roff = PAGE_MARKER.as_bytes().to_vec();
    man.render(&mut roff).context("rendering a manual page")?;
    pages.push(ManPage {
        file_name: man.get_filename(),
        roff,
    });
    for sub in command.get_subcommands().filter(|s| !s.is_hide_set()) {
        collect_pages(sub, pages)?;
    }
    Ok(())
}

/// `seqprov man`.
pub(crate) fn man(a: ManArgs) -> Result<ExitStatus> {
    let pages = man_pages()?;
    prepare_directory(&a.out)?;
    let destinations: Vec<PathBuf> = pages.iter().map(|p| a.out.join(&p.file_name)).collect();
    for path in &destinations {
        check_replaceable(path)?;
    }
    for (page, path) in pages.iter().zip(&destinations) {
        seqprov::write_atomically(path, &page.roff, Overwrite::Replace)
            .with_context(|| format!("writing {}", path.display()))?;
        outln!("{}", terminal_safe(&path.display().to_string()));
    }
    Ok(ExitStatus::Verified)
}

/// Create `dir` (and its parents) if it does not exist; refuse it if it is a symbolic
/// link or not a directory.
fn prepare_directory(dir: &Path) -> Result<()> {
    match std::fs::symlink_metadata(dir) {
        Ok(meta) if meta.file_type().is_symlink() => bail!(seqprov::Error::Refused(format!(
            "--out {} is a symbolic link; give the directory it leads to",
            dir.display()
        ))),
        Ok(meta) if !meta.is_dir() => bail!(seqprov::Error::Refused(format!(
            "--out {} is not a directory",
            dir.display()
        ))),
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))
        }
        Err(e) => Err(e).with_context(|| format!("reading {}", dir.display())),
    }
}

/// Whether `path` may be replaced: it is absent, or a regular file (not a symbolic link)
/// that begins with [`PAGE_MARKER`].
fn check_replaceable(path: &Path) -> Result<()> {
    let refuse = |what: &str| -> Result<()> {
        bail!(seqprov::Error::Refused(format!(
            "{} {what}; refusing to replace it (remove it, or choose another --out)",
            path.display()
        )))
    };
    let lstat = match std::fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    if lstat.file_type().is_symlink() {
        return refuse("is a symbolic link");
    }
    if !lstat.is_file() {
        return refuse("is not a regular file");
    }
    // Opened without blocking and checked to be the very file just looked at (a swap in
    // between is refused, not followed).
    let (file, opened) = seqprov::engine::bounded_read::open_regular_file(path)
        .map_err(seqprov::Error::from)
        .with_context(|| format!("reading {}", path.display()))?;
    use std::os::unix::fs::MetadataExt;
    if (opened.dev(), opened.ino()) != (lstat.dev(), lstat.ino()) {
        return refuse("changed while it was being checked");
    }
    let mut head = Vec::with_capacity(PAGE_MARKER.len());
    file.take(PAGE_MARKER.len() as u64)
        .read_to_end(&mut head)
        .with_context(|| format!("reading {}", path.display()))?;
    if head != PAGE_MARKER.as_bytes() {
        return refuse("is not a page written by `seqprov man`");
    }
    Ok(())
}
