//! [`Urgency`], the ordered urgency levels of a notification.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// How urgent a notification is. Lowercase on the wire (`"low"`, `"normal"`,
/// `"critical"`).
///
/// Ordered `Low < Normal < Critical`, for minimum-urgency filters.
/// Decoding is lenient: a missing field, `null` or an unknown string is
/// [`Urgency::Normal`], and case is ignored; a non-string is an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Urgency {
    /// Can wait; may be shown quietly.
    Low,
    /// The default.
    #[default]
    Normal,
    /// Needs attention now; may stay on screen until dismissed.
    Critical,
}

impl Urgency {
    /// All levels, lowest first.
    pub const ALL: [Self; 3] = [Self::Low, Self::Normal, Self::Critical];

    /// The wire name: `"low"`, `"normal"` or `"critical"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Normal => "normal",
            Self::Critical => "critical",
        }
    }

    /// Lenient parse, as used on the wire: unknown names are `Normal`.
    pub fn from_wire(name: &str) -> Self {
        name.parse().unwrap_or_default()
    }

    /// `true` for [`Urgency::Normal`] (used to omit the default on the wire).
    pub const fn is_normal(&self) -> bool {
        matches!(self, Self::Normal)
    }
}

impl fmt::Display for Urgency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is not an urgency level (from the strict [`FromStr`] parse,
/// meant for user input such as a command-line flag).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown urgency `{0}`, expected low, normal or critical")]
pub struct UnknownUrgency(pub String);

impl FromStr for Urgency {
    type Err = UnknownUrgency;

    /// Strict, case-insensitive parse of `low`, `normal` or `critical`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|u| u.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| UnknownUrgency(s.to_owned()))
    }
}

impl Serialize for Urgency {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Urgency {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = Option::<String>::deserialize(deserializer)?;
        Ok(name.as_deref().map(Self::from_wire).unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ordering_is_low_normal_critical() {
        assert!(Urgency::Low < Urgency::Normal);
        assert!(Urgency::Normal < Urgency::Critical);
        let mut v = vec![Urgency::Critical, Urgency::Low, Urgency::Normal];
        v.sort();
        assert_eq!(v, Urgency::ALL);
        // A minimum-urgency filter.
        let min = Urgency::Normal;
        let shown: Vec<_> = Urgency::ALL.into_iter().filter(|u| *u >= min).collect();
        assert_eq!(shown, [Urgency::Normal, Urgency::Critical]);
    }

    #[test]
    fn lowercase_on_the_wire() {
        for u in Urgency::ALL {
            let v = serde_json::to_value(u).unwrap();
            assert_eq!(v, json!(u.as_str()));
            assert_eq!(serde_json::from_value::<Urgency>(v).unwrap(), u);
        }
        assert_eq!(Urgency::default(), Urgency::Normal);
    }

    #[test]
    fn decoding_is_lenient_about_names() {
        for (input, want) in [
            (json!("CRITICAL"), Urgency::Critical),
            (json!("Low"), Urgency::Low),
            (json!("urgent"), Urgency::Normal),
            (json!(""), Urgency::Normal),
            (json!(null), Urgency::Normal),
        ] {
            assert_eq!(serde_json::from_value::<Urgency>(input).unwrap(), want);
        }
    }

    #[test]
    fn decoding_non_strings_is_an_error() {
        for bad in [
            json!(2),
            json!(true),
            json!(["low"]),
            json!({"level": "low"}),
        ] {
            assert!(serde_json::from_value::<Urgency>(bad).is_err());
        }
    }

    #[test]
    fn from_str_is_strict() {
        assert_eq!("critical".parse(), Ok(Urgency::Critical));
        assert_eq!(" Low ".parse(), Ok(Urgency::Low));
        assert_eq!(
            "hgih".parse::<Urgency>(),
            Err(UnknownUrgency("hgih".into()))
        );
        assert_eq!(Urgency::from_wire("hgih"), Urgency::Normal);
        assert_eq!(Urgency::Critical.to_string(), "critical");
    }
}
