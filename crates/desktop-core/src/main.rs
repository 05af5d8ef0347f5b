//! `pushdesk-tray`: see [`pushdesk_desktop_core::app`].

fn main() -> std::process::ExitCode {
    pushdesk_desktop_core::app::main()
}
