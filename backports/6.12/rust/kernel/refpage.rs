// SPDX-License-Identifier: GPL-2.0

//! Reference pages: private mappings that read as a repeating pattern.
//!
//! `refpage_create(2)` returns a read-only, close-on-exec file descriptor
//! that owns one page filled with a pattern supplied by user space: a power
//! of two of at most `PAGE_SIZE` bytes, repeated across the page.
//! `mmap(MAP_PRIVATE)` of the descriptor gives an anonymous mapping whose
//! untouched pages read as that pattern:
//!
//! - a read fault maps the reference page through a special PTE, as for the
//!   zero page, so no PTE ever holds a reference or a mapcount on it and no
//!   counter can overflow however often it is mapped;
//! - a write fault, or the COW of a mapped reference page, allocates a
//!   private anonymous page and fills it from the pattern (with `memset()`
//!   when all bytes of the pattern are equal).
//!
//! This module owns the descriptor: its creation behind the system call, the
//! `mmap` validation, `release` and `show_fdinfo`.  The page-table side is C
//! (`mm/memory.c`, `mm/gup.c`); it recognises a reference mapping with
//! `vma_is_refpage()` and asks this module for the page and for the fill.
//! `mm/refpage.c` holds the system call and the `file_operations` table,
//! which points at the functions exported here.
//!
//! Each descriptor has an inode of its own, so that the mappings of one
//! descriptor sit in their own `i_mmap` tree, under their own lock, and not
//! in the tree of the anon inode that every other anon-inode file shares.
//!
//! Lifetime: the file's `private_data` owns a [`RefPage`] until `release`.
//! Every mapping holds a reference on the file through `vm_file`, so the
//! content outlives the descriptor for as long as a mapping exists.  GUP
//! takes ordinary page references on the reference page, which keep the
//! page itself (not the [`RefPage`]) alive until they are dropped.
//!
//! C header: [`include/linux/refpage.h`](srctree/include/linux/refpage.h)

use crate::{
    bindings, c_str,
    error::from_err_ptr,
    page::{BorrowedPage, Page, PAGE_SIZE},
    prelude::*,
    uaccess::{UserPtr, UserSlice},
};
use core::ptr::{self, NonNull};

/// Checks the `size` and `flags` arguments of `refpage_create(2)`.
///
/// Returns the pattern length, or `EINVAL` unless `flags` is zero and `size`
/// is a power of two no larger than `PAGE_SIZE`.
///
/// ```
/// use kernel::page::PAGE_SIZE;
/// use kernel::refpage::check_args;
///
/// assert_eq!(check_args(1, 0), Ok(1));
/// assert_eq!(check_args(8, 0), Ok(8));
/// assert_eq!(check_args(PAGE_SIZE as u32, 0), Ok(PAGE_SIZE));
/// for size in [0, 3, 6, 12, 2 * PAGE_SIZE as u32, 1 << 31, u32::MAX] {
///     assert_eq!(check_args(size, 0), Err(EINVAL));
/// }
/// // Every flag is unknown.
/// for flags in [1, 1 << 31, u64::MAX as _] {
///     assert_eq!(check_args(8, flags), Err(EINVAL));
/// }
/// ```
pub fn check_args(size: u32, flags: ffi::c_ulong) -> Result<usize> {
    let size = usize::try_from(size).map_err(|_| EINVAL)?;
    if flags != 0 || !size.is_power_of_two() || size > PAGE_SIZE {
        return Err(EINVAL);
    }
    Ok(size)
}

/// Repeats `pattern` across `dst`.
///
/// A partial copy ends `dst` when its length is not a multiple of the
/// pattern's; an empty pattern leaves `dst` alone.
///
/// ```
/// use kernel::refpage::fill_pattern;
///
/// let mut buf = [0u8; 16];
/// fill_pattern(&mut buf, &[1, 2, 3, 4]);
/// assert_eq!(buf, [1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 4]);
/// fill_pattern(&mut buf, &[7]);
/// assert!(buf.iter().all(|&b| b == 7));
/// let mut odd = [0u8; 5];
/// fill_pattern(&mut odd, &[1, 2]);
/// assert_eq!(odd, [1, 2, 1, 2, 1]);
/// // An empty pattern does not panic.
/// fill_pattern(&mut odd, &[]);
/// assert_eq!(odd, [1, 2, 1, 2, 1]);
/// ```
pub fn fill_pattern(dst: &mut [u8], pattern: &[u8]) {
    if pattern.is_empty() {
        return;
    }
    for chunk in dst.chunks_mut(pattern.len()) {
        chunk.copy_from_slice(&pattern[..chunk.len()]);
    }
}

