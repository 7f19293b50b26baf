//! Compiles the `cross_file_ref` snapshot under `#![deny(warnings)]` and exercises it.
#![deny(warnings)]

mod generated {
    include!("../snapshots/wire/cross_file_ref.rs");
}

use generated::{Child, Parent};

fn main() {
    let parent: Parent = serde_json::from_str(r#"{"Child":{"Value":"v"}}"#).unwrap();
    assert_eq!(parent.child.value.as_deref(), Some("v"));
    let empty = Parent {
        child: Child::default(),
    };
    assert_eq!(serde_json::to_string(&empty).unwrap(), r#"{"Child":{}}"#);
    assert!(serde_json::from_str::<Parent>("{}").is_err());
}
