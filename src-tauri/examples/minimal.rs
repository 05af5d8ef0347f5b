//! A minimal Tauri 2 app (one window, a static page from a custom
//! protocol, no plugins, no tray), built with the same Tauri, WebKitGTK and
//! profile as `pushdesk-desktop`: the yardstick `footprint` measures us
//! against.

const PAGE: &str = "<!doctype html><title>minimal</title><p>Hello from a minimal Tauri app</p>";

fn main() {
    let result = tauri::Builder::default()
        .register_uri_scheme_protocol("minimal", |_ctx, _request| {
            tauri::http::Response::builder()
                .header("content-type", "text/html")
                .body(PAGE.as_bytes().to_vec())
                .unwrap_or_default()
        })
        .setup(|app| {
            let url = "minimal://localhost/".parse().map_err(|e| format!("{e}"))?;
            tauri::WebviewWindowBuilder::new(app, "main", tauri::WebviewUrl::CustomProtocol(url))
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
