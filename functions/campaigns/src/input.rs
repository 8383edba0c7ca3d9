//! Campaign request bodies and the rules a whole campaign must satisfy, whether it is
//! being created or changed.

use chrono::NaiveDate;
use serde::Deserialize;
use shared::domain::campaign::{
    CampaignStatus, Objective, OptimizationGoals, PromotedApp, Purpose, TargetAudience,
};
use shared::domain::money::Currency;
use shared::domain::{Fields, Invalid, text};
use shared::error::AppError;
use shared::http::Patch;
use shared::repo::campaigns::CampaignFields;
use utoipa::ToSchema;

/// `POST /v1/campaigns`. Budgets are decimal strings in the campaign's currency; at least
/// one is required.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCampaign {
    #[schema(example = "Diwali sale", max_length = 255)]
    pub name: Option<String>,
    pub purpose: Option<Purpose>,
    /// Derived from the purpose when omitted.
    pub objective: Option<Objective>,
    /// ISO 4217, the currency of the ad account it will run on (default INR). Budgets
    /// are in it: at most 2 decimals, none for currencies like JPY and KRW.
    #[schema(example = "INR")]
    pub currency: Option<String>,
    #[schema(example = "500.00")]
    pub daily_budget: Option<String>,
    #[schema(example = "15000.00")]
    pub total_budget: Option<String>,
    pub start_date: Option<NaiveDate>,
    pub end_date: Option<NaiveDate>,
    pub target_audience: Option<TargetAudience>,
    /// Required to launch app installs: the app and its store page.
    pub promoted_app: Option<PromotedApp>,
    pub ai_optimization_enabled: Option<bool>,
    pub optimization_goals: Option<OptimizationGoals>,
}

/// `PATCH /v1/campaigns/{id}`: absent fields stay, `null` clears an optional one.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CampaignChange {
    #[serde(default)]
    #[schema(value_type = Option<String>, max_length = 255)]
    pub name: Patch<String>,
    #[serde(default)]
    #[schema(value_type = Option<Purpose>)]
    pub purpose: Patch<Purpose>,
    #[serde(default)]
    #[schema(value_type = Option<Objective>)]
    pub objective: Patch<Objective>,
    /// Only before the campaign exists on Meta (it must be its ad account's).
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "USD")]
    pub currency: Patch<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "750.00")]
    pub daily_budget: Patch<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub total_budget: Patch<String>,
    #[serde(default)]
    #[schema(value_type = Option<NaiveDate>)]
    pub start_date: Patch<NaiveDate>,
    #[serde(default)]
    #[schema(value_type = Option<NaiveDate>)]
    pub end_date: Patch<NaiveDate>,
    #[serde(default)]
    #[schema(value_type = Option<TargetAudience>)]
    pub target_audience: Patch<TargetAudience>,
    #[serde(default)]
    #[schema(value_type = Option<PromotedApp>)]
    pub promoted_app: Patch<PromotedApp>,
    #[serde(default)]
    #[schema(value_type = Option<bool>)]
    pub ai_optimization_enabled: Patch<bool>,
    #[serde(default)]
    #[schema(value_type = Option<OptimizationGoals>)]
    pub optimization_goals: Patch<OptimizationGoals>,
    /// Moves along draft → review, active ⇄ paused → completed, or to cancelled (a
    /// campaign becomes active first by launching). On Meta, completing or cancelling
    /// pauses and archives it there first.
    #[serde(default)]
    #[schema(value_type = Option<CampaignStatus>)]
    pub status: Patch<CampaignStatus>,
}

fn budget(
    f: &mut Fields,
    field: &str,
    currency: Currency,
    raw: Option<String>,
) -> Option<rust_decimal::Decimal> {
    raw.and_then(|b| f.check(field, currency.amount(&b)))
}

fn currency(f: &mut Fields, raw: &str) -> Option<Currency> {
    f.check("currency", Currency::parse(raw))
}

/// Rules on the campaign as a whole.
fn check_whole(f: &mut Fields, c: &CampaignFields) {
    let budget_invalid = f.has("daily_budget") || f.has("total_budget");
    if c.daily_budget.is_none() && c.total_budget.is_none() && !budget_invalid {
        f.check::<()>(
            "daily_budget",
            Err(Invalid::new(
                "required",
                "give a daily_budget, a total_budget or both",
            )),
        );
    }
    if let (Some(s), Some(e)) = (c.start_date, c.end_date)
        && e < s
    {
        f.check::<()>(
            "end_date",
            Err(Invalid::new(
                "out_of_range",
                "must not be before start_date",
            )),
        );
    }
    for (field, amount) in [
        ("daily_budget", c.daily_budget),
        ("total_budget", c.total_budget),
    ] {
        if let Some(a) = amount
            && !f.has(field)
        {
            f.check(field, c.currency.amount(&a.to_string()));
        }
    }
    if let Some(ta) = &c.target_audience {
        ta.check(f);
    }
    if let Some(g) = &c.optimization_goals {
        g.check(f);
    }
    if let Some(app) = &c.promoted_app {
        app.check(f);
    }
}

