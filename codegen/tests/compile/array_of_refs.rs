//! Compiles the `array_of_refs` snapshot under `#![deny(warnings)]` and exercises it.
#![deny(warnings)]

mod generated {
    include!("../snapshots/wire/array_of_refs.rs");
}

use generated::{Batch, Item};

fn main() {
    let batch: Batch = serde_json::from_str(r#"{"Items":[{"Name":"a"},{"Name":"b"}]}"#).unwrap();
    let names: Vec<&str> = batch.items.iter().map(|item| item.name.as_str()).collect();
    assert_eq!(names, ["a", "b"]);
    assert!(batch.extra.is_empty());
    // An empty optional array is left out; a required one is always written.
    let empty = Batch {
        items: Vec::new(),
        extra: Vec::new(),
    };
    assert_eq!(serde_json::to_string(&empty).unwrap(), r#"{"Items":[]}"#);
    let extra = Batch {
        items: Vec::new(),
        extra: vec![Item {
            name: "x".to_string(),
        }],
    };
    assert_eq!(
        serde_json::to_string(&extra).unwrap(),
        r#"{"Extra":[{"Name":"x"}],"Items":[]}"#
    );
    assert!(serde_json::from_str::<Batch>(r#"{"Items":[{}]}"#).is_err());
}
