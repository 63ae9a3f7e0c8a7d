// SPDX-License-Identifier: GPL-2.0

//! Reference pages: private mappings that read as a repeating pattern.
//!
//! `refpage_create(2)` returns a read-only, close-on-exec file descriptor that owns one page
//! filled with a pattern supplied by user space: a power of two of at most `PAGE_SIZE` bytes,
//! repeated across the page. `mmap(MAP_PRIVATE)` of the descriptor gives an anonymous mapping
//! whose untouched pages read as that pattern:
//!
//! - a read fault maps the reference page through a special PTE, as for the zero page, so no PTE
//!   holds a reference or a mapcount on it however often it is mapped;
//! - a write fault, or the COW of a mapped reference page, allocates a private anonymous page and
//!   fills it from the pattern (with `memset()` when all bytes of the pattern are equal).
//!
//! This module owns the descriptor: its creation behind the system call, the `mmap` validation,
//! `release` and `show_fdinfo`. The page-table side is C (`mm/memory.c`, `mm/gup.c`); it
//! recognises a reference mapping with `vma_is_refpage()` and asks this module for the page and
//! for the fill. `mm/refpage.c` holds the system call and the `file_operations` table, which
//! points at the functions exported here.
//!
//! Lifetime: the file's `private_data` owns a [`RefPage`] until `release`. Every mapping holds a
//! reference on the file through `vm_file`, so the content outlives the descriptor for as long as
//! a mapping exists. GUP takes ordinary page references on the reference page, which keep the
//! page itself (not the [`RefPage`]) alive until they are dropped.
//!
//! Each descriptor has an inode of its own, so that the mappings of one descriptor sit in their
//! own `i_mmap` tree, under their own lock, and not in the tree of the anon inode that every
//! other anon-inode file shares.
//!
//! C header: [`include/linux/refpage.h`](srctree/include/linux/refpage.h)

use crate::{
    bindings,
    error::from_err_ptr,
    ffi::{c_int, c_long, c_uint, c_ulong, c_void},
    fs::{
        file::{self, FileDescriptorReservation},
        File,
    },
    mm::virt::{flags as vm, vm_flags_t, VmaNew},
    page::{BorrowedPage, Page, PAGE_SIZE},
    prelude::*,
    seq_file::SeqFile,
    seq_print,
    sync::aref::ARef,
    uaccess::{UserPtr, UserSlice},
};
use core::ptr::NonNull;

/// Checks the `size` and `flags` arguments of `refpage_create(2)`.
///
/// Returns the pattern length, or `EINVAL` unless `flags` is zero and `size` is a power of two
/// no larger than `PAGE_SIZE`.
fn check_args(size: u32, flags: c_ulong) -> Result<usize> {
    let size = usize::try_from(size).map_err(|_| EINVAL)?;
    if flags != 0 || !size.is_power_of_two() || size > PAGE_SIZE {
        return Err(EINVAL);
    }
    Ok(size)
}

/// Repeats the first `len` bytes of `buf` across all of it.
///
/// Does nothing when `len` is zero or not less than the length of `buf`. A partial copy ends
/// `buf` when its length is not a multiple of `len`.
fn repeat_pattern(buf: &mut [u8], len: usize) {
    if len == 0 || len >= buf.len() {
        return;
    }
    let (pattern, rest) = buf.split_at_mut(len);
    for chunk in rest.chunks_mut(len) {
        chunk.copy_from_slice(&pattern[..chunk.len()]);
    }
}

/// Returns the byte that makes up all of `pattern`, if there is one.
///
/// A page of such a pattern is filled with `memset()`.
fn uniform_byte(pattern: &[u8]) -> Option<u8> {
    let (&first, rest) = pattern.split_first()?;
    rest.iter().all(|&b| b == first).then_some(first)
}

/// The reference content of one `refpage_create(2)` descriptor.
///
/// # Invariants
///
/// - `page` holds `size` bytes of pattern repeated across the page, and is never written again;
/// - `size` is a power of two no larger than `PAGE_SIZE`;
/// - `fill_byte` is `Some(b)` exactly when every byte of the page is `b`.
struct RefPage {
    page: Page,
    size: u32,
    fill_byte: Option<u8>,
}

