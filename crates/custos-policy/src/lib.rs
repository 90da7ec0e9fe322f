//! Cedar authorization for Custos.
//!
//! The schema (`policy/custos.cedarschema`) and the default policy set (`policy/default.cedar`)
//! ship in the repository and are compiled into the binary; a deployment may load its own.
//! Both are validated in strict mode when loaded: an invalid policy refuses to start.
//!
//! Every rule that can refuse a request is a `forbid` annotated with `@id("reason_code")`,
//! so a denial comes with the reason codes of every rule it broke. The trusted current time
//! is part of the request context, supplied by the gateway. Any evaluation error is a deny.
//!
//! Pure: no I/O; the gateway builds the facts from its store.

use std::collections::{BTreeSet, HashMap};
use std::hash::{Hash as _, Hasher as _};
use std::str::FromStr as _;
use std::sync::{Arc, Mutex};

use cedar_policy::{
    ActionConstraint, Authorizer, Context, Decision as CedarDecision, Entities, Entity, EntityId,
    EntityTypeName, EntityUid, PolicySet, Request, RestrictedExpression, Schema, ValidationMode, Validator,
};

/// The schema shipped with Custos.
pub const DEFAULT_SCHEMA: &str = include_str!("../policy/custos.cedarschema");
/// The default policy set shipped with Custos.
pub const DEFAULT_POLICY: &str = include_str!("../policy/default.cedar");

/// Errors loading policies.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// The schema does not parse.
    #[error("invalid Cedar schema: {0}")]
    Schema(String),
    /// The policy set does not parse.
    #[error("invalid Cedar policy: {0}")]
    Parse(String),
    /// The policy set does not validate against the schema in strict mode.
    #[error("Cedar policy fails strict validation: {0}")]
    Validation(String),
}

/// What is being asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ActionKind {
    /// Identity record by NID or MSISDN under a case and warrant.
    IdentityLookup,
    /// Call-detail records of a number over a period.
    CdrQuery,
    /// Search by name (needs a second officer's approval).
    NameSearch,
    /// Routine identity check without a case (declared purpose, tight quota).
    RoutineCheck,
}

impl ActionKind {
    /// Cedar action name.
    pub fn as_str(self) -> &'static str {
        match self {
            ActionKind::IdentityLookup => "identity_lookup",
            ActionKind::CdrQuery => "cdr_query",
            ActionKind::NameSearch => "name_search",
            ActionKind::RoutineCheck => "routine_check",
        }
    }
}

/// Facts about the requesting officer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfficerFacts {
    /// Officer ID.
    pub id: String,
    /// Active (not suspended).
    pub active: bool,
    /// Unit.
    pub unit: String,
    /// Roles.
    pub roles: Vec<String>,
}

/// Facts about the case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseFacts {
    /// Case ID (`none` for routine checks).
    pub id: String,
    /// Unit.
    pub unit: String,
    /// Open.
    pub open: bool,
    /// Covert.
    pub covert: bool,
    /// Assigned officers.
    pub officers: Vec<String>,
}

impl CaseFacts {
    /// The pseudo-case of routine checks.
    pub fn routine() -> Self {
        Self { id: "none".into(), unit: String::new(), open: true, covert: false, officers: vec![] }
    }
}

/// Facts about the warrant cited.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WarrantFacts {
    /// Warrant ID.
    pub id: String,
    /// `active`, `revoked`, `pending`, `refused`.
    pub status: String,
    /// Case it was issued for.
    pub case: String,
    /// Issuing reviewer.
    pub issuer: String,
    /// The issuer's unit.
    pub issuer_unit: String,
    /// Whether the issuer holds the reviewer role.
    pub issuer_is_reviewer: bool,
    /// Subjects covered (blind indexes).
    pub subjects: Vec<String>,
    /// Categories: `identity`, `cdr`, `location`.
    pub categories: Vec<String>,
    /// Data period covered (Unix seconds).
    pub data_from: i64,
    /// Data period end.
    pub data_to: i64,
    /// Validity window start.
    pub valid_from: i64,
    /// Validity window end.
    pub valid_to: i64,
}

