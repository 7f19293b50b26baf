//! Compiles the `optional_and_required_fields` snapshot under `#![deny(warnings)]` and
//! exercises it.
#![deny(warnings)]

mod generated {
    include!("../snapshots/wire/optional_and_required_fields.rs");
}

use generated::Order;

fn main() {
    let order: Order = serde_json::from_str(r#"{"Id":"o1","Quantity":3,"Unknown":true}"#).unwrap();
    assert_eq!(
        order,
        Order {
            id: "o1".to_string(),
            quantity: 3,
            note: None,
            gift: None
        }
    );
    // Absent optional members are left out, not written as null.
    assert_eq!(
        serde_json::to_value(&order).unwrap(),
        serde_json::json!({"Id": "o1", "Quantity": 3})
    );
    let full = serde_json::json!({"Id": "o2", "Quantity": -1, "Note": "n", "Gift": false});
    let order: Order = serde_json::from_value(full.clone()).unwrap();
    assert_eq!(order.note.as_deref(), Some("n"));
    assert_eq!(order.gift, Some(false));
    assert_eq!(serde_json::to_value(&order).unwrap(), full);

    let err = serde_json::from_str::<Order>(r#"{"Id":"o1"}"#)
        .unwrap_err()
        .to_string();
    assert!(err.contains("missing field `Quantity`"), "{err}");
}
