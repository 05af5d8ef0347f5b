//! Windows: WinRT toasts (`Windows.UI.Notifications`) through the `windows`
//! crate, the same calls tauri-winrt-notification makes, plus what it does
//! not expose: a toast `Tag`/`Group` (a toast with the tag of one on screen
//! replaces it, the tag rule), `Failed`, and removal from the Action Center
//! by tag for [`Notifier::close`](crate::Notifier::close).
//!
//! The handle is the toast tag: `t<hash of the tag>` for a tagged
//! notification (Windows limits tags to 64 characters), `k<key>` otherwise.
//! `app_name` must be the app's AppUserModelID (the installer registers it).

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash as _, Hasher as _};
use std::sync::{Arc, Mutex};

use windows::Data::Xml::Dom::XmlDocument;
use windows::Foundation::TypedEventHandler;
use windows::UI::Notifications::{
    ToastActivatedEventArgs, ToastDismissalReason, ToastDismissedEventArgs, ToastFailedEventArgs,
    ToastNotification, ToastNotificationManager,
};
use windows::core::{HSTRING, IInspectable, Interface as _};

use crate::EventSender;
use crate::error::{Error, Result};
use crate::models::{CloseReason, NotificationSpec, NotifierEvent, Urgency};
use crate::tags::TagSlots;

/// The toast group of every Pushdesk toast.
const GROUP: &str = "pushdesk";

type Slots = Arc<Mutex<TagSlots<String>>>;

fn lock(slots: &Slots) -> std::sync::MutexGuard<'_, TagSlots<String>> {
    slots.lock().unwrap_or_else(|p| p.into_inner())
}

fn platform(e: windows::core::Error) -> Error {
    Error::Platform(e.to_string())
}

/// The toast backend.
pub(crate) struct Backend {
    app_id: String,
    slots: Slots,
    events: EventSender,
}

impl Backend {
    pub(crate) async fn new(app_name: &str, events: EventSender) -> Result<Self> {
        let app_id = app_name.to_owned();
        let id = app_id.clone();
        tokio::task::spawn_blocking(move || {
            ToastNotificationManager::CreateToastNotifierWithId(&HSTRING::from(id))
                .map(|_| ())
                .map_err(|e| Error::NoDaemon(e.to_string()))
        })
        .await
        .map_err(|e| Error::Platform(e.to_string()))??;
        Ok(Self {
            app_id,
            slots: Arc::default(),
            events,
        })
    }

    pub(crate) async fn show(&self, spec: &NotificationSpec) -> Result<()> {
        let handle = match spec.tag() {
            Some(tag) => {
                let mut h = DefaultHasher::new();
                tag.hash(&mut h);
                format!("t{:016x}", h.finish())
            }
            None => format!("k{}", spec.key),
        };
        let xml = toast_xml(spec);
        let (app_id, slots, events) =
            (self.app_id.clone(), self.slots.clone(), self.events.clone());
        let (key, tag, h) = (spec.key, spec.tag().map(str::to_owned), handle.clone());
        let shown = tokio::task::spawn_blocking(move || {
            show_toast(&app_id, &xml, &h, key, &slots, &events)?;
            Ok::<_, Error>(lock(&slots).shown(key, tag.as_deref(), h))
        })
        .await
        .map_err(|e| Error::Platform(e.to_string()))
        .and_then(|r| r);
        match shown {
            Ok(replaced) => {
                if let Some(old) = replaced {
                    self.events.emit(NotifierEvent::Closed {
                        key: old,
                        reason: CloseReason::Replaced,
                    });
                }
                self.events.emit(NotifierEvent::Shown { key });
                Ok(())
            }
            Err(e) => {
                self.events.emit(NotifierEvent::Error {
                    key,
                    message: e.to_string(),
                });
                Err(e)
            }
        }
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
        let app_id = self.app_id.clone();
        tokio::task::spawn_blocking(move || {
            ToastNotificationManager::History()
                .and_then(|history| {
                    history.RemoveGroupedTagWithId(
                        &HSTRING::from(handle),
                        &HSTRING::from(GROUP),
                        &HSTRING::from(app_id),
                    )
                })
                .map_err(platform)
        })
        .await
        .map_err(|e| Error::Platform(e.to_string()))??;
        self.events.emit(NotifierEvent::Closed {
            key,
            reason: CloseReason::ClosedByCall,
        });
        Ok(())
    }
}