/// One access request, as the gateway establishes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessRequest {
    /// Action.
    pub action: ActionKind,
    /// Officer.
    pub officer: OfficerFacts,
    /// Case (the routine pseudo-case for routine checks).
    pub case: CaseFacts,
    /// Warrant cited, if any.
    pub warrant: Option<WarrantFacts>,
    /// Trusted current time (Unix seconds).
    pub now: i64,
    /// Local hour of `now`.
    pub hour: i64,
    /// Allowed hours `[from, to)`.
    pub hours: (i64, i64),
    /// Subject (blind index).
    pub subject: String,
    /// Data category asked: `identity`, `cdr`, `location`.
    pub category: String,
    /// Data period asked (CDR).
    pub period: (i64, i64),
    /// Declared purpose.
    pub purpose: String,
    /// Requests of this action by the officer today, before this one.
    pub quota_used: i64,
    /// Daily limit.
    pub quota_limit: i64,
    /// Subscribers covered by the request.
    pub subscribers: i64,
    /// Subscribers above which a CDR query needs approval.
    pub approval_threshold: i64,
    /// A valid second-officer approval bound to this request.
    pub approved: bool,
    /// An active break-glass grant with justification.
    pub break_glass: bool,
}

/// A decision. Not `#[non_exhaustive]`: callers must handle both outcomes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Allowed.
    Allow,
    /// Denied, with the reason codes of the rules broken (sorted, unique).
    Deny(Vec<String>),
}

/// Record field groups for data minimisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FieldGroup {
    /// Name, date of birth, gender, NID.
    Basic,
    /// Father's and mother's names.
    Family,
    /// Address.
    Address,
    /// Registered mobile numbers.
    Contact,
    /// Call records: parties, time, duration, type.
    Cdr,
    /// Cell ID and IMEI.
    Location,
}

impl FieldGroup {
    /// All groups.
    pub const ALL: [FieldGroup; 6] = [
        FieldGroup::Basic,
        FieldGroup::Family,
        FieldGroup::Address,
        FieldGroup::Contact,
        FieldGroup::Cdr,
        FieldGroup::Location,
    ];

    /// Name as written in audit entries: `basic`, `family`, `address`, `contact`, `cdr`,
    /// `location`.
    pub fn as_str(self) -> &'static str {
        match self {
            FieldGroup::Basic => "basic",
            FieldGroup::Family => "family",
            FieldGroup::Address => "address",
            FieldGroup::Contact => "contact",
            FieldGroup::Cdr => "cdr",
            FieldGroup::Location => "location",
        }
    }
}

type ViewKey = (Vec<String>, Vec<String>, bool);

/// The entities of a request (officer, case, warrant), kept because the same officer works
/// the same case under the same warrant request after request, and building Cedar entities
/// (their sets above all) costs more than evaluating the policies. Found by the three IDs,
/// used only when every fact equals the one they were built from, so a changed fact can never
/// meet a stale entity.
type EntityKey = (OfficerFacts, CaseFacts, Option<WarrantFacts>);

/// Request entity sets kept before the cache starts afresh.
const ENTITY_CACHE_MAX: usize = 4096;

/// A loaded, validated policy.
pub struct Policy {
    policies: PolicySet,
    /// For each action of the schema, the policies whose scope can match it: the others can
    /// neither permit nor forbid that action, so evaluating them is wasted work.
    by_action: HashMap<String, PolicySet>,
    authorizer: Authorizer,
    reason_of: HashMap<String, String>,
    view_cache: Mutex<HashMap<ViewKey, Vec<FieldGroup>>>,
    entity_cache: Mutex<HashMap<u64, (EntityKey, Arc<Entities>)>>,
    officer_type: EntityTypeName,
    case_type: EntityTypeName,
    warrant_type: EntityTypeName,
    group_type: EntityTypeName,
    action_type: EntityTypeName,
}

impl std::fmt::Debug for Policy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Policy").field("policies", &self.reason_of.len()).finish_non_exhaustive()
    }
}

fn s(v: &str) -> RestrictedExpression {
    RestrictedExpression::new_string(v.to_string())
}

fn set(v: &[String]) -> RestrictedExpression {
    RestrictedExpression::new_set(v.iter().map(|x| s(x)))
}

fn long(v: i64) -> RestrictedExpression {
    RestrictedExpression::new_long(v)
}

