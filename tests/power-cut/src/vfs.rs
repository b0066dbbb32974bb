//! The C side: a `sqlite3_vfs` whose files wrap the default VFS's files, reporting the
//! calls that change a watched file to [`crate::call`].
//!
//! Layout: SQLite allocates `szOsFile` bytes per open file; ours is a [`ShimFile`] (whose
//! first field is the `sqlite3_file` SQLite sees) followed by the wrapped VFS's own file
//! structure, which that VFS fills in.
#![allow(unsafe_code)]

use std::ffi::{CStr, c_char, c_int, c_void};
use std::mem::size_of;
use std::path::{Path, PathBuf};
use std::ptr;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicPtr, Ordering};

use rusqlite::ffi;

use crate::Call;

/// The VFS this one wraps (SQLite's default before ours was registered).
static REAL: AtomicPtr<ffi::sqlite3_vfs> = AtomicPtr::new(ptr::null_mut());

#[repr(C)]
struct ShimFile {
    base: ffi::sqlite3_file,
    real: *mut ffi::sqlite3_file,
    /// The file's path (temporary files have none): watched or not is asked at each call,
    /// as a plan may be armed after the file was opened.
    path: Option<Box<PathBuf>>,
}

/// Registers the VFS as SQLite's default, once per process.
pub(crate) fn register() -> Result<(), String> {
    static REGISTERED: OnceLock<Result<(), String>> = OnceLock::new();
    REGISTERED
        .get_or_init(|| {
            // SAFETY: `sqlite3_vfs_find` initializes SQLite if needed and returns the
            // default VFS, which SQLite keeps for the life of the process.
            let real = unsafe { ffi::sqlite3_vfs_find(ptr::null()) };
            if real.is_null() {
                return Err("SQLite has no default VFS".into());
            }
            REAL.store(real, Ordering::SeqCst);
            // SAFETY: `real` is a valid VFS (above). Its methods other than xOpen and
            // xDelete (paths, randomness, time, sleep, dynamic loading) do not use the
            // VFS pointer they are given beyond its copied fields, so ours may be passed.
            let mut vfs = unsafe { *real };
            vfs.zName = c"doorstep-power-cut".as_ptr();
            vfs.szOsFile = (size_of::<ShimFile>() + vfs.szOsFile as usize) as c_int;
            vfs.pNext = ptr::null_mut();
            vfs.xOpen = Some(x_open);
            vfs.xDelete = Some(x_delete);
            let vfs: &'static mut ffi::sqlite3_vfs = Box::leak(Box::new(vfs));
            // SAFETY: `vfs` is complete and lives for the rest of the process.
            match unsafe { ffi::sqlite3_vfs_register(vfs, 1) } {
                ffi::SQLITE_OK => Ok(()),
                rc => Err(format!("sqlite3_vfs_register: {rc}")),
            }
        })
        .clone()
}

/// Ends the process now: no destructors, no exit handlers, no buffered writes after a
/// power cut.
pub(crate) fn exit_now(code: i32) -> ! {
    // SAFETY: `_exit` ends the process; it takes no pointers.
    unsafe { libc_exit(code) }
}

unsafe extern "C" {
    #[link_name = "_exit"]
    fn libc_exit(code: c_int) -> !;
}

/// The path SQLite named, if any (temporary files have none).
///
/// # Safety
/// `name` is null or a NUL-terminated string.
unsafe fn path_of(name: *const c_char) -> Option<PathBuf> {
    if name.is_null() {
        return None;
    }
    // SAFETY: per this function's contract.
    let name = unsafe { CStr::from_ptr(name) };
    name.to_str().ok().map(PathBuf::from)
}

fn real_vfs() -> *mut ffi::sqlite3_vfs {
    REAL.load(Ordering::SeqCst)
}

unsafe extern "C" fn x_open(
    _vfs: *mut ffi::sqlite3_vfs,
    name: ffi::sqlite3_filename,
    file: *mut ffi::sqlite3_file,
    flags: c_int,
    out_flags: *mut c_int,
) -> c_int {
    let real_vfs = real_vfs();
    // SAFETY: SQLite passes `szOsFile` bytes at `file`, 8-byte aligned; the wrapped
    // file's structure starts after ours (whose size is a multiple of 8).
    let real: *mut ffi::sqlite3_file =
        unsafe { file.cast::<u8>().add(size_of::<ShimFile>()) }.cast();
    // SAFETY: `name` is null or the file's NUL-terminated path.
    let path = unsafe { path_of(name) };
    if let Some(path) = &path {
        crate::opening(path);
    }
    // SAFETY: `real` points to writable memory of the wrapped VFS's file size; the
    // wrapped xOpen fills it in, and leaves `pMethods` null if there is nothing to close.
    let rc = unsafe {
        (*real).pMethods = ptr::null();
        match (*real_vfs).xOpen {
            Some(open) => open(real_vfs, name, real, flags, out_flags),
            None => ffi::SQLITE_CANTOPEN,
        }
    };
    // SAFETY: `file` is ours to fill in; SQLite calls xClose only if `pMethods` is set.
    unsafe {
        if (*real).pMethods.is_null() {
            (*file).pMethods = ptr::null();
        } else {
            ptr::write(
                file.cast::<ShimFile>(),
                ShimFile {
                    base: ffi::sqlite3_file { pMethods: &METHODS },
                    real,
                    path: path.map(Box::new),
                },
            );
        }
    }
    rc
}

