//! `import-terraform`: the Terraform module's `module "..." { ... }` block (and its variables)
//! turned into a spec in the canonical envelope form, validated like any spec, with its
//! diagnostics at the HCL positions. hcl-edit reads the HCL with byte spans; the evaluation is
//! ours (`eval.rs`) and reads only what can be known without Terraform.

mod eval;
mod guide;

pub use guide::guide;

use crate::Exit;
use crate::report;
use eval::{Evaluator, Position, Problem, Variable};
use hcl_edit::Span;
use hcl_edit::structure::{Block, Body};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// What `import-terraform` reads.
#[derive(Debug, Default)]
pub struct Import {
    /// The `.tf` files.
    pub files: Vec<PathBuf>,
    /// `.tfvars` files, later ones overriding earlier ones, as Terraform reads them.
    pub var_files: Vec<PathBuf>,
    /// `NAME=VALUE`, overriding every file.
    pub vars: Vec<String>,
    /// The module block's name, when several call the module.
    pub module: Option<String>,
}

/// One parsed input file.
struct Source {
    name: String,
    text: String,
    body: Body,
}

/// What the import found: the spec text, or every problem.
pub struct Imported {
    /// The spec, in the canonical envelope form with its schema line.
    pub spec: String,
    /// The module block's name.
    pub module: String,
    /// The spec's plan.
    pub plan: infera_render::Plan,
    /// Whether the module was given a Tailscale auth key (so it is in Terraform's state).
    pub key_in_state: bool,
}

fn read(path: &PathBuf, problems: &mut Vec<String>) -> Option<Source> {
    let name = path.display().to_string();
    let text = match std::fs::read(path) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(text) => text,
            Err(error) => {
                let offset = error.utf8_error().valid_up_to();
                let valid = String::from_utf8_lossy(&error.as_bytes()[..offset]).into_owned();
                let at = Position::at(&name, &valid, offset);
                problems.push(format!("{at}: not valid HCL: the file is not UTF-8 text"));
                return None;
            }
        },
        Err(error) => {
            problems.push(format!("cannot read {name}: {error}"));
            return None;
        }
    };
    match hcl_edit::parser::parse_body(&text) {
        Ok(body) => Some(Source { name, text, body }),
        Err(error) => {
            let at = error.location();
            problems.push(format!(
                "{name}:{}:{}: not valid HCL: {}",
                at.line(),
                at.column(),
                error.message()
            ));
            None
        }
    }
}

fn label(block: &Block) -> Option<&str> {
    block
        .labels
        .first()
        .map(hcl_edit::structure::BlockLabel::as_str)
}

/// `module.NAME` blocks whose `source` is the multi-region module.
fn is_multi_region(block: &Block) -> bool {
    block
        .body
        .get_attribute("source")
        .and_then(|attribute| attribute.value.as_str())
        .is_some_and(|source| {
            let source = source.split(['?', '#']).next().unwrap_or_default();
            source.trim_end_matches('/').ends_with("multi-region")
        })
}

