//! Money in the currencies Meta ad accounts use. A budget is a decimal amount of one
//! currency; Meta wants it in the currency's minor unit by its own offset table (100 for
//! INR and USD, 1 for JPY and KRW: ¥1500 is sent as 1500, $15.00 as 1500). A campaign
//! carries its currency, and it must be its ad account's.

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use super::Invalid;

/// Currencies Meta's Marketing API supports, with its offset (how many minor units make
/// one unit). From Meta's "Currencies" reference.
const OFFSETS: &[(&str, u32)] = &[
    ("AED", 100),
    ("ARS", 100),
    ("AUD", 100),
    ("BDT", 100),
    ("BGN", 100),
    ("BHD", 100),
    ("BOB", 100),
    ("BRL", 100),
    ("CAD", 100),
    ("CHF", 100),
    ("CLP", 1),
    ("CNY", 100),
    ("COP", 1),
    ("CRC", 1),
    ("CZK", 100),
    ("DKK", 100),
    ("DZD", 100),
    ("EGP", 100),
    ("EUR", 100),
    ("GBP", 100),
    ("GTQ", 100),
    ("HKD", 100),
    ("HNL", 100),
    ("HUF", 1),
    ("IDR", 1),
    ("ILS", 100),
    ("INR", 100),
    ("ISK", 1),
    ("JOD", 100),
    ("JPY", 1),
    ("KES", 100),
    ("KRW", 1),
    ("MOP", 100),
    ("MXN", 100),
    ("MYR", 100),
    ("NGN", 100),
    ("NIO", 100),
    ("NOK", 100),
    ("NZD", 100),
    ("PEN", 100),
    ("PHP", 100),
    ("PKR", 100),
    ("PLN", 100),
    ("PYG", 1),
    ("QAR", 100),
    ("RON", 100),
    ("RSD", 100),
    ("SAR", 100),
    ("SEK", 100),
    ("SGD", 100),
    ("THB", 100),
    ("TRY", 100),
    ("TWD", 1),
    ("UAH", 100),
    ("USD", 100),
    ("UYU", 100),
    ("VND", 1),
    ("ZAR", 100),
];

/// An ISO 4217 currency Meta accepts for ad accounts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Currency {
    code: &'static str,
    offset: u32,
}

impl Currency {
    /// The Indian rupee (100 paise).
    pub const INR: Currency = Currency {
        code: "INR",
        offset: 100,
    };

    /// The currency for an ISO code (upper case), if Meta supports it.
    pub fn parse(code: &str) -> Result<Self, Invalid> {
        OFFSETS
            .iter()
            .find(|(c, _)| *c == code)
            .map(|&(code, offset)| Currency { code, offset })
            .ok_or_else(|| {
                Invalid::new(
                    "unsupported_currency",
                    format!(
                        "{code} is not a currency Meta ad accounts use; give an ISO 4217 code such as INR or USD"
                    ),
                )
            })
    }

    /// The ISO 4217 code.
    pub fn code(self) -> &'static str {
        self.code
    }

    /// Decimal places an amount may have: 2 for offset 100, none for offset 1.
    pub fn decimals(self) -> u32 {
        if self.offset == 1 { 0 } else { 2 }
    }

    /// A positive amount of this currency with no more decimals than it has, below
    /// 10,000,000,000 units.
    pub fn amount(self, raw: &str) -> Result<Decimal, Invalid> {
        let bad = || {
            let example = if self.decimals() == 0 {
                "\"1500\""
            } else {
                "\"1500.00\""
            };
            Invalid::new(
                "invalid_amount",
                format!(
                    "must be a positive {} amount with at most {} decimals, like {example}",
                    self.code,
                    self.decimals()
                ),
            )
        };
        let d: Decimal = raw.trim().parse().map_err(|_| bad())?;
        if d <= Decimal::ZERO
            || d.normalize().scale() > self.decimals()
            || d >= Decimal::from(10_000_000_000i64)
        {
            return Err(bad());
        }
        Ok(d.round_dp(self.decimals()))
    }

    /// `amount` in Meta's minor units (×100 or ×1).
    pub fn to_minor(self, amount: Decimal) -> i64 {
        (amount * Decimal::from(self.offset))
            .round()
            .to_i64()
            .unwrap_or(i64::MAX)
    }

    /// Meta's minor units back as an amount.
    pub fn from_minor(self, minor: i64) -> Decimal {
        let mut d = Decimal::from(minor) / Decimal::from(self.offset);
        d.rescale(self.decimals());
        d
    }
}

impl std::fmt::Display for Currency {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn rupees_and_dollars_go_to_meta_in_hundredths_and_yen_and_won_whole() {
        let inr = Currency::parse("INR").unwrap();
        let usd = Currency::parse("USD").unwrap();
        let jpy = Currency::parse("JPY").unwrap();
        let krw = Currency::parse("KRW").unwrap();
        assert_eq!(inr.to_minor(dec("1500.50")), 150_050);
        assert_eq!(usd.to_minor(dec("15")), 1_500);
        assert_eq!(jpy.to_minor(dec("1500")), 1_500);
        assert_eq!(krw.to_minor(dec("20000")), 20_000);
        assert_eq!(usd.from_minor(1_500).to_string(), "15.00");
        assert_eq!(jpy.from_minor(1_500).to_string(), "1500");
    }

    #[test]
    fn yen_amounts_have_no_decimals_and_dollars_at_most_two() {
        let jpy = Currency::parse("JPY").unwrap();
        assert_eq!(jpy.amount("1500").unwrap().to_string(), "1500");
        assert_eq!(jpy.amount("1500.0").unwrap().to_string(), "1500");
        assert_eq!(jpy.amount("1500.5").unwrap_err().code, "invalid_amount");
        let usd = Currency::parse("USD").unwrap();
        assert_eq!(usd.amount("99.50").unwrap().to_string(), "99.50");
        for bad in ["0", "-5", "1.005", "abc", "10000000000"] {
            assert!(usd.amount(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn only_currencies_meta_supports_parse() {
        assert_eq!(Currency::parse("INR").unwrap(), Currency::INR);
        for bad in ["inr", "XXX", "US", ""] {
            assert_eq!(
                Currency::parse(bad).unwrap_err().code,
                "unsupported_currency"
            );
        }
    }
}