/// Returns the byte that makes up all of `pattern`, if there is one.
///
/// A page of such a pattern is filled with `memset()`.
///
/// ```
/// use kernel::refpage::uniform_byte;
///
/// assert_eq!(uniform_byte(&[0xaa]), Some(0xaa));
/// assert_eq!(uniform_byte(&[5, 5, 5, 5]), Some(5));
/// assert_eq!(uniform_byte(&[5, 5, 5, 6]), None);
/// ```
pub fn uniform_byte(pattern: &[u8]) -> Option<u8> {
    let (&first, rest) = pattern.split_first()?;
    rest.iter().all(|&b| b == first).then_some(first)
}

/// The reference content of one `refpage_create(2)` descriptor.
///
/// ```
/// use kernel::page::{Page, PAGE_SIZE};
/// use kernel::refpage::RefPage;
///
/// let rp = RefPage::new(&[1, 2, 3, 4])?;
/// assert_eq!(rp.size(), 4);
/// let mut copy = Page::alloc_page(GFP_KERNEL)?;
/// rp.fill(&mut copy);
/// let mut last = [0u8; 4];
/// // SAFETY: `last` is valid for writes of its length.
/// unsafe { copy.read_raw(last.as_mut_ptr(), PAGE_SIZE - 4, 4)? };
/// assert_eq!(last, [1, 2, 3, 4]);
/// let mut buf = [0u8; 8];
/// // SAFETY: `buf` is valid for writes of its length.
/// unsafe { copy.read_raw(buf.as_mut_ptr(), PAGE_SIZE - 8, 8)? };
/// assert_eq!(buf, [1, 2, 3, 4, 1, 2, 3, 4]);
///
/// // A pattern of one repeated byte is filled with memset().
/// let rp = RefPage::new(&[0xaa; 2])?;
/// rp.fill(&mut copy);
/// // SAFETY: `buf` is valid for writes of its length.
/// unsafe { copy.read_raw(buf.as_mut_ptr(), 0, 8)? };
/// assert_eq!(buf, [0xaa; 8]);
///
/// assert_eq!(RefPage::new(&[1, 2, 3]).err(), Some(EINVAL));
/// assert_eq!(RefPage::new(&[]).err(), Some(EINVAL));
/// # Ok::<(), Error>(())
/// ```
///
/// # Invariants
///
/// - `page` holds `size` bytes of pattern repeated across the page, and is
///   never written again;
/// - `size` is a power of two no larger than `PAGE_SIZE`;
/// - `fill_byte` is `Some(b)` exactly when every byte of the page is `b`.
pub struct RefPage {
    page: Page,
    size: u32,
    fill_byte: Option<u8>,
}

impl RefPage {
    /// Allocates the reference page and fills it with `pattern`.
    ///
    /// The page is charged to the caller's memory cgroup.
    pub fn new(pattern: &[u8]) -> Result<KBox<Self>> {
        let size = u32::try_from(pattern.len()).map_err(|_| EINVAL)?;
        check_args(size, 0)?;
        let mut buf = KVec::from_elem(0u8, PAGE_SIZE, GFP_KERNEL)?;
        fill_pattern(&mut buf, pattern);
        // Not highmem: `refpage_sync_page()` uses the page's linear address.
        let page = Page::alloc_page(GFP_KERNEL_ACCOUNT | __GFP_NOWARN)?;
        // SAFETY: `page` was just allocated and nobody else can see it, and
        // `buf` is valid for reads of `PAGE_SIZE` bytes.
        unsafe { page.write_raw(buf.as_ptr(), 0, PAGE_SIZE)? };
        // SAFETY: `page` is a valid page that is not highmem.
        unsafe { bindings::refpage_sync_page(page.as_ptr()) };
        // INVARIANT: the page was filled with `pattern` above, `size` was
        // checked, and `fill_byte` describes `pattern`, hence the page.
        Ok(KBox::new(
            Self {
                page,
                size,
                fill_byte: uniform_byte(pattern),
            },
            GFP_KERNEL,
        )?)
    }

