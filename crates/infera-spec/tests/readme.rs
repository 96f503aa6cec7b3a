//! The README's spec reference is the one generated from the schema.

#[test]
fn readme_spec_reference_is_current() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md");
    let readme = std::fs::read_to_string(&path).expect("read README.md");
    let start = "<!-- spec-reference:start -->\n";
    let end = "<!-- spec-reference:end -->";
    let begin = readme
        .find(start)
        .expect("README has the spec-reference start marker")
        + start.len();
    let finish = readme
        .find(end)
        .expect("README has the spec-reference end marker");
    assert!(
        readme[begin..finish] == infera_spec::reference_markdown(),
        "the README's spec reference is out of date; replace the table between the markers with the output of\n  cargo run -q -p infera-spec --example spec_reference"
    );
}
