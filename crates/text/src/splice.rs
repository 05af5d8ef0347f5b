//! [`Splice`]: the one contiguous change that turns one text into another.
//!
//! A textarea's `input` event or a seed client's full-text write says what
//! the text is now, not what changed; the common prefix and suffix give the
//! change. Offsets count UTF-16 code units and never split a surrogate pair
//! (the comparison is per `char`).

/// Delete `delete` code units at `index`, then insert `insert` there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Splice {
    /// Where the change starts, in UTF-16 code units.
    pub index: u32,
    /// How many UTF-16 code units are removed.
    pub delete: u32,
    /// What is inserted at `index`.
    pub insert: String,
}

impl Splice {
    /// The change from `old` to `new`, or `None` when they are equal.
    /// When a change could sit in several places ("aa" → "aaa"), it is put
    /// as late as possible, after the common prefix.
    pub fn between(old: &str, new: &str) -> Option<Self> {
        if old == new {
            return None;
        }
        let (mut prefix_bytes, mut index) = (0usize, 0u32);
        for (a, b) in old.chars().zip(new.chars()) {
            if a != b {
                break;
            }
            prefix_bytes += a.len_utf8();
            index += utf16_len(a);
        }
        let (old_rest, new_rest) = (&old[prefix_bytes..], &new[prefix_bytes..]);
        let mut suffix_bytes = 0usize;
        for (a, b) in old_rest.chars().rev().zip(new_rest.chars().rev()) {
            if a != b {
                break;
            }
            suffix_bytes += a.len_utf8();
        }
        let removed = &old_rest[..old_rest.len() - suffix_bytes];
        let inserted = &new_rest[..new_rest.len() - suffix_bytes];
        Some(Self {
            index,
            delete: removed.chars().map(utf16_len).sum(),
            insert: inserted.to_owned(),
        })
    }

    /// Our change (`base` → `ours`) made again on `theirs` (`base` with
    /// what others did meanwhile): the splice to apply to `theirs`, `None`
    /// when we changed nothing. Where the two changes overlap, ours is
    /// inserted beside theirs and none of their text is removed. Used where
    /// an edit was made on a text that is no longer the document's (a
    /// window's write on the text before a cut) and only positions relate
    /// the two.
    pub fn carry(base: &str, ours: &str, theirs: &str) -> Option<Self> {
        let mine = Self::between(base, ours)?;
        let Some(other) = Self::between(base, theirs) else {
            return Some(mine);
        };
        let other_end = other.index + other.delete;
        let other_len = other.insert.encode_utf16().count() as u32;
        let same_spot_delete = other.delete == 0 && other.index == mine.index && mine.delete > 0;
        if other_end <= mine.index && !same_spot_delete {
            return Some(Self {
                index: (mine.index + other_len).saturating_sub(other.delete),
                ..mine
            });
        }
        if other.index >= mine.index + mine.delete {
            return Some(mine);
        }
        let index = if mine.index < other.index {
            mine.index
        } else {
            other.index + other_len
        };
        Some(Self {
            index,
            delete: 0,
            insert: mine.insert,
        })
    }

    /// How much it changes: code units removed plus inserted.
    pub fn cost(&self) -> u64 {
        u64::from(self.delete) + self.insert.encode_utf16().count() as u64
    }

    /// `text` with this splice applied; `None` if it does not fit `text`.
    pub fn apply_to(&self, text: &str) -> Option<String> {
        let start = byte_offset(text, self.index)?;
        let end = start + byte_offset(&text[start..], self.delete)?;
        let mut out = String::with_capacity(text.len() - (end - start) + self.insert.len());
        out.push_str(&text[..start]);
        out.push_str(&self.insert);
        out.push_str(&text[end..]);
        Some(out)
    }
}

fn utf16_len(c: char) -> u32 {
    if u32::from(c) > 0xFFFF { 2 } else { 1 }
}

