//! Prints the OpenAPI document: `cargo run -p openapi --example dump`.
fn main() {
    println!(
        "{}",
        openapi::document().to_pretty_json().expect("serialisable")
    );
}
