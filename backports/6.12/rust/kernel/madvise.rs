// SPDX-License-Identifier: GPL-2.0

//! The madvise(2) behaviour table.
//!
//! Every `MADV_*` advice value is described here once, and `mm/madvise.c`
//! asks this table instead of keeping its own lists:
//!
//! - whether madvise() accepts it;
//! - whether process_madvise() accepts it on the caller's own mm, and on
//!   another process's mm;
//! - whether its effect is visible to the target (zero-fill, lost data), in
//!   which case a remote caller needs `PTRACE_MODE_ATTACH_REALCREDS`;
//! - which mmap lock it runs under;
//! - whether one `mmu_gather` may span a whole call (one TLB flush for a
//!   vector of ranges), and whether the call runs under a block plug.
//!
//! Most of these facts follow from what kind of operation an advice is
//! ([`Kind`]), so they cannot contradict each other.  The lookup of a value
//! that comes from user space is bounds-checked and clamped with
//! `array_index_nospec()` before it is matched on.
//!
//! C header: [`include/linux/madvise_table.h`](srctree/include/linux/madvise_table.h)
//!
//! # Contract
//!
//! The checks below run as KUnit cases at boot.
//!
//! ```
//! use kernel::madvise::{behavior, Kind, LockMode};
//! use kernel::uapi;
//!
//! // Every advice that destroys data the target can see.
//! let destructive = [
//!     uapi::MADV_DONTNEED,
//!     uapi::MADV_DONTNEED_LOCKED,
//!     uapi::MADV_FREE,
//!     uapi::MADV_REMOVE,
//! ];
//! // The advices whose C code is written to run under the read lock.
//! let read_safe = [
//!     uapi::MADV_WILLNEED,
//!     uapi::MADV_COLD,
//!     uapi::MADV_PAGEOUT,
//!     uapi::MADV_COLLAPSE,
//!     uapi::MADV_DONTNEED,
//!     uapi::MADV_DONTNEED_LOCKED,
//!     uapi::MADV_FREE,
//!     uapi::MADV_REMOVE,
//!     uapi::MADV_POPULATE_READ,
//!     uapi::MADV_POPULATE_WRITE,
//! ];
//! let mut known = 0;
//! for v in -2i32..=200 {
//!     let Some(b) = behavior(v) else { continue };
//!     known += 1;
//!     assert_eq!(b.advice as i32, v);
//!     // No destructive advice is remote-valid without the attach right.
//!     if destructive.contains(&b.advice) {
//!         assert!(!b.remote || b.needs_attach());
//!     }
//!     // Everything under the read lock is known to be safe there.
//!     if b.lock_mode() == LockMode::Read {
//!         assert!(read_safe.contains(&b.advice));
//!     }
//!     // VMA flag changes always take the write lock, and are never remote.
//!     if b.kind == Kind::UpdatesVma {
//!         assert_eq!(b.lock_mode(), LockMode::Write);
//!         assert!(!b.remote);
//!     }
//!     // One gather per call only where the advice zaps or ages PTEs.
//!     if b.tlb_batch {
//!         assert!(matches!(b.kind, Kind::Discards | Kind::Hint));
//!         assert_eq!(b.lock_mode(), LockMode::Read);
//!     }
//! }
//! // 18 values are always known; KSM, THP and memory failure add 7 more.
//! assert!((18..=25).contains(&known));
//! ```

use crate::bindings;
use crate::uapi;

/// Smallest value above every known advice; the range the lookup accepts.
const ADVICE_LIMIT: u32 = uapi::MADV_SOFT_OFFLINE + 1;

/// What an advice does, which decides how it must be run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Changes `vm_flags` through `madvise_update_vma()`: may split and merge
    /// VMAs, so it needs the mmap write lock.
    UpdatesVma,
    /// Discards page contents (zero-fill or lazy free) that the target sees.
    Discards,
    /// Punches a hole in the backing file: data loss visible to every user.
    RemovesBacking,
    /// Only a hint about page aging, reclaim or readahead.
    Hint,
    /// Faults pages in; drops and retakes the read lock while it works.
    Populates,
    /// Memory-failure injection; takes no mmap lock.
    InjectsError,
}

/// The facts about one advice value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Behavior {
    /// The `MADV_*` value.
    pub advice: u32,
    /// What it does.
    pub kind: Kind,
    /// Whether process_madvise() may apply it to another process.
    pub remote: bool,
    /// Whether a call may share one `mmu_gather` across all its ranges.
    pub tlb_batch: bool,
}

/// The mmap lock an advice needs; the values of C's `enum madvise_lock_mode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum LockMode {
    /// No mmap lock.
    None = bindings::madvise_lock_mode_MADVISE_NO_LOCK,
    /// mmap read lock.
    Read = bindings::madvise_lock_mode_MADVISE_MMAP_READ_LOCK,
    /// mmap write lock.
    Write = bindings::madvise_lock_mode_MADVISE_MMAP_WRITE_LOCK,
}

const fn entry(advice: u32, kind: Kind, remote: bool, tlb_batch: bool) -> Option<Behavior> {
    Some(Behavior {
        advice,
        kind,
        remote,
        tlb_batch,
    })
}

