//! Prints the JSON Schema of the spec.
fn main() {
    print!("{}", infera_spec::json_schema_text());
}