/// The policy with its action scope widened to any action. Only for a set used with actions
/// the scope matches, where the scope is always true and building it on every request (a set
/// of action UIDs, per policy) is wasted.
fn any_action(p: &cedar_policy::Policy) -> Result<cedar_policy::Policy, PolicyError> {
    if matches!(p.action_constraint(), ActionConstraint::Any) {
        return Ok(p.clone());
    }
    let mut json = p.to_json().map_err(|e| PolicyError::Parse(e.to_string()))?;
    if let Some(o) = json.as_object_mut() {
        o.insert("action".into(), serde_json::json!({ "op": "All" }));
    }
    cedar_policy::Policy::from_json(Some(p.id().clone()), json).map_err(|e| PolicyError::Parse(e.to_string()))
}

/// Partition a policy set by the actions its policies' scopes can match. A policy whose
/// scope names an action (or an action group holding it) goes to that action's set; an
/// unconstrained one goes to every set. Template-linked policies are not split: with any
/// template present every action gets the whole set.
fn split_by_action(
    policies: &PolicySet,
    actions: &Entities,
    action_type: &EntityTypeName,
) -> Result<HashMap<String, PolicySet>, PolicyError> {
    let mut out = HashMap::new();
    if policies.templates().next().is_some() {
        return Ok(out);
    }
    // Only the actions the gateway asks about (`Custos::Action::…`), keyed by name; an action
    // of another namespace with the same name must not take their place.
    for action in actions.iter().filter(|a| a.uid().type_name() == action_type) {
        let uid = action.uid();
        let mut names: Vec<EntityUid> = vec![uid.clone()];
        if let Some(up) = actions.ancestors(&uid) {
            names.extend(up.cloned());
        }
        let mut set = PolicySet::new();
        for p in policies.policies() {
            let matches = match p.action_constraint() {
                ActionConstraint::Any => true,
                ActionConstraint::Eq(a) => names.contains(&a),
                ActionConstraint::In(list) => list.iter().any(|a| names.contains(a)),
            };
            if matches {
                set.add(any_action(p)?).map_err(|e| PolicyError::Parse(e.to_string()))?;
            }
        }
        out.insert(uid.id().unescaped().to_string(), set);
    }
    Ok(out)
}

impl Policy {
    /// The default schema and policy.
    pub fn default_policy() -> Result<Self, PolicyError> {
        Self::load(DEFAULT_SCHEMA, DEFAULT_POLICY)
    }

    /// Load and validate (strict mode) a schema and a policy set.
    pub fn load(schema_text: &str, policy_text: &str) -> Result<Self, PolicyError> {
        let (schema, _) =
            Schema::from_cedarschema_str(schema_text).map_err(|e| PolicyError::Schema(e.to_string()))?;
        let policies = PolicySet::from_str(policy_text).map_err(|e| PolicyError::Parse(e.to_string()))?;
        let actions = schema.action_entities().map_err(|e| PolicyError::Schema(e.to_string()))?;
        let result = Validator::new(schema).validate(&policies, ValidationMode::Strict);
        if !result.validation_passed() {
            let msgs: Vec<String> = result.validation_errors().map(|e| e.to_string()).collect();
            return Err(PolicyError::Validation(msgs.join("; ")));
        }
        let mut reason_of = HashMap::new();
        for p in policies.policies() {
            let code = p.annotation("id").unwrap_or(p.id().as_ref()).to_string();
            reason_of.insert(p.id().to_string(), code);
        }
        let ty = |n: &str| EntityTypeName::from_str(n).map_err(|e| PolicyError::Schema(e.to_string()));
        let action_type = ty("Custos::Action")?;
        let by_action = split_by_action(&policies, &actions, &action_type)?;
        Ok(Self {
            policies,
            by_action,
            authorizer: Authorizer::new(),
            reason_of,
            view_cache: Mutex::new(HashMap::new()),
            entity_cache: Mutex::new(HashMap::new()),
            officer_type: ty("Custos::Officer")?,
            case_type: ty("Custos::Case")?,
            warrant_type: ty("Custos::Warrant")?,
            group_type: ty("Custos::FieldGroup")?,
            action_type,
        })
    }

    /// The policies to evaluate for an action (all of them for an action the split missed).
    fn policies_for(&self, action: &str) -> &PolicySet {
        self.by_action.get(action).unwrap_or(&self.policies)
    }

    fn uid(&self, ty: &EntityTypeName, id: &str) -> EntityUid {
        EntityUid::from_type_name_and_id(ty.clone(), EntityId::new(id))
    }

