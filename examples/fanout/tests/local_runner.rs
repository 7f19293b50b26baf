//! The thumbnails fan-out on the local runner, driven through its generated helpers.
#![allow(clippy::unwrap_used)]

use fanout::render_album;
use fanout::thumbnails::{self, Album, Image, Index};
use lambda_durable::wire::{ExecutionStatus, OperationStatus, OperationType};
use lambda_durable_testing::LocalRunner;

fn album(urls: &[&str]) -> Album {
    Album {
        album: "holidays".to_string(),
        embargo_minutes: 90,
        images: urls
            .iter()
            .map(|url| Image {
                url: url.parse().unwrap(),
            })
            .collect(),
    }
}

fn runner() -> LocalRunner {
    LocalRunner::new(thumbnails::handler(render_album))
}

#[tokio::test]
async fn every_image_is_rendered_in_its_own_context_and_indexed() {
    let execution = runner()
        .run(album(&[
            "https://img.example/a.jpg",
            "https://img.example/b.jpg",
            "https://img.example/c.jpg",
            "https://img.example/d.jpg",
        ]))
        .await
        .unwrap();

    assert_eq!(execution.status(), ExecutionStatus::Succeeded);
    let index: Index = execution.result().unwrap();
    assert_eq!(index.failed, 0);
    assert_eq!(index.url, "https://cdn.example/holidays/index-4.html");
    let sources: Vec<&str> = index.rendered.iter().map(|t| t.source.as_str()).collect();
    assert_eq!(
        sources,
        [
            "https://img.example/a.jpg",
            "https://img.example/b.jpg",
            "https://img.example/c.jpg",
            "https://img.example/d.jpg"
        ]
    );

    // The declared names: one map, one "render" step per item (each in the item's child
    // context), one "publish index" step.
    let map = execution.operation("render all").unwrap();
    assert_eq!(
        (map.type_, map.status),
        (OperationType::Context, OperationStatus::Succeeded)
    );
    let renders: Vec<_> = execution.operations_named("render").collect();
    assert_eq!(renders.len(), 4);
    assert!(renders.iter().all(|op| op.type_ == OperationType::Step
        && op.status == OperationStatus::Succeeded
        && op.parent_id.is_some()
        && op.parent_id != Some(map.id.clone())));
    // "publish index" and "until live" ran inside the "publish" child context.
    let publish = execution.operation("publish").unwrap();
    assert_eq!(publish.type_, OperationType::Context);
    for name in ["publish index", "until live"] {
        let op = execution.operation(name).unwrap();
        assert_eq!(op.parent_id.as_ref(), Some(&publish.id), "{name}");
        assert_eq!(op.status, OperationStatus::Succeeded, "{name}");
    }

    // The CDN serves the index from the third check; the declared polling waits 30 s
    // between checks, and the embargo from the input is 90 minutes.
    let live = execution.operation("until live").unwrap();
    let state: serde_json::Value = serde_json::from_str(
        live.step_details
            .as_ref()
            .and_then(|d| d.result.as_deref())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(state["checks"], 3);
    let embargo = execution.operation("embargo").unwrap();
    assert_eq!(embargo.type_, OperationType::Wait);
    assert_eq!(
        execution.elapsed(),
        std::time::Duration::from_secs(2 * 30 + 90 * 60)
    );

    // Both branches of "announce" ran, in declaration order.
    assert_eq!(
        index.announcements,
        [
            "feed: https://cdn.example/holidays/index-4.html",
            "mail: 12 followers"
        ]
    );
    let announce = execution.operation("announce").unwrap();
    assert_eq!(announce.status, OperationStatus::Succeeded);
    for branch in ["post to feed", "email followers"] {
        let op = execution.operation(branch).unwrap();
        assert_eq!(op.parent_id.as_ref(), Some(&announce.id), "{branch}");
    }
}

#[tokio::test]
async fn a_broken_image_is_tolerated_and_left_out_of_the_index() {
    let execution = runner()
        .run(album(&[
            "https://img.example/a.jpg",
            "https://img.example/broken.jpg",
            "https://img.example/c.jpg",
        ]))
        .await
        .unwrap();

    assert_eq!(execution.status(), ExecutionStatus::Succeeded);
    let index: Index = execution.result().unwrap();
    assert_eq!(index.failed, 1);
    assert_eq!(index.rendered.len(), 2);
    assert_eq!(index.url, "https://cdn.example/holidays/index-2.html");
    // The render step of the broken image failed once: its error does not match the
    // declared retry filter ("busy").
    let failed: Vec<_> = execution
        .operations_named("render")
        .filter(|op| op.status == OperationStatus::Failed)
        .collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(
        failed[0].step_details.as_ref().and_then(|d| d.attempt),
        Some(1)
    );
}

#[test]
fn image_urls_must_be_https() {
    // The declared `pattern` is checked when an `Image` is made or read.
    assert!("http://img.example/a.jpg"
        .parse::<thumbnails::ImageUrl>()
        .is_err());
    let input = serde_json::json!({ "album": "a", "images": [{ "url": "ftp://x" }] });
    assert!(serde_json::from_value::<Album>(input).is_err());
}

/// One call: the fan-out (a map with its item contexts, a wait, a polled condition) ends
/// the same whatever checkpoint call its invocation crashes after.
#[tokio::test]
async fn the_fan_out_is_crash_safe() {
    let report = runner()
        .check_crash_safety(album(&[
            "https://img.example/a.jpg",
            "https://img.example/b.jpg",
            "https://img.example/c.jpg",
        ]))
        .await
        .unwrap_or_else(|err| panic!("{err}"));
    assert_eq!(report.baseline().status(), ExecutionStatus::Succeeded);
    assert!(report.crash_points().len() >= 3, "{report}");
    assert_eq!(report.interrupted().count(), 0, "{report}");
}
