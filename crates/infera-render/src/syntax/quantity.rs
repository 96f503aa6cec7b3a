//! Kubernetes resource quantities (`500m`, `2`, `8Gi`, `1e3`), parsed to compare requests with
//! limits. The grammar is the one of `k8s.io/apimachinery/pkg/api/resource`.

/// A parsed quantity: its value as a float (precise enough to compare and check signs).
#[derive(Clone, Copy, Debug, PartialEq, PartialOrd)]
pub struct ParsedQuantity(pub f64);

/// Parses a Kubernetes quantity, or says why it is not one.
///
/// # Errors
/// A message naming the expected form.
pub fn parse_quantity(text: &str) -> Result<ParsedQuantity, String> {
    let invalid = || {
        format!(
            "`{text}` is not a Kubernetes quantity: write a number with an optional suffix, e.g. `500m`, `2`, `512Mi`, `8Gi`"
        )
    };
    let (sign, rest) = match text.strip_prefix('-') {
        Some(rest) => (-1.0, rest),
        None => (1.0, text.strip_prefix('+').unwrap_or(text)),
    };
    let number_end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(rest.len());
    let (number, suffix) = rest.split_at(number_end);
    if number.is_empty() || number == "." || number.matches('.').count() > 1 {
        return Err(invalid());
    }
    let mantissa: f64 = number.parse().map_err(|_| invalid())?;
    let multiplier = match suffix {
        "" => 1.0,
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "E" => 1e18,
        "Ki" => 1024.0,
        "Mi" => 1024.0_f64.powi(2),
        "Gi" => 1024.0_f64.powi(3),
        "Ti" => 1024.0_f64.powi(4),
        "Pi" => 1024.0_f64.powi(5),
        "Ei" => 1024.0_f64.powi(6),
        exponent if exponent.starts_with(['e', 'E']) => {
            let digits = &exponent[1..];
            let unsigned = digits.strip_prefix(['+', '-']).unwrap_or(digits);
            if unsigned.is_empty() || !unsigned.chars().all(|c| c.is_ascii_digit()) {
                return Err(invalid());
            }
            let power: i32 = digits.parse().map_err(|_| invalid())?;
            10.0_f64.powi(power)
        }
        _ => return Err(invalid()),
    };
    let value = sign * mantissa * multiplier;
    if value.is_finite() {
        Ok(ParsedQuantity(value))
    } else {
        Err(invalid())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_kubernetes_forms() {
        assert_eq!(parse_quantity("500m"), Ok(ParsedQuantity(0.5)));
        assert_eq!(parse_quantity("2"), Ok(ParsedQuantity(2.0)));
        assert_eq!(parse_quantity("2000m"), Ok(ParsedQuantity(2.0)));
        assert_eq!(parse_quantity("1Ki"), Ok(ParsedQuantity(1024.0)));
        assert_eq!(parse_quantity("1e3"), Ok(ParsedQuantity(1000.0)));
        assert_eq!(parse_quantity(".5"), Ok(ParsedQuantity(0.5)));
        assert_eq!(parse_quantity("-1"), Ok(ParsedQuantity(-1.0)));
        assert!(parse_quantity("8GB").is_err());
        assert!(parse_quantity("").is_err());
        assert!(parse_quantity("Gi").is_err());
        assert!(parse_quantity("1.2.3").is_err());
        assert!(parse_quantity("1e").is_err());
        assert!(parse_quantity("two").is_err());
        assert!(parse_quantity("8Gi").expect("valid") > parse_quantity("4Gi").expect("valid"));
    }
}
