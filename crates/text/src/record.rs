//! [`Record`]: one entry of the shared text's stored log (a SQLite row, a
//! Redis stream entry), and the framing shared with the wire messages.
//!
//! A log is replayed in order into [`crate::Epochs`]: updates (each in the
//! epoch it was made in), cuts, and snapshots that replace everything
//! before them. Entries written before there were epochs are bare Yjs
//! updates and read as updates of the first epoch.

use yrs::encoding::read::{Cursor, Read};
use yrs::encoding::write::Write;

use crate::TextError;
use crate::epoch::{Epoch, FIRST_EPOCH, StoredCut};

/// Starts every record (a bare Yjs update never does: a zero count of
/// clients followed by a delete set of 80 clients named "DT…").
const MAGIC: &[u8] = b"\0PDT\x01";

const UPDATE: u8 = 1;
const CUT: u8 = 2;
const SNAPSHOT: u8 = 3;

/// One entry of the stored log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    /// A Yjs v1 update made in `epoch`.
    Update {
        /// The epoch of the document it was made on.
        epoch: Epoch,
        /// The update.
        update: Vec<u8>,
    },
    /// Epoch `from` ended with the document `doc` (a snapshot) and epoch
    /// `to` began from its text.
    Cut {
        /// The epoch that ended.
        from: Epoch,
        /// The epoch that began.
        to: Epoch,
        /// The document at the cut.
        doc: Vec<u8>,
    },
    /// Everything before: the current epoch's document and the kept cuts.
    Snapshot {
        /// The current epoch.
        epoch: Epoch,
        /// Its document.
        doc: Vec<u8>,
        /// The kept cuts, oldest first.
        cuts: Vec<StoredCut>,
    },
}

impl Record {
    /// The bytes to store.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        match self {
            Self::Update { epoch, update } => {
                out.push(UPDATE);
                out.write_var(*epoch);
                out.write_buf(update);
            }
            Self::Cut { from, to, doc } => {
                out.push(CUT);
                out.write_var(*from);
                out.write_var(*to);
                out.write_buf(doc);
            }
            Self::Snapshot { epoch, doc, cuts } => {
                out.push(SNAPSHOT);
                out.write_var(*epoch);
                out.write_buf(doc);
                out.write_var(cuts.len());
                for cut in cuts {
                    out.write_var(cut.from);
                    out.write_var(cut.to);
                    out.write_buf(&cut.merged);
                    out.write_buf(&cut.mirror);
                }
            }
        }
        out
    }

    /// Reads stored bytes: a record, or a bare update from before epochs.
    pub fn decode(bytes: &[u8]) -> Result<Self, TextError> {
        let Some(body) = bytes.strip_prefix(MAGIC) else {
            return Ok(Self::Update {
                epoch: FIRST_EPOCH,
                update: bytes.to_vec(),
            });
        };
        let bad = |e: yrs::encoding::read::Error| TextError::malformed("stored text record", e);
        let mut r = Cursor::new(body);
        let record = match r.read_u8().map_err(bad)? {
            UPDATE => Self::Update {
                epoch: r.read_var().map_err(bad)?,
                update: r.read_buf().map_err(bad)?.to_vec(),
            },
            CUT => Self::Cut {
                from: r.read_var().map_err(bad)?,
                to: r.read_var().map_err(bad)?,
                doc: r.read_buf().map_err(bad)?.to_vec(),
            },
            SNAPSHOT => {
                let epoch = r.read_var().map_err(bad)?;
                let doc = r.read_buf().map_err(bad)?.to_vec();
                let count: usize = r.read_var().map_err(bad)?;
                let mut cuts = Vec::new();
                for _ in 0..count.min(crate::epoch::MAX_CUTS * 4) {
                    cuts.push(StoredCut {
                        from: r.read_var().map_err(bad)?,
                        to: r.read_var().map_err(bad)?,
                        merged: r.read_buf().map_err(bad)?.to_vec(),
                        mirror: r.read_buf().map_err(bad)?.to_vec(),
                    });
                }
                Self::Snapshot { epoch, doc, cuts }
            }
            other => {
                return Err(TextError::malformed(
                    "stored text record",
                    format!("unknown kind {other}"),
                ));
            }
        };
        if r.has_content() {
            return Err(TextError::malformed("stored text record", "trailing bytes"));
        }
        Ok(record)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip() -> Result<(), TextError> {
        let records = [
            Record::Update {
                epoch: 7,
                update: vec![1, 2, 3],
            },
            Record::Cut {
                from: 0,
                to: u32::MAX,
                doc: vec![0; 300],
            },
            Record::Snapshot {
                epoch: 9,
                doc: vec![4],
                cuts: vec![StoredCut {
                    from: 0,
                    to: 9,
                    merged: vec![5, 6],
                    mirror: vec![],
                }],
            },
        ];
        for record in records {
            assert_eq!(Record::decode(&record.encode())?, record);
        }
        Ok(())
    }

    #[test]
    fn a_bare_update_is_of_the_first_epoch() -> Result<(), TextError> {
        let update = crate::SharedText::new().set("before epochs");
        assert_eq!(
            Record::decode(&update)?,
            Record::Update {
                epoch: FIRST_EPOCH,
                update,
            }
        );
        Ok(())
    }

    #[test]
    fn damaged_records_are_errors_not_panics() {
        let mut bytes = Record::Cut {
            from: 1,
            to: 2,
            doc: vec![9; 10],
        }
        .encode();
        bytes.truncate(bytes.len() - 3);
        assert!(Record::decode(&bytes).is_err());
        let mut unknown = MAGIC.to_vec();
        unknown.push(42);
        assert!(Record::decode(&unknown).is_err());
        let mut trailing = Record::Update {
            epoch: 1,
            update: vec![],
        }
        .encode();
        trailing.push(0);
        assert!(Record::decode(&trailing).is_err());
    }
}
