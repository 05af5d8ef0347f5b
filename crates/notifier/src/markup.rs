//! [`escape`]: text made safe inside XML-like markup (Windows toast XML,
//! the markup of XDG tooltips), so text from the network shows as text.
//! Pure.

/// `text` with `& < > " '` as entities and the control characters XML 1.0
/// cannot hold (all but newline and tab) left out.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if c.is_control() && !matches!(c, '\n' | '\t') => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_shows_as_text() {
        assert_eq!(
            escape("Disconnected: <b>x</b> & 'y' \"z\""),
            "Disconnected: &lt;b&gt;x&lt;/b&gt; &amp; &apos;y&apos; &quot;z&quot;"
        );
        assert_eq!(escape("a\u{0}b\nc\td\u{1b}"), "ab\nc\td");
    }
}