impl RefPage {
    /// Allocates the reference page and fills it with `pattern`.
    ///
    /// The page is charged to the caller's memory cgroup. Returns `EINVAL` for a pattern whose
    /// length `refpage_create(2)` refuses, and `ENOMEM`.
    fn new(pattern: &[u8]) -> Result<KBox<Self>> {
        let size = u32::try_from(pattern.len()).map_err(|_| EINVAL)?;
        let len = check_args(size, 0)?;
        let mut buf = KVec::from_elem(0u8, PAGE_SIZE, GFP_KERNEL)?;
        buf[..len].copy_from_slice(pattern);
        repeat_pattern(&mut buf, len);
        // Not highmem: `refpage_sync_page()` uses the page's linear address.
        let page = Page::alloc_page(GFP_KERNEL_ACCOUNT | __GFP_NOWARN)?;
        // SAFETY: `page` was just allocated and nobody else can see it, and `buf` is valid for
        // reads of `PAGE_SIZE` bytes.
        unsafe { page.write_raw(buf.as_ptr(), 0, PAGE_SIZE)? };
        // SAFETY: `page` is a valid page that is not highmem.
        unsafe { bindings::refpage_sync_page(page.as_ptr()) };
        // INVARIANT: the page was filled with `pattern` above, `size` was checked, and
        // `fill_byte` describes `pattern`, hence the page.
        Ok(KBox::new(
            Self {
                page,
                size,
                fill_byte: uniform_byte(pattern),
            },
            GFP_KERNEL,
        )?)
    }

    /// Fills `dst` with the reference content.
    ///
    /// # Safety
    ///
    /// Nothing else may access `dst` during the call.
    unsafe fn fill(&self, dst: &Page) {
        match self.fill_byte {
            Some(byte) => {
                // SAFETY: the caller guarantees exclusive access to `dst`.
                let filled = unsafe { dst.fill_raw(byte, 0, PAGE_SIZE) };
                // The range is the whole page, which passes the bounds check.
                debug_assert!(filled.is_ok());
            }
            // SAFETY: `self.page` is never written after creation (type invariant), and the
            // caller guarantees exclusive access to `dst`, which is therefore not `self.page`:
            // that one is never handed out writable.
            None => unsafe { dst.copy_from_page_raw(&self.page) },
        }
    }

    /// Returns the [`RefPage`] of `file`, or `None` if it is not a refpage file.
    fn from_file(file: &File) -> Option<&Self> {
        // SAFETY: `f_op` is set when the file is created and does not change while it is alive,
        // which the reference `file` guarantees.
        let fops = unsafe { (*file.as_ptr()).f_op };
        if !core::ptr::eq(fops, &raw const bindings::refpage_fops) {
            return None;
        }
        // SAFETY: this is a refpage file, whose `private_data` is set before the file is
        // published and never changes: it is the `RefPage` that `new_file()` gave it, which lives
        // until `release`, and `release` runs only after the last reference to the file is gone.
        Some(unsafe { &*(*file.as_ptr()).private_data.cast::<Self>() })
    }
}

/// Creates a refpage file that owns `refpage`, with an inode of its own.
fn new_file(refpage: KBox<RefPage>) -> Result<ARef<File>> {
    let data = KBox::into_raw(refpage);
    // SAFETY: the name is a NUL-terminated static string and the operations table is static. On
    // success the file owns `data` (freed by `refpage_release()`); on failure no file exists.
    let file = unsafe {
        bindings::anon_inode_create_getfile(
            c"[refpage]".as_char_ptr(),
            &raw const bindings::refpage_fops,
            data.cast(),
            file::flags::O_RDONLY as c_int,
            core::ptr::null(),
        )
    };
    match from_err_ptr(file) {
        Ok(file) => {
            // SAFETY: `anon_inode_create_getfile()` returned a new file and its one reference,
            // which is now ours; `File` has the layout of `struct file`, and nobody has called
            // `fdget_pos()` on a file that was just created.
            Ok(unsafe { ARef::from_raw(NonNull::new_unchecked(file.cast::<File>())) })
        }
        Err(e) => {
            // SAFETY: `data` came from `KBox::into_raw()` above and no file took it.
            drop(unsafe { KBox::from_raw(data) });
            Err(e)
        }
    }
}

