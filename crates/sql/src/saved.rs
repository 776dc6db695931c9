//! Saved queries: `.sql` files with `$name` parameters, as `queries/` holds them.
//!
//! The files of `queries/` are built in ([`bundled`]), so a report runs the same anywhere ctq is;
//! [`load_folder`] reads another folder of them. A query says what it is for in its leading
//! comment ([`SavedQuery::title`]); [`bind`] gives it its parameters, `$from` and `$to` from a
//! window unless given otherwise.

use std::path::{Path, PathBuf};

use crate::window::TimeWindow;

/// The files of `queries/`, by stem.
const BUNDLED: [(&str, &str); 5] = [
    (
        "denials-by-principal",
        include_str!("../../../queries/denials-by-principal.sql"),
    ),
    (
        "top-denied-actions",
        include_str!("../../../queries/top-denied-actions.sql"),
    ),
    (
        "access-denied-all-principals",
        include_str!("../../../queries/access-denied-all-principals.sql"),
    ),
    (
        "errors-in-window",
        include_str!("../../../queries/errors-in-window.sql"),
    ),
    (
        "access-denied",
        include_str!("../../../queries/access-denied.sql"),
    ),
];

/// One saved query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedQuery {
    /// The file's stem: `denials-by-principal`.
    pub name: String,
    pub sql: String,
}

/// A folder of saved queries that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum SavedQueryError {
    #[error("cannot read the queries folder {}", path.display())]
    Folder {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{} holds no .sql files; give --queries a folder of saved queries, or leave it out for the bundled ones",
        path.display()
    )]
    Empty { path: PathBuf },
    #[error("cannot read saved query {}", path.display())]
    File {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// The queries of `queries/`, built into ctq.
pub fn bundled() -> Vec<SavedQuery> {
    BUNDLED
        .iter()
        .map(|(name, sql)| SavedQuery {
            name: name.to_string(),
            sql: sql.to_string(),
        })
        .collect()
}

/// The `.sql` files of `folder`, in name order; a folder without any is an error.
pub fn load_folder(folder: &Path) -> Result<Vec<SavedQuery>, SavedQueryError> {
    let files = sql_files(folder)?;
    if files.is_empty() {
        return Err(SavedQueryError::Empty {
            path: folder.to_path_buf(),
        });
    }
    Ok(files
        .into_iter()
        .map(|(path, sql)| SavedQuery {
            name: path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default(),
            sql,
        })
        .collect())
}

/// The path and text of each `.sql` file of `folder`, in name order; none is no error here.
/// Never fails with [`SavedQueryError::Empty`].
pub fn sql_files(folder: &Path) -> Result<Vec<(PathBuf, String)>, SavedQueryError> {
    let entries = std::fs::read_dir(folder).map_err(|source| SavedQueryError::Folder {
        path: folder.to_path_buf(),
        source,
    })?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "sql"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            let sql = std::fs::read_to_string(&path).map_err(|source| SavedQueryError::File {
                path: path.clone(),
                source,
            })?;
            Ok((path, sql))
        })
        .collect()
}

