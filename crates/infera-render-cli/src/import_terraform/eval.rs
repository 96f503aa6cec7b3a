//! Evaluating the module block's arguments: literals, lists, objects, `var.NAME` and string
//! templates over them. Everything else is an error at its position, all errors at once.

use hcl_edit::Span;
use hcl_edit::expr::{Expression, ObjectKey, TraversalOperator};
use hcl_edit::template::{Element, Template};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// A position in one input file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Position {
    /// The file as given.
    pub file: String,
    /// 1-based.
    pub line: usize,
    /// 1-based, in characters.
    pub column: usize,
}

impl Position {
    /// The position of byte `offset` in `text`.
    pub fn at(file: &str, text: &str, offset: usize) -> Self {
        let before = text.get(..offset).unwrap_or(text);
        let line = before.matches('\n').count() + 1;
        let column = before
            .rsplit('\n')
            .next()
            .map_or(0, |tail| tail.chars().count())
            + 1;
        Self {
            file: file.to_owned(),
            line,
            column,
        }
    }
}

impl std::fmt::Display for Position {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

/// One problem, at the attribute (a dotted path from the module block) and its position.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// `regions[0].kubernetes.config_context`.
    pub path: String,
    /// Where.
    pub at: Position,
    /// What, and what to do.
    pub message: String,
}

/// What a variable holds.
#[derive(Clone, Debug)]
pub struct Variable {
    /// The value.
    pub value: Value,
}

/// Evaluates expressions of one file.
pub struct Evaluator<'a> {
    /// The file's name, for positions.
    pub file: &'a str,
    /// The file's text, for positions.
    pub text: &'a str,
    /// `var.NAME` values.
    pub variables: &'a BTreeMap<String, Variable>,
    /// Every problem found.
    pub problems: Vec<Problem>,
    /// The position of every evaluated value, by its path.
    pub positions: BTreeMap<String, Position>,
}

impl<'a> Evaluator<'a> {
    /// An evaluator for `text` (the file `file`) with `variables`.
    pub fn new(file: &'a str, text: &'a str, variables: &'a BTreeMap<String, Variable>) -> Self {
        Self {
            file,
            text,
            variables,
            problems: Vec::new(),
            positions: BTreeMap::new(),
        }
    }

    fn position(&self, span: Option<std::ops::Range<usize>>) -> Position {
        Position::at(self.file, self.text, span.map_or(0, |span| span.start))
    }

    /// An object key's name (an identifier or a quoted string); an expression as a key is a
    /// problem (recorded).
    pub fn key_name(&mut self, path: &str, key: &ObjectKey) -> Option<String> {
        match key {
            ObjectKey::Ident(ident) => Some(ident.value().as_str().to_owned()),
            ObjectKey::Expression(Expression::String(text)) => Some(text.value().clone()),
            ObjectKey::Expression(other) => {
                self.problem(
                    path,
                    other.span(),
                    "an object key must be a name or a quoted string, not an expression: write the key itself".to_owned(),
                );
                None
            }
        }
    }

    fn problem(&mut self, path: &str, span: Option<std::ops::Range<usize>>, message: String) {
        let at = self.position(span);
        self.problems.push(Problem {
            path: path.to_owned(),
            at,
            message,
        });
    }

    /// The value of `expr` at `path`; `None` after a problem (recorded).
    pub fn eval(&mut self, path: &str, expr: &Expression) -> Option<Value> {
        let at = self.position(expr.span());
        self.positions.insert(path.to_owned(), at);
        match expr {
            Expression::Null(_) => Some(Value::Null),
            Expression::Bool(value) => Some(Value::Bool(*value.value())),
            Expression::Number(number) => {
                let number = number.value();
                if let Some(int) = number.as_i64() {
                    Some(Value::from(int))
                } else {
                    number.as_f64().map(Value::from)
                }
            }
            Expression::String(text) => Some(Value::String(text.value().clone())),
            Expression::Array(array) => {
                let mut out = Vec::new();
                let mut ok = true;
                for (index, item) in array.iter().enumerate() {
                    match self.eval(&format!("{path}[{index}]"), item) {
                        Some(value) => out.push(value),
                        None => ok = false,
                    }
                }
                ok.then_some(Value::Array(out))
            }
            Expression::Object(object) => {
                let mut out = Map::new();
                let mut ok = true;
                for (key, value) in object.iter() {
                    let Some(name) = self.key_name(path, key) else {
                        ok = false;
                        continue;
                    };
                    let child = join(path, &name);
                    match self.eval(&child, value.expr()) {
                        Some(value) => {
                            out.insert(name, value);
                        }
                        None => ok = false,
                    }
                }
                ok.then_some(Value::Object(out))
            }
            Expression::StringTemplate(template) => self.template(path, template),
            Expression::HeredocTemplate(heredoc) => self.template(path, &heredoc.template),
            Expression::Parenthesis(inner) => self.eval(path, inner.inner()),
            Expression::Traversal(traversal) => self.traversal(path, traversal),
            Expression::Variable(name) => {
                let name = name.value().as_str();
                self.problem(
                    path,
                    expr.span(),
                    format!(
                        "`{name}` is not a value infera-render can read; use a literal or var.NAME"
                    ),
                );
                None
            }
            Expression::FuncCall(call) => {
                let name = call.name.name.value().as_str().to_owned();
                self.problem(path, expr.span(), format!("the function call {name}(...) is not evaluated (infera-render reads literals, lists, objects, var.NAME and string templates); write its result instead"));
                None
            }
            Expression::ForExpr(_) => {
                self.problem(
                    path,
                    expr.span(),
                    "a `for` expression is not evaluated; write the list or object it makes"
                        .to_owned(),
                );
                None
            }
            Expression::Conditional(_) | Expression::UnaryOp(_) | Expression::BinaryOp(_) => {
                self.problem(
                    path,
                    expr.span(),
                    "an operator or a conditional is not evaluated; write its result instead"
                        .to_owned(),
                );
                None
            }
        }
    }

