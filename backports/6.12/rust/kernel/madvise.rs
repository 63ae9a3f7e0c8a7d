// SPDX-License-Identifier: GPL-2.0

//! The madvise(2) advice table.
//!
//! Every `MADV_*` value that madvise() and process_madvise() accept is an [`Advice`], and
//! everything `mm/madvise.c` must know about one before it runs it is a method on [`Advice`]:
//!
//! - [`Advice::remote`]: whether process_madvise() may apply it to another process;
//! - [`Advice::discards`]: whether it throws data away, which, remotely, needs the right to
//!   attach to the target;
//! - [`Advice::lock_mode`]: the lock it runs under;
//! - [`Advice::tlb_batch`]: whether one `mmu_gather` spans all the ranges of a call;
//! - [`Advice::lock_drop`]: whether it may drop the mmap lock while it works.
//!
//! [`Advice::try_from`] is the only place where a number becomes an advice, and so the only place
//! with a default. Every fact is an exhaustive `match`: an advice added to the enum does not
//! build until each fact has been decided for it.
//!
//! C reads the table through `madvise_advice_lookup()`. A kernel without `CONFIG_RUST` answers
//! from the switch statements in `mm/madvise.c` instead, which keep the rules of 6.12;
//! `mm/madvise_table_kunit.c` checks both against each other for every value.
//!
//! C header: [`include/linux/madvise_table.h`](srctree/include/linux/madvise_table.h)
//!
//! # Contract
//!
//! These checks run as KUnit cases at boot; each pins a set exactly.
//!
//! ```
//! use kernel::madvise::{Advice, Advice::*, LockDrop, LockMode};
//!
//! let accepted = || (-4096..=4096).filter_map(|v| Advice::try_from(v).ok());
//! // 18 values in every kernel, and those of KSM, THP and memory failure.
//! let mut n = 18;
//! if cfg!(CONFIG_KSM) {
//!     n += 2;
//! }
//! if cfg!(CONFIG_TRANSPARENT_HUGEPAGE) {
//!     n += 3;
//! }
//! if cfg!(CONFIG_MEMORY_FAILURE) {
//!     n += 2;
//! }
//! assert_eq!(accepted().count(), n);
//! for v in [-1, i32::MIN, i32::MAX, 5, 6, 7, 26, 99, 102, 0x100 | 4, 0x1_0000 | 4] {
//!     assert!(Advice::try_from(v).is_err());
//! }
//! for a in accepted() {
//!     // Each advice comes from its own value, and from no other.
//!     assert_eq!(Advice::try_from(a as i32).ok(), Some(a));
//!
//!     let remote = matches!(a, Cold | PageOut | WillNeed | Collapse)
//!         || (matches!(a, DontNeed | Free) && cfg!(CONFIG_PROCESS_MADVISE_DISCARD));
//!     assert_eq!(a.remote(), remote);
//!
//!     let discards = matches!(
//!         a,
//!         Free | DontNeed | DontNeedLocked | Remove | DontFork | WipeOnFork
//!     );
//!     assert_eq!(a.discards(), discards);
//!
//!     let lock = match a {
//!         HwPoison | SoftOffline => LockMode::NoLock,
//!         Remove | WillNeed | Cold | PageOut | PopulateRead | PopulateWrite | Collapse
//!         | DontNeed | DontNeedLocked | Free => LockMode::MmapRead,
//!         _ => LockMode::MmapWrite,
//!     };
//!     assert_eq!(a.lock_mode(), lock);
//!
//!     assert_eq!(a.tlb_batch(), matches!(a, DontNeed | DontNeedLocked | Free));
//!
//!     let lock_drop = match a {
//!         WillNeed | Remove | PopulateRead | PopulateWrite | Collapse => LockDrop::Unflushed,
//!         DontNeed | DontNeedLocked | Free => LockDrop::AfterFlush,
//!         _ => LockDrop::Never,
//!     };
//!     assert_eq!(a.lock_drop(), lock_drop);
//!
//!     // A batching advice never drops the lock with the gather unflushed.
//!     if a.tlb_batch() {
//!         assert_ne!(a.lock_drop(), LockDrop::Unflushed);
//!         assert_eq!(a.lock_mode(), LockMode::MmapRead);
//!     }
//!     // The only remote advice that discards is the one that needs the attach right.
//!     if a.remote() && a.discards() {
//!         assert!(matches!(a, DontNeed | Free));
//!     }
//! }
//! ```

