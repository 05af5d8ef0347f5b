//! macOS: `UNUserNotificationCenter` through `mac-usernotifications` (the
//! crate behind notify-rust's `preview-macos-un` backend, used directly for
//! its async `response()`; notify-rust only offers blocking waits there).
//!
//! The request identifier is the handle: `tag:<tag>` for a tagged
//! notification (posting the same identifier replaces it, the tag rule) or
//! `key:<key>`. One task per notification awaits its response and ends with
//! it. The app must run from a signed `.app` bundle for macOS to accept
//! notifications; otherwise `show` fails with the platform's error.
//! Buttons ([`NotificationSpec::actions`]) are not shown here: they need a
//! notification category registered per set of buttons; a click on the
//! notification still works.

use std::sync::{Arc, Mutex};

use mac_usernotifications as un;
use tracing::debug;

use crate::EventSender;
use crate::error::{Error, Result};
use crate::models::{CloseReason, NotificationSpec, NotifierEvent, Urgency};
use crate::tags::TagSlots;

type Slots = Arc<Mutex<TagSlots<String>>>;

fn lock(slots: &Slots) -> std::sync::MutexGuard<'_, TagSlots<String>> {
    slots.lock().unwrap_or_else(|p| p.into_inner())
}

/// The UserNotifications backend.
pub(crate) struct Backend {
    slots: Slots,
    events: EventSender,
}

impl Backend {
    pub(crate) async fn new(_app_name: &str, events: EventSender) -> Result<Self> {
        un::check_bundle().map_err(|e| Error::NoDaemon(e.to_string()))?;
        // Asking is harmless when already decided; a refusal shows up as
        // failed sends.
        if let Err(e) = un::request_auth().await {
            debug!(error = %e, "notification authorisation");
        }
        Ok(Self {
            slots: Arc::default(),
            events,
        })
    }

    pub(crate) async fn show(&self, spec: &NotificationSpec) -> Result<()> {
        let handle = match spec.tag() {
            Some(tag) => format!("tag:{tag}"),
            None => format!("key:{}", spec.key),
        };
        let mut notification = un::Notification::new()
            .title(&spec.title)
            .message(&spec.body)
            .id(&handle)
            .interruption_level(match spec.urgency {
                Urgency::Low => un::InterruptionLevel::Passive,
                Urgency::Normal => un::InterruptionLevel::Active,
                Urgency::Critical => un::InterruptionLevel::TimeSensitive,
            });
        if let Some(path) = spec.icon.as_ref().and_then(|p| p.to_str()) {
            notification = notification.image_path(path);
        }
        let sent = match notification.send().await {
            Ok(sent) => sent,
            Err(e) => {
                let error = Error::Platform(e.to_string());
                self.events.emit(NotifierEvent::Error {
                    key: spec.key,
                    message: error.to_string(),
                });
                return Err(error);
            }
        };
        let replaced = lock(&self.slots).shown(spec.key, spec.tag(), handle.clone());
        if let Some(old) = replaced {
            self.events.emit(NotifierEvent::Closed {
                key: old,
                reason: CloseReason::Replaced,
            });
        }
        self.events.emit(NotifierEvent::Shown { key: spec.key });
        let (slots, events, key) = (self.slots.clone(), self.events.clone(), spec.key);
        tokio::spawn(async move {
            let response = sent.response().await;
            let mut slots = lock(&slots);
            // A newer notification took this handle: its own task reports.
            if slots.key_of(&handle) != Some(key) {
                return;
            }
            slots.closed(&handle);
            drop(slots);
            match response {
                Ok(r) if r.is_dismiss_action() || r.close_reason.is_some() => {
                    let reason = match r.close_reason {
                        Some(un::CloseReason::Expired) => CloseReason::Expired,
                        _ => CloseReason::Dismissed,
                    };
                    events.emit(NotifierEvent::Closed { key, reason });
                }
                Ok(r) => {
                    let action = if r.is_default_action() {
                        "default".to_owned()
                    } else {
                        r.action_identifier.clone()
                    };
                    events.emit(NotifierEvent::Clicked { key, action });
                    events.emit(NotifierEvent::Closed {
                        key,
                        reason: CloseReason::Dismissed,
                    });
                }
                Err(_) => events.emit(NotifierEvent::Closed {
                    key,
                    reason: CloseReason::Undefined,
                }),
            }
        });
        Ok(())
    }

    pub(crate) async fn close(&self, key: u64) -> Result<()> {
        let handle = {
            let mut slots = lock(&self.slots);
            let Some(handle) = slots.handle_of(key).cloned() else {
                return Ok(());
            };
            slots.closed(&handle);
            handle
        };
        un::close_delivered(&handle).await;
        self.events.emit(NotifierEvent::Closed {
            key,
            reason: CloseReason::ClosedByCall,
        });
        Ok(())
    }
}