    fn template(&mut self, path: &str, template: &Template) -> Option<Value> {
        let mut out = String::new();
        let mut ok = true;
        // Diagnostics point at the string, not at its last interpolation.
        let at = self.positions.get(path).cloned();
        let mut strip_next = false;
        for element in template.iter() {
            match element {
                Element::Literal(text) => {
                    let text = text.value();
                    out.push_str(if strip_next { text.trim_start() } else { text });
                    strip_next = false;
                }
                Element::Interpolation(interpolation) => {
                    // `${~ ... ~}` strips the whitespace before and after it.
                    if interpolation.strip.strip_start() {
                        out.truncate(out.trim_end().len());
                    }
                    strip_next = interpolation.strip.strip_end();
                    match self.eval(path, &interpolation.expr) {
                        Some(Value::String(text)) => out.push_str(&text),
                        Some(value @ (Value::Number(_) | Value::Bool(_))) => {
                            out.push_str(&value.to_string());
                        }
                        Some(_) => {
                            self.problem(path, interpolation.expr.span(), "only strings, numbers and booleans can be interpolated into a string".to_owned());
                            ok = false;
                        }
                        None => ok = false,
                    }
                }
                Element::Directive(directive) => {
                    self.problem(path, directive.span(), "a template directive (%{ if } or %{ for }) is not evaluated; write the string it makes".to_owned());
                    ok = false;
                }
            }
        }
        if let Some(at) = at {
            self.positions.insert(path.to_owned(), at);
        }
        ok.then_some(Value::String(out))
    }

    fn traversal(&mut self, path: &str, traversal: &hcl_edit::expr::Traversal) -> Option<Value> {
        let span = traversal.span();
        let mut operators = traversal.operators.iter().map(|operator| operator.value());
        let Expression::Variable(root) = &traversal.expr else {
            // An element of a literal (`["a", "b"][0]`): the literal's problems are its own.
            let value = self.eval(path, &traversal.expr)?;
            return self.elements(path, span, "the value", value, operators);
        };
        let root = root.value().as_str();
        if root != "var" {
            let what = match root {
                "local" => "a local value (local.*)",
                "module" => "another module's output (module.*)",
                "data" => "a data source (data.*)",
                "path" | "terraform" | "each" | "count" | "self" => {
                    "a Terraform built-in reference"
                }
                _ => "a resource's attribute",
            };
            self.problem(path, span, format!("{what} is only known to Terraform; write its value, or pass it as a variable (--var, --var-file)"));
            return None;
        }
        let Some(TraversalOperator::GetAttr(name)) = operators.next() else {
            self.problem(path, span, "write var.NAME".to_owned());
            return None;
        };
        let name = name.value().as_str();
        let Some(variable) = self.variables.get(name) else {
            self.problem(path, span, format!("var.{name} has no value: pass --var {name}=VALUE, a --var-file that sets it, or give the file with its `variable \"{name}\"` block and a default"));
            return None;
        };
        let value = variable.value.clone();
        self.elements(path, span, &format!("var.{name}"), value, operators)
    }

    /// `value` with the traversal's remaining operators applied (`.key`, `[0]`, `["key"]`).
    fn elements<'o>(
        &mut self,
        path: &str,
        span: Option<std::ops::Range<usize>>,
        what: &str,
        mut value: Value,
        operators: impl Iterator<Item = &'o TraversalOperator>,
    ) -> Option<Value> {
        for operator in operators {
            value = match operator {
                TraversalOperator::GetAttr(key) => value.get(key.value().as_str()).cloned(),
                TraversalOperator::Index(index) => match index {
                    Expression::Number(number) => number
                        .value()
                        .as_u64()
                        .and_then(|i| value.get(usize::try_from(i).ok()?).cloned()),
                    Expression::String(key) => value.get(key.value().as_str()).cloned(),
                    _ => {
                        self.problem(path, span, "a computed index is not evaluated; write the element's position or key".to_owned());
                        return None;
                    }
                },
                TraversalOperator::LegacyIndex(index) => {
                    value.get(usize::try_from(*index.value()).ok()?).cloned()
                }
                TraversalOperator::AttrSplat(_) | TraversalOperator::FullSplat(_) => {
                    self.problem(path, span, "a splat (`[*]`) is not evaluated; write the list it makes".to_owned());
                    return None;
                }
            }
            .or_else(|| {
                self.problem(path, span.clone(), format!("{what} has no such element"));
                None
            })?;
        }
        Some(value)
    }
}

/// `parent.key` (or `key` at the top).
pub fn join(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_owned()
    } else {
        format!("{parent}.{key}")
    }
}