use crate::{bindings, error::code::EINVAL, error::Error, ffi::c_int, uapi};

/// The first value above every advice; [`Advice::try_from`] refuses it and everything above.
const ADVICE_LIMIT: u32 = uapi::MADV_SOFT_OFFLINE + 1;

/// An advice value that this kernel accepts.
///
/// The values that need a config option (KSM, THP, memory failure) exist in every build, but
/// [`Advice::try_from`] returns them only when the option is set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum Advice {
    /// `MADV_NORMAL`.
    Normal = uapi::MADV_NORMAL,
    /// `MADV_RANDOM`.
    Random = uapi::MADV_RANDOM,
    /// `MADV_SEQUENTIAL`.
    Sequential = uapi::MADV_SEQUENTIAL,
    /// `MADV_WILLNEED`.
    WillNeed = uapi::MADV_WILLNEED,
    /// `MADV_DONTNEED`.
    DontNeed = uapi::MADV_DONTNEED,
    /// `MADV_FREE`.
    Free = uapi::MADV_FREE,
    /// `MADV_REMOVE`.
    Remove = uapi::MADV_REMOVE,
    /// `MADV_DONTFORK`.
    DontFork = uapi::MADV_DONTFORK,
    /// `MADV_DOFORK`.
    DoFork = uapi::MADV_DOFORK,
    /// `MADV_MERGEABLE` (`CONFIG_KSM`).
    Mergeable = uapi::MADV_MERGEABLE,
    /// `MADV_UNMERGEABLE` (`CONFIG_KSM`).
    Unmergeable = uapi::MADV_UNMERGEABLE,
    /// `MADV_HUGEPAGE` (`CONFIG_TRANSPARENT_HUGEPAGE`).
    HugePage = uapi::MADV_HUGEPAGE,
    /// `MADV_NOHUGEPAGE` (`CONFIG_TRANSPARENT_HUGEPAGE`).
    NoHugePage = uapi::MADV_NOHUGEPAGE,
    /// `MADV_DONTDUMP`.
    DontDump = uapi::MADV_DONTDUMP,
    /// `MADV_DODUMP`.
    DoDump = uapi::MADV_DODUMP,
    /// `MADV_WIPEONFORK`.
    WipeOnFork = uapi::MADV_WIPEONFORK,
    /// `MADV_KEEPONFORK`.
    KeepOnFork = uapi::MADV_KEEPONFORK,
    /// `MADV_COLD`.
    Cold = uapi::MADV_COLD,
    /// `MADV_PAGEOUT`.
    PageOut = uapi::MADV_PAGEOUT,
    /// `MADV_POPULATE_READ`.
    PopulateRead = uapi::MADV_POPULATE_READ,
    /// `MADV_POPULATE_WRITE`.
    PopulateWrite = uapi::MADV_POPULATE_WRITE,
    /// `MADV_DONTNEED_LOCKED`.
    DontNeedLocked = uapi::MADV_DONTNEED_LOCKED,
    /// `MADV_COLLAPSE` (`CONFIG_TRANSPARENT_HUGEPAGE`).
    Collapse = uapi::MADV_COLLAPSE,
    /// `MADV_HWPOISON` (`CONFIG_MEMORY_FAILURE`).
    HwPoison = uapi::MADV_HWPOISON,
    /// `MADV_SOFT_OFFLINE` (`CONFIG_MEMORY_FAILURE`).
    SoftOffline = uapi::MADV_SOFT_OFFLINE,
}

/// The lock an advice runs under: the values of C's `enum madvise_lock_mode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum LockMode {
    /// No lock: memory-failure injection looks pages up by itself.
    NoLock = bindings::madvise_lock_mode_MADVISE_NO_LOCK,
    /// The mmap lock, read.
    MmapRead = bindings::madvise_lock_mode_MADVISE_MMAP_READ_LOCK,
    /// The mmap lock, write: the advice changes VMAs.
    MmapWrite = bindings::madvise_lock_mode_MADVISE_MMAP_WRITE_LOCK,
}