    fn officer_entity(&self, o: &OfficerFacts) -> Option<Entity> {
        let attrs = [
            ("id".to_string(), s(&o.id)),
            ("active".to_string(), RestrictedExpression::new_bool(o.active)),
            ("unit".to_string(), s(&o.unit)),
            ("roles".to_string(), set(&o.roles)),
        ];
        Entity::new(self.uid(&self.officer_type, &o.id), attrs.into_iter().collect(), Default::default()).ok()
    }

    fn case_entity(&self, c: &CaseFacts) -> Option<Entity> {
        let attrs = [
            ("id".to_string(), s(&c.id)),
            ("unit".to_string(), s(&c.unit)),
            ("open".to_string(), RestrictedExpression::new_bool(c.open)),
            ("covert".to_string(), RestrictedExpression::new_bool(c.covert)),
            ("officers".to_string(), set(&c.officers)),
        ];
        Entity::new(self.uid(&self.case_type, &c.id), attrs.into_iter().collect(), Default::default()).ok()
    }

    fn warrant_uid(&self, w: Option<&WarrantFacts>) -> EntityUid {
        self.uid(&self.warrant_type, w.map_or("", |w| w.id.as_str()))
    }

    fn warrant_entity(&self, warrant: Option<&WarrantFacts>) -> Option<Entity> {
        let absent = WarrantFacts::default();
        let w = warrant.unwrap_or(&absent);
        let attrs = [
            ("present".to_string(), RestrictedExpression::new_bool(warrant.is_some())),
            ("id".to_string(), s(&w.id)),
            ("status".to_string(), s(&w.status)),
            ("case".to_string(), s(&w.case)),
            ("issuer".to_string(), s(&w.issuer)),
            ("issuer_unit".to_string(), s(&w.issuer_unit)),
            ("issuer_is_reviewer".to_string(), RestrictedExpression::new_bool(w.issuer_is_reviewer)),
            ("subjects".to_string(), set(&w.subjects)),
            ("categories".to_string(), set(&w.categories)),
            ("data_from".to_string(), long(w.data_from)),
            ("data_to".to_string(), long(w.data_to)),
            ("valid_from".to_string(), long(w.valid_from)),
            ("valid_to".to_string(), long(w.valid_to)),
        ];
        Entity::new(self.warrant_uid(warrant), attrs.into_iter().collect(), Default::default()).ok()
    }

    /// The officer, case and warrant entities of a request, from the cache where they were
    /// built before.
    fn request_entities(&self, r: &AccessRequest) -> Option<Arc<Entities>> {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        (&r.officer.id, &r.case.id, r.warrant.as_ref().map(|w| &w.id)).hash(&mut h);
        let id = h.finish();
        let same = |k: &EntityKey| k.0 == r.officer && k.1 == r.case && k.2 == r.warrant;
        if let Some((k, e)) = self.entity_cache.lock().ok()?.get(&id) {
            if same(k) {
                return Some(e.clone());
            }
        }
        let built = [
            self.officer_entity(&r.officer)?,
            self.case_entity(&r.case)?,
            self.warrant_entity(r.warrant.as_ref())?,
        ];
        // Policies name actions explicitly (no action hierarchy), so the request's entities
        // are just these three.
        let entities = Arc::new(Entities::from_entities(built, None).ok()?);
        let mut cache = self.entity_cache.lock().ok()?;
        if cache.len() >= ENTITY_CACHE_MAX {
            cache.clear();
        }
        cache.insert(id, ((r.officer.clone(), r.case.clone(), r.warrant.clone()), entities.clone()));
        Some(entities)
    }

