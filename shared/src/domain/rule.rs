//! An optimization rule as an owner writes it, in Meta's Ad Rules names where they exist
//! (`evaluation_spec.filters[{field, operator, value}]`, `execution_spec`,
//! `schedule_spec`), with what Meta lacks: `any_of`/`all_of` groups, a condition against
//! another metric (`value_ref`, e.g. 2 × daily_budget), trends (`CHANGED_BY_PCT` against
//! the previous window of equal length) and a time preset per condition. `check` names
//! every invalid part by its JSON path.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{Fields, Invalid};

/// What a rule looks at: a whole campaign, or one creative of a campaign.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum EntityType {
    /// The whole campaign's delivery.
    Campaign,
    /// One creative's delivery within its campaign.
    Ad,
}

/// A metric a condition reads. Ratios are computed from the window's sums and are
/// missing (never zero) when their divisor is zero.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// Money spent, account currency.
    Spend,
    /// Times shown.
    Impressions,
    /// Unique people reached in the window.
    Reach,
    /// Impressions per person reached.
    Frequency,
    /// Link clicks.
    Clicks,
    /// Clicks / impressions.
    Ctr,
    /// Spend / clicks.
    Cpc,
    /// Results.
    Conversions,
    /// Spend / results.
    Cpa,
    /// The results' value.
    ConversionValue,
    /// Conversion value / spend.
    Roas,
    /// The campaign's daily budget now.
    DailyBudget,
    /// Hours since the campaign went live.
    HoursSinceLaunch,
}

impl Metric {
    /// Read from the entity itself, not from a window of insights.
    pub fn is_attribute(self) -> bool {
        matches!(self, Metric::DailyBudget | Metric::HoursSinceLaunch)
    }

    /// Unique people reached, and impressions per person: not sums of days (Meta counts
    /// a person once per window), so read per exact window (`campaign_reach`) and only
    /// for the windows the sync asks Meta about (`TimePreset::has_reach`).
    pub fn is_reach(self) -> bool {
        matches!(self, Metric::Reach | Metric::Frequency)
    }

    /// The metric's name as written in rules.
    pub fn name(self) -> &'static str {
        match self {
            Metric::Spend => "spend",
            Metric::Impressions => "impressions",
            Metric::Reach => "reach",
            Metric::Frequency => "frequency",
            Metric::Clicks => "clicks",
            Metric::Ctr => "ctr",
            Metric::Cpc => "cpc",
            Metric::Conversions => "conversions",
            Metric::Cpa => "cpa",
            Metric::ConversionValue => "conversion_value",
            Metric::Roas => "roas",
            Metric::DailyBudget => "daily_budget",
            Metric::HoursSinceLaunch => "hours_since_launch",
        }
    }
}

/// How a condition compares.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Operator {
    /// Above the value.
    GreaterThan,
    /// Below the value.
    LessThan,
    /// Equal to it.
    Equal,
    /// Not equal to it.
    NotEqual,
    /// Within `[low, high]`.
    InRange,
    /// Outside `[low, high]`.
    NotInRange,
    /// The window against the previous window of the same length, in percent
    /// (`-15` is a fall of at least 15 %, `20` a rise of at least 20 %).
    ChangedByPct,
}

/// Whole days before today, Meta's names; `LIFETIME` is every day since launch.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TimePreset {
    /// Today so far.
    Today,
    /// Yesterday.
    Yesterday,
    #[serde(rename = "LAST_3D")]
    /// The three days before today.
    Last3d,
    #[default]
    #[serde(rename = "LAST_7D")]
    /// The seven days before today.
    Last7d,
    #[serde(rename = "LAST_14D")]
    /// The fourteen days before today.
    Last14d,
    #[serde(rename = "LAST_28D")]
    /// The twenty-eight days before today.
    Last28d,
    /// Every day since launch.
    Lifetime,
}