unsafe extern "C" fn x_delete(
    _vfs: *mut ffi::sqlite3_vfs,
    name: *const c_char,
    sync_dir: c_int,
) -> c_int {
    let real_vfs = real_vfs();
    // SAFETY: the wrapped VFS's xDelete takes what SQLite gave us.
    let delete = || unsafe {
        match (*real_vfs).xDelete {
            Some(delete) => delete(real_vfs, name, sync_dir),
            None => ffi::SQLITE_IOERR_DELETE,
        }
    };
    // SAFETY: `name` is the file's NUL-terminated path.
    match unsafe { path_of(name) } {
        Some(path) => crate::call(&path, Call::Delete, delete),
        None => delete(),
    }
}

/// Our file, its wrapped file and the wrapped file's methods.
///
/// # Safety
/// `file` was opened by [`x_open`] and not yet closed.
unsafe fn parts<'a>(
    file: *mut ffi::sqlite3_file,
) -> (
    &'a ShimFile,
    *mut ffi::sqlite3_file,
    &'a ffi::sqlite3_io_methods,
) {
    // SAFETY: per this function's contract, `file` is a live ShimFile whose wrapped file
    // has methods (x_open sets ours only then).
    unsafe {
        let shim = &*file.cast::<ShimFile>();
        (shim, shim.real, &*(*shim.real).pMethods)
    }
}

/// Calls the wrapped file's method `$m` with the same arguments, or returns `$missing`
/// when the wrapped VFS has none.
macro_rules! forward {
    ($file:expr, $m:ident, $missing:expr $(, $arg:expr)*) => {{
        // SAFETY: SQLite calls this on a file x_open opened; the wrapped method gets its
        // own file and SQLite's arguments unchanged.
        unsafe {
            let (_, real, methods) = parts($file);
            match methods.$m {
                Some(method) => method(real $(, $arg)*),
                None => $missing,
            }
        }
    }};
}

/// A call that changes the file: reported to [`crate::call`] when the file is watched.
fn changing(
    file: *mut ffi::sqlite3_file,
    call: impl FnOnce() -> Call,
    perform: impl FnOnce() -> c_int,
) -> c_int {
    // SAFETY: SQLite calls this on a file x_open opened.
    let (shim, _, _) = unsafe { parts(file) };
    match &shim.path {
        Some(path) => crate::call(Path::new(path.as_ref()), call(), perform),
        None => perform(),
    }
}

unsafe extern "C" fn x_close(file: *mut ffi::sqlite3_file) -> c_int {
    let rc = forward!(file, xClose, ffi::SQLITE_OK);
    // SAFETY: SQLite closes a file once; its path is dropped here and never read again.
    unsafe { ptr::drop_in_place(&mut (*file.cast::<ShimFile>()).path) };
    rc
}

unsafe extern "C" fn x_read(
    file: *mut ffi::sqlite3_file,
    buf: *mut c_void,
    amount: c_int,
    offset: ffi::sqlite3_int64,
) -> c_int {
    forward!(file, xRead, ffi::SQLITE_IOERR_READ, buf, amount, offset)
}

unsafe extern "C" fn x_write(
    file: *mut ffi::sqlite3_file,
    buf: *const c_void,
    amount: c_int,
    offset: ffi::sqlite3_int64,
) -> c_int {
    let call = || Call::Write {
        offset: offset as u64,
        // SAFETY: SQLite passes `amount` readable bytes at `buf`.
        bytes: unsafe { std::slice::from_raw_parts(buf.cast::<u8>(), amount as usize) }.to_vec(),
    };
    changing(file, call, || {
        forward!(file, xWrite, ffi::SQLITE_IOERR_WRITE, buf, amount, offset)
    })
}

unsafe extern "C" fn x_truncate(file: *mut ffi::sqlite3_file, size: ffi::sqlite3_int64) -> c_int {
    changing(
        file,
        || Call::Truncate(size as u64),
        || forward!(file, xTruncate, ffi::SQLITE_IOERR_TRUNCATE, size),
    )
}