/// Reads, evaluates and validates; every problem is printed, and the exit code returned.
pub fn import(options: &Import) -> Result<Imported, Exit> {
    if let Some(var) = options.vars.iter().find(|var| {
        var.split_once('=').is_none_or(|(name, _)| {
            name.is_empty()
                || !name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        })
    }) {
        let name = var.split_once('=').map_or(var.as_str(), |(name, _)| name);
        let shown: String = name.chars().take(40).collect();
        report::problem(&format!(
            "--var `{shown}`: write NAME=VALUE, NAME being a variable's name (the value is not shown)"
        ));
        return Err(Exit::Usage);
    }
    let mut io_problems = Vec::new();
    let sources: Vec<Source> = options
        .files
        .iter()
        .filter_map(|path| read(path, &mut io_problems))
        .collect();
    let var_sources: Vec<Source> = options
        .var_files
        .iter()
        .filter_map(|path| read(path, &mut io_problems))
        .collect();
    if !io_problems.is_empty() {
        for problem in &io_problems {
            report::problem(problem);
        }
        let unreadable = io_problems.iter().any(|p| p.starts_with("cannot read"));
        return Err(if unreadable { Exit::Io } else { Exit::Invalid });
    }

    let mut problems: Vec<Problem> = Vec::new();
    let variables = variables(&sources, &var_sources, &options.vars, &mut problems);

    // The module block.
    let candidates: Vec<(&Source, &Block)> = sources
        .iter()
        .flat_map(|source| {
            source
                .body
                .get_blocks("module")
                .map(move |block| (source, block))
        })
        .filter(|(_, block)| match &options.module {
            Some(name) => label(block) == Some(name.as_str()),
            None => is_multi_region(block),
        })
        .collect();
    let (source, block) = match candidates.as_slice() {
        [one] => *one,
        [] => {
            report::problem(&match &options.module {
                Some(name) => format!("no `module \"{name}\"` block in the given files"),
                None => "no `module` block whose source ends in multi-region in the given files; name the block with --module".to_owned(),
            });
            return Err(Exit::Invalid);
        }
        several => {
            let listed: Vec<String> = several
                .iter()
                .map(|(source, block)| {
                    format!(
                        "module.{} ({})",
                        label(block).unwrap_or_default(),
                        Position::at(
                            &source.name,
                            &source.text,
                            block.span().map_or(0, |s| s.start)
                        )
                    )
                })
                .collect();
            report::problem(&format!(
                "several module blocks call the multi-region module: {}; pick one with --module NAME",
                listed.join(", ")
            ));
            return Err(Exit::Invalid);
        }
    };
    let module = label(block).unwrap_or("inferadb").to_owned();
    let mut evaluator = Evaluator::new(&source.name, &source.text, &variables);
    evaluator.problems = problems;
    let block_at = Position::at(
        &source.name,
        &source.text,
        block.span().map_or(0, |s| s.start),
    );
    let mut spec = Map::new();
    let mut notes: Vec<String> = Vec::new();
    for attribute in block.body.attributes() {
        let key = attribute.key.value().as_str();
        match key {
            "source" | "version" => continue,
            "depends_on" => {
                notes.push("depends_on is Terraform's ordering; infera-render's APPLY.md orders the apply instead".to_owned());
                continue;
            }
            "count" | "for_each" | "providers" => {
                let at = Position::at(
                    &source.name,
                    &source.text,
                    attribute.span().map_or(0, |s| s.start),
                );
                evaluator.problems.push(Problem {
                    path: key.to_owned(),
                    at,
                    message: format!("`{key}` on the module makes Terraform create several copies or pass providers; infera-render imports one call: remove it and import each configuration separately"),
                });
                continue;
            }
            _ => {}
        }
        if key == "tailscale" {
            if let Some(value) = tailscale(&mut evaluator, &attribute.value, &mut notes) {
                spec.insert(key.to_owned(), value);
            }
            continue;
        }
        if let Some(value) = evaluator.eval(key, &attribute.value) {
            spec.insert(key.to_owned(), value);
        }
    }
    for nested in block.body.blocks() {
        let at = Position::at(
            &source.name,
            &source.text,
            nested.span().map_or(0, |s| s.start),
        );
        evaluator.problems.push(Problem {
            path: nested.ident.value().as_str().to_owned(),
            at,
            message: "a nested block inside the module call is not a module input; remove it"
                .to_owned(),
        });
    }
    if !evaluator.problems.is_empty() {
        let mut problems = evaluator.problems;
        problems.sort_by(|a, b| {
            (&a.at.file, a.at.line, a.at.column).cmp(&(&b.at.file, b.at.line, b.at.column))
        });
        for problem in &problems {
            // Variables are the configuration's, not the module block's.
            let label = if problem.path.starts_with("var.") || problem.path.starts_with("variable.")
            {
                problem.path.clone()
            } else {
                format!("module.{module}.{}", problem.path)
            };
            eprintln!("error: {label}: {}\n  --> {}", problem.message, problem.at);
        }
        eprintln!(
            "infera-render: {}: cannot import module.{module} ({} error(s))",
            source.name,
            problems.len()
        );
        return Err(Exit::Invalid);
    }
    let positions = evaluator.positions;
    normalize(&mut spec, &mut notes);
    notes.extend(differences(&spec));
    let envelope = json!({
        "apiVersion": "infera.dev/v1alpha1",
        "kind": "MultiRegionDeployment",
        "metadata": {"name": module},
        "spec": Value::Object(spec),
    });
    let body = infera_render::to_stream(&[envelope]);
    let body = body.strip_prefix("---\n").unwrap_or(&body).to_owned();

    // Validated like any spec, its diagnostics at the HCL positions.
    let document = match infera_render::parse_document(body.as_bytes()) {
        Ok(document) => document,
        Err(diagnostics) => {
            print_at_hcl(&diagnostics, &positions, &block_at, &module);
            return Err(Exit::Invalid);
        }
    };
    let plan = match document.plan(&infera_render::PlanOptions::default()) {
        Ok(plan) => plan,
        Err(diagnostics) => {
            print_at_hcl(&diagnostics, &positions, &block_at, &module);
            return Err(Exit::Invalid);
        }
    };
    print_at_hcl(&plan.warnings, &positions, &block_at, &module);
    let secrets = infera_render::required_secrets(&plan);
    let mut header = String::from(
        "# yaml-language-server: $schema=https://raw.githubusercontent.com/infera/infera-render/main/schemas/infera-spec.schema.json\n#\n",
    );
    header.push_str(&format!(
        "# Imported by `infera-render import-terraform` from module.{module} in {}.\n",
        source.name
    ));
    for note in &notes {
        header.push_str(&wrap_comment(note));
    }
    if !secrets.is_empty() {
        header.push_str("#\n# Create these Secrets in each region's namespace before applying (APPLY.md, \"Before you start\", says\n# which region needs which and how to make them):\n");
        for (name, key, _) in &secrets {
            header.push_str(&format!("#   {name} (key {key})\n"));
        }
    }
    Ok(Imported {
        spec: format!("{header}{body}"),
        module,
        key_in_state: notes.iter().any(|note| note == AUTH_KEY_NOTE),
        plan,
    })
}

