//! Per-call options of the generated helpers: a map names its items for one call and keeps
//! its declared concurrency and completion rules.
#![allow(clippy::unwrap_used)]

use fanout::thumbnails::{self, Album, Image, Index, Thumbnail};
use lambda_durable::wire::{ExecutionStatus, OperationType};
use lambda_durable_testing::LocalRunner;

async fn named_items(
    album: Album,
    wf: thumbnails::Workflow,
) -> Result<Index, lambda_durable::Error> {
    let batch = wf
        .render_all(album.images, |_item, image, _index| async move {
            let url = image.url.to_string();
            Ok::<_, std::io::Error>(Thumbnail {
                url: format!("{url}.thumb.png"),
                source: url,
            })
        })
        .item_namer(|image, index| format!("image {index}: {}", *image.url))
        .await?;
    Ok(Index {
        url: String::new(),
        rendered: batch.succeeded().cloned().collect(),
        failed: 0,
        announcements: Vec::new(),
    })
}

#[tokio::test]
async fn a_map_names_its_items_for_one_call() {
    let album = Album {
        album: "a".to_string(),
        embargo_minutes: 1,
        images: ["https://img.example/a.jpg", "https://img.example/b.jpg"]
            .iter()
            .map(|url| Image {
                url: url.parse().unwrap(),
            })
            .collect(),
    };
    let execution = LocalRunner::new(thumbnails::handler(named_items))
        .run(album)
        .await
        .unwrap();
    assert_eq!(
        execution.status(),
        ExecutionStatus::Succeeded,
        "{:?}",
        execution.error()
    );
    let items: Vec<String> = execution
        .operations()
        .iter()
        .filter(|op| op.type_ == OperationType::Context)
        .filter_map(|op| op.name.as_ref().map(|name| name.to_string()))
        .collect();
    assert!(
        items
            .iter()
            .any(|name| name == "image 0: https://img.example/a.jpg"),
        "{items:?}"
    );
    assert!(
        items
            .iter()
            .any(|name| name == "image 1: https://img.example/b.jpg"),
        "{items:?}"
    );
    // The map keeps its declared name.
    assert!(execution.operation("render all").is_some());
}
