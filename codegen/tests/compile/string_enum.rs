//! Compiles the `string_enum` snapshot under `#![deny(warnings)]` and exercises it.
#![deny(warnings)]

mod generated {
    include!("../snapshots/wire/string_enum.rs");
}

use generated::Color;

fn main() {
    let color: Color = serde_json::from_str("\"DARK_BLUE\"").unwrap();
    assert_eq!(color, Color::DarkBlue);
    assert_eq!(serde_json::to_string(&Color::Red).unwrap(), "\"RED\"");
    assert_eq!(Color::DarkBlue.to_string(), "DARK_BLUE");
    assert_eq!("RED".parse::<Color>().unwrap(), Color::Red);
    assert_eq!(Color::try_from(String::from("RED")).unwrap(), Color::Red);
    assert_eq!(Color::try_from(&String::from("RED")).unwrap(), Color::Red);
    assert!(Color::try_from("Red").is_err());
    let err = serde_json::from_str::<Color>("\"GREEN\"")
        .unwrap_err()
        .to_string();
    assert!(err.contains("GREEN"), "{err}");
}