    /// Returns the length of the pattern.
    pub fn size(&self) -> u32 {
        self.size
    }

    /// Fills `dst` with the reference content.
    pub fn fill(&self, dst: &mut Page) {
        // SAFETY: `dst` is a page that the caller owns exclusively.
        unsafe { self.fill_shared(dst) };
    }

    /// Fills `dst` with the reference content.
    ///
    /// # Safety
    ///
    /// Nothing else may access `dst` during the call.
    unsafe fn fill_shared(&self, dst: &Page) {
        match self.fill_byte {
            Some(byte) => {
                // SAFETY: the caller guarantees exclusive access to `dst`.
                let filled = unsafe { dst.fill_raw(byte, 0, PAGE_SIZE) };
                // The range is the whole page, which passes the bounds check.
                debug_assert!(filled.is_ok());
            }
            // SAFETY: `self.page` is never written after creation (type
            // invariant), and the caller guarantees exclusive access to
            // `dst`, which is therefore not `self.page`: that one is never
            // handed out writable.
            None => unsafe { dst.copy_from_page_raw(&self.page) },
        }
    }

    /// Returns the [`RefPage`] of a refpage file.
    ///
    /// # Safety
    ///
    /// `file` must be a valid file whose `f_op` is `refpage_fops`, and it
    /// must stay alive for `'a`.
    unsafe fn from_file<'a>(file: *const bindings::file) -> &'a Self {
        // SAFETY: the `private_data` of a refpage file points to the
        // `RefPage` that `create()` gave it, which lives until `release`,
        // and the caller keeps the file alive.
        unsafe { &*(*file).private_data.cast::<Self>() }
    }

    /// Returns the [`RefPage`] of `file`, or `None` if it is not a refpage
    /// file.
    ///
    /// # Safety
    ///
    /// `file` must be a valid file that stays alive for `'a`.
    unsafe fn try_from_file<'a>(file: *const bindings::file) -> Option<&'a Self> {
        // SAFETY: the caller passes a live file, whose `f_op` is set when
        // it is created and does not change.
        if !ptr::eq(unsafe { (*file).f_op }, fops()) {
            return None;
        }
        // SAFETY: a live file whose `f_op` is `refpage_fops`.
        Some(unsafe { Self::from_file(file) })
    }
}

/// Returns the address of the C table of refpage file operations.
fn fops() -> *const bindings::file_operations {
    // SAFETY: taking the address of the static C table reads nothing.
    #[allow(unused_unsafe)]
    unsafe {
        ptr::addr_of!(bindings::refpage_fops)
    }
}

/// Creates a refpage file, with an inode of its own, that owns `refpage`.
///
/// Returns the file and its one reference.
fn new_file(refpage: KBox<RefPage>) -> Result<NonNull<bindings::file>> {
    let data = KBox::into_raw(refpage);
    // SAFETY: the name is a NUL-terminated static string and the operations
    // table is static.  On success the file owns `data` (freed by
    // `refpage_release()`); on failure no file exists.
    let file = unsafe {
        bindings::anon_inode_create_getfile(
            c_str!("[refpage]").as_char_ptr(),
            fops(),
            data.cast(),
            bindings::O_RDONLY as ffi::c_int,
            ptr::null(),
        )
    };
    match from_err_ptr(file) {
        // `anon_inode_create_getfile()` returns a valid file or an error.
        Ok(file) => NonNull::new(file).ok_or(ENOMEM),
        Err(e) => {
            // SAFETY: `data` came from `KBox::into_raw()` above and no file
            // took it.
            drop(unsafe { KBox::from_raw(data) });
            Err(e)
        }
    }
}

