//! Pushdesk's hub model: the wire vocabulary of the hub as serde types.
//!
//! Pure code: no I/O, no async, no GUI. Everything here can be unit-tested
//! and is shared by the hub server, the CLI and the desktop app.
//!
//! The wire shapes are those of the seed Flask-SocketIO app (see
//! `DESIGN.md`), so our clients work against the seed server and the seed's
//! page works against ours. Our extensions are optional on decode and omitted
//! on encode when absent. Decoding is tolerant (missing optional fields get
//! defaults, unknown fields are ignored) but strict on types: a wrong type is
//! a [`serde_json::Error`], never a panic.
//!
//! # Modules
//!
//! * [`channel`]: channel names, [`DEFAULT_CHANNEL`] and [`ALL_CHANNELS`].
//! * [`events`]: the Socket.IO event names, seed events and our extensions.
//! * [`count`]: [`CountUpdate`], the payload of `count_update`.
//! * [`text`]: [`TextUpdate`], the payload of `text_update` and `text_update_request`.
//! * [`request`]: [`NotificationRequest`], the payload of `send_notification_request`.
//! * [`notification`]: [`Notification`], the payload of `send_notification`.
//! * [`urgency`]: [`Urgency`], the ordered urgency levels of a notification.
//! * [`action`]: [`Action`], one button on a notification.
//! * [`ack`]: [`Ack`], the acknowledgement of a request.
//! * [`click`]: [`NotificationClicked`], the payload of `notification_clicked`.
//! * [`close`]: [`NotificationClosed`] and [`CloseReason`], the payload of `notification_closed`.
//! * [`limits`]: the size limits, as constants.
//! * [`validate`]: [`ValidationError`] and the pure validation rules.
//!
//! # Example
//!
//! What a hub does with the seed page's request:
//!
//! ```
//! use pushdesk_hub_model::{Ack, Notification, NotificationRequest};
//!
//! let request: NotificationRequest = serde_json::from_str(r#"{"text":"hello","num":""}"#)?;
//! let ack = match request.validate() {
//!     Ok(()) => {
//!         let notification = Notification::from_request(request, 1, 1_700_000_000_000);
//!         assert_eq!(
//!             serde_json::to_string(&notification)?,
//!             r#"{"title":"hello","body":"this is push notification.","icon":"images/icon.png","tag":"","data1":"","id":1,"timestamp":1700000000000}"#
//!         );
//!         Ack::accepted(1)
//!     }
//!     Err(error) => Ack::from(error),
//! };
//! assert_eq!(serde_json::to_string(&ack)?, r#"{"ok":true,"id":1}"#);
//! # Ok::<(), serde_json::Error>(())
//! ```

pub mod ack;
pub mod action;
pub mod channel;
pub mod click;
pub mod close;
pub mod count;
pub mod events;
pub mod limits;
pub mod notification;
pub mod request;
mod serde_util;
pub mod text;
pub mod urgency;
pub mod validate;

pub use ack::{Ack, RequestRejected};
pub use action::Action;
pub use channel::{ALL_CHANNELS, DEFAULT_CHANNEL, check_channel, is_channel_name};
pub use click::NotificationClicked;
pub use close::{CloseReason, NotificationClosed};
pub use count::CountUpdate;
pub use notification::{DEFAULT_BODY, DEFAULT_ICON, Notification};
pub use request::NotificationRequest;
pub use text::TextUpdate;
pub use urgency::{UnknownUrgency, Urgency};
pub use validate::ValidationError;
