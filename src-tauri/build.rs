//! Tauri's build step: app manifest, capabilities (ACL) and icons. The
//! commands are listed so the ACL checks them: the webview may call only
//! what `capabilities/main.json` grants.

fn main() {
    let commands = &[
        "hub_state",
        "send_text",
        "send_notification",
        "history",
        "get_settings",
        "save_settings",
        "set_dnd",
        "reconnect",
        "close_window",
    ];
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(commands)),
    )
    .expect("tauri build step");
}