/// Describes `advice`, or returns `None` if this kernel does not know it.
///
/// # Examples
///
/// ```
/// use kernel::madvise::{behavior, Kind, LockMode};
/// use kernel::uapi;
///
/// let dontneed = behavior(uapi::MADV_DONTNEED as i32).unwrap();
/// assert_eq!(dontneed.kind, Kind::Discards);
/// assert_eq!(dontneed.lock_mode(), LockMode::Read);
/// assert!(dontneed.remote && dontneed.needs_attach() && dontneed.tlb_batch);
///
/// let hugepage = behavior(uapi::MADV_NOHUGEPAGE as i32).unwrap();
/// assert_eq!(hugepage.lock_mode(), LockMode::Write);
/// assert!(!hugepage.remote);
///
/// // Values madvise() has never had, or that are out of range.
/// assert!(behavior(5).is_none());
/// assert!(behavior(-1).is_none());
/// assert!(behavior(i32::MIN).is_none());
/// assert!(behavior(99).is_none());
/// assert!(behavior(102).is_none());
/// ```
pub fn behavior(advice: i32) -> Option<Behavior> {
    // Negative values become large and fail the bound like any other.
    let value = advice as u32;
    if value >= ADVICE_LIMIT {
        return None;
    }
    // SAFETY: `array_index_nospec()` has no preconditions; it only clamps.
    let value =
        unsafe { bindings::array_index_nospec(value as usize, ADVICE_LIMIT as usize) } as u32;
    describe(value)
}

/// The table proper: one arm per advice value, with a default.
fn describe(advice: u32) -> Option<Behavior> {
    use Kind::*;

    match advice {
        uapi::MADV_NORMAL
        | uapi::MADV_RANDOM
        | uapi::MADV_SEQUENTIAL
        | uapi::MADV_DONTFORK
        | uapi::MADV_DOFORK
        | uapi::MADV_DONTDUMP
        | uapi::MADV_DODUMP
        | uapi::MADV_WIPEONFORK
        | uapi::MADV_KEEPONFORK => entry(advice, UpdatesVma, false, false),
        #[cfg(CONFIG_KSM)]
        uapi::MADV_MERGEABLE | uapi::MADV_UNMERGEABLE => entry(advice, UpdatesVma, false, false),
        #[cfg(CONFIG_TRANSPARENT_HUGEPAGE)]
        uapi::MADV_HUGEPAGE | uapi::MADV_NOHUGEPAGE => entry(advice, UpdatesVma, false, false),
        #[cfg(CONFIG_TRANSPARENT_HUGEPAGE)]
        uapi::MADV_COLLAPSE => entry(advice, Hint, true, false),
        uapi::MADV_WILLNEED => entry(advice, Hint, true, false),
        uapi::MADV_COLD | uapi::MADV_PAGEOUT => entry(advice, Hint, true, true),
        uapi::MADV_DONTNEED | uapi::MADV_FREE => entry(advice, Discards, true, true),
        uapi::MADV_DONTNEED_LOCKED => entry(advice, Discards, false, true),
        uapi::MADV_REMOVE => entry(advice, RemovesBacking, false, false),
        uapi::MADV_POPULATE_READ | uapi::MADV_POPULATE_WRITE => {
            entry(advice, Populates, false, false)
        }
        #[cfg(CONFIG_MEMORY_FAILURE)]
        uapi::MADV_HWPOISON | uapi::MADV_SOFT_OFFLINE => entry(advice, InjectsError, false, false),
        _ => None,
    }
}

impl Behavior {
    /// The mmap lock the advice runs under.
    pub fn lock_mode(&self) -> LockMode {
        match self.kind {
            Kind::UpdatesVma => LockMode::Write,
            Kind::Discards | Kind::RemovesBacking | Kind::Hint | Kind::Populates => LockMode::Read,
            Kind::InjectsError => LockMode::None,
        }
    }

    /// Whether the target can see the effect, so that a remote caller needs
    /// the rights of process_vm_writev() (`PTRACE_MODE_ATTACH_REALCREDS`).
    pub fn needs_attach(&self) -> bool {
        matches!(self.kind, Kind::Discards | Kind::RemovesBacking)
    }

    /// Whether the call may issue I/O worth batching under a block plug.
    pub fn blk_plug(&self) -> bool {
        matches!(self.kind, Kind::Hint | Kind::Populates) && self.advice != uapi::MADV_COLD
    }

    /// The C view of this entry.
    fn to_info(self) -> bindings::madvise_behavior_info {
        let mut flags = bindings::MADV_INFO_MADVISE | bindings::MADV_INFO_SELF;

        if self.remote {
            flags |= bindings::MADV_INFO_REMOTE;
        }
        if self.needs_attach() {
            flags |= bindings::MADV_INFO_DESTRUCTIVE;
        }
        if self.tlb_batch {
            flags |= bindings::MADV_INFO_TLB_BATCH;
        }
        if self.blk_plug() {
            flags |= bindings::MADV_INFO_BLK_PLUG;
        }
        bindings::madvise_behavior_info {
            flags,
            lock_mode: self.lock_mode() as u32,
        }
    }
}

/// Looks up `behavior` for `mm/madvise.c`.
///
/// - `behavior`: the advice value as user space passed it, unchecked.
/// - `info`: where to store the facts when `behavior` is known.
///
/// Returns `false`, leaving `*info` untouched, for an unknown value.
///
/// # Safety
///
/// `info` must be valid for a write of `struct madvise_behavior_info` for the
/// duration of the call.
#[no_mangle]
pub unsafe extern "C" fn madvise_behavior_lookup(
    behavior: ffi::c_int,
    info: *mut bindings::madvise_behavior_info,
) -> bool {
    match self::behavior(behavior) {
        Some(b) => {
            // SAFETY: the caller guarantees that `info` is valid for writes.
            unsafe { info.write(b.to_info()) };
            true
        }
        None => false,
    }
}
