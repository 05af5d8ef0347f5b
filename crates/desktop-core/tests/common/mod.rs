//! Shared by the core's integration tests.

use pushdesk_desktop_core::core::{Snapshot, Views};
use serde_json::Value;

/// No window, no tray: the tests read the core directly.
pub struct NoViews;

impl Views for NoViews {
    fn emit(&self, _: &str, _: Value) {}
    fn summary(&self, _: &Snapshot) {}
    fn open_window(&self) {}
    fn window_focused(&self) -> bool {
        false
    }
    fn open_url(&self, _: &str) {}
    fn autostart(&self, _: bool) -> Result<(), String> {
        Ok(())
    }
}