    /// Decide a request. Any construction or evaluation error is a deny.
    pub fn decide(&self, r: &AccessRequest) -> Decision {
        let deny = |code: &str| Decision::Deny(vec![code.to_string()]);
        let Some(entities) = self.request_entities(r) else { return deny("policy_error") };
        let case_uid = self.uid(&self.case_type, &r.case.id);
        let warrant = RestrictedExpression::new_entity_uid(self.warrant_uid(r.warrant.as_ref()));
        let ctx = Context::from_pairs([
            ("now".to_string(), long(r.now)),
            ("hour".to_string(), long(r.hour)),
            ("hours_from".to_string(), long(r.hours.0)),
            ("hours_to".to_string(), long(r.hours.1)),
            ("subject".to_string(), s(&r.subject)),
            ("category".to_string(), s(&r.category)),
            ("period_from".to_string(), long(r.period.0)),
            ("period_to".to_string(), long(r.period.1)),
            ("purpose".to_string(), s(&r.purpose)),
            ("warrant".to_string(), warrant),
            ("quota_used".to_string(), long(r.quota_used)),
            ("quota_limit".to_string(), long(r.quota_limit)),
            ("subscribers".to_string(), long(r.subscribers)),
            ("approval_threshold".to_string(), long(r.approval_threshold)),
            ("approved".to_string(), RestrictedExpression::new_bool(r.approved)),
            ("break_glass".to_string(), RestrictedExpression::new_bool(r.break_glass)),
        ]);
        let Ok(ctx) = ctx else { return deny("policy_error") };
        let action = self.uid(&self.action_type, r.action.as_str());
        let Ok(req) = Request::new(self.uid(&self.officer_type, &r.officer.id), action, case_uid, ctx, None)
        else {
            return deny("policy_error");
        };
        let resp = self.authorizer.is_authorized(&req, self.policies_for(r.action.as_str()), &entities);
        let diag = resp.diagnostics();
        if diag.errors().next().is_some() {
            return deny("policy_error");
        }
        match resp.decision() {
            CedarDecision::Allow => Decision::Allow,
            CedarDecision::Deny => {
                let mut reasons: BTreeSet<String> = diag
                    .reason()
                    .map(|id| self.reason_of.get(&id.to_string()).cloned().unwrap_or_else(|| id.to_string()))
                    .collect();
                if reasons.is_empty() {
                    reasons.insert("no_permit".into());
                }
                Decision::Deny(reasons.into_iter().collect())
            }
        }
    }

