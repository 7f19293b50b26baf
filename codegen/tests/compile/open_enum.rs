//! Compiles the `open_enum` snapshot (an enumeration generated with
//! `WireOptions::unknown_value_type`) under `#![deny(warnings)]` and exercises it: a value
//! the schema does not list is kept, not an error.
#![deny(warnings)]

mod generated {
    include!("../snapshots/wire/open_enum.rs");
}

/// The wrapper's keeper of unknown values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UnknownText(&'static str);

impl UnknownText {
    fn as_str(&self) -> &str {
        self.0
    }
}

impl From<&str> for UnknownText {
    fn from(value: &str) -> Self {
        Self(Box::leak(value.to_owned().into_boxed_str()))
    }
}

use generated::Color;

fn main() {
    let color: Color = serde_json::from_str("\"DARK_BLUE\"").unwrap();
    assert_eq!(color, Color::DarkBlue);
    assert!(!color.is_unknown());
    assert_eq!(serde_json::to_string(&Color::Red).unwrap(), "\"RED\"");
    assert_eq!(Color::DarkBlue.to_string(), "DARK_BLUE");
    assert_eq!("RED".parse::<Color>().unwrap(), Color::Red);
    assert_eq!(Color::from(String::from("RED")), Color::Red);
    assert_eq!(Color::KNOWN, &[Color::Red, Color::DarkBlue]);

    let green: Color = serde_json::from_str("\"GREEN\"").unwrap();
    assert!(green.is_unknown());
    assert_eq!(green.as_str(), "GREEN");
    assert_eq!(green.to_string(), "GREEN");
    assert_eq!(serde_json::to_string(&green).unwrap(), "\"GREEN\"");
    let copy = green;
    assert_eq!(copy, green);
    assert!(serde_json::from_str::<Color>("7").is_err());
}