impl TimePreset {
    /// The window's length in days and how many days before today it ends (0: today).
    pub fn days(self) -> Option<(i64, i64)> {
        match self {
            TimePreset::Today => Some((1, 0)),
            TimePreset::Yesterday => Some((1, 1)),
            TimePreset::Last3d => Some((3, 1)),
            TimePreset::Last7d => Some((7, 1)),
            TimePreset::Last14d => Some((14, 1)),
            TimePreset::Last28d => Some((28, 1)),
            TimePreset::Lifetime => None,
        }
    }

    /// The whole-day windows whose reach the sync reads from Meta (with the window of
    /// equal length before each, for trends).
    pub const WITH_REACH: [TimePreset; 5] = [
        TimePreset::Yesterday,
        TimePreset::Last3d,
        TimePreset::Last7d,
        TimePreset::Last14d,
        TimePreset::Last28d,
    ];

    /// Whether the sync reads Meta's reach for this window.
    pub fn has_reach(self) -> bool {
        Self::WITH_REACH.contains(&self)
    }
}

/// The other side of a comparison: a number, or `multiplier` × another metric.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ValueRef {
    /// The metric read.
    pub field: Metric,
    #[serde(default = "one")]
    #[schema(value_type = String, example = "2")]
    /// What it is multiplied by (default 1).
    pub multiplier: Decimal,
}

fn one() -> Decimal {
    Decimal::ONE
}

/// One comparison.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    /// The metric read.
    pub field: Metric,
    /// How it is compared.
    pub operator: Operator,
    /// A number, or `[low, high]` for the range operators (money in the account's
    /// currency, ctr as a fraction: 0.01 is 1 %).
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub value: Option<serde_json::Value>,
    #[serde(default)]
    /// Another metric to compare with instead of `value`.
    pub value_ref: Option<ValueRef>,
    #[serde(default)]
    /// The window read (default LAST_7D).
    pub time_preset: TimePreset,
    /// Count today's partial (least reliable) data too; off by default.
    #[serde(default)]
    pub include_today: bool,
}

/// A condition, or a group of them.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Filter {
    /// Every one of them holds.
    AllOf {
        /// The group's members.
        all_of: Vec<Filter>,
    },
    /// At least one of them holds.
    AnyOf {
        /// The group's members.
        any_of: Vec<Filter>,
    },
    /// One comparison.
    Condition(Condition),
}

/// Read by its keys (`all_of`, `any_of`, or a condition's), so a mistake inside a
/// condition is reported as that mistake, not as "no variant matched".
impl<'de> Deserialize<'de> for Filter {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let v = serde_json::Value::deserialize(d)?;
        let obj = v
            .as_object()
            .ok_or_else(|| D::Error::custom("a condition or an all_of/any_of group"))?;
        let group = |key: &str| -> Option<Result<Vec<Filter>, D::Error>> {
            let inner = obj.get(key)?;
            if obj.len() != 1 {
                return Some(Err(D::Error::custom(format!("a group holds only {key}"))));
            }
            Some(Vec::<Filter>::deserialize(inner).map_err(D::Error::custom))
        };
        if let Some(all_of) = group("all_of") {
            return all_of.map(|all_of| Filter::AllOf { all_of });
        }
        if let Some(any_of) = group("any_of") {
            return any_of.map(|any_of| Filter::AnyOf { any_of });
        }
        serde_json::from_value(v)
            .map(Filter::Condition)
            .map_err(D::Error::custom)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
/// The rule's conditions.
pub struct EvaluationSpec {
    /// All must hold. Each is a condition (`{field, operator, value | value_ref,
    /// time_preset, include_today}`, see `Condition`) or a group `{"all_of": [...]}` /
    /// `{"any_of": [...]}` of them, nested at most four deep.
    #[schema(value_type = Vec<Object>)]
    pub filters: Vec<Filter>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
/// What a rule does when its conditions hold.
pub enum ExecutionType {
    /// Pause the campaign or the ad.
    Pause,
    /// Resume it.
    Unpause,
    /// Raise or lower the daily budget by `change_spec`.
    ChangeBudget,
    /// Swap a tired creative for a fresh one (`refresh_spec`).
    CreativeRefresh,
    /// Widen the audience within `audience_spec`.
    AudienceExpansion,
    /// Tell the owner; change nothing.
    Notification,
}

impl ExecutionType {
    /// Changes Meta treats as significant edits (learning can restart).
    pub fn is_significant_edit(self) -> bool {
        matches!(
            self,
            ExecutionType::ChangeBudget
                | ExecutionType::CreativeRefresh
                | ExecutionType::AudienceExpansion
        )
    }

