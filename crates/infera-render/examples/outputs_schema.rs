//! Prints the JSON Schema of `outputs.json` (`schemas/outputs.schema.json`):
//! `cargo run -q -p infera-render --example outputs_schema > schemas/outputs.schema.json`.

fn main() {
    print!("{}", infera_render::outputs::outputs_schema_text());
}