/// Creates a refpage descriptor: the body of `refpage_create(2)`.
///
/// Returns the new file descriptor, or:
/// - `EINVAL` for a bad `size` or unknown `flags`, before the pattern is read;
/// - `EFAULT` when the pattern cannot be read from `content`;
/// - `ENOMEM` when the page or the descriptor's state cannot be allocated;
/// - `EMFILE` or `ENFILE` when no descriptor or file is left.
fn create(content: UserPtr, size: u32, flags: c_ulong) -> Result<u32> {
    let len = check_args(size, flags)?;
    let mut pattern = KVec::with_capacity(len, GFP_KERNEL)?;
    UserSlice::new(content, len).read_all(&mut pattern, GFP_KERNEL)?;
    let refpage = RefPage::new(&pattern)?;
    let fd = FileDescriptorReservation::get_unused_fd_flags(file::flags::O_CLOEXEC)?;
    let file = new_file(refpage)?;
    let nr = fd.reserved_fd();
    fd.fd_install(file);
    Ok(nr)
}

/// Checks the flags of a new mapping: private, and not executable.
///
/// An executable mapping is refused with `EPERM`, as `mmap()` refuses one of a file on a `noexec`
/// mount: the reference page is mapped only with special PTEs, which some architectures (arm64)
/// leave out of their I-cache maintenance, so it could not be executed reliably. The pseudo
/// filesystem of anon-inode files is `noexec` already, so the VFS refuses `PROT_EXEC` before the
/// file's `mmap` sees it; the check here does not depend on that. A shared mapping would let
/// writes reach the reference page: `EINVAL`.
fn mmap_allowed(flags: vm_flags_t) -> Result {
    if flags & vm::EXEC != 0 {
        return Err(EPERM);
    }
    if flags & vm::MAYSHARE != 0 {
        return Err(EINVAL);
    }
    Ok(())
}

/// `refpage_create(2)`, called from its C system call stub.
///
/// Returns a file descriptor or a negative errno.
///
/// # Safety
///
/// Must be called from a system call, in the context of the calling task.
#[export]
unsafe extern "C" fn refpage_create_fd(
    content: *const c_void,
    size: c_uint,
    flags: c_ulong,
) -> c_long {
    match create(UserPtr::from_ptr(content.cast_mut()), size, flags) {
        Ok(fd) => fd as c_long,
        Err(e) => e.to_errno() as c_long,
    }
}

/// Sets up a new mapping: a private, non-executable one becomes an anonymous mapping that keeps
/// the file, and can never be made executable.
fn mmap_setup(vma: &VmaNew) -> Result {
    mmap_allowed(vma.flags())?;
    // `mprotect(PROT_EXEC)` fails with `EACCES` from now on. This cannot fail: `VM_EXEC` is clear.
    vma.try_clear_mayexec()?;
    vma.set_anonymous();
    Ok(())
}

