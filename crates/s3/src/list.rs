//! Listing a trail: delimiter listings down to each region, then only the delivery days a query's
//! window can need, and of their keys only those whose delivery time fits.

use std::path::PathBuf;

use ctq_ingest::path::{PathInfo, classify_folder, classify_path, delivery_time_from_name};
use ctq_ingest::{NonEventKind, Pruning, TrailFile, looks_like_trail_file};

use crate::S3Error;
use crate::client::{Purpose, S3Stats, S3Trail};

/// The objects of a trail that a query needs.
#[derive(Debug, Default)]
pub struct Listing {
    pub files: Vec<TrailFile>,
    /// Size and ETag of each file, by its `s3://` URL: what tells a changed object from the one
    /// read before.
    pub versions: std::collections::HashMap<PathBuf, ObjectVersion>,
    /// Digest, Insights and similar objects met in listings, as `s3://` URLs.
    pub skipped: Vec<(PathBuf, NonEventKind)>,
    /// Event objects listed but not needed.
    pub pruned: usize,
}

/// What identifies one version of an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectVersion {
    pub size: u64,
    pub etag: Option<String>,
}

/// A listed key with its version.
type Listed = (String, ObjectVersion);

/// Where a prefix sits in the `AWSLogs/[o-…/]<account>/CloudTrail/<region>/YYYY/MM/DD/` layout.
enum Depth {
    /// Above the region folders: list one level at a time to discover what is there.
    AboveRegion,
    /// A region folder: the delivery days can be named without listing.
    Region,
    /// Inside a region's dates, or a prefix that is not a folder: list everything under it.
    BelowRegion,
}

fn depth_of(prefix: &str) -> Depth {
    if !prefix.is_empty() && !prefix.ends_with('/') {
        return Depth::BelowRegion;
    }
    match classify_folder(prefix) {
        PathInfo::Events(p) if p.year.is_some() => Depth::BelowRegion,
        PathInfo::Events(p) if p.region.is_some() => Depth::Region,
        _ => Depth::AboveRegion,
    }
}

impl S3Trail {
    /// Lists the objects under the location that `pruning` keeps, with as few requests as the
    /// layout allows: a window of minutes costs a few listings per region, whatever the trail's
    /// length.
    pub async fn list(&self, pruning: &Pruning) -> Result<Listing, S3Error> {
        let mut listing = Listing::default();
        let mut pending = vec![self.location.prefix.clone()];
        while let Some(prefix) = pending.pop() {
            match depth_of(&prefix) {
                Depth::BelowRegion => self.list_keys(&prefix, pruning, &mut listing).await?,
                Depth::Region => match pruning.delivery_days() {
                    Some(days) => {
                        for day in days {
                            self.list_keys(&format!("{prefix}{day}/"), pruning, &mut listing)
                                .await?;
                        }
                    }
                    None => self.list_keys(&prefix, pruning, &mut listing).await?,
                },
                Depth::AboveRegion => {
                    let (folders, keys) = self
                        .list_page_set(&prefix, Some("/"), Purpose::Trail)
                        .await?;
                    for key in keys {
                        self.consider(key, pruning, &mut listing);
                    }
                    for folder in folders.into_iter().rev() {
                        match classify_folder(&folder) {
                            // Digest and Insights folders are not listed at all.
                            PathInfo::NonEvent(_) => {}
                            PathInfo::Events(partition) if pruning.keeps_folder(&partition) => {
                                pending.push(folder);
                            }
                            PathInfo::Events(_) => {}
                        }
                    }
                }
            }
        }
        listing.files.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(listing)
    }

    fn consider(&self, (key, version): Listed, pruning: &Pruning, listing: &mut Listing) {
        let name = key.rsplit('/').next().unwrap_or(&key);
        if key.ends_with('/') || !looks_like_trail_file(name) {
            return;
        }
        let url = PathBuf::from(self.location.url_of(&key));
        match classify_path(&key) {
            PathInfo::NonEvent(kind) => listing.skipped.push((url, kind)),
            PathInfo::Events(partition) => {
                if pruning.keeps_file(&partition, delivery_time_from_name(name)) {
                    listing.versions.insert(url.clone(), version);
                    listing.files.push(TrailFile {
                        path: url,
                        partition,
                    });
                } else {
                    listing.pruned += 1;
                }
            }
        }
    }

    async fn list_keys(
        &self,
        prefix: &str,
        pruning: &Pruning,
        listing: &mut Listing,
    ) -> Result<(), S3Error> {
        let (_, keys) = self.list_page_set(prefix, None, Purpose::Trail).await?;
        for key in keys {
            self.consider(key, pruning, listing);
        }
        Ok(())
    }

    /// All pages of one ListObjectsV2: common prefixes (with a delimiter) and keys.
    pub(crate) async fn list_page_set(
        &self,
        prefix: &str,
        delimiter: Option<&str>,
        purpose: Purpose,
    ) -> Result<(Vec<String>, Vec<Listed>), S3Error> {
        let (mut folders, mut keys) = (Vec::new(), Vec::new());
        let mut token: Option<String> = None;
        loop {
            let page = self
                .with_retries(|deadline| {
                    let request = self
                        .client
                        .list_objects_v2()
                        .bucket(&self.location.bucket)
                        .prefix(prefix)
                        .set_delimiter(delimiter.map(str::to_owned))
                        .set_continuation_token(token.clone())
                        .send();
                    async move {
                        S3Stats::add_list(&self.stats);
                        self.answer(Some(deadline), request).await
                    }
                })
                .await
                .map_err(|gave_up| self.request_error(purpose, "ListObjectsV2", prefix, gave_up))?;
            folders.extend(
                page.common_prefixes()
                    .iter()
                    .filter_map(|p| p.prefix().map(str::to_owned)),
            );
            keys.extend(page.contents().iter().filter_map(|o| {
                let version = ObjectVersion {
                    size: o.size().unwrap_or(0).max(0) as u64,
                    etag: o.e_tag().map(str::to_owned),
                };
                Some((o.key()?.to_owned(), version))
            }));
            token = page.next_continuation_token().map(str::to_owned);
            if token.is_none() || !page.is_truncated().unwrap_or(false) {
                break;
            }
        }
        Ok((folders, keys))
    }
}
