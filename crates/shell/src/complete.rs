//! Completion of the word under the cursor: dot commands at the start of a line, saved-query
//! names after `.run`, otherwise table, column, function and keyword names.

use rustyline::completion::Completer;
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::validate::Validator;
use rustyline::{Context, Helper};

use crate::commands::DOT_COMMANDS;

/// SQL keywords offered after the names: the ones a query over the trail begins or joins with.
const KEYWORDS: [&str; 32] = [
    "SELECT", "FROM", "WHERE", "GROUP", "BY", "ORDER", "HAVING", "LIMIT", "AS", "AND", "OR", "NOT",
    "IN", "IS", "NULL", "LIKE", "BETWEEN", "DISTINCT", "COUNT", "CASE", "WHEN", "THEN", "ELSE",
    "END", "JOIN", "LEFT", "ON", "UNNEST", "CROSS", "WITH", "CREATE", "VIEW",
];

/// The names the shell completes, gathered from the session.
#[derive(Debug, Clone, Default)]
pub struct Names {
    pub tables: Vec<String>,
    /// Columns, and the fields of struct columns as `column.field`.
    pub columns: Vec<String>,
    pub functions: Vec<String>,
    pub saved_queries: Vec<String>,
}

/// Completes from [`Names`]; the line editor's helper.
#[derive(Debug, Clone, Default)]
pub struct ShellCompleter {
    pub names: Names,
}

impl ShellCompleter {
    /// Where the word before `pos` starts, and the names it may be completed to, in order:
    /// tables, columns, functions, keywords; a name matches whatever the case typed.
    pub fn candidates(&self, line: &str, pos: usize) -> (usize, Vec<String>) {
        let before = &line[..pos];
        let word_start = |is_word: fn(char) -> bool| {
            before
                .char_indices()
                .rev()
                .take_while(|&(_, c)| is_word(c))
                .last()
                .map_or(pos, |(i, _)| i)
        };
        let trimmed = before.trim_start();
        if trimmed.starts_with('.') && !trimmed.contains(char::is_whitespace) {
            let start = pos - trimmed.len();
            let found = DOT_COMMANDS
                .iter()
                .map(|(name, _)| (*name).to_string())
                .filter(|name| name.starts_with(trimmed))
                .collect();
            return (start, found);
        }
        if trimmed.starts_with(".run ") {
            let start = word_start(|c| !c.is_whitespace());
            let word = &before[start..];
            let found = self
                .names
                .saved_queries
                .iter()
                .filter(|name| name.starts_with(word))
                .cloned()
                .collect();
            return (start, found);
        }
        let start = word_start(|c| c.is_alphanumeric() || matches!(c, '_' | '.' | '$'));
        let word = &before[start..];
        // Names are lower case, a keyword keeps the case it was typed in.
        let lower = word.to_lowercase();
        let mut found: Vec<String> = self
            .names
            .tables
            .iter()
            .chain(&self.names.columns)
            .chain(&self.names.functions)
            .filter(|name| name.to_lowercase().starts_with(&lower))
            .cloned()
            .collect();
        let upper_typed = word.chars().any(char::is_uppercase);
        found.extend(
            KEYWORDS
                .iter()
                .filter(|k| k.starts_with(&word.to_uppercase()))
                .map(|k| {
                    if upper_typed {
                        (*k).to_string()
                    } else {
                        k.to_lowercase()
                    }
                }),
        );
        let mut seen = std::collections::HashSet::new();
        found.retain(|name| seen.insert(name.clone()));
        if word.is_empty() {
            found.clear();
        }
        (start, found)
    }
}

impl Completer for ShellCompleter {
    type Candidate = String;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<String>)> {
        Ok(self.candidates(line, pos))
    }
}

impl Hinter for ShellCompleter {
    type Hint = String;
}

impl Highlighter for ShellCompleter {}

impl Validator for ShellCompleter {}

impl Helper for ShellCompleter {}

#[cfg(test)]
mod tests {
    use super::*;

    fn completer() -> ShellCompleter {
        ShellCompleter {
            names: Names {
                tables: vec![
                    "cloudtrail".into(),
                    "cloudtrail_logs".into(),
                    "denied".into(),
                ],
                columns: vec![
                    "eventname".into(),
                    "eventsource".into(),
                    "useridentity".into(),
                    "useridentity.arn".into(),
                ],
                functions: vec![
                    "access_denied".into(),
                    "count".into(),
                    "json_extract".into(),
                ],
                saved_queries: vec![
                    "access-denied".into(),
                    "access-denied-all-principals".into(),
                    "errors-in-window".into(),
                ],
            },
        }
    }

    #[test]
    fn table_column_and_function_names_complete_the_word_under_the_cursor() {
        let c = completer();
        assert_eq!(
            c.candidates("SELECT * FROM cloudt", 20),
            (14, vec!["cloudtrail".into(), "cloudtrail_logs".into()])
        );
        assert_eq!(
            c.candidates("select eventN", 13),
            (7, vec!["eventname".into()])
        );
        assert_eq!(
            c.candidates("SELECT useridentity.a", 21),
            (7, vec!["useridentity.arn".into()])
        );
        assert_eq!(
            c.candidates("SELECT count(*) FROM t WHERE acc", 32).1,
            ["access_denied"]
        );
        // The cursor in the middle of the line: only the text before it counts.
        assert_eq!(
            c.candidates("SELECT ev FROM cloudtrail", 9).1,
            ["eventname", "eventsource"]
        );
        assert!(c.candidates("SELECT ", 7).1.is_empty());
    }

    #[test]
    fn keywords_keep_the_case_typed() {
        let c = completer();
        assert_eq!(c.candidates("SELECT 1 FR", 11).1, ["FROM"]);
        assert_eq!(c.candidates("select 1 fr", 11).1, ["from"]);
    }

    #[test]
    fn dot_commands_and_saved_query_names_complete_on_their_own() {
        let c = completer();
        assert_eq!(c.candidates(".ti", 3), (0, vec![".timer".into()]));
        assert_eq!(c.candidates("  .sc", 5), (2, vec![".schema".into()]));
        assert_eq!(
            c.candidates(".run access", 11),
            (
                5,
                vec![
                    "access-denied".into(),
                    "access-denied-all-principals".into()
                ]
            )
        );
        // Saved-query names are not offered in SQL, nor table names after .run.
        assert!(
            !c.candidates("SELECT errors-in", 16)
                .1
                .contains(&"errors-in-window".to_string())
        );
        assert!(c.candidates(".run cloud", 10).1.is_empty());
    }
}
