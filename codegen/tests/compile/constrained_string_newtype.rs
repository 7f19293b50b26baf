//! Compiles the `constrained_string_newtype` snapshot under `#![deny(warnings)]` and
//! exercises it.
#![deny(warnings)]

mod generated {
    include!("../snapshots/wire/constrained_string_newtype.rs");
}

use generated::OrderId;

fn main() {
    let id: OrderId = serde_json::from_str("\"ab-12\"").unwrap();
    assert_eq!(id.as_str(), "ab-12");
    assert_eq!(serde_json::to_string(&id).unwrap(), "\"ab-12\"");
    assert_eq!(String::from(id.clone()), "ab-12");
    assert_eq!(OrderId::try_from(String::from("x")).unwrap().len(), 1);
    assert_eq!(OrderId::try_from(&String::from("y")).unwrap().as_str(), "y");

    let too_long = "abcdefghi".parse::<OrderId>().unwrap_err().to_string();
    assert_eq!(too_long, "longer than 8 characters");
    let empty = OrderId::try_from("").unwrap_err().to_string();
    assert_eq!(empty, "shorter than 1 characters");
    let pattern = serde_json::from_str::<OrderId>("\"AB\"")
        .unwrap_err()
        .to_string();
    assert!(pattern.contains("doesn't match pattern"), "{pattern}");
    assert!(format!("{:?}", OrderId::try_from("!").unwrap_err()).contains("pattern"));
    let _: &dyn std::error::Error = &OrderId::try_from("!").unwrap_err();
}