/// Creates a refpage descriptor: the body of `refpage_create(2)`.
///
/// Returns the new file descriptor, or:
/// - `EINVAL` for a bad `size` or unknown `flags`, before the pattern is
///   read;
/// - `EFAULT` when the pattern cannot be read from `content`;
/// - `ENOMEM` when the page or the descriptor's state cannot be allocated;
/// - `EMFILE` or `ENFILE` when no descriptor or file is left.
fn create(content: UserPtr, size: u32, flags: ffi::c_ulong) -> Result<ffi::c_int> {
    let size = check_args(size, flags)?;
    let mut pattern = KVec::with_capacity(size, GFP_KERNEL)?;
    UserSlice::new(content, size).read_all(&mut pattern, GFP_KERNEL)?;
    let refpage = RefPage::new(&pattern)?;

    // SAFETY: no requirement; the fd is reserved for the calling task.
    let fd = unsafe { bindings::get_unused_fd_flags(bindings::O_CLOEXEC) };
    if fd < 0 {
        return Err(Error::from_errno(fd));
    }
    match new_file(refpage) {
        Ok(file) => {
            // SAFETY: `fd` was reserved above and is unused, and the file's
            // reference passes to the descriptor table.
            unsafe { bindings::fd_install(fd as _, file.as_ptr()) };
            Ok(fd)
        }
        Err(e) => {
            // SAFETY: `fd` was reserved above and never installed.
            unsafe { bindings::put_unused_fd(fd as _) };
            Err(e)
        }
    }
}

/// A VMA that `mmap` is setting up.
///
/// # Invariants
///
/// The VMA is not yet visible to anyone else: the `mmap` handler has it for
/// itself until it returns.
struct NewVma<'a>(&'a mut bindings::vm_area_struct);

impl NewVma<'_> {
    /// Returns the VMA's flags.
    ///
    /// The union member is named as the 7.x kernel crate's `VmaRef::flags()`
    /// names it; a change of bindgen's naming breaks the build, not the
    /// behaviour.
    fn flags(&self) -> ffi::c_ulong {
        // SAFETY: both members of the union are the same `vm_flags_t`.
        unsafe { self.0.__bindgen_anon_2.vm_flags }
    }

    /// Clears `VM_MAYEXEC`, so that `mprotect(PROT_EXEC)` fails with
    /// `EACCES`, as 7.x's `VmaNew::try_clear_mayexec()` does; `EINVAL` if
    /// `VM_EXEC` is set.
    fn try_clear_mayexec(&mut self) -> Result {
        let flags = self.flags();
        if flags & bindings::VM_EXEC as ffi::c_ulong != 0 {
            return Err(EINVAL);
        }
        // By the type invariant nobody else sees the VMA yet, so this
        // write needs no VMA write lock (`vm_flags_clear()` takes one) and
        // races with nothing; `__vm_flags` is the member C writes.
        self.0.__bindgen_anon_2.__vm_flags = flags & !(bindings::VM_MAYEXEC as ffi::c_ulong);
        Ok(())
    }

    /// Makes the VMA anonymous, as `vma_set_anonymous()` does: page faults
    /// take the anonymous path, which knows reference mappings.
    fn set_anonymous(&mut self) {
        self.0.vm_ops = ptr::null();
    }
}