    /// Field groups the officer may see, given the warrant's categories (or a routine check).
    /// Decisions are cached: they depend only on roles, categories and routine.
    pub fn visible_groups(
        &self,
        officer: &OfficerFacts,
        categories: &[String],
        routine: bool,
    ) -> Vec<FieldGroup> {
        let mut roles = officer.roles.clone();
        roles.sort();
        let mut cats = categories.to_vec();
        cats.sort();
        let key = (roles, cats, routine);
        if let Ok(cache) = self.view_cache.lock() {
            if let Some(v) = cache.get(&key) {
                return v.clone();
            }
        }
        let facts =
            OfficerFacts { id: "view".into(), active: true, unit: String::new(), roles: key.0.clone() };
        let mut out = Vec::new();
        if let Some(officer) = self.officer_entity(&facts) {
            let entities = Entities::from_entities([officer], None).unwrap_or_else(|_| Entities::empty());
            for g in FieldGroup::ALL {
                let ctx = Context::from_pairs([
                    ("categories".to_string(), set(&key.1)),
                    ("routine".to_string(), RestrictedExpression::new_bool(routine)),
                ]);
                let Ok(ctx) = ctx else { continue };
                let Ok(req) = Request::new(
                    self.uid(&self.officer_type, "view"),
                    self.uid(&self.action_type, "view"),
                    self.uid(&self.group_type, g.as_str()),
                    ctx,
                    None,
                ) else {
                    continue;
                };
                let resp = self.authorizer.is_authorized(&req, self.policies_for("view"), &entities);
                if resp.decision() == CedarDecision::Allow && resp.diagnostics().errors().next().is_none() {
                    out.push(g);
                }
            }
        }
        if let Ok(mut cache) = self.view_cache.lock() {
            cache.insert(key, out.clone());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) fn base() -> AccessRequest {
        AccessRequest {
            action: ActionKind::IdentityLookup,
            officer: OfficerFacts {
                id: "o1".into(),
                active: true,
                unit: "ATU".into(),
                roles: vec!["investigator".into()],
            },
            case: CaseFacts {
                id: "C1".into(),
                unit: "ATU".into(),
                open: true,
                covert: false,
                officers: vec!["o1".into()],
            },
            warrant: Some(WarrantFacts {
                id: "W1".into(),
                status: "active".into(),
                case: "C1".into(),
                issuer: "judge".into(),
                issuer_unit: "COURT".into(),
                issuer_is_reviewer: true,
                subjects: vec!["s1".into()],
                categories: vec!["identity".into(), "cdr".into()],
                data_from: 0,
                data_to: 2_000_000_000,
                valid_from: 0,
                valid_to: 2_000_000_000,
            }),
            now: 1_800_000_000,
            hour: 10,
            hours: (0, 24),
            subject: "s1".into(),
            category: "identity".into(),
            period: (0, 0),
            purpose: "case work".into(),
            quota_used: 0,
            quota_limit: 100,
            subscribers: 1,
            approval_threshold: 5,
            approved: false,
            break_glass: false,
        }
    }

    #[test]
    fn default_policy_validates_and_decides() {
        let p = Policy::default_policy().unwrap();
        assert_eq!(p.decide(&base()), Decision::Allow);
        let mut r = base();
        r.officer.active = false;
        r.subject = "s2".into();
        assert_eq!(
            p.decide(&r),
            Decision::Deny(vec!["officer_suspended".into(), "subject_not_covered".into()])
        );
    }

    #[test]
    fn changed_facts_under_the_same_ids_are_never_served_from_the_cache() {
        let p = Policy::default_policy().unwrap();
        assert_eq!(p.decide(&base()), Decision::Allow);
        let mut r = base();
        r.case.open = false;
        assert_eq!(p.decide(&r), Decision::Deny(vec!["case_closed".into()]));
        let mut r = base();
        if let Some(w) = r.warrant.as_mut() {
            w.subjects = vec!["s9".into()];
        }
        assert_eq!(p.decide(&r), Decision::Deny(vec!["subject_not_covered".into()]));
        let mut r = base();
        r.officer.roles = vec!["desk".into()];
        r.action = ActionKind::CdrQuery;
        assert_eq!(p.decide(&r), Decision::Deny(vec!["role_not_allowed".into()]));
        let mut r = base();
        r.warrant = None;
        assert_eq!(p.decide(&r), Decision::Deny(vec!["warrant_missing".into()]));
        assert_eq!(p.decide(&base()), Decision::Allow);
    }

    #[test]
    fn rules_for_every_action_apply_to_access_and_to_views() {
        let text = format!(
            "{DEFAULT_POLICY}\n@id(\"officer_banned\")\nforbid (principal, action, resource) when {{ principal.roles.contains(\"banned\") }};"
        );
        let p = Policy::load(DEFAULT_SCHEMA, &text).unwrap();
        let mut r = base();
        r.officer.roles.push("banned".into());
        assert_eq!(p.decide(&r), Decision::Deny(vec!["officer_banned".into()]));
        r.action = ActionKind::RoutineCheck;
        r.case = CaseFacts::routine();
        r.warrant = None;
        assert_eq!(p.decide(&r), Decision::Deny(vec!["officer_banned".into()]));
        assert_eq!(p.visible_groups(&r.officer, &["identity".into()], false), vec![]);
        assert_eq!(p.decide(&base()), Decision::Allow);
    }

    #[test]
    fn invalid_policies_are_refused() {
        let bad = "permit(principal, action, resource) when { principal.no_such_attr };";
        assert!(matches!(Policy::load(DEFAULT_SCHEMA, bad), Err(PolicyError::Validation(_))));
        assert!(matches!(Policy::load(DEFAULT_SCHEMA, "permit("), Err(PolicyError::Parse(_))));
        assert!(matches!(Policy::load("namespace {", DEFAULT_POLICY), Err(PolicyError::Schema(_))));
    }

    #[test]
    fn minimisation_depends_on_role_and_category() {
        let p = Policy::default_policy().unwrap();
        let inv = base().officer;
        let all = p.visible_groups(&inv, &["identity".into()], false);
        assert_eq!(
            all,
            vec![FieldGroup::Basic, FieldGroup::Family, FieldGroup::Address, FieldGroup::Contact]
        );
        let desk = OfficerFacts { roles: vec!["desk".into()], ..inv.clone() };
        assert_eq!(p.visible_groups(&desk, &[], true), vec![FieldGroup::Basic]);
        let analyst = OfficerFacts { roles: vec!["analyst".into()], ..inv };
        assert_eq!(
            p.visible_groups(&analyst, &["cdr".into()], false),
            vec![FieldGroup::Basic, FieldGroup::Cdr]
        );
    }
}
