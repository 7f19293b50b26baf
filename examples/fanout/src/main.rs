//! On Lambda this binary serves the thumbnails workflow; anywhere else it runs one
//! execution on the local runner and prints its timeline.

use fanout::render_album;
use fanout::thumbnails::{self, Album, Image};
use lambda_durable::testing::LocalRunner;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some() {
        return lambda_durable::run(thumbnails::handler(render_album)).await;
    }
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