/// Whether an advice may drop the mmap lock while it works.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LockDrop {
    /// Never.
    Never,
    /// Only once it has finished the call's `mmu_gather`: `userfaultfd_remove()` for
    /// `MADV_DONTNEED` and `MADV_FREE`.
    AfterFlush,
    /// With nothing flushed: such an advice must not share one gather across a call.
    Unflushed,
}

impl TryFrom<i32> for Advice {
    type Error = Error;

    /// Maps a value from user space to an advice; `EINVAL` for one this kernel does not accept.
    ///
    /// The value is bounds-checked and then clamped with `array_index_nospec()`, so that no
    /// mispredicted path goes on with a value out of range.
    fn try_from(value: i32) -> Result<Self, Error> {
        use Advice::*;

        // A negative value becomes a large one and fails the bound.
        let value = value as u32;
        if value >= ADVICE_LIMIT {
            return Err(EINVAL);
        }
        // SAFETY: `rust_helper_array_index_nospec()` only computes; it has no preconditions.
        let value =
            unsafe { bindings::array_index_nospec(value as usize, ADVICE_LIMIT as usize) } as u32;
        let advice = match value {
            uapi::MADV_NORMAL => Normal,
            uapi::MADV_RANDOM => Random,
            uapi::MADV_SEQUENTIAL => Sequential,
            uapi::MADV_WILLNEED => WillNeed,
            uapi::MADV_DONTNEED => DontNeed,
            uapi::MADV_FREE => Free,
            uapi::MADV_REMOVE => Remove,
            uapi::MADV_DONTFORK => DontFork,
            uapi::MADV_DOFORK => DoFork,
            uapi::MADV_MERGEABLE if cfg!(CONFIG_KSM) => Mergeable,
            uapi::MADV_UNMERGEABLE if cfg!(CONFIG_KSM) => Unmergeable,
            uapi::MADV_HUGEPAGE if cfg!(CONFIG_TRANSPARENT_HUGEPAGE) => HugePage,
            uapi::MADV_NOHUGEPAGE if cfg!(CONFIG_TRANSPARENT_HUGEPAGE) => NoHugePage,
            uapi::MADV_DONTDUMP => DontDump,
            uapi::MADV_DODUMP => DoDump,
            uapi::MADV_WIPEONFORK => WipeOnFork,
            uapi::MADV_KEEPONFORK => KeepOnFork,
            uapi::MADV_COLD => Cold,
            uapi::MADV_PAGEOUT => PageOut,
            uapi::MADV_POPULATE_READ => PopulateRead,
            uapi::MADV_POPULATE_WRITE => PopulateWrite,
            uapi::MADV_DONTNEED_LOCKED => DontNeedLocked,
            uapi::MADV_COLLAPSE if cfg!(CONFIG_TRANSPARENT_HUGEPAGE) => Collapse,
            uapi::MADV_HWPOISON if cfg!(CONFIG_MEMORY_FAILURE) => HwPoison,
            uapi::MADV_SOFT_OFFLINE if cfg!(CONFIG_MEMORY_FAILURE) => SoftOffline,
            _ => return Err(EINVAL),
        };
        Ok(advice)
    }
}

impl Advice {
    /// Whether process_madvise() may apply the advice to another process's memory.
    ///
    /// The hints are remote in every kernel. `MADV_DONTNEED` and `MADV_FREE` are remote with
    /// `CONFIG_PROCESS_MADVISE_DISCARD`, and then need the right to attach to the target as
    /// well, because the target sees their effect.
    pub fn remote(self) -> bool {
        use Advice::*;

        match self {
            Cold | PageOut | WillNeed | Collapse => true,
            DontNeed | Free => cfg!(CONFIG_PROCESS_MADVISE_DISCARD),
            Normal | Random | Sequential | Remove | DontFork | DoFork | Mergeable | Unmergeable
            | HugePage | NoHugePage | DontDump | DoDump | WipeOnFork | KeepOnFork
            | PopulateRead | PopulateWrite | DontNeedLocked | HwPoison | SoftOffline => false,
        }
    }

