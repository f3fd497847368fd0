//! How the encoder writes one scalar: the style it asks for, what the text allows, and the
//! escapes of double-quoted text.

use super::resolve;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    Plain,
    Single,
    Double,
    Literal,
}

/// The style the encoder asks for a string: a literal block for text with newlines, plain
/// when the text reads back as the same string, double quotes otherwise.
pub fn requested_style(text: &str) -> Style {
    if text.contains('\n') {
        Style::Literal
    } else if resolve::reads_back_as_string(text) {
        Style::Plain
    } else {
        Style::Double
    }
}

/// What a scalar's characters allow.
pub struct Analysis {
    pub multiline: bool,
    flow_plain: bool,
    block_plain: bool,
    single_quoted: bool,
    block: bool,
}

impl Analysis {
    pub fn of(text: &str) -> Analysis {
        if text.is_empty() {
            return Analysis {
                multiline: false,
                flow_plain: false,
                block_plain: true,
                single_quoted: true,
                block: false,
            };
        }
        let mut block_indicators = false;
        let mut flow_indicators = false;
        if text.starts_with("---") || text.starts_with("...") {
            block_indicators = true;
            flow_indicators = true;
        }
        let (mut line_breaks, mut special, mut tabs) = (false, false, false);
        let (mut leading_space, mut leading_break) = (false, false);
        let (mut trailing_space, mut trailing_break) = (false, false);
        let (mut break_space, mut space_break) = (false, false);
        let (mut previous_space, mut previous_break) = (false, false);
        let mut preceded_by_whitespace = true;
        let chars: Vec<char> = text.chars().collect();
        for (i, &c) in chars.iter().enumerate() {
            let last = i + 1 == chars.len();
            let followed_by_whitespace = chars.get(i + 1).is_none_or(|n| *n == ' ' || *n == '\t');
            if i == 0 {
                match c {
                    '#' | ',' | '[' | ']' | '{' | '}' | '&' | '*' | '!' | '|' | '>' | '\''
                    | '"' | '%' | '@' | '`' => {
                        flow_indicators = true;
                        block_indicators = true;
                    }
                    '?' | ':' => {
                        flow_indicators = true;
                        block_indicators |= followed_by_whitespace;
                    }
                    '-' if followed_by_whitespace => {
                        flow_indicators = true;
                        block_indicators = true;
                    }
                    _ => {}
                }
            } else {
                match c {
                    ',' | '?' | '[' | ']' | '{' | '}' => flow_indicators = true,
                    ':' => {
                        flow_indicators = true;
                        block_indicators |= followed_by_whitespace;
                    }
                    '#' if preceded_by_whitespace => {
                        flow_indicators = true;
                        block_indicators = true;
                    }
                    _ => {}
                }
            }
            if c == '\t' {
                tabs = true;
            } else if !is_printable(c) {
                special = true;
            }
            if c == ' ' {
                leading_space |= i == 0;
                trailing_space |= last;
                break_space |= previous_break;
                previous_space = true;
                previous_break = false;
            } else if is_break(c) {
                line_breaks = true;
                leading_break |= i == 0;
                trailing_break |= last;
                space_break |= previous_space;
                previous_space = false;
                previous_break = true;
            } else {
                previous_space = false;
                previous_break = false;
            }
            preceded_by_whitespace = c == ' ' || c == '\t' || c == '\0' || is_break(c);
        }
        let mut analysis = Analysis {
            multiline: line_breaks,
            flow_plain: true,
            block_plain: true,
            single_quoted: true,
            block: true,
        };
        if leading_space || leading_break || trailing_space || trailing_break || line_breaks {
            analysis.flow_plain = false;
            analysis.block_plain = false;
        }
        if trailing_space {
            analysis.block = false;
        }
        if break_space || space_break || tabs || special {
            analysis.flow_plain = false;
            analysis.block_plain = false;
            analysis.single_quoted = false;
        }
        if space_break || special {
            analysis.block = false;
        }
        if flow_indicators {
            analysis.flow_plain = false;
        }
        if block_indicators {
            analysis.block_plain = false;
        }
        analysis
    }