/// `text`'s length in UTF-16 code units (as a textarea and Yjs count).
pub(crate) fn utf16_units(text: &str) -> u32 {
    text.chars().map(utf16_len).sum()
}

/// The byte offset of UTF-16 offset `units` in `text`, if it falls on a char boundary.
fn byte_offset(text: &str, units: u32) -> Option<usize> {
    let mut seen = 0u32;
    for (at, c) in text.char_indices() {
        if seen == units {
            return Some(at);
        }
        if seen > units {
            return None;
        }
        seen += utf16_len(c);
    }
    (seen == units).then_some(text.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn splice(index: u32, delete: u32, insert: &str) -> Option<Splice> {
        Some(Splice {
            index,
            delete,
            insert: insert.to_owned(),
        })
    }

    #[test]
    fn finds_the_changed_middle() {
        assert_eq!(Splice::between("hello world", "hello world"), None);
        assert_eq!(
            Splice::between("hello world", "hello big world"),
            splice(6, 0, "big ")
        );
        assert_eq!(
            Splice::between("hello world", "hello world!"),
            splice(11, 0, "!")
        );
        assert_eq!(Splice::between("abc", ""), splice(0, 3, ""));
        assert_eq!(Splice::between("aa", "aaa"), splice(2, 0, "a"));
        assert_eq!(Splice::between("axc", "ayc"), splice(1, 1, "y"));
    }

    #[test]
    fn counts_utf16_and_never_splits_a_pair() {
        // 😀 is U+1F600 (D83D DE00), 😁 U+1F601 (D83D DE01): same high surrogate.
        assert_eq!(Splice::between("a😀b", "a😁b"), splice(1, 2, "😁"));
        assert_eq!(Splice::between("日本", "日本語"), splice(2, 0, "語"));
        assert_eq!(Splice::between("😀", "😀😀"), splice(2, 0, "😀"));
    }

    #[test]
    fn apply_refuses_offsets_inside_a_pair_or_past_the_end() {
        assert_eq!(splice(1, 0, "x").and_then(|s| s.apply_to("😀")), None);
        assert_eq!(splice(3, 0, "x").and_then(|s| s.apply_to("ab")), None);
        assert_eq!(
            splice(2, 0, "x").and_then(|s| s.apply_to("😀")),
            Some("😀x".to_owned())
        );
    }

    proptest! {
        #[test]
        fn applying_the_splice_gives_the_new_text(old in "[ab😀日]{0,12}", new in "[ab😀日]{0,12}") {
            match Splice::between(&old, &new) {
                None => prop_assert_eq!(&old, &new),
                Some(s) => {
                    prop_assert_eq!(s.apply_to(&old), Some(new.clone()));
                    prop_assert!(s.delete > 0 || !s.insert.is_empty());
                }
            }
        }
    }

    #[test]
    fn our_change_is_carried_onto_their_text() {
        let carried = |base: &str, ours: &str, theirs: &str| {
            Splice::carry(base, ours, theirs).and_then(|s| s.apply_to(theirs))
        };
        // Theirs before ours, after ours, none; emoji count two units.
        assert_eq!(
            carried("abc def", "abc dXef", "🚀abc def").as_deref(),
            Some("🚀abc dXef")
        );
        assert_eq!(
            carried("abc def", "aXbc def", "abc def<").as_deref(),
            Some("aXbc def<")
        );
        assert_eq!(carried("abc def", "abc de", "abc").as_deref(), Some("abc"));
        assert_eq!(
            carried("abc def", "abc de", "abc def").as_deref(),
            Some("abc de")
        );
        assert_eq!(Splice::carry("abc", "abc", "xyz"), None);
        // Both changed the same word: ours goes in, none of theirs is removed.
        let both = carried("abc def", "abc dYf", "abc dZZf").unwrap();
        assert!(both.contains('Y') && both.contains("ZZ"), "{both}");
        // Typed at the end while they typed at the start.
        assert_eq!(
            carried("[x]", "[x] one", "ant [x]").as_deref(),
            Some("ant [x] one")
        );
    }
}
