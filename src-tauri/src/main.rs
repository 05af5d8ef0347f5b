//! `pushdesk-desktop`: see the library for what lives where.

// No console window next to the app on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() -> std::process::ExitCode {
    pushdesk_desktop::main()
}