/// `mmap`: see [`mmap_setup`].
///
/// # Safety
///
/// Called by the VFS with a VMA that is being set up in the `mmap` hook.
#[export]
unsafe extern "C" fn refpage_mmap(
    _file: *mut bindings::file,
    vma: *mut bindings::vm_area_struct,
) -> c_int {
    // SAFETY: the VFS calls this hook with a VMA that is undergoing initial setup.
    let vma = unsafe { VmaNew::from_raw(vma) };
    match mmap_setup(vma) {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

/// `release`: the last reference to the file is gone, and with it the last mapping; free the
/// content.
///
/// # Safety
///
/// Called by the VFS once, with the refpage file being released.
#[export]
unsafe extern "C" fn refpage_release(
    _inode: *mut bindings::inode,
    file: *mut bindings::file,
) -> c_int {
    // SAFETY: `private_data` came from `KBox::into_raw()` in `new_file()`, and `release` is the
    // last use of it.
    drop(unsafe { KBox::from_raw((*file).private_data.cast::<RefPage>()) });
    0
}

/// `show_fdinfo`: the pattern size, for `/proc/<pid>/fdinfo/<fd>`.
///
/// # Safety
///
/// Called by the VFS with a valid seq_file and a live refpage file.
#[export]
unsafe extern "C" fn refpage_show_fdinfo(m: *mut bindings::seq_file, file: *mut bindings::file) {
    // SAFETY: the VFS passes a valid seq_file, used only for this call.
    let m = unsafe { SeqFile::from_raw(m) };
    // SAFETY: the VFS passes a live file, with no `fdget_pos()` of this hook's doing.
    let file = unsafe { File::from_raw_file(file) };
    if let Some(refpage) = RefPage::from_file(file) {
        seq_print!(m, "refpage-size:\t{}\n", refpage.size);
    }
}

/// Returns the reference page of a refpage file, or null if `file` is not one.
///
/// # Safety
///
/// `file` must be a live file for the duration of the call; a mapping's `vm_file` under the mmap
/// or VMA lock is.
#[export]
unsafe extern "C" fn refpage_file_page(file: *const bindings::file) -> *mut bindings::page {
    // SAFETY: the caller passes a live file.
    let file = unsafe { File::from_raw_file(file) };
    RefPage::from_file(file).map_or(core::ptr::null_mut(), |r| r.page.as_ptr())
}

/// Fills a new private page with a refpage file's content.
///
/// Returns `false`, with `page` left as it was, when `file` is not a refpage file or `page` is
/// null: the caller's bug, which it reports.
///
/// # Safety
///
/// `file` must be a live file for the duration of the call, and `page` a valid page that nothing
/// else accesses until the call returns (a page just allocated for a fault), or null.
#[export]
unsafe extern "C" fn refpage_file_fill(
    file: *const bindings::file,
    page: *mut bindings::page,
) -> bool {
    // SAFETY: the caller passes a live file.
    let file = unsafe { File::from_raw_file(file) };
    let (Some(refpage), Some(page)) = (RefPage::from_file(file), NonNull::new(page)) else {
        return false;
    };
    // SAFETY: the caller passes a valid page that stays allocated for the call.
    let dst = unsafe { BorrowedPage::from_raw(page) };
    // SAFETY: the caller guarantees that nothing else accesses the page meanwhile.
    unsafe { refpage.fill(&dst) };
    true
}

#[macros::kunit_tests(rust_mm_refpage)]
mod tests {
    use super::*;

    /// Reads `N` bytes of `page` at `offset`.
    fn read<const N: usize>(page: &Page, offset: usize) -> Result<[u8; N]> {
        let mut buf = [0u8; N];
        // SAFETY: `buf` is valid for writes of `N` bytes, and the test's pages are its own.
        unsafe { page.read_raw(buf.as_mut_ptr(), offset, N)? };
        Ok(buf)
    }

    #[test]
    fn args() {
        assert_eq!(check_args(1, 0), Ok(1));
        assert_eq!(check_args(8, 0), Ok(8));
        assert_eq!(check_args(PAGE_SIZE as u32, 0), Ok(PAGE_SIZE));
        for size in [0, 3, 6, 12, 2 * PAGE_SIZE as u32, 1 << 31, u32::MAX] {
            assert_eq!(check_args(size, 0), Err(EINVAL));
        }
        for flags in [1, 1 << 31, c_ulong::MAX] {
            assert_eq!(check_args(8, flags), Err(EINVAL));
        }
    }

    #[test]
    fn repeat() {
        let mut buf = [1, 2, 3, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        repeat_pattern(&mut buf, 4);
        assert_eq!(buf, [1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 4]);
        let mut odd = [1, 2, 0, 0, 0];
        repeat_pattern(&mut odd, 2);
        assert_eq!(odd, [1, 2, 1, 2, 1]);
        // An empty or whole-buffer pattern leaves the buffer alone, and does not panic.
        let mut same = [5, 6, 7];
        repeat_pattern(&mut same, 0);
        repeat_pattern(&mut same, 3);
        repeat_pattern(&mut same, 9);
        assert_eq!(same, [5, 6, 7]);
    }

    #[test]
    fn uniform() {
        assert_eq!(uniform_byte(&[0xaa]), Some(0xaa));
        assert_eq!(uniform_byte(&[5, 5, 5, 5]), Some(5));
        assert_eq!(uniform_byte(&[5, 5, 5, 6]), None);
        assert_eq!(uniform_byte(&[]), None);
    }

    #[test]
    fn fill_copies_and_memsets() -> Result {
        let copy = Page::alloc_page(GFP_KERNEL)?;

        let rp = RefPage::new(&[1, 2, 3, 4])?;
        assert_eq!(rp.size, 4);
        assert_eq!(rp.fill_byte, None);
        assert_eq!(
            read::<8>(&rp.page, PAGE_SIZE - 8)?,
            [1, 2, 3, 4, 1, 2, 3, 4]
        );
        // SAFETY: `copy` is the test's own page.
        unsafe { copy.fill_raw(0, 0, PAGE_SIZE)? };
        // SAFETY: `copy` is the test's own page, and nothing else uses it.
        unsafe { rp.fill(&copy) };
        assert_eq!(read::<8>(&copy, 0)?, [1, 2, 3, 4, 1, 2, 3, 4]);
        assert_eq!(read::<4>(&copy, PAGE_SIZE - 4)?, [1, 2, 3, 4]);

        // A pattern of one repeated byte is filled with memset().
        let rp = RefPage::new(&[0xaa; 2])?;
        assert_eq!(rp.fill_byte, Some(0xaa));
        // SAFETY: `copy` is the test's own page, and nothing else uses it.
        unsafe { rp.fill(&copy) };
        assert_eq!(read::<4>(&copy, 0)?, [0xaa; 4]);
        assert_eq!(read::<4>(&copy, PAGE_SIZE - 4)?, [0xaa; 4]);

        // A whole page of pattern.
        let mut pattern = KVec::from_elem(0u8, PAGE_SIZE, GFP_KERNEL)?;
        for (i, b) in pattern.iter_mut().enumerate() {
            *b = i as u8;
        }
        let rp = RefPage::new(&pattern)?;
        assert_eq!(read::<2>(&rp.page, PAGE_SIZE - 2)?, [0xfe, 0xff]);

        assert_eq!(RefPage::new(&[1, 2, 3]).err(), Some(EINVAL));
        assert_eq!(RefPage::new(&[]).err(), Some(EINVAL));
        Ok(())
    }

    #[test]
    fn file_owns_the_content() -> Result {
        let file = new_file(RefPage::new(&[7; 8])?)?;
        let rp = RefPage::from_file(&file).ok_or(EINVAL)?;
        assert_eq!(rp.size, 8);
        assert_eq!(read::<2>(&rp.page, 0)?, [7, 7]);
        assert_eq!(file.flags() & file::flags::O_ACCMODE, file::flags::O_RDONLY);
        // SAFETY: `file` is alive.
        let page = unsafe { refpage_file_page(file.as_ptr()) };
        assert_eq!(page, rp.page.as_ptr());

        // Each descriptor has its own inode, and so its own i_mmap tree.
        let other = new_file(RefPage::new(&[7; 8])?)?;
        // SAFETY: both files are alive, and `f_inode` does not change.
        unsafe { assert_ne!((*file.as_ptr()).f_inode, (*other.as_ptr()).f_inode) };
        // Dropping the last reference releases the content; kmemleak sees a leak otherwise.
        drop(other);
        Ok(())
    }

    #[test]
    fn create_errnos() {
        // The arguments are checked before the pattern is read.
        let null = UserPtr::from_addr(0);
        assert_eq!(create(null, 3, 0), Err(EINVAL));
        assert_eq!(create(null, 0, 0), Err(EINVAL));
        assert_eq!(create(null, 8, 1), Err(EINVAL));
        assert_eq!(create(null, 2 * PAGE_SIZE as u32, 0), Err(EINVAL));
        // A pointer into the top page of the address space is not a user address, whatever the
        // task's mm: `access_ok()` refuses it, and the read fails before it starts (on the
        // architectures that build Rust, none of which has a separate user address space).
        // Unmapped user addresses are the selftest's: a KUnit thread has no user mm to test.
        let kernel = UserPtr::from_addr(0usize.wrapping_sub(PAGE_SIZE));
        assert_eq!(create(kernel, 8, 0), Err(EFAULT));
        assert_eq!(create(kernel, PAGE_SIZE as u32, 0), Err(EFAULT));
    }

    #[test]
    fn only_private_mappings() {
        assert_eq!(mmap_allowed(vm::READ | vm::WRITE | vm::MAYWRITE), Ok(()));
        assert_eq!(mmap_allowed(vm::READ | vm::MAYEXEC), Ok(()));
        assert_eq!(mmap_allowed(vm::READ | vm::MAYSHARE), Err(EINVAL));
        assert_eq!(
            mmap_allowed(vm::READ | vm::SHARED | vm::MAYSHARE),
            Err(EINVAL)
        );
    }

    #[test]
    fn never_executable() {
        assert_eq!(mmap_allowed(vm::READ | vm::EXEC), Err(EPERM));
        assert_eq!(mmap_allowed(vm::EXEC | vm::MAYEXEC), Err(EPERM));
        // As for a noexec file, EPERM wins over the shared mapping's EINVAL.
        assert_eq!(
            mmap_allowed(vm::READ | vm::EXEC | vm::SHARED | vm::MAYSHARE),
            Err(EPERM)
        );
    }
}
