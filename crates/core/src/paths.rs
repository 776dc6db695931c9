//! Output paths checked against the input: `-o` onto a trail file would destroy it, and an output
//! inside a source folder or the store would be read back by the next run.

use std::fmt;
use std::path::{Component, Path, PathBuf};

use ctq_s3::TrailLocation;
use ctq_store::StoreLocation;

use crate::args::SourceArgs;

/// An output path that is, is inside, or holds one of the inputs. A usage error: exit status 2.
#[derive(Debug)]
pub struct OutputOverlapsInput {
    output_flag: &'static str,
    output: PathBuf,
    relation: &'static str,
    /// "the --source file", "the --source folder" or "the --store folder".
    input_kind: &'static str,
    input: PathBuf,
}

impl fmt::Display for OutputOverlapsInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {} {} {}, which ctq reads; write the output elsewhere",
            self.output_flag,
            self.output.display(),
            self.relation,
            self.input_kind,
            self.input.display()
        )
    }
}

impl std::error::Error for OutputOverlapsInput {}

/// Refuses an output (`output_flag` names its flag) that is a local `--source` file, lies inside
/// a local `--store`, lies inside a local `--source` folder under a name the next run would read
/// as a trail file (or is a report folder there), or holds one of them. S3 inputs cannot collide; an
/// input that does not exist is left to the session to report.
pub fn check_output(
    output_flag: &'static str,
    output: Option<&Path>,
    source: &SourceArgs,
) -> Result<(), OutputOverlapsInput> {
    let Some(output) = output else {
        return Ok(());
    };
    let Some(resolved) = resolve(output) else {
        return Ok(());
    };
    let sources = source
        .sources
        .iter()
        .filter(|arg| matches!(TrailLocation::from_arg(arg), Ok(TrailLocation::Local(_))))
        .map(|arg| (false, arg.clone()));
    let store = source
        .store
        .as_deref()
        .filter(|text| matches!(StoreLocation::parse(text), Ok(StoreLocation::Local(_))))
        .map(|text| (true, PathBuf::from(text)));
    for (is_store, input) in sources.chain(store) {
        let Ok(canonical) = input.canonicalize() else {
            continue;
        };
        let relation = if resolved == canonical {
            "is"
        } else if resolved.starts_with(&canonical) {
            // A file in a source folder is read back only if a walk takes it for a trail file
            // (`denials.json`, `out.txt`); `denials.csv` there harms nothing. Everything in a
            // store, and a report folder (it holds summary.json), is refused.
            let harmless = !is_store
                && output_flag == "--output"
                && output.file_name().is_some_and(|name| {
                    !ctq_ingest::looks_like_trail_file(&name.to_string_lossy())
                });
            if harmless {
                continue;
            }
            "is inside"
        } else if canonical.starts_with(&resolved) {
            "holds"
        } else {
            continue;
        };
        return Err(OutputOverlapsInput {
            output_flag,
            output: output.to_path_buf(),
            relation,
            input_kind: if is_store {
                "the --store folder"
            } else if canonical.is_dir() {
                "the --source folder"
            } else {
                "the --source file"
            },
            input,
        });
    }
    Ok(())
}

/// `path` made absolute with links resolved, though it may not exist yet: its nearest existing
/// ancestor canonicalised, the rest appended. `None` when not even that can be read.
fn resolve(path: &Path) -> Option<PathBuf> {
    if let Ok(canonical) = path.canonicalize() {
        return Some(canonical);
    }
    let mut rest = Vec::new();
    let mut ancestor = path;
    loop {
        let base = if ancestor.as_os_str().is_empty() {
            Path::new(".")
        } else {
            ancestor
        };
        if let Ok(mut resolved) = base.canonicalize() {
            for component in rest.into_iter().rev() {
                match component {
                    Component::ParentDir => {
                        resolved.pop();
                    }
                    Component::Normal(name) => resolved.push(name),
                    _ => {}
                }
            }
            return Some(resolved);
        }
        let mut components = ancestor.components();
        rest.push(components.next_back()?);
        ancestor = components.as_path();
    }
}