impl NewCampaign {
    pub fn validate(self) -> Result<CampaignFields, AppError> {
        let mut f = Fields::default();
        let name = f
            .required("name", self.name)
            .and_then(|n| f.check("name", text(&n, 255)));
        let purpose = f.required("purpose", self.purpose);
        let money = match self.currency {
            Some(c) => currency(&mut f, &c),
            None => Some(Currency::INR),
        };
        // An unknown currency still gets its budgets checked, by the two-decimal rule.
        let rules = money.unwrap_or(Currency::INR);
        let daily_budget = budget(&mut f, "daily_budget", rules, self.daily_budget);
        let total_budget = budget(&mut f, "total_budget", rules, self.total_budget);
        let fields = CampaignFields {
            name: name.unwrap_or_default(),
            purpose: purpose.unwrap_or(Purpose::Sales),
            objective: self
                .objective
                .or(purpose.map(Purpose::default_objective))
                .unwrap_or(Objective::OutcomeSales),
            currency: money.unwrap_or(Currency::INR),
            daily_budget,
            total_budget,
            start_date: self.start_date,
            end_date: self.end_date,
            target_audience: self.target_audience,
            promoted_app: self.promoted_app,
            ai_optimization_enabled: self.ai_optimization_enabled.unwrap_or(true),
            optimization_goals: self.optimization_goals,
            status: CampaignStatus::Draft,
        };
        check_whole(&mut f, &fields);
        f.finish()?;
        Ok(fields)
    }
}

impl CampaignChange {
    /// Applies the change to `current`, validating the result as a whole. Whether the
    /// status may move that way is the lifecycle's decision (`CampaignStatus::change`).
    pub fn apply(self, mut c: CampaignFields) -> Result<CampaignFields, AppError> {
        let mut f = Fields::default();
        let required = |f: &mut Fields, field: &str| {
            f.check::<()>(
                field,
                Err(Invalid::new(
                    "required",
                    format!("{field} cannot be cleared"),
                )),
            );
        };
        match self.name {
            Patch::Value(n) => c.name = f.check("name", text(&n, 255)).unwrap_or(c.name),
            Patch::Null => required(&mut f, "name"),
            Patch::Absent => {}
        }
        match self.purpose {
            Patch::Value(p) => {
                // A new purpose brings its own objective unless one is given too.
                if self.objective.is_absent() {
                    c.objective = p.default_objective();
                }
                c.purpose = p;
            }
            Patch::Null => required(&mut f, "purpose"),
            Patch::Absent => {}
        }
        match self.objective {
            Patch::Value(o) => c.objective = o,
            Patch::Null => c.objective = c.purpose.default_objective(),
            Patch::Absent => {}
        }
        match self.currency {
            Patch::Value(raw) => c.currency = currency(&mut f, &raw).unwrap_or(c.currency),
            Patch::Null => required(&mut f, "currency"),
            Patch::Absent => {}
        }
        let money = c.currency;
        c.daily_budget = match self.daily_budget {
            Patch::Value(b) => budget(&mut f, "daily_budget", money, Some(b)).or(c.daily_budget),
            Patch::Null => None,
            Patch::Absent => c.daily_budget,
        };
        c.total_budget = match self.total_budget {
            Patch::Value(b) => budget(&mut f, "total_budget", money, Some(b)).or(c.total_budget),
            Patch::Null => None,
            Patch::Absent => c.total_budget,
        };
        apply_plain(self.start_date, &mut c.start_date);
        apply_plain(self.end_date, &mut c.end_date);
        apply_plain(self.target_audience, &mut c.target_audience);
        apply_plain(self.promoted_app, &mut c.promoted_app);
        apply_plain(self.optimization_goals, &mut c.optimization_goals);
        match self.ai_optimization_enabled {
            Patch::Value(v) => c.ai_optimization_enabled = v,
            Patch::Null => required(&mut f, "ai_optimization_enabled"),
            Patch::Absent => {}
        }
        match self.status {
            Patch::Value(next) => c.status = next,
            Patch::Null => required(&mut f, "status"),
            Patch::Absent => {}
        }
        check_whole(&mut f, &c);
        f.finish()?;
        Ok(c)
    }
}

fn apply_plain<T>(patch: Patch<T>, field: &mut Option<T>) {
    match patch {
        Patch::Value(v) => *field = Some(v),
        Patch::Null => *field = None,
        Patch::Absent => {}
    }
}
