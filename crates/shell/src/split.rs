//! Cutting input into statements: a statement ends at a `;` outside quotes and comments, so it may
//! span lines and a line may hold several.

/// Lines of SQL gathered until they end a statement.
#[derive(Debug, Default)]
pub struct StatementBuffer {
    text: String,
    /// The line of the input the pending statement starts on, counted from 1.
    start_line: usize,
    lines_seen: usize,
}

/// Where the scanner is between characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Code,
    /// Inside quotes opened by this character: `'`, `"` or a backtick.
    Quoted(char),
    LineComment,
    BlockComment,
}

impl StatementBuffer {
    /// Adds one line of input and returns each statement it completes, with the line it started
    /// on, without its `;`.
    pub fn push_line(&mut self, line: &str) -> Vec<(usize, String)> {
        self.lines_seen += 1;
        if self.is_empty() {
            self.start_line = self.lines_seen;
        }
        self.text.push_str(line);
        self.text.push('\n');
        let mut done = Vec::new();
        while let Some(end) = statement_end(&self.text) {
            let statement = self.text[..end].trim().to_string();
            self.text.replace_range(..=end, "");
            if !is_blank(&statement) {
                done.push((self.start_line, statement));
            }
            self.start_line = self.lines_seen;
        }
        if is_blank(&self.text) {
            self.text.clear();
        }
        done
    }

    /// Counts a line that is not SQL (a dot command), so that later statements keep their line
    /// numbers.
    pub fn skip_line(&mut self) {
        self.lines_seen += 1;
    }

    /// Whether no statement is pending: a dot command may start here.
    pub fn is_empty(&self) -> bool {
        self.text.trim().is_empty()
    }

    /// The statement left without its `;` at the end of the input, if it holds more than
    /// comments.
    pub fn finish(&mut self) -> Option<(usize, String)> {
        let text = std::mem::take(&mut self.text);
        (!is_blank(&text)).then(|| (self.start_line, text.trim().to_string()))
    }
}

/// The byte offset of the first `;` of `text` outside quotes and comments.
fn statement_end(text: &str) -> Option<usize> {
    scan(text).0
}

/// Whether `text` holds only whitespace and comments.
fn is_blank(text: &str) -> bool {
    scan(text).1
}

/// The first statement-ending `;` and whether all of `text` is whitespace or comments.
fn scan(text: &str) -> (Option<usize>, bool) {
    let mut state = State::Code;
    let mut blank = true;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let next = chars.peek().map(|&(_, n)| n);
        state = match (state, c) {
            (State::Code, ';') => return (Some(i), blank),
            (State::Code, '-') if next == Some('-') => {
                chars.next();
                State::LineComment
            }
            (State::Code, '/') if next == Some('*') => {
                chars.next();
                State::BlockComment
            }
            (State::Code, '\'' | '"' | '`') => {
                blank = false;
                State::Quoted(c)
            }
            (State::Code, c) => {
                blank &= c.is_whitespace();
                State::Code
            }
            // A doubled quote inside quotes is the quote itself, and the quotes go on.
            (State::Quoted(q), c) if c == q && next == Some(q) => {
                chars.next();
                state
            }
            (State::Quoted(q), c) if c == q => State::Code,
            (State::LineComment, '\n') => State::Code,
            (State::BlockComment, '*') if next == Some('/') => {
                chars.next();
                State::Code
            }
            (state, _) => state,
        };
    }
    (None, blank)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn statements(input: &str) -> Vec<(usize, String)> {
        let mut buffer = StatementBuffer::default();
        let mut out: Vec<_> = input.lines().flat_map(|l| buffer.push_line(l)).collect();
        out.extend(buffer.finish());
        out
    }

    #[test]
    fn statements_end_at_semicolons_outside_quotes_and_comments() {
        assert_eq!(
            statements(
                "SELECT 1; SELECT ';' AS \"a;b\"\n  -- not the end;\nFROM t /* nor; this */;\nSELECT 'it''s;'"
            ),
            [
                (1, "SELECT 1".to_string()),
                (
                    1,
                    "SELECT ';' AS \"a;b\"\n  -- not the end;\nFROM t /* nor; this */".to_string()
                ),
                (4, "SELECT 'it''s;'".to_string()),
            ]
        );
    }

    #[test]
    fn comments_and_empty_statements_are_not_statements() {
        assert!(statements("-- only a comment;\n;\n  ;\n/* x */").is_empty());
        let mut buffer = StatementBuffer::default();
        assert!(buffer.push_line("SELECT").is_empty());
        assert!(!buffer.is_empty());
        assert_eq!(buffer.push_line("2;"), [(1, "SELECT\n2".to_string())]);
        assert!(buffer.is_empty());
    }
}
