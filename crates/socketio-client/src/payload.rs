//! [`Payload`]: the arguments of an event or an ack, JSON plus binary
//! attachments (referenced from the JSON by placeholders).

use bytes::Bytes;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::Error;
use crate::socketio::is_placeholder;

/// Event or ack arguments. Binary attachments sit in `binary`; the JSON
/// holds `{"_placeholder":true,"num":N}` where attachment `N` belongs, so
/// nothing is lost and several attachments can mix with JSON.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Payload {
    /// The JSON arguments, in order.
    pub args: Vec<Value>,
    /// Binary attachments, indexed by placeholder number.
    pub binary: Vec<Bytes>,
}

impl Payload {
    /// Arguments without binary.
    pub fn new(args: Vec<Value>) -> Self {
        Self {
            args,
            binary: Vec::new(),
        }
    }

    /// Arguments with binary attachments (use [`crate::placeholder`] in `args`).
    pub fn with_binary(args: Vec<Value>, binary: Vec<Bytes>) -> Self {
        Self { args, binary }
    }

    /// One argument serialized from any serde type.
    pub fn json<T: Serialize + ?Sized>(value: &T) -> Result<Self, Error> {
        let v = serde_json::to_value(value).map_err(|e| Error::Serialize(e.to_string()))?;
        Ok(Self::new(vec![v]))
    }

    /// The first argument, if any.
    pub fn first(&self) -> Option<&Value> {
        self.args.first()
    }

    /// Deserializes the first argument into `T`.
    pub fn parse_first<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        T::deserialize(self.args.first().unwrap_or(&Value::Null))
    }

    /// The attachment a placeholder value stands for.
    pub fn attachment(&self, value: &Value) -> Option<&Bytes> {
        let num = usize::try_from(is_placeholder(value)?).ok()?;
        self.binary.get(num)
    }
}

impl From<Value> for Payload {
    /// One JSON argument.
    fn from(value: Value) -> Self {
        Self::new(vec![value])
    }
}

impl From<Vec<Value>> for Payload {
    /// Several JSON arguments.
    fn from(args: Vec<Value>) -> Self {
        Self::new(args)
    }
}

impl From<()> for Payload {
    /// No arguments.
    fn from(_: ()) -> Self {
        Self::default()
    }
}

impl From<Bytes> for Payload {
    /// One binary argument.
    fn from(data: Bytes) -> Self {
        Self::with_binary(vec![crate::socketio::placeholder(0)], vec![data])
    }
}