/// Builds, wires and shows one toast (blocking WinRT calls).
fn show_toast(
    app_id: &str,
    xml: &str,
    handle: &str,
    key: u64,
    slots: &Slots,
    events: &EventSender,
) -> Result<()> {
    let doc = XmlDocument::new().map_err(platform)?;
    doc.LoadXml(&HSTRING::from(xml)).map_err(platform)?;
    let toast = ToastNotification::CreateToastNotification(&doc).map_err(platform)?;
    toast.SetTag(&HSTRING::from(handle)).map_err(platform)?;
    toast.SetGroup(&HSTRING::from(GROUP)).map_err(platform)?;

    // Each handler reports only while this key still owns the handle: a
    // replaced toast's late events are not the new one's.
    let current = {
        let (slots, handle) = (slots.clone(), handle.to_owned());
        move || lock(&slots).key_of(&handle) == Some(key)
    };
    {
        let (events, current) = (events.clone(), current.clone());
        toast
            .Activated(&TypedEventHandler::<ToastNotification, IInspectable>::new(
                move |_, args| {
                    if current() {
                        let action = args
                            .as_ref()
                            .and_then(|a| a.cast::<ToastActivatedEventArgs>().ok())
                            .and_then(|a| a.Arguments().ok())
                            .map(|a| a.to_string())
                            .filter(|a| !a.is_empty())
                            .unwrap_or_else(|| "default".to_owned());
                        events.emit(NotifierEvent::Clicked { key, action });
                    }
                    Ok(())
                },
            ))
            .map_err(platform)?;
    }
    {
        let (events, current, slots, handle) = (
            events.clone(),
            current.clone(),
            slots.clone(),
            handle.to_owned(),
        );
        toast
            .Dismissed(&TypedEventHandler::<
                ToastNotification,
                ToastDismissedEventArgs,
            >::new(move |_, args| {
                if current() {
                    lock(&slots).closed(&handle);
                    let reason = match args.as_ref().and_then(|a| a.Reason().ok()) {
                        Some(ToastDismissalReason::UserCanceled) => CloseReason::Dismissed,
                        Some(ToastDismissalReason::TimedOut) => CloseReason::Expired,
                        Some(ToastDismissalReason::ApplicationHidden) => CloseReason::ClosedByCall,
                        _ => CloseReason::Undefined,
                    };
                    events.emit(NotifierEvent::Closed { key, reason });
                }
                Ok(())
            }))
            .map_err(platform)?;
    }
    {
        let events = events.clone();
        toast
            .Failed(
                &TypedEventHandler::<ToastNotification, ToastFailedEventArgs>::new(
                    move |_, args| {
                        if current() {
                            let message = args
                                .as_ref()
                                .and_then(|a| a.ErrorCode().ok())
                                .map(|code| format!("toast failed: {code:?}"))
                                .unwrap_or_else(|| "toast failed".to_owned());
                            events.emit(NotifierEvent::Error { key, message });
                        }
                        Ok(())
                    },
                ),
            )
            .map_err(platform)?;
    }
    ToastNotificationManager::CreateToastNotifierWithId(&HSTRING::from(app_id))
        .and_then(|notifier| notifier.Show(&toast))
        .map_err(platform)
}

/// The toast's XML (ToastGeneric), every text escaped.
fn toast_xml(spec: &NotificationSpec) -> String {
    let mut xml = String::from("<toast activationType=\"foreground\"");
    if spec.has_default_action {
        xml.push_str(" launch=\"default\"");
    }
    if spec.urgency == Urgency::Critical {
        xml.push_str(" duration=\"long\"");
    }
    xml.push_str("><visual><binding template=\"ToastGeneric\">");
    xml.push_str(&format!(
        "<text>{}</text>",
        crate::markup::escape(&spec.title)
    ));
    if !spec.body.is_empty() {
        xml.push_str(&format!(
            "<text>{}</text>",
            crate::markup::escape(&spec.body)
        ));
    }
    if let Some(path) = spec.icon.as_ref().and_then(|p| p.to_str()) {
        let uri = format!("file:///{}", path.replace('\\', "/"));
        xml.push_str(&format!(
            "<image placement=\"appLogoOverride\" src=\"{}\"/>",
            crate::markup::escape(&uri)
        ));
    }
    xml.push_str("</binding></visual>");
    let mut buttons = spec.buttons().peekable();
    if buttons.peek().is_some() {
        // `Arguments` of the activation is the button's id.
        xml.push_str("<actions>");
        for button in buttons {
            xml.push_str(&format!(
                "<action content=\"{}\" arguments=\"{}\" activationType=\"foreground\"/>",
                crate::markup::escape(&button.title),
                crate::markup::escape(&button.id)
            ));
        }
        xml.push_str("</actions>");
    }
    if spec.urgency == Urgency::Low {
        xml.push_str("<audio silent=\"true\"/>");
    }
    xml.push_str("</toast>");
    xml
}