/// `mmap`: only private, non-executable mappings; they become anonymous
/// mappings that can never be made executable.
///
/// # Safety
///
/// Called by the VFS with a VMA that is being set up and not yet visible to
/// anyone else.
#[no_mangle]
unsafe extern "C" fn refpage_mmap(
    _file: *mut bindings::file,
    vma: *mut bindings::vm_area_struct,
) -> ffi::c_int {
    // INVARIANT: the VFS hands the new VMA to this handler only.
    // SAFETY: `vma` is valid and exclusively ours for the call.
    let mut vma = NewVma(unsafe { &mut *vma });
    let res = check_mmap_flags(vma.flags()).and_then(|()| {
        vma.try_clear_mayexec()?;
        vma.set_anonymous();
        Ok(())
    });
    match res {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

/// Checks the flags of a new mapping: private, and not executable.
///
/// An executable mapping is refused with `EPERM`, as `mmap()` refuses one
/// of a file on a `noexec` mount: the reference page is mapped only with
/// special PTEs, which some architectures (arm64) leave out of their I-cache
/// maintenance.  `do_mmap()` refuses it first (`file_refuses_exec()`); the
/// check here does not rest on that.
/// A shared mapping would let writes reach the reference page: `EINVAL`.
///
/// ```
/// use kernel::bindings::{
///     VM_EXEC, VM_MAYEXEC, VM_MAYSHARE, VM_MAYWRITE, VM_READ, VM_SHARED, VM_WRITE,
/// };
/// use kernel::refpage::check_mmap_flags;
///
/// assert_eq!(check_mmap_flags((VM_READ | VM_WRITE | VM_MAYWRITE) as _), Ok(()));
/// assert_eq!(check_mmap_flags((VM_READ | VM_MAYEXEC) as _), Ok(()));
/// assert_eq!(check_mmap_flags((VM_READ | VM_MAYSHARE) as _), Err(EINVAL));
/// assert_eq!(check_mmap_flags((VM_READ | VM_SHARED | VM_MAYSHARE) as _), Err(EINVAL));
/// assert_eq!(check_mmap_flags((VM_READ | VM_EXEC) as _), Err(EPERM));
/// assert_eq!(check_mmap_flags((VM_EXEC | VM_MAYEXEC) as _), Err(EPERM));
/// // As for a noexec file, EPERM wins over the shared mapping's EINVAL.
/// assert_eq!(
///     check_mmap_flags((VM_READ | VM_EXEC | VM_SHARED | VM_MAYSHARE) as _),
///     Err(EPERM)
/// );
/// ```
pub fn check_mmap_flags(flags: ffi::c_ulong) -> Result {
    if flags & bindings::VM_EXEC as ffi::c_ulong != 0 {
        return Err(EPERM);
    }
    if flags & bindings::VM_MAYSHARE as ffi::c_ulong != 0 {
        return Err(EINVAL);
    }
    Ok(())
}

/// `release`: the last reference to the file is gone, and with it the last
/// mapping; free the content.
///
/// # Safety
///
/// Called by the VFS once, with the refpage file being released.
#[no_mangle]
unsafe extern "C" fn refpage_release(
    _inode: *mut bindings::inode,
    file: *mut bindings::file,
) -> ffi::c_int {
    // SAFETY: `private_data` came from `KBox::into_raw()` in `create()`, and
    // `release` is the last use of it.
    drop(unsafe { KBox::from_raw((*file).private_data.cast::<RefPage>()) });
    0
}

/// `show_fdinfo`: the pattern size, for `/proc/<pid>/fdinfo/<fd>`.
///
/// # Safety
///
/// Called by the VFS with a valid seq_file and a live refpage file.
#[no_mangle]
unsafe extern "C" fn refpage_show_fdinfo(m: *mut bindings::seq_file, file: *mut bindings::file) {
    // SAFETY: `file` is a live refpage file.
    let refpage = unsafe { RefPage::from_file(file) };
    // SAFETY: `m` is valid, the format is NUL-terminated and its one
    // conversion matches the one `c_uint` argument.
    unsafe {
        bindings::seq_printf(
            m,
            c_str!("refpage-size:\t%u\n").as_char_ptr(),
            refpage.size(),
        )
    };
}

// Each definition below must match its C prototype in
// `include/linux/refpage.h`: the two coerce to one function pointer type, or
// the kernel does not build.
const _: [unsafe extern "C" fn(*mut bindings::file, *mut bindings::vm_area_struct) -> ffi::c_int;
    2] = [bindings::refpage_mmap, refpage_mmap];
const _: [unsafe extern "C" fn(*mut bindings::inode, *mut bindings::file) -> ffi::c_int; 2] =
    [bindings::refpage_release, refpage_release];
const _: [unsafe extern "C" fn(*mut bindings::seq_file, *mut bindings::file); 2] =
    [bindings::refpage_show_fdinfo, refpage_show_fdinfo];
const _: [unsafe extern "C" fn(*const ffi::c_void, ffi::c_uint, ffi::c_ulong) -> ffi::c_long; 2] =
    [bindings::refpage_create_fd, refpage_create_fd];
const _: [unsafe extern "C" fn(*const bindings::file) -> *mut bindings::page; 2] =
    [bindings::refpage_file_page, refpage_file_page];
const _: [unsafe extern "C" fn(*const bindings::file, *mut bindings::page) -> bool; 2] =
    [bindings::refpage_file_fill, refpage_file_fill];

/// `refpage_create(2)`, called from its C system call stub.
///
/// - `content`: user address of the pattern.
/// - `size`: length of the pattern.
/// - `flags`: must be zero.
///
/// Returns a file descriptor or a negative errno.
///
/// The arguments are checked before the pattern is read, and a pattern that
/// cannot be read is `EFAULT`:
///
/// ```
/// use kernel::page::PAGE_SIZE;
/// use kernel::refpage::refpage_create_fd;
///
/// let null = core::ptr::null();
/// // Not a user address, whatever the task's mm: `access_ok()` refuses it
/// // (on the architectures that build Rust, none of which has a separate
/// // user address space).
/// // (Unmapped user addresses are the selftest's: a doctest's kernel
/// // thread has no user mm of its own to test.)
/// let kernel = 0usize.wrapping_sub(PAGE_SIZE) as *const kernel::ffi::c_void;
/// let err = |e: Error| e.to_errno() as kernel::ffi::c_long;
/// // SAFETY: each call fails before it reserves a descriptor.
/// unsafe {
///     assert_eq!(refpage_create_fd(null, 3, 0), err(EINVAL));
///     assert_eq!(refpage_create_fd(null, 0, 0), err(EINVAL));
///     assert_eq!(refpage_create_fd(null, 8, 1), err(EINVAL));
///     assert_eq!(refpage_create_fd(null, 2 * PAGE_SIZE as u32, 0), err(EINVAL));
///     assert_eq!(refpage_create_fd(kernel, 8, 0), err(EFAULT));
///     assert_eq!(refpage_create_fd(kernel, PAGE_SIZE as u32, 0), err(EFAULT));
/// }
/// ```
///
/// # Safety
///
/// Must be called from a system call, in the context of the calling task.
#[no_mangle]
pub unsafe extern "C" fn refpage_create_fd(
    content: *const ffi::c_void,
    size: ffi::c_uint,
    flags: ffi::c_ulong,
) -> ffi::c_long {
    match create(content as UserPtr, size, flags) {
        Ok(fd) => fd as ffi::c_long,
        Err(e) => e.to_errno() as ffi::c_long,
    }
}

/// Returns the reference page of a refpage file, or null if `file` is not
/// one.
///
/// # Safety
///
/// `file` must be valid and stay alive for the duration of the call; a
/// mapping's `vm_file` under the mmap or VMA lock is.
#[no_mangle]
pub unsafe extern "C" fn refpage_file_page(file: *const bindings::file) -> *mut bindings::page {
    // SAFETY: the caller passes a live file.
    unsafe { RefPage::try_from_file(file) }.map_or(ptr::null_mut(), |r| r.page.as_ptr())
}

/// Fills a new private page with a refpage file's content.
///
/// Returns `false`, with `page` left as it was, when `file` is not a
/// refpage file or `page` is null: the caller's bug, which it reports.
///
/// # Safety
///
/// `file` must be valid for the duration of the call, and `page` must be a
/// valid page that nothing else accesses until the call returns (a page
/// just allocated for a fault), or null.
#[no_mangle]
pub unsafe extern "C" fn refpage_file_fill(
    file: *const bindings::file,
    page: *mut bindings::page,
) -> bool {
    // SAFETY: the caller passes a live file.
    let refpage = unsafe { RefPage::try_from_file(file) };
    let (Some(refpage), Some(page)) = (refpage, NonNull::new(page)) else {
        return false;
    };
    // SAFETY: the caller passes a valid page that stays allocated for the
    // call.
    let dst = unsafe { BorrowedPage::from_raw(page) };
    // SAFETY: the caller guarantees that nothing else accesses the page
    // meanwhile.
    unsafe { refpage.fill_shared(&dst) };
    true
}
