//! Which channels a socket follows ([`Subscription`]), and the rules for
//! what a client asks to follow. Pure.

use std::collections::BTreeSet;

use pushdesk_hub_model::channel::check_subscription;
use pushdesk_hub_model::{ALL_CHANNELS, DEFAULT_CHANNEL};
use serde_json::Value;

use crate::access::Rights;
use crate::handlers::room;

/// Most channels one socket may follow.
pub const MAX_CHANNELS: usize = 64;

/// A set of channel names, or [`ALL_CHANNELS`] among them for every channel.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Subscription(BTreeSet<String>);

impl Subscription {
    /// The names, sorted.
    pub fn names(&self) -> Vec<String> {
        self.0.iter().cloned().collect()
    }

    /// The socketioxide rooms to join or leave.
    pub fn rooms(&self) -> Vec<String> {
        self.0.iter().map(|c| room(c)).collect()
    }

    /// The store's channel filter: `None` (every channel) when it follows
    /// [`ALL_CHANNELS`], else the names (empty: nothing).
    pub fn filter(&self) -> Option<Vec<String>> {
        (!self.0.contains(ALL_CHANNELS)).then(|| self.names())
    }

    /// Whether a notification of `channel` is for it.
    pub fn follows(&self, channel: &str) -> bool {
        self.0.contains(ALL_CHANNELS) || self.0.contains(channel)
    }

    /// Adds `other`'s channels; returns those that were new.
    pub fn add(&mut self, other: &Subscription) -> Subscription {
        Subscription(
            other
                .0
                .iter()
                .filter(|c| self.0.insert((*c).clone()))
                .cloned()
                .collect(),
        )
    }

    /// Removes `other`'s channels; returns those that were there.
    pub fn remove(&mut self, other: &Subscription) -> Subscription {
        Subscription(
            other
                .0
                .iter()
                .filter(|c| self.0.remove(*c))
                .cloned()
                .collect(),
        )
    }

    /// Whether it follows nothing.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<S: Into<String>> FromIterator<S> for Subscription {
    fn from_iter<I: IntoIterator<Item = S>>(iter: I) -> Self {
        Self(iter.into_iter().map(Into::into).collect())
    }
}

/// Reads a `channels` field: an array of names (or `*`), or one name.
pub fn parse(value: Option<&Value>) -> Result<Subscription, String> {
    let names: Vec<&str> = match value {
        None | Some(Value::Null) => return Err("`channels` is missing".into()),
        Some(Value::String(one)) => vec![one.as_str()],
        Some(Value::Array(list)) => list
            .iter()
            .map(|v| v.as_str().ok_or("`channels` must hold strings"))
            .collect::<Result<_, _>>()?,
        Some(_) => return Err("`channels` must be an array of channel names".into()),
    };
    if names.len() > MAX_CHANNELS {
        return Err(format!("too many channels: at most {MAX_CHANNELS}"));
    }
    for name in &names {
        check_subscription(name).map_err(|e| e.to_string())?;
    }
    Ok(names.into_iter().collect())
}

/// Refuses, by name, the first channel `rights` may not read.
pub fn check_read(wanted: &Subscription, rights: &Rights) -> Result<(), String> {
    match wanted.0.iter().find(|c| !rights.can_read(c)) {
        Some(c) => Err(format!("this token may not read channel {c:?}")),
        None => Ok(()),
    }
}

/// What a socket follows from its handshake: the auth payload's `channels`
/// (each readable, or the connection is refused by name), or, when it
/// names none, [`DEFAULT_CHANNEL`] if readable (nothing otherwise), which
/// is what the seed's clients expect.
pub fn initial(value: Option<&Value>, rights: &Rights) -> Result<Subscription, String> {
    match value {
        None | Some(Value::Null) => Ok(if rights.can_read(DEFAULT_CHANNEL) {
            [DEFAULT_CHANNEL].into_iter().collect()
        } else {
            Subscription::default()
        }),
        given => {
            let wanted = parse(given)?;
            check_read(&wanted, rights)?;
            Ok(wanted)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::Pattern;
    use serde_json::json;

    fn rights(read: &[&str]) -> Rights {
        Rights {
            read: read.iter().filter_map(|p| Pattern::parse(p)).collect(),
            write: Vec::new(),
            text: false,
        }
    }

    #[test]
    fn seed_clients_follow_default() {
        let s = initial(None, &Rights::all()).expect("ok");
        assert_eq!(s.names(), ["default"]);
        assert_eq!(s.rooms(), ["ch:default"]);
        assert_eq!(s.filter(), Some(vec!["default".to_owned()]));
        let none = initial(None, &rights(&["ops"])).expect("ok");
        assert!(none.is_empty(), "no right on default: follows nothing");
    }

    #[test]
    fn asked_channels_are_checked_by_name() {
        let r = rights(&["alerts-*"]);
        let s = initial(Some(&json!(["alerts-db", "alerts-web"])), &r).expect("ok");
        assert_eq!(s.names(), ["alerts-db", "alerts-web"]);
        let err = initial(Some(&json!(["alerts-db", "backups"])), &r).expect_err("refused");
        assert!(err.contains("\"backups\""), "{err}");
        let err = initial(Some(&json!(["*"])), &r).expect_err("refused");
        assert!(err.contains("\"*\""), "{err}");
        let all = initial(Some(&json!("*")), &Rights::all()).expect("ok");
        assert_eq!(all.filter(), None);
        assert!(all.follows("anything"));
        assert!(initial(Some(&json!([])), &r).expect("ok").is_empty());
    }

    #[test]
    fn bad_channel_lists() {
        for bad in [
            json!(5),
            json!([1]),
            json!(["a b"]),
            json!(["../x"]),
            json!({}),
        ] {
            assert!(parse(Some(&bad)).is_err(), "{bad}");
        }
        assert!(parse(None).is_err());
        let many: Vec<String> = (0..=MAX_CHANNELS).map(|i| format!("c{i}")).collect();
        assert!(parse(Some(&json!(many))).is_err());
    }

    #[test]
    fn add_and_remove_report_the_difference() {
        let mut s: Subscription = ["a", "b"].into_iter().collect();
        let added = s.add(&["b", "c"].into_iter().collect());
        assert_eq!(added.names(), ["c"]);
        assert_eq!(s.names(), ["a", "b", "c"]);
        let removed = s.remove(&["a", "z"].into_iter().collect());
        assert_eq!(removed.names(), ["a"]);
        assert_eq!(s.names(), ["b", "c"]);
        assert!(s.follows("b") && !s.follows("a"));
    }
}
