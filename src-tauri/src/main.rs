//! `pushdesk-desktop`: see the library for what lives where.

// No console window next to the app on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() -> std::process::ExitCode {
    #[cfg(target_os = "linux")]
    software_compositing();
    pushdesk_desktop::main()
}

/// Runs WebKitGTK without GPU compositing unless the user chose otherwise
/// (`WEBKIT_DISABLE_COMPOSITING_MODE=0` turns it back on).
///
/// Our page is a few forms and a list; drawing it on the CPU costs nothing
/// visible, while GPU compositing costs the web process a compositor
/// thread, GL contexts and buffers and the GL rasteriser (80 MiB more PSS
/// with the window open here, see the README's footprint table), and it is
/// the usual cause of blank WebKitGTK windows on some drivers. WebKit reads
/// this variable when the first webview is created. Setting the
/// `WebKitSettings` policy instead comes too late: Tauri hands out the
/// webview only after its first load started, and the web process has set
/// up compositing by then (measured: 20 MiB of LLVM more in use).
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
fn software_compositing() {
    const VAR: &str = "WEBKIT_DISABLE_COMPOSITING_MODE";
    if std::env::var_os(VAR).is_none() {
        // SAFETY: this is the first statement of `main`: no other thread
        // exists yet that could read or write the environment.
        unsafe { std::env::set_var(VAR, "1") };
    }
}
