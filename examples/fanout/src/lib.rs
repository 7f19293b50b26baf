//! A fan-out declared in `workflows/thumbnails.json`: the map "render all" runs the step
//! "render" for every image of an album in its own child context (at most three at a
//! time, tolerating up to half of them failing); the child context "publish" writes an
//! index of the thumbnails that rendered ("publish index") and polls the CDN until it
//! serves it ("until live"); the wait "embargo" takes its duration from the input; the
//! parallel "announce" posts to two channels at once.
//!
//! Inside a map item, a child context or a parallel branch the function gets the same
//! generated [`thumbnails::Workflow`], wrapping that context, so nested operations are
//! typed helpers too.

use std::fmt;
use std::time::Duration;

/// The types and helpers generated from `workflows/thumbnails.json`.
pub mod thumbnails {
    lambda_durable::include_workflow!("thumbnails");
}

use thumbnails::{Album, Image, Index, Propagation, Thumbnail, Workflow};

/// Why an image did not render.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderError(String);

impl fmt::Display for RenderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for RenderError {}

/// A stand-in for the renderer: images whose name contains `broken` fail for good.
fn render(image: &Image) -> Result<Thumbnail, RenderError> {
    let url = image.url.to_string();
    if url.contains("broken") {
        return Err(RenderError(format!("cannot decode {url}")));
    }
    Ok(Thumbnail {
        url: format!("{url}.thumb.png"),
        source: url,
    })
}

/// A stand-in for the CDN: it serves a new page from the third check on.
fn cdn_check(state: Propagation) -> Result<Propagation, RenderError> {
    let checks = state.checks + 1;
    Ok(Propagation {
        live: checks >= 3,
        checks,
        ..state
    })
}

/// The durable handler, written against the generated helpers only.
///
/// # Errors
///
/// The map's and the steps' errors; more than half of the images failing is not an error
/// of the workflow but shows in [`Index::failed`].
pub async fn render_album(album: Album, wf: Workflow) -> Result<Index, lambda_durable::Error> {
    let batch = wf
        .render_all(album.images, |item, image, _index| async move {
            item.render(image, |image, _step| async move { render(&image) })
                .await
        })
        .await?;

    let rendered: Vec<Thumbnail> = batch.succeeded().cloned().collect();
    let failed = u64::try_from(batch.failure_count()).unwrap_or(u64::MAX);

    let album_id = album.album;
    let thumbnails = rendered.clone();
    let url = wf
        .publish(|publish| async move {
            let url = publish
                .publish_index(thumbnails, |thumbnails, _step| async move {
                    Ok::<_, RenderError>(format!(
                        "https://cdn.example/{album_id}/index-{}.html",
                        thumbnails.len()
                    ))
                })
                .await?;
            let initial = Propagation {
                url,
                checks: 0,
                live: false,
            };
            let live = publish
                .until_live(
                    initial,
                    |state, _step| async move { cdn_check(state) },
                    |state| state.live,
                )
                .await?;
            Ok::<_, lambda_durable::Error>(live.url)
        })
        .await?;

    let embargo_minutes = album.embargo_minutes.max(1);
    wf.embargo(Duration::from_secs(embargo_minutes.saturating_mul(60)))
        .await?;

    let feed_url = url.clone();
    let announced = wf
        .announce(
            |_feed: Workflow| async move {
                // A real branch would post to the feed's API (in a step of `_feed`).
                Ok::<_, RenderError>(format!("feed: {feed_url}"))
            },
            |_mail: Workflow| async move { Ok::<_, RenderError>("mail: 12 followers".to_string()) },
        )
        .await?;
    let announcements = announced.succeeded().cloned().collect();

    Ok(Index {
        url,
        rendered,
        failed,
        announcements,
    })
}