    /// The action's name in logs and presets (`budget_change`).
    pub fn slug(self) -> &'static str {
        match self {
            ExecutionType::Pause => "pause",
            ExecutionType::Unpause => "unpause",
            ExecutionType::ChangeBudget => "budget_change",
            ExecutionType::CreativeRefresh => "creative_refresh",
            ExecutionType::AudienceExpansion => "audience_expansion",
            ExecutionType::Notification => "notification",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
/// How a budget change's amount is read.
pub enum ChangeUnit {
    /// Percent of the current daily budget.
    Percentage,
    /// An amount in the account's currency.
    AccountCurrency,
}

/// How much a budget changes: +20 % by default, never more than 30 % in one step.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeSpec {
    #[schema(value_type = String, example = "20")]
    /// How much, in `unit`.
    pub amount: Decimal,
    /// Percent or currency.
    pub unit: ChangeUnit,
    /// The daily budget the change never crosses (a ceiling when rising, a floor when
    /// falling), in the account's currency.
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "5000")]
    pub limit: Option<Decimal>,
}

/// The largest budget step, in percent, whatever a rule asks.
pub const MAX_STEP_PCT: i64 = 30;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
/// What the rule does, and how often at most.
pub struct ExecutionSpec {
    /// The action.
    pub execution_type: ExecutionType,
    #[serde(default)]
    /// For CHANGE_BUDGET: by how much.
    pub change_spec: Option<ChangeSpec>,
    /// Minutes before this rule acts on the same entity again (default one day).
    #[serde(default = "default_frequency")]
    pub action_frequency: i64,
    /// For CREATIVE_REFRESH: how the replacement is found.
    #[serde(default)]
    pub refresh_spec: Option<RefreshSpec>,
    /// For AUDIENCE_EXPANSION: how far the audience may widen.
    #[serde(default)]
    pub audience_spec: Option<AudienceSpec>,
}

/// How far an audience expansion may go, as the owner bounds it: Meta's Advantage+
/// audience switched on, the age range widened to at most `age_min`..`age_max`, both
/// genders. Each step widens what is still narrower than these bounds, never narrows.
/// Placements are not a bound: campaigns launch on Advantage+ placements already.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AudienceSpec {
    #[serde(default)]
    /// Let Meta's Advantage+ audience reach beyond the settings.
    pub advantage_audience: bool,
    /// The youngest age the audience may reach (18–65).
    #[schema(minimum = 18, maximum = 65)]
    pub age_min: Option<u8>,
    /// The oldest age the audience may reach (18–65; 65 means 65 and over).
    #[schema(minimum = 18, maximum = 65)]
    pub age_max: Option<u8>,
    #[serde(default)]
    /// Both genders.
    pub all_genders: bool,
}

impl AudienceSpec {
    fn check(&self, f: &mut Fields) {
        let at = "execution_spec.audience_spec";
        for (name, age) in [("age_min", self.age_min), ("age_max", self.age_max)] {
            if age.is_some_and(|a| !(18..=65).contains(&a)) {
                f.check::<()>(
                    &format!("{at}.{name}"),
                    Err(Invalid::new("invalid", "an age from 18 to 65")),
                );
            }
        }
        if let (Some(lo), Some(hi)) = (self.age_min, self.age_max)
            && lo > hi
        {
            f.check::<()>(
                &format!("{at}.age_max"),
                Err(Invalid::new("invalid", "at least age_min")),
            );
        }
        if !self.advantage_audience
            && self.age_min.is_none()
            && self.age_max.is_none()
            && !self.all_genders
        {
            f.check::<()>(
                at,
                Err(Invalid::new(
                    "required",
                    "say how far the audience may widen: advantage_audience, age_min, age_max or all_genders",
                )),
            );
        }
    }
}

