//! Numbers as an owner reads them: money in the account's currency with its symbol, and
//! digits grouped the Indian way (1,23,45,678) in a rupee account, the Western way
//! (12,345,678) otherwise.

use rust_decimal::{Decimal, RoundingStrategy};
use shared::domain::money::Currency;

/// How digits are grouped in this report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Grouping {
    /// Thousands, then every two digits: 1,23,456.
    Indian,
    /// Every three digits: 123,456.
    Western,
}

impl Grouping {
    pub fn for_currency(code: &str) -> Self {
        if code == "INR" {
            Grouping::Indian
        } else {
            Grouping::Western
        }
    }

    /// Groups a string of ASCII digits.
    fn group(self, digits: &str) -> String {
        let n = digits.len();
        if n <= 3 {
            return digits.to_owned();
        }
        let (head, last3) = digits.split_at(n - 3);
        let step = match self {
            Grouping::Indian => 2,
            Grouping::Western => 3,
        };
        let mut parts: Vec<&str> = Vec::new();
        let mut end = head.len();
        while end > 0 {
            let start = end.saturating_sub(step);
            parts.push(&head[start..end]);
            end = start;
        }
        parts.reverse();
        format!("{},{last3}", parts.join(","))
    }

    /// A whole count: 1,23,456.
    pub fn count(self, n: i64) -> String {
        let sign = if n < 0 { "-" } else { "" };
        format!("{sign}{}", self.group(&n.unsigned_abs().to_string()))
    }

    /// A decimal with exactly `places` decimals, grouped.
    pub fn decimal(self, v: Decimal, places: u32) -> String {
        let rounded = round(v, places);
        let sign = if rounded.is_sign_negative() && !rounded.is_zero() {
            "-"
        } else {
            ""
        };
        let text = format!("{:.*}", places as usize, rounded.abs());
        let (whole, frac) = text.split_once('.').unwrap_or((&text, ""));
        let whole = self.group(whole);
        if frac.is_empty() {
            format!("{sign}{whole}")
        } else {
            format!("{sign}{whole}.{frac}")
        }
    }
}

/// Rounded half away from zero, as people round money.
pub fn round(v: Decimal, places: u32) -> Decimal {
    v.round_dp_with_strategy(places, RoundingStrategy::MidpointAwayFromZero)
}

/// The currency's sign, or its code and a space.
fn symbol(code: &str) -> String {
    match code {
        "INR" => "₹".into(),
        "USD" => "$".into(),
        "EUR" => "€".into(),
        "GBP" => "£".into(),
        "JPY" => "¥".into(),
        other => format!("{other} "),
    }
}

/// Money as the account shows it: ₹1,23,456.00, $1,234.50, ¥1,235.
pub fn money(v: Decimal, code: &str) -> String {
    let places = Currency::parse(code).map(|c| c.decimals()).unwrap_or(2);
    let grouped = Grouping::for_currency(code).decimal(v.abs(), places);
    let sign = if v.is_sign_negative() && !round(v, places).is_zero() {
        "-"
    } else {
        ""
    };
    format!("{sign}{}{grouped}", symbol(code))
}

/// A percentage with two decimals: 1.25%.
pub fn percent(v: f64) -> String {
    format!("{v:.2}%")
}

/// A ratio such as ROAS: 4.20×.
pub fn times(v: Decimal) -> String {
    format!("{:.2}×", round(v, 2))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn rupees_are_grouped_in_lakhs_and_crores() {
        assert_eq!(money(dec("123456"), "INR"), "₹1,23,456.00");
        assert_eq!(money(dec("12345678.5"), "INR"), "₹1,23,45,678.50");
        assert_eq!(money(dec("999.999"), "INR"), "₹1,000.00");
        assert_eq!(money(dec("0"), "INR"), "₹0.00");
        assert_eq!(money(dec("-1500"), "INR"), "-₹1,500.00");
        assert_eq!(Grouping::Indian.count(100000), "1,00,000");
        assert_eq!(Grouping::Indian.count(999), "999");
    }

    #[test]
    fn other_currencies_are_grouped_in_thousands_with_their_own_decimals() {
        assert_eq!(money(dec("1234567.891"), "USD"), "$1,234,567.89");
        assert_eq!(money(dec("1234.4"), "JPY"), "¥1,234");
        assert_eq!(money(dec("10"), "BRL"), "BRL 10.00");
        assert_eq!(Grouping::Western.count(-1234567), "-1,234,567");
    }

    #[test]
    fn ratios_read_with_two_decimals() {
        assert_eq!(percent(1.23456), "1.23%");
        assert_eq!(times(dec("4.205")), "4.21×");
    }
}
