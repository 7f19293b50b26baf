//! Compiles the `empty_object` snapshot under `#![deny(warnings)]` and exercises it.
#![deny(warnings)]

mod generated {
    include!("../snapshots/wire/empty_object.rs");
}

use generated::Empty;

fn main() {
    // Any members are kept as they are.
    let value = serde_json::json!({"Anything": [1, 2]});
    let empty: Empty = serde_json::from_value(value.clone()).unwrap();
    assert_eq!(empty.len(), 1);
    assert_eq!(serde_json::to_value(&empty).unwrap(), value);
    let map: serde_json::Map<String, serde_json::Value> =
        Empty::from(serde_json::Map::new()).into();
    assert!(map.is_empty());
}