/// How a creative refresh finds the replacement: the best active creative of the
/// library the campaign has not used (by its score in other campaigns, then favourites,
/// then the newest); when there is none and `allow_generation`, a new on-brand image
/// generated with the owner's credits (one generation's cost per refresh).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshSpec {
    #[serde(default)]
    /// Generate a creative when the library has no replacement.
    pub allow_generation: bool,
}

fn default_frequency() -> i64 {
    1440
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
/// When the optimizer evaluates a rule.
pub enum Schedule {
    /// Every hour.
    Hourly,
    #[default]
    /// Once a day (06:00 in the ad account's time zone).
    Daily,
    /// After each completed sync of the campaign's ad account.
    AfterSync,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
/// When the rule runs.
pub struct ScheduleSpec {
    #[serde(default)]
    /// Hourly, daily or after each sync.
    pub schedule_type: Schedule,
}

/// The whole rule body (what `POST /v1/rules` takes, besides its name and scope).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RuleSpec {
    /// Campaign or ad.
    pub entity_type: EntityType,
    /// When it acts.
    pub evaluation_spec: EvaluationSpec,
    /// What it does.
    pub execution_spec: ExecutionSpec,
    #[serde(default)]
    /// When it runs (default DAILY).
    pub schedule_spec: ScheduleSpec,
}

/// The number a condition compares with: one value, or a range.
#[derive(Clone, Debug, PartialEq)]
pub enum Target {
    /// Compare with one number.
    One(Decimal),
    /// Compare with `[low, high]`.
    Range(Decimal, Decimal),
    /// Compare with another metric (times a multiplier).
    Ref(ValueRef),
}

fn decimal(v: &serde_json::Value) -> Option<Decimal> {
    match v {
        serde_json::Value::Number(n) => n.to_string().parse().ok(),
        serde_json::Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

impl Condition {
    /// What it compares with, or why it cannot be read.
    pub fn target(&self) -> Result<Target, Invalid> {
        let range = matches!(self.operator, Operator::InRange | Operator::NotInRange);
        match (&self.value, &self.value_ref) {
            (Some(_), Some(_)) => Err(Invalid::new(
                "ambiguous",
                "give value or value_ref, not both",
            )),
            (None, None) => Err(Invalid::new("required", "value or value_ref is required")),
            (None, Some(_)) if range || self.operator == Operator::ChangedByPct => {
                Err(Invalid::new(
                    "invalid",
                    "value_ref works with GREATER_THAN, LESS_THAN, EQUAL and NOT_EQUAL",
                ))
            }
            (None, Some(r)) => Ok(Target::Ref(r.clone())),
            (Some(serde_json::Value::Array(pair)), None) if range => {
                match (
                    pair.first().and_then(decimal),
                    pair.get(1).and_then(decimal),
                    pair.len(),
                ) {
                    (Some(lo), Some(hi), 2) if lo <= hi => Ok(Target::Range(lo, hi)),
                    _ => Err(Invalid::new(
                        "invalid",
                        "a range is [low, high] with low <= high",
                    )),
                }
            }
            (Some(v), None) if !range => decimal(v)
                .map(Target::One)
                .ok_or_else(|| Invalid::new("invalid", "a number")),
            (Some(_), None) => Err(Invalid::new("invalid", "a range is [low, high]")),
        }
    }

    /// The slug a log row carries: `ctr_changed_by_pct_-15_last_7d`.
    pub fn slug(&self) -> String {
        let op = serde_json::to_value(self.operator)
            .ok()
            .and_then(|v| v.as_str().map(str::to_lowercase))
            .unwrap_or_default();
        let value = match self.target() {
            Ok(Target::One(v)) => v.normalize().to_string(),
            Ok(Target::Range(a, b)) => format!("{}_{}", a.normalize(), b.normalize()),
            Ok(Target::Ref(r)) => format!("{}x{}", r.multiplier.normalize(), r.field.name()),
            Err(_) => String::new(),
        };
        let preset = serde_json::to_value(self.time_preset)
            .ok()
            .and_then(|v| v.as_str().map(str::to_lowercase))
            .unwrap_or_default();
        format!("{}_{op}_{value}_{preset}", self.field.name())
    }

    fn check(&self, at: &str, f: &mut Fields, entity: EntityType) {
        let reads_reach =
            self.field.is_reach() || self.value_ref.as_ref().is_some_and(|r| r.field.is_reach());
        if reads_reach && entity == EntityType::Ad {
            f.check::<()>(
                &format!("{at}.field"),
                Err(Invalid::new(
                    "not_available",
                    "reach and frequency are the campaign's (Meta counts a person once per campaign); use them in CAMPAIGN rules",
                )),
            );
        } else if reads_reach && (!self.time_preset.has_reach() || self.include_today) {
            f.check::<()>(
                &format!("{at}.time_preset"),
                Err(Invalid::new(
                    "not_available",
                    "reach and frequency are read for whole days: YESTERDAY, LAST_3D, LAST_7D, LAST_14D or LAST_28D, without include_today",
                )),
            );
        }
        f.check(&format!("{at}.value"), self.target());
        if let Some(r) = &self.value_ref
            && r.multiplier <= Decimal::ZERO
        {
            f.check::<()>(
                &format!("{at}.value_ref"),
                Err(Invalid::new("invalid", "a multiplier above 0")),
            );
        }
        if self.operator == Operator::ChangedByPct {
            if self.field.is_attribute() {
                f.check::<()>(
                    &format!("{at}.operator"),
                    Err(Invalid::new(
                        "invalid",
                        "trends need a metric from insights",
                    )),
                );
            }
            if self.time_preset == TimePreset::Lifetime {
                f.check::<()>(
                    &format!("{at}.time_preset"),
                    Err(Invalid::new(
                        "invalid",
                        "a trend needs a window with one before it",
                    )),
                );
            }
        }
    }
}

/// Conditions nested deeper than this are refused.
const MAX_DEPTH: usize = 4;
/// Conditions in one rule, at most.
const MAX_CONDITIONS: usize = 20;

fn check_filters(
    filters: &[Filter],
    at: &str,
    (depth, entity): (usize, EntityType),
    count: &mut usize,
    f: &mut Fields,
) {
    if filters.is_empty() {
        f.check::<()>(at, Err(Invalid::new("required", "at least one condition")));
    }
    if depth > MAX_DEPTH {
        f.check::<()>(
            at,
            Err(Invalid::new(
                "too_deep",
                format!("at most {MAX_DEPTH} levels"),
            )),
        );
        return;
    }
    for (i, filter) in filters.iter().enumerate() {
        let here = format!("{at}[{i}]");
        match filter {
            Filter::AllOf { all_of } => check_filters(
                all_of,
                &format!("{here}.all_of"),
                (depth + 1, entity),
                count,
                f,
            ),
            Filter::AnyOf { any_of } => check_filters(
                any_of,
                &format!("{here}.any_of"),
                (depth + 1, entity),
                count,
                f,
            ),
            Filter::Condition(c) => {
                *count += 1;
                c.check(&here, f, entity);
            }
        }
    }
}

impl Filter {
    /// Every condition, depth first.
    pub fn conditions(&self) -> Vec<&Condition> {
        match self {
            Filter::AllOf { all_of: v } | Filter::AnyOf { any_of: v } => {
                v.iter().flat_map(Filter::conditions).collect()
            }
            Filter::Condition(c) => vec![c],
        }
    }
}

impl RuleSpec {
    /// Every condition of the rule, depth first.
    pub fn conditions(&self) -> Vec<&Condition> {
        self.evaluation_spec
            .filters
            .iter()
            .flat_map(Filter::conditions)
            .collect()
    }

    /// Every invalid part, named by its JSON path.
    pub fn check(&self, f: &mut Fields) {
        let mut count = 0;
        check_filters(
            &self.evaluation_spec.filters,
            "evaluation_spec.filters",
            (0, self.entity_type),
            &mut count,
            f,
        );
        if count > MAX_CONDITIONS {
            f.check::<()>(
                "evaluation_spec.filters",
                Err(Invalid::new(
                    "too_many",
                    format!("at most {MAX_CONDITIONS} conditions"),
                )),
            );
        }
        let e = &self.execution_spec;
        match (e.execution_type, &e.change_spec) {
            (ExecutionType::ChangeBudget, None) => {
                f.check::<()>(
                    "execution_spec.change_spec",
                    Err(Invalid::new(
                        "required",
                        "CHANGE_BUDGET needs change_spec {amount, unit}",
                    )),
                );
            }
            (ExecutionType::ChangeBudget, Some(c)) => {
                if c.amount.is_zero() {
                    f.check::<()>(
                        "execution_spec.change_spec.amount",
                        Err(Invalid::new("invalid", "a change other than 0")),
                    );
                }
                if c.limit.is_some_and(|l| l <= Decimal::ZERO) {
                    f.check::<()>(
                        "execution_spec.change_spec.limit",
                        Err(Invalid::new("invalid", "a daily budget above 0")),
                    );
                }
            }
            (_, Some(_)) => {
                f.check::<()>(
                    "execution_spec.change_spec",
                    Err(Invalid::new(
                        "invalid",
                        "only CHANGE_BUDGET takes change_spec",
                    )),
                );
            }
            _ => {}
        }
        if !(10..=43_200).contains(&e.action_frequency) {
            f.check::<()>(
                "execution_spec.action_frequency",
                Err(Invalid::new("invalid", "between 10 minutes and 30 days")),
            );
        }
        match (&e.audience_spec, e.execution_type) {
            (Some(a), ExecutionType::AudienceExpansion) => a.check(f),
            (None, ExecutionType::AudienceExpansion) => {
                f.check::<()>(
                    "execution_spec.audience_spec",
                    Err(Invalid::new(
                        "required",
                        "AUDIENCE_EXPANSION needs the bounds it may widen to",
                    )),
                );
            }
            (Some(_), _) => {
                f.check::<()>(
                    "execution_spec.audience_spec",
                    Err(Invalid::new(
                        "invalid",
                        "only AUDIENCE_EXPANSION takes audience_spec",
                    )),
                );
            }
            (None, _) => {}
        }
        match (&e.refresh_spec, e.execution_type) {
            (Some(_), t) if t != ExecutionType::CreativeRefresh => {
                f.check::<()>(
                    "execution_spec.refresh_spec",
                    Err(Invalid::new(
                        "invalid",
                        "only CREATIVE_REFRESH takes refresh_spec",
                    )),
                );
            }
            _ => {}
        }
        let on_ads = self.entity_type == EntityType::Ad;
        let fits = match e.execution_type {
            ExecutionType::Pause | ExecutionType::Unpause | ExecutionType::Notification => true,
            ExecutionType::CreativeRefresh => on_ads,
            ExecutionType::ChangeBudget | ExecutionType::AudienceExpansion => !on_ads,
        };
        if !fits {
            f.check::<()>(
                "execution_spec.execution_type",
                Err(Invalid::new(
                    "invalid",
                    "CREATIVE_REFRESH acts on AD rules; CHANGE_BUDGET and AUDIENCE_EXPANSION on CAMPAIGN rules",
                )),
            );
        }
        if on_ads
            && self
                .conditions()
                .iter()
                .any(|c| c.field == Metric::DailyBudget)
        {
            f.check::<()>(
                "evaluation_spec.filters",
                Err(Invalid::new(
                    "invalid",
                    "a creative has no daily budget of its own",
                )),
            );
        }
    }

    /// The readable slug `trigger_condition` keeps: the first conditions' slugs.
    pub fn trigger_slug(&self) -> String {
        let mut s = self
            .conditions()
            .iter()
            .map(|c| c.slug())
            .collect::<Vec<_>>()
            .join("+");
        s.truncate(100);
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec(v: serde_json::Value) -> RuleSpec {
        serde_json::from_value(v).unwrap()
    }

    fn errors(s: &RuleSpec) -> Vec<String> {
        let mut f = Fields::default();
        s.check(&mut f);
        match f.finish() {
            Ok(()) => vec![],
            Err(crate::error::AppError::Validation(e)) => e.into_iter().map(|e| e.field).collect(),
            Err(e) => panic!("{e:?}"),
        }
    }

    #[test]
    fn metas_names_and_our_groups_read_as_one_rule() {
        let s = spec(json!({
            "entity_type": "CAMPAIGN",
            "evaluation_spec": {"filters": [
                {"field": "roas", "operator": "GREATER_THAN", "value": 4, "time_preset": "LAST_3D"},
                {"any_of": [
                    {"field": "spend", "operator": "GREATER_THAN", "value_ref": {"field": "daily_budget", "multiplier": "2"}},
                    {"field": "ctr", "operator": "CHANGED_BY_PCT", "value": -15}
                ]}
            ]},
            "execution_spec": {"execution_type": "CHANGE_BUDGET", "change_spec": {"amount": "20", "unit": "PERCENTAGE"}},
            "schedule_spec": {"schedule_type": "AFTER_SYNC"}
        }));
        assert!(errors(&s).is_empty(), "{:?}", errors(&s));
        assert_eq!(s.conditions().len(), 3);
        assert_eq!(s.execution_spec.action_frequency, 1440);
        assert_eq!(
            s.trigger_slug(),
            "roas_greater_than_4_last_3d+spend_greater_than_2xdaily_budget_last_7d+ctr_changed_by_pct_-15_last_7d"
        );
    }

    #[test]
    fn a_creative_refresh_uses_the_library_and_what_is_not_built_yet_says_so() {
        let refresh = |execution: serde_json::Value, entity: &str| {
            spec(json!({
                "entity_type": entity,
                "evaluation_spec": {"filters": [{"field": "ctr", "operator": "CHANGED_BY_PCT", "value": -15}]},
                "execution_spec": execution
            }))
        };
        assert!(
            errors(&refresh(
                json!({"execution_type": "CREATIVE_REFRESH"}),
                "AD"
            ))
            .is_empty()
        );
        assert!(
            errors(&refresh(
                json!({"execution_type": "CREATIVE_REFRESH", "refresh_spec": {"allow_generation": true}}),
                "AD"
            ))
            .is_empty(),
            "the owner may let a refresh spend credits"
        );
        assert_eq!(
            errors(&refresh(
                json!({"execution_type": "PAUSE", "refresh_spec": {}}),
                "AD"
            )),
            ["execution_spec.refresh_spec"]
        );
        assert_eq!(
            errors(&refresh(
                json!({"execution_type": "AUDIENCE_EXPANSION"}),
                "CAMPAIGN"
            )),
            ["execution_spec.audience_spec"],
            "an expansion needs the owner's bounds"
        );
        assert!(
            errors(&refresh(
                json!({"execution_type": "AUDIENCE_EXPANSION",
                       "audience_spec": {"advantage_audience": true, "age_min": 18, "age_max": 55}}),
                "CAMPAIGN"
            ))
            .is_empty()
        );
        assert_eq!(
            errors(&refresh(
                json!({"execution_type": "AUDIENCE_EXPANSION",
                       "audience_spec": {"age_min": 16, "age_max": 70}}),
                "CAMPAIGN"
            )),
            [
                "execution_spec.audience_spec.age_min",
                "execution_spec.audience_spec.age_max"
            ]
        );
        assert_eq!(
            errors(&refresh(
                json!({"execution_type": "AUDIENCE_EXPANSION", "audience_spec": {"age_min": 40, "age_max": 30}}),
                "CAMPAIGN"
            )),
            ["execution_spec.audience_spec.age_max"]
        );
        assert_eq!(
            errors(&refresh(
                json!({"execution_type": "AUDIENCE_EXPANSION", "audience_spec": {}}),
                "CAMPAIGN"
            )),
            ["execution_spec.audience_spec"],
            "bounds that allow nothing"
        );
        assert_eq!(
            errors(&refresh(
                json!({"execution_type": "AUDIENCE_EXPANSION", "audience_spec": {"all_genders": true}}),
                "AD"
            )),
            ["execution_spec.execution_type"],
            "an audience belongs to the campaign"
        );
        assert_eq!(
            errors(&refresh(
                json!({"execution_type": "PAUSE", "audience_spec": {"all_genders": true}}),
                "CAMPAIGN"
            )),
            ["execution_spec.audience_spec"]
        );
        assert_eq!(
            errors(&refresh(
                json!({"execution_type": "CREATIVE_REFRESH"}),
                "CAMPAIGN"
            )),
            ["execution_spec.execution_type"],
            "a refresh swaps one creative: an AD rule"
        );
    }

    #[test]
    fn every_invalid_part_is_named_by_its_path() {
        let s = spec(json!({
            "entity_type": "AD",
            "evaluation_spec": {"filters": [
                {"field": "reach", "operator": "GREATER_THAN", "value": 10},
                {"all_of": [{"field": "ctr", "operator": "IN_RANGE", "value": [0.02, 0.01]}]},
                {"field": "spend", "operator": "CHANGED_BY_PCT", "value": 10, "time_preset": "LIFETIME"}
            ]},
            "execution_spec": {"execution_type": "CHANGE_BUDGET", "action_frequency": 1}
        }));
        assert_eq!(
            errors(&s),
            [
                "evaluation_spec.filters[0].field",
                "evaluation_spec.filters[1].all_of[0].value",
                "evaluation_spec.filters[2].time_preset",
                "execution_spec.change_spec",
                "execution_spec.action_frequency",
                "execution_spec.execution_type",
            ]
        );
    }

    #[test]
    fn presets_name_whole_days_before_today_unless_today_is_asked_for() {
        assert_eq!(TimePreset::Last3d.days(), Some((3, 1)));
        assert_eq!(TimePreset::Today.days(), Some((1, 0)));
        assert_eq!(TimePreset::Lifetime.days(), None);
    }

    #[test]
    fn reach_and_frequency_are_campaign_figures_over_whole_days_meta_was_asked_about() {
        let rule = |entity: &str, condition: serde_json::Value| {
            spec(json!({
                "entity_type": entity,
                "evaluation_spec": {"filters": [condition]},
                "execution_spec": {"execution_type": "NOTIFICATION"}
            }))
        };
        assert!(
            errors(&rule(
                "CAMPAIGN",
                json!({"field": "frequency", "operator": "GREATER_THAN", "value": 3, "time_preset": "LAST_7D"})
            ))
            .is_empty()
        );
        assert_eq!(
            errors(&rule(
                "CAMPAIGN",
                json!({"field": "reach", "operator": "LESS_THAN", "value": 100, "time_preset": "LIFETIME"})
            )),
            ["evaluation_spec.filters[0].time_preset"]
        );
        assert_eq!(
            errors(&rule(
                "CAMPAIGN",
                json!({"field": "reach", "operator": "LESS_THAN", "value": 100, "time_preset": "LAST_3D",
                       "include_today": true})
            )),
            ["evaluation_spec.filters[0].time_preset"]
        );
        assert_eq!(
            errors(&rule(
                "AD",
                json!({"field": "frequency", "operator": "GREATER_THAN", "value": 3, "time_preset": "LAST_7D"})
            )),
            ["evaluation_spec.filters[0].field"]
        );
    }
}
