//! Prints the spec reference table that the README embeds.
fn main() {
    print!("{}", infera_spec::reference_markdown());
}