unsafe extern "C" fn x_sync(file: *mut ffi::sqlite3_file, flags: c_int) -> c_int {
    changing(
        file,
        || Call::Sync,
        || forward!(file, xSync, ffi::SQLITE_IOERR_FSYNC, flags),
    )
}

unsafe extern "C" fn x_file_size(
    file: *mut ffi::sqlite3_file,
    size: *mut ffi::sqlite3_int64,
) -> c_int {
    forward!(file, xFileSize, ffi::SQLITE_IOERR_FSTAT, size)
}

unsafe extern "C" fn x_lock(file: *mut ffi::sqlite3_file, level: c_int) -> c_int {
    forward!(file, xLock, ffi::SQLITE_IOERR_LOCK, level)
}

unsafe extern "C" fn x_unlock(file: *mut ffi::sqlite3_file, level: c_int) -> c_int {
    forward!(file, xUnlock, ffi::SQLITE_IOERR_UNLOCK, level)
}

unsafe extern "C" fn x_check_reserved_lock(file: *mut ffi::sqlite3_file, out: *mut c_int) -> c_int {
    forward!(
        file,
        xCheckReservedLock,
        ffi::SQLITE_IOERR_CHECKRESERVEDLOCK,
        out
    )
}

unsafe extern "C" fn x_file_control(
    file: *mut ffi::sqlite3_file,
    op: c_int,
    arg: *mut c_void,
) -> c_int {
    forward!(file, xFileControl, ffi::SQLITE_NOTFOUND, op, arg)
}

unsafe extern "C" fn x_sector_size(file: *mut ffi::sqlite3_file) -> c_int {
    forward!(file, xSectorSize, 4096)
}

unsafe extern "C" fn x_device_characteristics(file: *mut ffi::sqlite3_file) -> c_int {
    forward!(file, xDeviceCharacteristics, 0)
}

unsafe extern "C" fn x_shm_map(
    file: *mut ffi::sqlite3_file,
    page: c_int,
    page_size: c_int,
    extend: c_int,
    out: *mut *mut c_void,
) -> c_int {
    forward!(
        file,
        xShmMap,
        ffi::SQLITE_IOERR_SHMMAP,
        page,
        page_size,
        extend,
        out
    )
}

unsafe extern "C" fn x_shm_lock(
    file: *mut ffi::sqlite3_file,
    offset: c_int,
    n: c_int,
    flags: c_int,
) -> c_int {
    forward!(file, xShmLock, ffi::SQLITE_IOERR_SHMLOCK, offset, n, flags)
}

unsafe extern "C" fn x_shm_barrier(file: *mut ffi::sqlite3_file) {
    forward!(file, xShmBarrier, ())
}

unsafe extern "C" fn x_shm_unmap(file: *mut ffi::sqlite3_file, delete: c_int) -> c_int {
    forward!(file, xShmUnmap, ffi::SQLITE_OK, delete)
}

unsafe extern "C" fn x_fetch(
    file: *mut ffi::sqlite3_file,
    offset: ffi::sqlite3_int64,
    amount: c_int,
    out: *mut *mut c_void,
) -> c_int {
    // No memory map: SQLite then reads through xRead.
    let _ = (file, offset, amount);
    // SAFETY: SQLite passes a valid out pointer.
    unsafe { *out = ptr::null_mut() };
    ffi::SQLITE_OK
}

unsafe extern "C" fn x_unfetch(
    _file: *mut ffi::sqlite3_file,
    _offset: ffi::sqlite3_int64,
    _page: *mut c_void,
) -> c_int {
    ffi::SQLITE_OK
}

static METHODS: ffi::sqlite3_io_methods = ffi::sqlite3_io_methods {
    iVersion: 3,
    xClose: Some(x_close),
    xRead: Some(x_read),
    xWrite: Some(x_write),
    xTruncate: Some(x_truncate),
    xSync: Some(x_sync),
    xFileSize: Some(x_file_size),
    xLock: Some(x_lock),
    xUnlock: Some(x_unlock),
    xCheckReservedLock: Some(x_check_reserved_lock),
    xFileControl: Some(x_file_control),
    xSectorSize: Some(x_sector_size),
    xDeviceCharacteristics: Some(x_device_characteristics),
    xShmMap: Some(x_shm_map),
    xShmLock: Some(x_shm_lock),
    xShmBarrier: Some(x_shm_barrier),
    xShmUnmap: Some(x_shm_unmap),
    xFetch: Some(x_fetch),
    xUnfetch: Some(x_unfetch),
};