/// The note on a `tailscale.auth_key` the import left out (`MIGRATION.md` then says to rotate it).
pub const AUTH_KEY_NOTE: &str = "tailscale.auth_key was not copied: a key never belongs in a spec (the module kept it in Terraform state, in plain text: rotate it). The spec references Secrets named after secret_name instead, one key per workload; create them as listed below. To keep the module's one shared key while you make those, set tailscale.credentials: shared_key (README, \"The network\").";

/// `tailscale = { ... }` with `auth_key` never copied: the spec references the Secret instead.
fn tailscale(
    evaluator: &mut Evaluator<'_>,
    expr: &hcl_edit::expr::Expression,
    notes: &mut Vec<String>,
) -> Option<Value> {
    let hcl_edit::expr::Expression::Object(object) = expr else {
        // A variable or a parenthesized object: whatever made it, the key stays out.
        let mut value = evaluator.eval("tailscale", expr)?;
        if let Some(key) = value.get_mut("auth_key")
            && key.as_str().is_some_and(|text| !text.is_empty())
        {
            *key = Value::String(String::new());
            notes.push(AUTH_KEY_NOTE.to_owned());
        }
        return Some(value);
    };
    let mut out = Map::new();
    let mut ok = true;
    for (key, value) in object.iter() {
        let Some(name) = evaluator.key_name("tailscale", key) else {
            ok = false;
            continue;
        };
        if name == "auth_key" {
            let empty = matches!(value.expr(), hcl_edit::expr::Expression::String(text) if text.value().is_empty());
            if !empty {
                notes.push(AUTH_KEY_NOTE.to_owned());
            }
            out.insert(name, Value::String(String::new()));
            continue;
        }
        match evaluator.eval(&format!("tailscale.{name}"), value.expr()) {
            Some(value) => {
                out.insert(name, value);
            }
            None => ok = false,
        }
    }
    ok.then_some(Value::Object(out))
}

