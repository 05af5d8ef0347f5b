//! [`Ack`], the acknowledgement of a request.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::validate::ValidationError;

/// The hub's answer to a request sent with a Socket.IO acknowledgement
/// (extension; the seed server sends none).
///
/// On the wire: `{"ok": true, "id": 42}` (`id` only for notification
/// requests) or `{"ok": false, "error": "..."}`. Decoding requires a boolean
/// `ok`; a missing `error` on a refusal reads as `""`; other fields are
/// ignored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ack {
    /// The request was accepted.
    Accepted {
        /// Id of the notification it produced, if any.
        id: Option<u64>,
    },
    /// The request was refused.
    Rejected {
        /// Why, for the sender.
        error: String,
    },
}

impl Ack {
    /// Accepted, producing notification `id`.
    pub const fn accepted(id: u64) -> Self {
        Self::Accepted { id: Some(id) }
    }

    /// Accepted, with no id to report (e.g. a text update).
    pub const fn ok() -> Self {
        Self::Accepted { id: None }
    }

    /// Refused because of `error`.
    pub fn rejected(error: impl Into<String>) -> Self {
        Self::Rejected {
            error: error.into(),
        }
    }

    /// `true` if accepted.
    pub const fn is_ok(&self) -> bool {
        matches!(self, Self::Accepted { .. })
    }

    /// The notification id of an acceptance.
    pub const fn id(&self) -> Option<u64> {
        match self {
            Self::Accepted { id } => *id,
            Self::Rejected { .. } => None,
        }
    }

    /// The id of an acceptance, or the refusal as an error.
    pub fn into_result(self) -> Result<Option<u64>, RequestRejected> {
        match self {
            Self::Accepted { id } => Ok(id),
            Self::Rejected { error } => Err(RequestRejected { error }),
        }
    }
}

impl From<ValidationError> for Ack {
    fn from(error: ValidationError) -> Self {
        Self::rejected(error.to_string())
    }
}

/// A refusal from the hub, as an error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the hub refused the request: {}", if error.is_empty() { "no reason given" } else { error })]
pub struct RequestRejected {
    /// The hub's reason.
    pub error: String,
}

/// The flat wire form of [`Ack`].
#[derive(Serialize, Deserialize)]
struct Wire<'a> {
    ok: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    id: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none", borrow)]
    error: Option<std::borrow::Cow<'a, str>>,
}

impl Serialize for Ack {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let wire = match self {
            Self::Accepted { id } => Wire {
                ok: true,
                id: *id,
                error: None,
            },
            Self::Rejected { error } => Wire {
                ok: false,
                id: None,
                error: Some(error.as_str().into()),
            },
        };
        wire.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Ack {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let wire = Wire::deserialize(deserializer)?;
        Ok(if wire.ok {
            Self::Accepted { id: wire.id }
        } else {
            Self::Rejected {
                error: wire.error.map(|e| e.into_owned()).unwrap_or_default(),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn wire_shapes() {
        assert_eq!(
            serde_json::to_value(Ack::accepted(42)).unwrap(),
            json!({"ok": true, "id": 42})
        );
        assert_eq!(
            serde_json::to_value(Ack::ok()).unwrap(),
            json!({"ok": true})
        );
        assert_eq!(
            serde_json::to_value(Ack::rejected("no")).unwrap(),
            json!({"ok": false, "error": "no"})
        );
    }

    #[test]
    fn round_trips() {
        for ack in [
            Ack::accepted(0),
            Ack::ok(),
            Ack::rejected("`title` is too long"),
            Ack::rejected("引用 \"x\" \\ 改行\n"),
        ] {
            let s = serde_json::to_string(&ack).unwrap();
            assert_eq!(serde_json::from_str::<Ack>(&s).unwrap(), ack);
        }
    }

    #[test]
    fn decoding_is_tolerant_but_needs_a_boolean_ok() {
        let d = |v| serde_json::from_value::<Ack>(v);
        assert_eq!(d(json!({"ok": false})).unwrap(), Ack::rejected(""));
        assert_eq!(
            d(json!({"ok": true, "id": 3, "error": "ignored", "x": 1})).unwrap(),
            Ack::accepted(3)
        );
        assert_eq!(d(json!({"ok": true, "id": null})).unwrap(), Ack::ok());
        for bad in [
            json!({}),
            json!({"ok": "true"}),
            json!({"ok": 1}),
            json!({"ok": true, "id": "3"}),
            json!({"ok": false, "error": 5}),
            json!(true),
        ] {
            assert!(d(bad.clone()).is_err(), "{bad}");
        }
    }

    #[test]
    fn accessors_and_result() {
        assert!(Ack::accepted(1).is_ok());
        assert_eq!(Ack::accepted(1).id(), Some(1));
        assert_eq!(Ack::rejected("x").id(), None);
        assert!(!Ack::rejected("x").is_ok());
        assert_eq!(Ack::accepted(9).into_result(), Ok(Some(9)));
        let err = Ack::rejected("too long").into_result().unwrap_err();
        assert_eq!(err.to_string(), "the hub refused the request: too long");
        assert_eq!(
            Ack::rejected("").into_result().unwrap_err().to_string(),
            "the hub refused the request: no reason given"
        );
    }

    #[test]
    fn from_validation_error() {
        let ack = Ack::from(ValidationError::EmptyActionId);
        assert_eq!(ack, Ack::rejected("an action id must not be empty"));
    }
}
