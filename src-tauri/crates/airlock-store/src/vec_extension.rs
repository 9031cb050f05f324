//! The `sqlite-vec` extension, compiled into this binary and registered once per process as
//! an SQLite auto-extension, so that every connection opened afterwards has `vec0` tables and
//! the `vec_*` functions without loading anything from disk.

use std::sync::Once;

/// Makes `sqlite-vec` available to every connection opened from now on.
pub(crate) fn register() {
    static REGISTER: Once = Once::new();
    REGISTER.call_once(|| {
        type ExtensionInit = unsafe extern "C" fn(
            *mut rusqlite::ffi::sqlite3,
            *mut *mut std::os::raw::c_char,
            *const rusqlite::ffi::sqlite3_api_routines,
        ) -> std::os::raw::c_int;
        // SAFETY: `sqlite3_vec_init` is the extension's entry point, an `extern "C"` function
        // with exactly SQLite's extension-init signature (the crate declares it without
        // parameters); it lives as long as the process. Registering it is what SQLite
        // documents for statically linked extensions.
        let rc = unsafe {
            let init: ExtensionInit =
                std::mem::transmute(sqlite_vec::sqlite3_vec_init as *const ());
            rusqlite::ffi::sqlite3_auto_extension(Some(init))
        };
        if rc != rusqlite::ffi::SQLITE_OK {
            tracing::error!(
                rc,
                "sqlite-vec could not be registered; document search will fail"
            );
        }
    });
}
