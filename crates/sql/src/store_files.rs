//! What a query over a store reads: the data files its manifest lists, and nothing else.
//!
//! DataFusion's listing table reads every `.parquet` file under the store's folder. A store may
//! hold others for a while (published by a run killed before its commit, retired by a run killed
//! before it removed them), whose rows would count twice, and may lack listed ones, whose rows
//! would be silently missing. So the store is checked against its manifest when it is opened
//! (presence and size, from the listing the query makes anyway), and the object store the table
//! lists through is wrapped to show it only the listed files that passed.

use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::object_store::path::Path;
use datafusion::object_store::{
    CopyOptions, GetOptions, GetResult, ListResult, MultipartUpload, ObjectMeta, ObjectStore,
    PutMultipartOptions, PutOptions, PutPayload, PutResult, Result,
};
use futures::StreamExt;
use futures::stream::BoxStream;

/// An object store that lists, under `root`, only the data files named in `readable`; every other
/// path and operation goes to `inner` as it is.
#[derive(Debug)]
pub(crate) struct ListedFilesOnly {
    inner: Arc<dyn ObjectStore>,
    root: Path,
    /// Data files relative to `root`, `/`-separated, as the manifest names them.
    readable: Arc<HashSet<String>>,
}

impl ListedFilesOnly {
    pub fn new(inner: Arc<dyn ObjectStore>, root: Path, readable: HashSet<String>) -> Self {
        ListedFilesOnly {
            inner,
            root,
            readable: Arc::new(readable),
        }
    }

    /// Whether the table may see `location`: anything that is not a data file under the store,
    /// and the data files that are readable.
    fn shows(root: &Path, readable: &HashSet<String>, location: &Path) -> bool {
        let Some(parts) = location.prefix_match(root) else {
            return true;
        };
        let relative = parts
            .map(|part| part.as_ref().to_string())
            .collect::<Vec<_>>()
            .join("/");
        !relative.ends_with(".parquet") || readable.contains(&relative)
    }
}

impl fmt::Display for ListedFilesOnly {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ListedFilesOnly({})", self.inner)
    }
}

#[async_trait]
impl ObjectStore for ListedFilesOnly {
    async fn put_opts(
        &self,
        location: &Path,
        payload: PutPayload,
        opts: PutOptions,
    ) -> Result<PutResult> {
        self.inner.put_opts(location, payload, opts).await
    }

    async fn put_multipart_opts(
        &self,
        location: &Path,
        opts: PutMultipartOptions,
    ) -> Result<Box<dyn MultipartUpload>> {
        self.inner.put_multipart_opts(location, opts).await
    }

    async fn get_opts(&self, location: &Path, options: GetOptions) -> Result<GetResult> {
        self.inner.get_opts(location, options).await
    }

    fn delete_stream(
        &self,
        locations: BoxStream<'static, Result<Path>>,
    ) -> BoxStream<'static, Result<Path>> {
        self.inner.delete_stream(locations)
    }

    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, Result<ObjectMeta>> {
        let (root, readable) = (self.root.clone(), self.readable.clone());
        self.inner
            .list(prefix)
            .filter(move |meta| {
                let shown = match meta {
                    Ok(meta) => Self::shows(&root, &readable, &meta.location),
                    Err(_) => true,
                };
                futures::future::ready(shown)
            })
            .boxed()
    }

    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> Result<ListResult> {
        let mut listed = self.inner.list_with_delimiter(prefix).await?;
        listed
            .objects
            .retain(|meta| Self::shows(&self.root, &self.readable, &meta.location));
        Ok(listed)
    }

    async fn copy_opts(&self, from: &Path, to: &Path, options: CopyOptions) -> Result<()> {
        self.inner.copy_opts(from, to, options).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_readable_data_files_under_the_root_are_shown() {
        let root = Path::from("data/store");
        let readable =
            HashSet::from(["event_account=1/event_date=2024-01-01/part-1-1.parquet".to_string()]);
        let shows = |p: &str| ListedFilesOnly::shows(&root, &readable, &Path::from(p));
        assert!(shows(
            "data/store/event_account=1/event_date=2024-01-01/part-1-1.parquet"
        ));
        assert!(!shows(
            "data/store/event_account=1/event_date=2024-01-01/part-1-2.parquet"
        ));
        assert!(shows("data/store/_ctq/manifest.json"));
        assert!(shows("elsewhere/part-1-2.parquet"));
        assert!(!shows("data/store/part-9-9.parquet"));
    }
}