    /// Whether the advice discards data, now or in a child after fork().
    pub fn discards(self) -> bool {
        use Advice::*;

        match self {
            Free | DontNeed | DontNeedLocked | Remove | DontFork | WipeOnFork => true,
            Normal | Random | Sequential | WillNeed | DoFork | Mergeable | Unmergeable
            | HugePage | NoHugePage | DontDump | DoDump | KeepOnFork | Cold | PageOut
            | PopulateRead | PopulateWrite | Collapse | HwPoison | SoftOffline => false,
        }
    }

    /// The lock the advice runs under.
    pub fn lock_mode(self) -> LockMode {
        use Advice::*;

        match self {
            HwPoison | SoftOffline => LockMode::NoLock,
            Remove | WillNeed | Cold | PageOut | PopulateRead | PopulateWrite | Collapse
            | DontNeed | DontNeedLocked | Free => LockMode::MmapRead,
            Normal | Random | Sequential | DontFork | DoFork | Mergeable | Unmergeable
            | HugePage | NoHugePage | DontDump | DoDump | WipeOnFork | KeepOnFork => {
                LockMode::MmapWrite
            }
        }
    }

    /// Whether one `mmu_gather` may span all the ranges of a call, for one TLB flush.
    pub fn tlb_batch(self) -> bool {
        use Advice::*;

        match self {
            DontNeed | DontNeedLocked | Free => true,
            // PAGEOUT clears no young bits, so a shared gather would batch nothing while
            // keeping the target's `tlb_flush_pending` raised across reclaim I/O; COLD keeps
            // its per-range gather until a measurement shows a gain.
            Cold | PageOut => false,
            Normal | Random | Sequential | WillNeed | Remove | DontFork | DoFork | Mergeable
            | Unmergeable | HugePage | NoHugePage | DontDump | DoDump | WipeOnFork | KeepOnFork
            | PopulateRead | PopulateWrite | Collapse | HwPoison | SoftOffline => false,
        }
    }

    /// Whether the advice may drop the mmap lock while it works.
    pub fn lock_drop(self) -> LockDrop {
        use Advice::*;

        match self {
            DontNeed | DontNeedLocked | Free => LockDrop::AfterFlush,
            WillNeed | Remove | PopulateRead | PopulateWrite | Collapse => LockDrop::Unflushed,
            Normal | Random | Sequential | DontFork | DoFork | Mergeable | Unmergeable
            | HugePage | NoHugePage | DontDump | DoDump | WipeOnFork | KeepOnFork | Cold
            | PageOut | HwPoison | SoftOffline => LockDrop::Never,
        }
    }

    /// The C view of the advice.
    fn to_c(self) -> bindings::madvise_advice {
        let mut flags = 0;

        if self.remote() {
            flags |= bindings::madvise_advice_flags_MADVISE_ADVICE_REMOTE;
        }
        if self.discards() {
            flags |= bindings::madvise_advice_flags_MADVISE_ADVICE_DISCARDS;
        }
        if self.tlb_batch() {
            flags |= bindings::madvise_advice_flags_MADVISE_ADVICE_TLB_BATCH;
        }
        bindings::madvise_advice {
            behavior: self as c_int,
            flags,
            lock_mode: self.lock_mode() as bindings::madvise_lock_mode,
        }
    }
}

/// The type of `madvise_advice_lookup()`, as C declares it and as it is defined below.
type LookupFn = unsafe extern "C" fn(c_int, *mut bindings::madvise_advice) -> bool;

// The definition must match the C prototype in `include/linux/madvise_table.h`: both coerce to
// one function pointer type, or the kernel does not build.
const _: [LookupFn; 2] = [bindings::madvise_advice_lookup, madvise_advice_lookup];

/// Looks up an advice value for `mm/madvise.c`.
///
/// Returns `false`, leaving `*advice` untouched, if this kernel does not accept `behavior`.
/// Otherwise fills in `*advice`, whose `behavior` is the value clamped against speculation, and
/// returns `true`.
///
/// # Safety
///
/// `advice` must be valid for writing a `struct madvise_advice`, and aligned for it.
#[no_mangle]
unsafe extern "C" fn madvise_advice_lookup(
    behavior: c_int,
    advice: *mut bindings::madvise_advice,
) -> bool {
    match Advice::try_from(behavior) {
        Ok(a) => {
            // SAFETY: the caller guarantees that `advice` is valid and aligned for writes.
            unsafe { advice.write(a.to_c()) };
            true
        }
        Err(_) => false,
    }
}