/// The module's own conventions, read as the module read them (its variables.tf): `""` for an
/// unset optional string, `is_primary` false when left out; and what must not reach a spec: a
/// Kubernetes token (credentials stay in the kubeconfig), the module's `annotations` input
/// (infera-render has none).
fn normalize(spec: &mut Map<String, Value>, notes: &mut Vec<String>) {
    let mut token = false;
    if let Some(regions) = spec.get_mut("regions").and_then(Value::as_array_mut) {
        for region in regions.iter_mut().filter_map(Value::as_object_mut) {
            for key in ["fdb_version", "storage_class"] {
                if region.get(key) == Some(&Value::String(String::new())) {
                    region.remove(key);
                }
            }
            region.entry("is_primary").or_insert(Value::Bool(false));
            if let Some(kubernetes) = region.get_mut("kubernetes").and_then(Value::as_object_mut) {
                token |= kubernetes.remove("token").is_some();
                for key in ["config_path", "host", "cluster_ca"] {
                    if kubernetes.get(key) == Some(&Value::String(String::new())) {
                        kubernetes.remove(key);
                    }
                }
            }
        }
    }
    if token {
        notes.push("regions[].kubernetes.token was not copied: a credential never belongs in a spec; keep it in the kubeconfig the context names.".to_owned());
    }
    if let Some(dr) = spec.get_mut("fearless_dr").and_then(Value::as_object_mut)
        && dr.get("satellite_version") == Some(&Value::String(String::new()))
    {
        dr.remove("satellite_version");
    }
    if spec.remove("annotations").is_some() {
        notes.push("annotations was left out: infera-render has no such input; use labels, or a kustomize patch on the output.".to_owned());
    }
}

/// Short notes on inputs the module accepted that infera-render reads differently.
fn differences(spec: &Map<String, Value>) -> Vec<String> {
    let mut out = Vec::new();
    if spec.contains_key("regions") {
        out.push("regions[].priority keeps the module's meaning (lower is preferred); infera-render converts it to FoundationDB's priorities, where higher wins (`infera-render plan` shows them).".to_owned());
    }
    if spec
        .get("control")
        .and_then(|control| control.get("enabled"))
        != Some(&Value::Bool(false))
    {
        out.push("control: the module listed it and never rendered it; infera-render renders control like the engine (set control.enabled: false to leave it out).".to_owned());
    }
    let dr = spec.get("fearless_dr");
    if dr.and_then(|dr| dr.get("enabled")) != Some(&Value::Bool(false))
        && dr
            .and_then(|dr| dr.get("usable_regions"))
            .is_none_or(|usable| usable == 1)
    {
        out.push("fearless_dr.usable_regions 1 (the module's default) keeps the DR region without a replica; `infera-render plan` says what that means.".to_owned());
    }
    out
}

/// `# note` lines, wrapped at about 100 columns.
fn wrap_comment(text: &str) -> String {
    let mut out = String::from("#\n");
    let mut line = String::from("#");
    for word in text.split_whitespace() {
        if line.len() + word.len() + 1 > 100 {
            out.push_str(&line);
            out.push('\n');
            line = String::from("#");
        }
        line.push(' ');
        line.push_str(word);
    }
    out.push_str(&line);
    out.push('\n');
    out
}

