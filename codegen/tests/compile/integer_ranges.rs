//! Compiles the `integer_ranges` snapshot under `#![deny(warnings)]` and exercises it.
#![deny(warnings)]

mod generated {
    include!("../snapshots/wire/integer_ranges.rs");
}

use std::num::NonZeroU64;

use generated::Limits;

fn main() {
    let limits: Limits = serde_json::from_str(
        r#"{"AtLeastOne":5,"AtLeastZero":0,"Signed":-7,"Int64AtLeastZero":3,"Int64AtLeastOne":2}"#,
    )
    .unwrap();
    assert_eq!(limits.at_least_one, NonZeroU64::new(5).unwrap());
    assert_eq!(limits.at_least_zero, 0u64);
    assert_eq!(limits.signed, -7i64);
    assert_eq!(limits.int64_at_least_zero, Some(3i64));
    assert_eq!(limits.int64_at_least_one, NonZeroU64::new(2));
    // The lower bounds 1 and 0 are enforced by the Rust types...
    assert!(
        serde_json::from_str::<Limits>(r#"{"AtLeastOne":0,"AtLeastZero":0,"Signed":0}"#).is_err()
    );
    assert!(
        serde_json::from_str::<Limits>(r#"{"AtLeastOne":1,"AtLeastZero":-1,"Signed":0}"#).is_err()
    );
    // ...the maximum is not (typify does not check it).
    assert!(serde_json::from_str::<Limits>(
        r#"{"AtLeastOne":99999999999,"AtLeastZero":0,"Signed":0}"#
    )
    .is_ok());
}