impl SavedQuery {
    /// The first paragraph of the file's leading comment: what the query is for. The parameter
    /// list after it is the window's business, not the reader's.
    pub fn title(&self) -> String {
        self.sql
            .lines()
            .map(str::trim)
            .take_while(|l| l.starts_with("--"))
            .map(|l| l.trim_start_matches('-').trim())
            .skip_while(|l| l.is_empty())
            .take_while(|l| !l.is_empty() && !l.starts_with("Parameters"))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// The parameters a query needs, given `needed` (names without `$`, as
/// [`TrailSession::parameters`](crate::TrailSession::parameters) lists them): `$from` and `$to`
/// from the window, anything else from `given`. A value in `given` wins over the window, so a
/// query may be pinned to its own span; the last of several wins. Names in `given` may keep their
/// `$`. Fails with the `$names` nobody gave.
pub fn bind(
    needed: &[String],
    window: Option<&TimeWindow>,
    given: &[(String, String)],
) -> Result<Vec<(String, String)>, Vec<String>> {
    let window = window.map(TimeWindow::params).unwrap_or_default();
    let mut params = Vec::new();
    let mut missing = Vec::new();
    for name in needed {
        match window
            .iter()
            .chain(given)
            .rev()
            .find(|(n, _)| n.trim_start_matches('$') == name)
        {
            Some((_, value)) => params.push((name.clone(), value.clone())),
            None => missing.push(format!("${name}")),
        }
    }
    if missing.is_empty() {
        Ok(params)
    } else {
        Err(missing)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::window::Instant;

    fn queries_folder() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../queries")
    }

    #[test]
    fn the_bundled_queries_are_the_files_of_queries() {
        let by_name = |mut queries: Vec<SavedQuery>| {
            queries.sort_by(|a, b| a.name.cmp(&b.name));
            queries
        };
        assert_eq!(
            by_name(bundled()),
            by_name(load_folder(&queries_folder()).unwrap())
        );
    }

    #[test]
    fn a_folder_is_read_in_name_order_and_must_hold_queries() {
        let dir = tempfile::tempdir().unwrap();
        let empty = load_folder(dir.path()).unwrap_err();
        assert!(matches!(empty, SavedQueryError::Empty { .. }), "{empty}");
        assert!(empty.to_string().contains("holds no .sql files"));
        std::fs::write(dir.path().join("b.sql"), "SELECT 2").unwrap();
        std::fs::write(dir.path().join("a.sql"), "SELECT 1").unwrap();
        std::fs::write(dir.path().join("notes.txt"), "not a query").unwrap();
        let names: Vec<String> = load_folder(dir.path())
            .unwrap()
            .into_iter()
            .map(|q| q.name)
            .collect();
        assert_eq!(names, ["a", "b"]);
        let missing = load_folder(&dir.path().join("nope")).unwrap_err();
        assert!(
            missing
                .to_string()
                .starts_with("cannot read the queries folder"),
            "{missing}"
        );
        assert!(std::error::Error::source(&missing).is_some());
    }

    #[test]
    fn the_title_is_the_first_paragraph_of_the_leading_comment() {
        let query = |sql: &str| SavedQuery {
            name: "q".into(),
            sql: sql.into(),
        };
        assert_eq!(
            query("--\n-- Who was denied,\n--   and how often.\n--\n-- More.\nSELECT 1").title(),
            "Who was denied, and how often."
        );
        assert_eq!(
            query("-- Denials.\n-- Parameters: $from, $to\nSELECT 1").title(),
            "Denials."
        );
        assert_eq!(query("SELECT 1 -- not a title").title(), "");
        let by_principal = bundled()
            .into_iter()
            .find(|q| q.name == "denials-by-principal")
            .unwrap();
        assert!(by_principal.title().starts_with("How many access denials"));
    }

    #[test]
    fn the_window_binds_from_and_to_unless_given() {
        let from = Instant::parse_iso8601("2019-10-28T00:00:00Z").unwrap();
        let to = Instant::parse_iso8601("2019-10-31T00:00:00Z").unwrap();
        let window = TimeWindow::new(from, to).unwrap();
        let needed = ["from".to_string(), "to".to_string()];
        let pinned = [("$to".to_string(), "2019-10-29T00:00:00Z".to_string())];
        assert_eq!(
            bind(&needed, Some(&window), &pinned).unwrap(),
            [
                ("from".to_string(), "2019-10-28T00:00:00.000Z".to_string()),
                ("to".to_string(), "2019-10-29T00:00:00Z".to_string()),
            ]
        );
        let needed = ["arn".to_string(), "from".to_string(), "who".to_string()];
        assert_eq!(
            bind(&needed, Some(&window), &[]).unwrap_err(),
            ["$arn", "$who"]
        );
        assert_eq!(bind(&needed[1..2], None, &[]).unwrap_err(), ["$from"]);
        assert!(bind(&[], None, &[]).unwrap().is_empty());
    }
}