/// The variables' values: the `variable` blocks' defaults, then each var file (later ones win),
/// then `--var`.
fn variables(
    sources: &[Source],
    var_sources: &[Source],
    vars: &[String],
    problems: &mut Vec<Problem>,
) -> BTreeMap<String, Variable> {
    let empty = BTreeMap::new();
    let mut out = BTreeMap::new();
    let mut types: BTreeMap<String, String> = BTreeMap::new();
    for source in sources {
        for block in source.body.get_blocks("variable") {
            let Some(name) = label(block) else { continue };
            if let Some(kind) = block.body.get_attribute("type") {
                let span = kind.value.span().unwrap_or(0..0);
                let text = source.text.get(span).unwrap_or_default().trim().to_owned();
                types.insert(name.to_owned(), text);
            }
            let Some(default) = block.body.get_attribute("default") else {
                continue;
            };
            let mut evaluator = Evaluator::new(&source.name, &source.text, &empty);
            if let Some(value) = evaluator.eval(&format!("variable.{name}.default"), &default.value)
            {
                out.insert(name.to_owned(), Variable { value });
            }
            problems.extend(evaluator.problems);
        }
    }
    for source in var_sources {
        let mut evaluator = Evaluator::new(&source.name, &source.text, &empty);
        for attribute in source.body.attributes() {
            let name = attribute.key.value().as_str();
            if let Some(value) = evaluator.eval(&format!("var.{name}"), &attribute.value) {
                out.insert(name.to_owned(), Variable { value });
            }
        }
        problems.extend(evaluator.problems);
    }
    for var in vars {
        let (name, text) = var.split_once('=').unwrap_or((var.as_str(), ""));
        // Terraform reads a -var value as a string for a `string` (or untyped) variable, and
        // as an HCL expression for any other declared type.
        let value = match types.get(name).map(String::as_str) {
            None | Some("string") => Some(Value::String(text.to_owned())),
            Some(_) => hcl_edit::parser::parse_expr(text).ok().and_then(|expr| {
                let mut evaluator = Evaluator::new("--var", text, &empty);
                let value = evaluator.eval(&format!("var.{name}"), &expr);
                evaluator.problems.is_empty().then_some(value).flatten()
            }),
        };
        match value {
            Some(value) => {
                out.insert(name.to_owned(), Variable { value });
            }
            None => problems.push(Problem {
                path: format!("var.{name}"),
                at: Position::at("--var", "", 0),
                message: format!(
                    "the --var value is not a literal of the variable's type ({}); write it as HCL, for example [\"a\", \"b\"] or {{ key = \"value\" }}",
                    types.get(name).map_or("", String::as_str)
                ),
            }),
        }
    }
    out
}

/// Prints diagnostics of the imported spec at the HCL positions of the fields they are about
/// (the nearest enclosing field that was in the module block, else the block itself).
fn print_at_hcl(
    diagnostics: &infera_render::Diagnostics,
    positions: &BTreeMap<String, Position>,
    block: &Position,
    module: &str,
) {
    let mut sorted = diagnostics.clone();
    sorted.sort();
    for diagnostic in &sorted {
        let path = diagnostic.path.to_string();
        let path = path.strip_prefix("spec.").unwrap_or(&path);
        let mut key = path.to_owned();
        let at = loop {
            if let Some(at) = positions.get(&key) {
                break at.clone();
            }
            match key.rfind(['.', '[']) {
                Some(cut) => key.truncate(cut),
                None => break block.clone(),
            }
        };
        let mut text = format!(
            "{}: module.{module}.{path}: {}",
            diagnostic.severity.as_str(),
            diagnostic.message
        );
        text.push_str(&format!("\n  --> {at}"));
        if let Some(help) = &diagnostic.help {
            text.push_str(&format!("\n  = help: {help}"));
        }
        eprintln!("{text}");
    }
    if !sorted.is_empty() {
        eprintln!(
            "infera-render: {}: module.{module}: {} ({})",
            block.file,
            if sorted.has_errors() {
                "invalid"
            } else {
                "valid"
            },
            sorted.summary()
        );
    }
}