    /// The style written for `requested` in this place.
    pub fn select(&self, requested: Style, empty: bool, flow: bool, simple_key: bool) -> Style {
        let mut style = requested;
        if simple_key && self.multiline {
            style = Style::Double;
        }
        if style == Style::Plain
            && ((flow && !self.flow_plain)
                || (!flow && !self.block_plain)
                || (empty && (flow || simple_key)))
        {
            style = Style::Single;
        }
        if style == Style::Single && !self.single_quoted {
            style = Style::Double;
        }
        if style == Style::Literal && (!self.block || flow || simple_key) {
            style = Style::Double;
        }
        style
    }
}

/// Characters YAML may hold unescaped (tabs aside).
pub fn is_printable(c: char) -> bool {
    matches!(c, '\n' | '\u{20}'..='\u{7e}' | '\u{a0}'..='\u{d7ff}')
        || (matches!(c, '\u{e000}'..='\u{fffd}') && c != '\u{feff}')
}

pub fn is_break(c: char) -> bool {
    matches!(c, '\r' | '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

/// The escape of `c` inside double quotes.
pub fn escape(c: char) -> String {
    let short = match c {
        '\0' => '0',
        '\u{7}' => 'a',
        '\u{8}' => 'b',
        '\t' => 't',
        '\n' => 'n',
        '\u{b}' => 'v',
        '\u{c}' => 'f',
        '\r' => 'r',
        '\u{1b}' => 'e',
        '"' => '"',
        '\\' => '\\',
        '\u{85}' => 'N',
        '\u{a0}' => '_',
        '\u{2028}' => 'L',
        '\u{2029}' => 'P',
        c if u32::from(c) <= 0xff => return format!("\\x{:02X}", u32::from(c)),
        c if u32::from(c) <= 0xffff => return format!("\\u{:04X}", u32::from(c)),
        c => return format!("\\U{:08X}", u32::from(c)),
    };
    format!("\\{short}")
}

/// A literal block's chomping indicator: `-` without a final break, `+` to keep more than
/// one, none for exactly one.
pub fn chomping(text: &str) -> Option<&'static str> {
    let mut chars = text.chars().rev();
    match (chars.next(), chars.next()) {
        (None, _) => Some("-"),
        (Some(last), _) if !is_break(last) => Some("-"),
        (Some(_), None) => Some("+"),
        (Some(_), Some(before)) if is_break(before) => Some("+"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn style(text: &str, flow: bool, simple_key: bool) -> Style {
        Analysis::of(text).select(requested_style(text), text.is_empty(), flow, simple_key)
    }

    #[test]
    fn indicators_quote_in_flow_but_not_in_block() {
        assert_eq!(
            style("registry.example.com/blog:1", false, false),
            Style::Plain
        );
        assert_eq!(
            style("registry.example.com/blog:1", true, false),
            Style::Single
        );
        assert_eq!(style("a: b", false, false), Style::Single);
        assert_eq!(style("^[a-z]+$", true, false), Style::Single);
        assert_eq!(style("- x", false, false), Style::Single);
        assert_eq!(style("-x", false, false), Style::Plain);
    }

    #[test]
    fn strings_that_read_back_as_other_types_are_double_quoted() {
        for text in [
            "",
            "true",
            "null",
            "~",
            "12",
            "0x1F",
            "1e3",
            "yes",
            "Off",
            "2024-01-15",
        ] {
            assert_eq!(style(text, false, false), Style::Double, "{text}");
        }
    }

    #[test]
    fn newlines_tabs_and_controls() {
        assert_eq!(style("a\nb", false, false), Style::Literal);
        assert_eq!(style("a\nb", true, false), Style::Double);
        assert_eq!(style("a \nb", false, false), Style::Double);
        assert_eq!(style("a\tb", false, false), Style::Double);
        assert_eq!(style("a\u{7}", false, false), Style::Double);
        assert_eq!(escape('\u{1f600}'), "\\U0001F600");
        assert_eq!(escape('\u{7f}'), "\\x7F");
    }

    #[test]
    fn chomping_follows_the_final_breaks() {
        assert_eq!(chomping("a\nb"), Some("-"));
        assert_eq!(chomping("a\n"), None);
        assert_eq!(chomping("a\n\n"), Some("+"));
        assert_eq!(chomping("\n"), Some("+"));
    }
}
