//! A minimal Tauri 2 app (one window, a static page, no plugins, no
//! tray), built with the same Tauri, WebKitGTK and profile as
//! `pushdesk-desktop`: the yardstick `footprint` measures us against.

fn main() {
    let result = tauri::Builder::default()
        .setup(|app| {
            let page = "data:text/html,<!doctype html><title>minimal</title><p>Hello from a minimal Tauri app</p>";
            let url = page.parse().map_err(|e| format!("{e}"))?;
            tauri::WebviewWindowBuilder::new(app, "main", tauri::WebviewUrl::External(url))
                .title("minimal")
                .inner_size(980.0, 720.0)
                .build()?;
            Ok(())
        })
        .run(tauri::generate_context!());
    if let Err(e) = result {
        eprintln!("minimal: {e}");
        std::process::exit(1);
    }
}
