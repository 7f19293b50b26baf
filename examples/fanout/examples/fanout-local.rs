//! Runs one execution of the thumbnails workflow on the local runner (no AWS account needed) and
//! prints its timeline: `cargo run -p fanout --example fanout-local`. The Lambda binary is
//! `src/main.rs`; this file is not part of it.

use fanout::render_album;
use fanout::thumbnails::{self, Album, Image};
use lambda_durable_testing::LocalRunner;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let images = [
        "https://img.example/a.jpg",
        "https://img.example/broken.jpg",
        "https://img.example/c.jpg",
    ]
    .into_iter()
    .map(|url| Ok(Image { url: url.parse()? }))
    .collect::<Result<Vec<_>, BoxError>>()?;
    let album = Album {
        album: "holidays".to_string(),
        images,
        embargo_minutes: 60,
    };
    let execution = LocalRunner::new(thumbnails::handler(render_album))
        .run(album)
        .await?;
    println!("{}", execution.timeline());
    println!("status: {:?}", execution.status());
    Ok(())
}
