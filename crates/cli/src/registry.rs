//! The one place that maps names to constructors (rule R7): environments and agents, each with
//! typed parameters parsed from the config.

use crate::config::{ConfigError, cfg_err, closest, parse_section};
use mirrorflow_agent_dqn::{MdqnBuilder, MdqnConfig};
use mirrorflow_agent_online::experts::{Hedge, HedgeRate, TsallisInf};
use mirrorflow_agent_online::ftrl::Ftrl;
use mirrorflow_agent_online::gift::{GiftLinear, Schedule as GiftSchedule, Update as GiftUpdate};
use mirrorflow_agent_online::linear::{FtrlProximal, FtrlProximalConfig, Ogd, StepSize};
use mirrorflow_agent_online::mirror::{Geometry, Schedule as MirrorSchedule};
use mirrorflow_agent_online::omd::{Hint, Omd};
use mirrorflow_agent_online::ons::OptimisticOns;
use mirrorflow_agent_policy_gradient::{A2cBuilder, A2cConfig};
use mirrorflow_agent_regularized_vi::{Mdvi, MdviConfig, SampledMdviBuilder, Sampler};
use mirrorflow_agent_sac::{BandLimitConfig, SacBuilder, SacConfig};
use mirrorflow_agent_tsallis::{BobwBuilder, BobwConfig, BobwPo, EpisodeSource};
use mirrorflow_core::{
    AgentBuilder, Env, EnvFactory, EnvSpec, LinearLoss, Planner, Space, TabularMdp,
};
use mirrorflow_env_classic as classic;
use mirrorflow_env_streams as streams;
use mirrorflow_env_tabular as tabular;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::sync::Arc;

/// What an env id resolved to.
pub enum EnvKind {
    /// A finite MDP with a known model (usable by planners and as a sampled env).
    Model(Arc<TabularMdp>),
    /// A layered episodic MDP (for the policy-optimization learners).
    Layered(Arc<tabular::layered::LayeredMdp>),
    /// A simulator known only through `reset`/`step`.
    Simulator,
    /// An example stream for online learners (not an MDP).
    Stream(streams::FileStream),
    /// A loss stream for online convex optimization learners (not an MDP).
    Oco(crate::oco::OcoEnv),
}

/// A validated env section.
pub struct ResolvedEnv {
    /// Registered id.
    pub id: String,
    /// Parameters with every default filled in (plus `id`).
    pub params: toml::Table,
    /// Spec of the envs the factory builds.
    pub spec: EnvSpec,
    /// Builds one env for a global env index.
    #[allow(
        dead_code,
        reason = "read by the rollout runtime (sampled and deep learners)"
    )]
    pub factory: EnvFactory,
    /// Model, if any.
    pub kind: EnvKind,
}

/// One registry entry.
pub struct EnvEntry {
    /// Id used in `env.id`.
    pub id: &'static str,
    /// One-line description.
    pub summary: &'static str,
    /// Default parameters.
    pub defaults: fn() -> toml::Table,
    build: fn(&toml::Table) -> Result<ResolvedEnv, ConfigError>,
}

fn to_table<T: Serialize>(v: &T) -> toml::Table {
    toml::Table::try_from(v).unwrap_or_default()
}

fn parse<T: DeserializeOwned + Serialize>(
    id: &str,
    params: &toml::Table,
) -> Result<(T, toml::Table), ConfigError> {
    let t: T = parse_section(
        &format!("[env] (id = \"{id}\")"),
        toml::Value::Table(params.clone()),
    )?;
    let mut resolved = toml::Table::new();
    resolved.insert("id".into(), toml::Value::String(id.into()));
    resolved.extend(to_table(&t));
    Ok((t, resolved))
}

fn native<C, E>(
    id: &'static str,
    make: fn(C) -> E,
) -> impl Fn(&toml::Table) -> Result<ResolvedEnv, ConfigError>
where
    C: DeserializeOwned + Serialize + Clone + Send + Sync + 'static,
    E: Env + 'static,
{
    move |params| {
        let (cfg, resolved): (C, _) = parse(id, params)?;
        let spec = make(cfg.clone()).spec().clone();
        let factory: EnvFactory =
            Arc::new(move |_| Ok(Box::new(make(cfg.clone())) as Box<dyn Env>));
        Ok(ResolvedEnv {
            id: id.into(),
            params: resolved,
            spec,
            factory,
            kind: EnvKind::Simulator,
        })
    }
}

fn model_env(id: &str, resolved: toml::Table, mdp: TabularMdp, max_steps: u32) -> ResolvedEnv {
    let mdp = Arc::new(mdp);
    let spec = tabular::TabularEnv::new(id, mdp.clone(), max_steps)
        .spec()
        .clone();
    let (m, name) = (mdp.clone(), id.to_string());
    let factory: EnvFactory = Arc::new(move |_| {
        Ok(Box::new(tabular::TabularEnv::new(&name, m.clone(), max_steps)) as Box<dyn Env>)
    });
    ResolvedEnv {
        id: id.into(),
        params: resolved,
        spec,
        factory,
        kind: EnvKind::Model(mdp),
    }
}

fn tab_err(id: &str) -> impl FnOnce(tabular::TabularError) -> ConfigError + '_ {
    move |e| cfg_err(format!("[env] (id = \"{id}\"): {e}"))
}

/// Every registered environment.
pub fn envs() -> Vec<EnvEntry> {
    macro_rules! classic_entry {
        ($id:literal, $summary:literal, $cfg:ty, $env:ty) => {
            EnvEntry {
                id: $id,
                summary: $summary,
                defaults: || to_table(&<$cfg>::default()),
                build: |p| native::<$cfg, $env>($id, <$env>::new)(p),
            }
        };
    }
    vec![
        classic_entry!(
            "CartPole-v1",
            "balance a pole on a cart (gymnasium classic control)",
            classic::CartPoleConfig,
            classic::CartPole
        ),
        classic_entry!(
            "Pendulum-v1",
            "swing up a pendulum, continuous torque",
            classic::PendulumConfig,
            classic::Pendulum
        ),
        classic_entry!(
            "MountainCar-v0",
            "drive an under-powered car up a hill, 3 actions",
            classic::MountainCarConfig,
            classic::MountainCar
        ),
        classic_entry!(
            "MountainCarContinuous-v0",
            "mountain car with a continuous force",
            classic::MountainCarContinuousConfig,
            classic::MountainCarContinuous
        ),
        classic_entry!(
            "Acrobot-v1",
            "swing a two-link chain above the bar",
            classic::AcrobotConfig,
            classic::Acrobot
        ),
        // envs/example: how a Rust env is registered — one entry (id, summary, config, env)
        classic_entry!(
            "Catch-v0",
            "catch a falling ball with a paddle (bsuite; the example Rust env crate)",
            mirrorflow_env_example::CatchConfig,
            mirrorflow_env_example::Catch
        ),
        EnvEntry {
            id: "libsvm",
            summary: "an example stream from a LIBSVM/SVMlight file (gzip accepted), for online learners",
            defaults: || to_table(&streams::LibsvmConfig::default()),
            build: |p| {
                let (c, r): (streams::LibsvmConfig, _) = parse("libsvm", p)?;
                stream_env("libsvm", r, streams::FileStream::Libsvm(c))
            },
        },
        EnvEntry {
            id: "csv",
            summary: "an example stream from a CSV file (a label column, numeric features; gzip accepted), for online learners",
            defaults: || to_table(&streams::CsvConfig::default()),
            build: |p| {
                let (c, r): (streams::CsvConfig, _) = parse("csv", p)?;
                stream_env("csv", r, streams::FileStream::Csv(c))
            },
        },
        EnvEntry {
            id: "sea",
            summary: "SEA-model quadratic losses on the unit ball (noise s, centre switching every K rounds), for OCO learners",
            defaults: || to_table(&streams::SeaConfig::default()),
            build: |p| {
                let (c, r): (streams::SeaConfig, _) = parse("sea", p)?;
                c.validate()
                    .map_err(|e| cfg_err(format!("[env] (id = \"sea\") {e}")))?;
                Ok(oco_env("sea", r, crate::oco::OcoEnv::Sea(c)))
            },
        },
        EnvEntry {
            id: "experts",
            summary: "expert-advice losses in [0, 1] (iid, switching or adversarial), for OCO learners",
            defaults: || to_table(&streams::ExpertsConfig::default()),
            build: |p| {
                let (c, r): (streams::ExpertsConfig, _) = parse("experts", p)?;
                c.validate()
                    .map_err(|e| cfg_err(format!("[env] (id = \"experts\") {e}")))?;
                Ok(oco_env("experts", r, crate::oco::OcoEnv::Experts(c)))
            },
        },
        EnvEntry {
            id: "garnet",
            summary: "random Garnet(S, A, b) MDP with a known model",
            defaults: || to_table(&tabular::garnet::GarnetConfig::default()),
            build: |p| {
                let (c, r): (tabular::garnet::GarnetConfig, _) = parse("garnet", p)?;
                let m = c.build().map_err(tab_err("garnet"))?;
                Ok(model_env("garnet", r, m, c.max_episode_steps))
            },
        },
        EnvEntry {
            id: "gridworld",
            summary: "slippery gridworld with a known model",
            defaults: || to_table(&tabular::gridworld::GridworldConfig::default()),
            build: |p| {
                let (c, r): (tabular::gridworld::GridworldConfig, _) = parse("gridworld", p)?;
                let m = c.build().map_err(tab_err("gridworld"))?;
                Ok(model_env("gridworld", r, m, c.max_episode_steps))
            },
        },
        EnvEntry {
            id: "chain",
            summary: "Strens' chain with slip, a known model",
            defaults: || to_table(&tabular::chain::ChainConfig::default()),
            build: |p| {
                let (c, r): (tabular::chain::ChainConfig, _) = parse("chain", p)?;
                let m = c.build().map_err(tab_err("chain"))?;
                Ok(model_env("chain", r, m, c.max_episode_steps))
            },
        },
        EnvEntry {
            id: "riverswim",
            summary: "RiverSwim (Strehl & Littman), a known model",
            defaults: || to_table(&tabular::chain::RiverSwimConfig::default()),
            build: |p| {
                let (c, r): (tabular::chain::RiverSwimConfig, _) = parse("riverswim", p)?;
                let m = c.build().map_err(tab_err("riverswim"))?;
                Ok(model_env("riverswim", r, m, c.max_episode_steps))
            },
        },
        EnvEntry {
            id: "layered",
            summary: "layered episodic MDP with stochastic / adversarial / corrupted losses",
            defaults: || to_table(&tabular::layered::LayeredConfig::default()),
            build: |p| {
                let (c, r): (tabular::layered::LayeredConfig, _) = parse("layered", p)?;
                let m = c.build().map_err(tab_err("layered"))?;
                let env = tabular::layered::LayeredEnv::new(m.clone());
                let spec = env.spec().clone();
                let factory: EnvFactory =
                    Arc::new(move |_| Ok(Box::new(env.clone()) as Box<dyn Env>));
                Ok(ResolvedEnv {
                    id: "layered".into(),
                    params: r,
                    spec,
                    factory,
                    kind: EnvKind::Layered(Arc::new(m)),
                })
            },
        },
        EnvEntry {
            id: "tabular-file",
            summary: "your own finite MDP from a JSON file (path = \"...\")",
            defaults: || {
                let mut t = toml::Table::new();
                t.insert("path".into(), toml::Value::String("my_mdp.json".into()));
                t.insert("max_episode_steps".into(), toml::Value::Integer(100));
                t
            },
            build: |p| {
                #[derive(serde::Deserialize, Serialize)]
                #[serde(deny_unknown_fields)]
                struct FileCfg {
                    path: String,
                    #[serde(default = "hundred")]
                    max_episode_steps: u32,
                }
                fn hundred() -> u32 {
                    100
                }
                let (c, r): (FileCfg, _) = parse("tabular-file", p)?;
                let m = tabular::file::load(std::path::Path::new(&c.path))
                    .map_err(tab_err("tabular-file"))?;
                Ok(model_env("tabular-file", r, m, c.max_episode_steps))
            },
        },
    ]
}

/// Resolves an `[env]` table.
pub fn resolve_env(table: &toml::Table) -> Result<ResolvedEnv, ConfigError> {
    let entries = envs();
    let id = match table.get("id") {
        Some(toml::Value::String(s)) => s.clone(),
        Some(other) => {
            return Err(cfg_err(format!(
                "[env] id = {other}: must be a string, e.g. id = \"CartPole-v1\""
            )));
        }
        None => {
            return Err(cfg_err(
                "[env] has no `id`: name an environment, e.g. id = \"garnet\" (list them with `mirrorflow envs`)",
            ));
        }
    };
    if id.starts_with("gym:") || id.starts_with("py:") {
        #[cfg(feature = "python")]
        {
            let source = mirrorflow_gym::Source::parse(&id)
                .and_then(Result::ok)
                .ok_or_else(|| {
                    cfg_err(format!(
                        "[env] id = \"{id}\": write gym:<gymnasium id> (e.g. gym:CartPole-v1), \
                         py:path/to/file.py:ClassName or py:package.module:ClassName"
                    ))
                })?;
            return resolve_python(&id, source, table);
        }
        #[cfg(not(feature = "python"))]
        return Err(cfg_err(format!(
            "[env] id = \"{id}\": this mirrorflow was built without Python envs; rebuild with \
             the default features (`cargo build --release`)"
        )));
    }
    let Some(entry) = entries.iter().find(|e| e.id == id) else {
        let hint = closest(&id, entries.iter().map(|e| e.id))
            .map(|h| format!("; did you mean `{h}`?"))
            .unwrap_or_default();
        return Err(cfg_err(format!(
            "[env] id = \"{id}\": no such environment{hint} (list them with `mirrorflow envs`)"
        )));
    };
    let mut params = table.clone();
    params.remove("id");
    (entry.build)(&params)
}

/// `gym:<id>` and `py:<file.py|module>:<Class>` envs, through the embedded Python
/// (`[env] kwargs = {...}` goes to the constructor, `render = true` asks for rgb_array frames).
#[cfg(feature = "python")]
fn resolve_python(
    id: &str,
    source: mirrorflow_gym::Source,
    table: &toml::Table,
) -> Result<ResolvedEnv, ConfigError> {
    #[derive(serde::Deserialize, Serialize)]
    #[serde(deny_unknown_fields)]
    struct PyCfg {
        id: String,
        #[serde(default)]
        kwargs: toml::Table,
        #[serde(default)]
        render: bool,
    }
    let c: PyCfg = parse_section(
        &format!("[env] (id = \"{id}\")"),
        toml::Value::Table(table.clone()),
    )?;
    let kwargs = serde_json::to_value(&c.kwargs)
        .map_err(|e| cfg_err(format!("[env.kwargs] of `{id}`: {e}")))?;
    let (spec, factory) = mirrorflow_gym::resolve(&mirrorflow_gym::PyEnvConfig {
        source,
        kwargs,
        render: c.render,
    })
    .map_err(|e| cfg_err(format!("[env] id = \"{id}\": {e}")))?;
    Ok(ResolvedEnv {
        id: id.into(),
        params: to_table(&c),
        spec,
        factory,
        kind: EnvKind::Simulator,
    })
}

/// What an agent resolved to.
pub enum AgentKind {
    /// A planner on a known model.
    Planner(Box<dyn Planner>),
    /// A learner fed by rollouts through the actor–learner runtime.
    Rollout(Arc<dyn AgentBuilder>),
    /// An online learner on an example stream.
    Online(OnlineAgent),
}

/// An online learner and how it is scored.
pub struct OnlineAgent {
    /// Makes the learner (one per worker; all start from the same state).
    pub make: mirrorflow_runtime::online::LearnerFactory,
    /// The loss it pays and learns from.
    pub loss: LinearLoss,
    /// Add a constant feature (index 0, value 1) to every example, as VW does.
    pub bias: bool,
}

/// A file stream as an env entry: opened once now, so that a missing or unreadable file is a
/// config error; it is not an environment (no MDP), only online agents take it.
fn stream_env(
    id: &'static str,
    params: toml::Table,
    stream: streams::FileStream,
) -> Result<ResolvedEnv, ConfigError> {
    stream
        .open(0, 1)
        .map_err(|e| cfg_err(format!("[env] (id = \"{id}\"): {e}")))?;
    let spec = EnvSpec::new(id, Space::boxed(vec![0.0], vec![0.0]), Space::discrete(1));
    let factory: EnvFactory = Arc::new(move |_| {
        Err(mirrorflow_core::EnvError::Failed {
            env: id.into(),
            call: "make",
            message: "an example stream is not an environment: use an online agent \
                      (kind = \"ftrl_proximal\" or \"ogd\")"
                .into(),
        })
    });
    Ok(ResolvedEnv {
        id: id.into(),
        params,
        spec,
        factory,
        kind: EnvKind::Stream(stream),
    })
}

/// An OCO loss stream as an env entry (not an environment: only OCO agents take it).
fn oco_env(id: &'static str, params: toml::Table, env: crate::oco::OcoEnv) -> ResolvedEnv {
    let spec = EnvSpec::new(id, Space::boxed(vec![0.0], vec![0.0]), Space::discrete(1));
    let factory: EnvFactory = Arc::new(move |_| {
        Err(mirrorflow_core::EnvError::Failed {
            env: id.into(),
            call: "make",
            message: "a loss stream is not an environment: use an OCO agent \
                      (kind = \"omd\", \"ftrl\", \"ons\", \"hedge\" or \"tsallis_inf\")"
                .into(),
        })
    });
    ResolvedEnv {
        id: id.into(),
        params,
        spec,
        factory,
        kind: EnvKind::Oco(env),
    }
}

/// `[agent] kind = "omd"`.
#[derive(Clone, Debug, serde::Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
struct OmdAgentConfig {
    geometry: Geometry,
    schedule: MirrorSchedule,
    hint: Hint,
}

impl Default for OmdAgentConfig {
    fn default() -> Self {
        Self {
            geometry: Geometry::EuclideanBall { radius: 1.0 },
            schedule: MirrorSchedule::Adaptive {
                diameter: 2.0,
                grad_bound: 1.5,
                delta: 1e-8,
            },
            hint: Hint::LastGradient,
        }
    }
}

/// `[agent] kind = "ons"`.
#[derive(Clone, Debug, serde::Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
struct OnsAgentConfig {
    alpha: f64,
    grad_bound: f64,
    radius: f64,
    hint: Hint,
}

impl Default for OnsAgentConfig {
    fn default() -> Self {
        Self {
            alpha: 0.4,
            grad_bound: 1.5,
            radius: 1.0,
            hint: Hint::LastGradient,
        }
    }
}

/// `[agent] kind = "ftrl"`.
#[derive(Clone, Debug, serde::Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
struct FtrlAgentConfigOco {
    geometry: Geometry,
    schedule: MirrorSchedule,
}

impl Default for FtrlAgentConfigOco {
    fn default() -> Self {
        Self {
            geometry: Geometry::Entropic,
            schedule: MirrorSchedule::InvSqrt {
                diameter: 2.0,
                grad_bound: 1.0,
            },
        }
    }
}

/// `[agent] kind = "hedge"` / `"tsallis_inf"`: `eta` (Hedge: 0 = the anytime rate
/// `√(8 ln K / t)`; Tsallis-INF: `η₀` of `η_t = η₀/√t`).
#[derive(Clone, Debug, serde::Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
struct ExpertAgentConfig {
    eta: f64,
}

impl Default for ExpertAgentConfig {
    fn default() -> Self {
        Self { eta: 0.0 }
    }
}

/// Checks an OCO agent against its env and builds the run.
fn oco_agent(
    kind: &'static str,
    params: toml::Table,
    env: &ResolvedEnv,
    geometry: &Geometry,
    rounds: u64,
    seed: u64,
    make: impl FnOnce(usize) -> Box<dyn mirrorflow_core::OcoLearner>,
) -> Result<ResolvedAgent, ConfigError> {
    let EnvKind::Oco(oco) = &env.kind else {
        return Err(cfg_err(format!(
            "[agent] kind = \"{kind}\" plays online convex optimization rounds; `{}` is not a \
             loss stream (use [env] id = \"sea\" or \"experts\")",
            env.id
        )));
    };
    geometry
        .validate()
        .map_err(|e| cfg_err(format!("[agent] (kind = \"{kind}\") {e}")))?;
    let simplex = matches!(geometry, Geometry::Entropic | Geometry::HalfTsallis);
    if simplex != oco.simplex() {
        return Err(cfg_err(format!(
            "[agent] (kind = \"{kind}\") geometry = {geometry:?} does not fit env `{}`: {}",
            env.id,
            if oco.simplex() {
                "experts play on the simplex (geometry kind = \"entropic\" or \"half_tsallis\")"
            } else {
                "SEA losses live on the unit ball (geometry kind = \"euclidean_ball\", radius = 1)"
            }
        )));
    }
    if rounds == 0 {
        return Err(cfg_err(
            "[run] iterations = 0: an OCO run needs at least one round",
        ));
    }
    let mut resolved = toml::Table::new();
    resolved.insert("kind".into(), toml::Value::String(kind.into()));
    resolved.extend(params);
    Ok(ResolvedAgent {
        kind_name: kind.into(),
        params: resolved,
        agent: AgentKind::Planner(Box::new(crate::oco::OcoRun::new(
            oco,
            make(oco.dim()),
            rounds,
            seed,
        ))),
        key_metric: "online/static_regret",
        runtime_shape: None,
    })
}

/// `[agent] kind = "ftrl_proximal"`.
#[derive(Clone, Debug, serde::Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
struct FtrlAgentConfig {
    alpha: f64,
    beta: f64,
    l1: f64,
    l2: f64,
    loss: LinearLoss,
    bias: bool,
}

impl Default for FtrlAgentConfig {
    fn default() -> Self {
        let d = FtrlProximalConfig::default();
        Self {
            alpha: d.alpha,
            beta: d.beta,
            l1: d.l1,
            l2: d.l2,
            loss: LinearLoss::Logistic,
            bias: true,
        }
    }
}

/// `[agent] kind = "ogd"`.
#[derive(Clone, Debug, serde::Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
struct OgdAgentConfig {
    step: StepSize,
    radius: Option<f64>,
    loss: LinearLoss,
    bias: bool,
}

impl Default for OgdAgentConfig {
    fn default() -> Self {
        Self {
            step: StepSize::Adagrad {
                eta: 0.5,
                delta: 1e-8,
            },
            radius: None,
            loss: LinearLoss::Logistic,
            bias: true,
        }
    }
}

/// `[agent] kind = "giftrl"`.
#[derive(Clone, Debug, serde::Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
struct GiftAgentConfig {
    update: GiftUpdate,
    schedule: GiftSchedule,
    loss: LinearLoss,
    bias: bool,
}

impl Default for GiftAgentConfig {
    fn default() -> Self {
        Self {
            update: GiftUpdate::Implicit,
            schedule: GiftSchedule::Sqrt { eta0: 1.0 },
            loss: LinearLoss::Logistic,
            bias: true,
        }
    }
}

fn needs_stream(kind: &str, env: &ResolvedEnv) -> Result<(), ConfigError> {
    if matches!(env.kind, EnvKind::Stream(_)) {
        Ok(())
    } else {
        Err(cfg_err(format!(
            "[agent] kind = \"{kind}\" learns from an example stream; `{}` is an environment \
             (use [env] id = \"libsvm\" or \"csv\" with path = \"...\")",
            env.id
        )))
    }
}

fn online_agent(kind: &str, params: toml::Table, agent: OnlineAgent) -> ResolvedAgent {
    resolved_agent(
        kind,
        params,
        AgentKind::Online(agent),
        "online/progressive_loss",
    )
}

/// `[agent]` resolved: `kind` first, then every hyper-parameter with its default filled in.
fn resolved_agent(
    kind: &str,
    params: toml::Table,
    agent: AgentKind,
    key_metric: &'static str,
) -> ResolvedAgent {
    let mut resolved = toml::Table::new();
    resolved.insert("kind".into(), toml::Value::String(kind.into()));
    resolved.extend(params);
    ResolvedAgent {
        kind_name: kind.into(),
        params: resolved,
        agent,
        key_metric,
        runtime_shape: None,
    }
}

/// A validated agent section.
pub struct ResolvedAgent {
    /// Registered kind.
    pub kind_name: String,
    /// Hyper-parameters with defaults filled in (plus `kind`).
    pub params: toml::Table,
    /// The built agent.
    pub agent: AgentKind,
    /// Metric the progress bar shows.
    pub key_metric: &'static str,
    /// How the runtime must be shaped for this learner, if it fixes that itself.
    pub runtime_shape: Option<RuntimeShape>,
}

/// Runtime shapes that a learner dictates.
pub enum RuntimeShape {
    /// Sampled backups of a known model: generative sampler envs sweep the state–action pairs;
    /// one version = one iteration of `per_iteration` samples.
    Generative {
        /// The model sampled.
        mdp: Arc<TabularMdp>,
        /// Samples per iteration (`m·S·A·n`).
        per_iteration: u64,
    },
    /// One episode of `horizon` steps per version, on one env.
    Episodes {
        /// Steps per episode.
        horizon: usize,
    },
}

/// One agent registry entry.
pub struct AgentEntry {
    /// Name used in `agent.kind`.
    pub kind: &'static str,
    /// One-line description.
    pub summary: &'static str,
    /// What it needs from the env.
    pub needs: &'static str,
    /// Default hyper-parameters.
    pub defaults: fn() -> toml::Table,
    build: fn(&toml::Table, &ResolvedEnv, u64, u64) -> Result<ResolvedAgent, ConfigError>,
}

fn dqn_defaults() -> MdqnConfig {
    MdqnConfig {
        alpha: 0.0,
        tau: 0.0,
        ..MdqnConfig::default()
    }
}

fn bl_sac_defaults() -> SacConfig {
    SacConfig {
        band_limit: Some(BandLimitConfig::default()),
        ..SacConfig::default()
    }
}

fn build_mdqn(
    kind: &str,
    params: &toml::Table,
    env: &ResolvedEnv,
) -> Result<ResolvedAgent, ConfigError> {
    let section = format!("[agent] (kind = \"{kind}\")");
    let cfg: MdqnConfig = parse_section(&section, toml::Value::Table(params.clone()))?;
    cfg.validate()
        .map_err(|e| cfg_err(format!("{section} {e}")))?;
    if !matches!(env.spec.action_space, Space::Discrete { .. }) {
        return Err(cfg_err(format!(
            "[agent] kind = \"{kind}\" needs a Discrete action space; `{}` has {}",
            env.id, env.spec.action_space
        )));
    }
    let params = to_table(&cfg);
    Ok(deep_agent(kind, params, Arc::new(MdqnBuilder { cfg })))
}

fn build_sac(
    kind: &str,
    params: &toml::Table,
    env: &ResolvedEnv,
) -> Result<ResolvedAgent, ConfigError> {
    let section = format!("[agent] (kind = \"{kind}\")");
    let cfg: SacConfig = parse_section(&section, toml::Value::Table(params.clone()))?;
    cfg.validate()
        .map_err(|e| cfg_err(format!("{section} {e}")))?;
    match &env.spec.action_space {
        Space::Box { low, high, .. } if low.iter().chain(high).all(|x| x.is_finite()) => {}
        other => {
            return Err(cfg_err(format!(
                "[agent] kind = \"{kind}\" needs a Box action space with finite bounds; `{}` has {other}",
                env.id
            )));
        }
    }
    let params = to_table(&cfg);
    Ok(deep_agent(kind, params, Arc::new(SacBuilder { cfg })))
}

/// A deep off-policy agent (M-DQN/DQN, SAC/BL-SAC) with its resolved hyper-parameters.
fn deep_agent(kind: &str, params: toml::Table, builder: Arc<dyn AgentBuilder>) -> ResolvedAgent {
    resolved_agent(
        kind,
        params,
        AgentKind::Rollout(builder),
        "charts/episodic_return",
    )
}

/// Every registered agent.
pub fn agents() -> Vec<AgentEntry> {
    vec![
        AgentEntry {
            kind: "ftrl_proximal",
            summary: "FTRL-Proximal (McMahan et al. 2013) linear learner on an example stream, progressive validation",
            needs: "an example stream (env id = \"libsvm\" or \"csv\"); examples = [run] env_steps (0 = the whole file)",
            defaults: || to_table(&FtrlAgentConfig::default()),
            build: |p, env, _, _| {
                needs_stream("ftrl_proximal", env)?;
                let section = "[agent] (kind = \"ftrl_proximal\")";
                let c: FtrlAgentConfig = parse_section(section, toml::Value::Table(p.clone()))?;
                let cfg = FtrlProximalConfig {
                    alpha: c.alpha,
                    beta: c.beta,
                    l1: c.l1,
                    l2: c.l2,
                };
                cfg.validate()
                    .map_err(|e| cfg_err(format!("{section} {e}")))?;
                Ok(online_agent(
                    "ftrl_proximal",
                    to_table(&c),
                    OnlineAgent {
                        make: Arc::new(move || Box::new(FtrlProximal::new(cfg.clone()))),
                        loss: c.loss,
                        bias: c.bias,
                    },
                ))
            },
        },
        AgentEntry {
            kind: "ogd",
            summary: "online gradient descent (constant, 1/sqrt(t), 1/(lambda t) or AdaGrad steps) linear learner on an example stream",
            needs: "an example stream (env id = \"libsvm\" or \"csv\"); examples = [run] env_steps (0 = the whole file)",
            defaults: || to_table(&OgdAgentConfig::default()),
            build: |p, env, _, _| {
                needs_stream("ogd", env)?;
                let section = "[agent] (kind = \"ogd\")";
                let c: OgdAgentConfig = parse_section(section, toml::Value::Table(p.clone()))?;
                let ok = match c.step {
                    StepSize::Constant { eta } | StepSize::InvSqrt { eta } => {
                        eta > 0.0 && eta.is_finite()
                    }
                    StepSize::StronglyConvex { lambda } => lambda > 0.0 && lambda.is_finite(),
                    StepSize::Adagrad { eta, delta } => eta > 0.0 && eta.is_finite() && delta > 0.0,
                };
                if !ok || c.radius.is_some_and(|r| r.is_nan() || r <= 0.0) {
                    return Err(cfg_err(format!(
                        "{section} step = {:?}, radius = {:?}: step sizes and the radius must be > 0",
                        c.step, c.radius
                    )));
                }
                Ok(online_agent(
                    "ogd",
                    to_table(&c),
                    OnlineAgent {
                        make: {
                            let (step, radius) = (c.step, c.radius);
                            Arc::new(move || Box::new(Ogd::new(step, radius)))
                        },
                        loss: c.loss,
                        bias: c.bias,
                    },
                ))
            },
        },
        AgentEntry {
            kind: "giftrl",
            summary: "generalized implicit FTRL (Chen & Orabona 2023): linearized, implicit or aProx updates, psi_t = (lambda_t/2)|x|^2, linear learner on an example stream",
            needs: "an example stream (env id = \"libsvm\" or \"csv\"); examples = [run] env_steps (0 = the whole file)",
            defaults: || to_table(&GiftAgentConfig::default()),
            build: |p, env, _, _| {
                needs_stream("giftrl", env)?;
                let section = "[agent] (kind = \"giftrl\")";
                let c: GiftAgentConfig = parse_section(section, toml::Value::Table(p.clone()))?;
                let bad = match c.schedule {
                    GiftSchedule::Constant { lambda } => {
                        (!(lambda > 0.0 && lambda.is_finite())).then_some(("lambda", lambda))
                    }
                    GiftSchedule::Sqrt { eta0 } => {
                        (!(eta0 > 0.0 && eta0.is_finite())).then_some(("eta0", eta0))
                    }
                };
                if let Some((name, v)) = bad {
                    return Err(cfg_err(format!(
                        "{section} schedule.{name} = {v}: must be > 0 and finite"
                    )));
                }
                Ok(online_agent(
                    "giftrl",
                    to_table(&c),
                    OnlineAgent {
                        make: {
                            let (schedule, update) = (c.schedule, c.update);
                            Arc::new(move || Box::new(GiftLinear::new(schedule, update)))
                        },
                        loss: c.loss,
                        bias: c.bias,
                    },
                ))
            },
        },
        AgentEntry {
            kind: "omd",
            summary: "(optimistic) online mirror descent: Euclidean ball/box, entropic or 1/2-Tsallis map; hint = last gradient or zero; exact regret",
            needs: "a loss stream (env id = \"sea\" or \"experts\"); rounds = [run] iterations",
            defaults: || to_table(&OmdAgentConfig::default()),
            build: |p, env, seed, rounds| {
                let section = "[agent] (kind = \"omd\")";
                let c: OmdAgentConfig = parse_section(section, toml::Value::Table(p.clone()))?;
                c.schedule
                    .validate()
                    .map_err(|e| cfg_err(format!("{section} {e}")))?;
                let (g, schedule, hint) = (c.geometry.clone(), c.schedule, c.hint);
                oco_agent("omd", to_table(&c), env, &c.geometry, rounds, seed, |d| {
                    Box::new(Omd::new(g, d, schedule, hint))
                })
            },
        },
        AgentEntry {
            kind: "ons",
            summary: "(optimistic) online Newton step for exp-concave losses on a ball (Mahalanobis projection); exact regret",
            needs: "a loss stream on a ball (env id = \"sea\"); rounds = [run] iterations",
            defaults: || to_table(&OnsAgentConfig::default()),
            build: |p, env, seed, rounds| {
                let section = "[agent] (kind = \"ons\")";
                let c: OnsAgentConfig = parse_section(section, toml::Value::Table(p.clone()))?;
                for (name, v) in [
                    ("alpha", c.alpha),
                    ("grad_bound", c.grad_bound),
                    ("radius", c.radius),
                ] {
                    if !(v > 0.0 && v.is_finite()) {
                        return Err(cfg_err(format!(
                            "{section} {name} = {v}: must be > 0 and finite"
                        )));
                    }
                }
                let ball = Geometry::EuclideanBall { radius: c.radius };
                oco_agent("ons", to_table(&c), env, &ball, rounds, seed, |d| {
                    Box::new(OptimisticOns::new(
                        d,
                        c.radius,
                        c.grad_bound,
                        c.alpha,
                        c.hint,
                    ))
                })
            },
        },
        AgentEntry {
            kind: "ftrl",
            summary: "follow the regularized leader with linearized losses (dual averaging) on a mirror map; exact regret",
            needs: "a loss stream (env id = \"sea\" or \"experts\"); rounds = [run] iterations",
            defaults: || to_table(&FtrlAgentConfigOco::default()),
            build: |p, env, seed, rounds| {
                let section = "[agent] (kind = \"ftrl\")";
                let c: FtrlAgentConfigOco = parse_section(section, toml::Value::Table(p.clone()))?;
                c.schedule
                    .validate()
                    .map_err(|e| cfg_err(format!("{section} {e}")))?;
                let (g, schedule) = (c.geometry.clone(), c.schedule);
                oco_agent("ftrl", to_table(&c), env, &c.geometry, rounds, seed, |d| {
                    Box::new(Ftrl::new(g, d, schedule))
                })
            },
        },
        AgentEntry {
            kind: "hedge",
            summary: "Hedge (exponential weights) over experts; eta = 0 for the anytime rate sqrt(8 ln K / t)",
            needs: "expert losses (env id = \"experts\"); rounds = [run] iterations",
            defaults: || to_table(&ExpertAgentConfig::default()),
            build: |p, env, seed, rounds| {
                let section = "[agent] (kind = \"hedge\")";
                let c: ExpertAgentConfig = parse_section(section, toml::Value::Table(p.clone()))?;
                if !(c.eta >= 0.0 && c.eta.is_finite()) {
                    return Err(cfg_err(format!(
                        "{section} eta = {}: must be >= 0 (0 = anytime)",
                        c.eta
                    )));
                }
                let rate = if c.eta == 0.0 {
                    HedgeRate::Anytime
                } else {
                    HedgeRate::Constant(c.eta)
                };
                oco_agent(
                    "hedge",
                    to_table(&c),
                    env,
                    &Geometry::Entropic,
                    rounds,
                    seed,
                    |k| Box::new(Hedge::new(k, rate)),
                )
            },
        },
        AgentEntry {
            kind: "tsallis_inf",
            summary: "Tsallis-INF (1/2-Tsallis FTRL, eta_t = eta0/sqrt(t)) over experts with full information",
            needs: "expert losses (env id = \"experts\"); rounds = [run] iterations",
            defaults: || to_table(&ExpertAgentConfig { eta: 2.0 }),
            build: |p, env, seed, rounds| {
                let section = "[agent] (kind = \"tsallis_inf\")";
                let c: ExpertAgentConfig = parse_section(section, toml::Value::Table(p.clone()))?;
                if !(c.eta > 0.0 && c.eta.is_finite()) {
                    return Err(cfg_err(format!("{section} eta = {}: must be > 0", c.eta)));
                }
                let eta = c.eta;
                oco_agent(
                    "tsallis_inf",
                    to_table(&c),
                    env,
                    &Geometry::HalfTsallis,
                    rounds,
                    seed,
                    |k| Box::new(TsallisInf::new(k, eta)),
                )
            },
        },
        AgentEntry {
            kind: "bobw_po",
            summary: "best-of-both-worlds policy optimization (Tsallis / Shannon / log-barrier / hybrid FTRL per state), exact regret",
            needs: "a layered episodic MDP (env id = \"layered\"); rounds = [run] iterations",
            defaults: || to_table(&BobwConfig::default()),
            build: |params, env, seed, rounds| {
                let cfg: BobwConfig = parse_section(
                    "[agent] (kind = \"bobw_po\")",
                    toml::Value::Table(params.clone()),
                )?;
                cfg.validate()
                    .map_err(|e| cfg_err(format!("[agent] (kind = \"bobw_po\") {e}")))?;
                let EnvKind::Layered(model) = &env.kind else {
                    return Err(cfg_err(format!(
                        "[agent] kind = \"bobw_po\" needs a layered episodic MDP (env id = \"layered\"); `{}` is not one",
                        env.id
                    )));
                };
                let mut resolved = toml::Table::new();
                resolved.insert("kind".into(), toml::Value::String("bobw_po".into()));
                resolved.extend(to_table(&cfg));
                if cfg.sampler == EpisodeSource::EnvShards {
                    let builder = BobwBuilder {
                        cfg: cfg.clone(),
                        model: model.clone(),
                        rounds,
                    };
                    builder
                        .make_learner(&env.spec, seed)
                        .map_err(|e| cfg_err(format!("[agent] (kind = \"bobw_po\"): {e}")))?;
                    return Ok(ResolvedAgent {
                        kind_name: "bobw_po".into(),
                        params: resolved,
                        agent: AgentKind::Rollout(Arc::new(builder)),
                        key_metric: "online/regret",
                        runtime_shape: Some(RuntimeShape::Episodes {
                            horizon: model.horizon(),
                        }),
                    });
                }
                let planner = BobwPo::new(cfg.clone(), model.clone(), rounds, seed)
                    .map_err(|e| cfg_err(e.to_string()))?;
                Ok(ResolvedAgent {
                    kind_name: "bobw_po".into(),
                    params: resolved,
                    agent: AgentKind::Planner(Box::new(planner)),
                    key_metric: "online/regret",
                    runtime_shape: None,
                })
            },
        },
        AgentEntry {
            kind: "a2c",
            summary: "linear softmax actor-critic (A2C with GAE) trained through the actor-learner runtime",
            needs: "a Discrete action space (CartPole-v1, MountainCar-v0, Acrobot-v1, tabular envs)",
            defaults: || to_table(&A2cConfig::default()),
            build: |params, env, _seed, _rounds| {
                let cfg: A2cConfig = parse_section(
                    "[agent] (kind = \"a2c\")",
                    toml::Value::Table(params.clone()),
                )?;
                cfg.validate()
                    .map_err(|e| cfg_err(format!("[agent] (kind = \"a2c\") {e}")))?;
                if !matches!(env.spec.action_space, Space::Discrete { .. }) {
                    return Err(cfg_err(format!(
                        "[agent] kind = \"a2c\" needs a Discrete action space; `{}` has {}",
                        env.id, env.spec.action_space
                    )));
                }
                let builder = A2cBuilder { cfg: cfg.clone() };
                builder
                    .make_learner(&env.spec, 0)
                    .map_err(|e| cfg_err(format!("[agent] (kind = \"a2c\"): {e}")))?;
                let mut resolved = toml::Table::new();
                resolved.insert("kind".into(), toml::Value::String("a2c".into()));
                resolved.extend(to_table(&cfg));
                Ok(ResolvedAgent {
                    kind_name: "a2c".into(),
                    params: resolved,
                    agent: AgentKind::Rollout(Arc::new(builder)),
                    key_metric: "charts/episodic_return",
                    runtime_shape: None,
                })
            },
        },
        AgentEntry {
            kind: "mdqn",
            summary: "Munchausen-DQN on burn (alpha = 0: Soft-DQN; alpha = tau = 0: DQN), replay in the runtime",
            needs: "a Discrete action space (CartPole-v1, Acrobot-v1, MountainCar-v0)",
            defaults: || to_table(&MdqnConfig::default()),
            build: |params, env, _seed, _rounds| build_mdqn("mdqn", params, env),
        },
        AgentEntry {
            kind: "dqn",
            summary: "DQN on burn: M-DQN with alpha = tau = 0 (hard max target, ε-greedy), replay in the runtime",
            needs: "a Discrete action space (CartPole-v1, Acrobot-v1, MountainCar-v0)",
            defaults: || to_table(&dqn_defaults()),
            build: |params, env, _seed, _rounds| {
                let mut params = params.clone();
                for (k, v) in to_table(&dqn_defaults()) {
                    if k == "alpha" || k == "tau" {
                        params.entry(k).or_insert(v);
                    }
                }
                build_mdqn("dqn", &params, env)
            },
        },
        AgentEntry {
            kind: "sac",
            summary: "soft actor-critic on burn: twin critics, tanh-Gaussian actor, automatic temperature; [agent.band_limit] makes it BL-SAC",
            needs: "a Box action space with finite bounds (Pendulum-v1, MountainCarContinuous-v0)",
            defaults: || to_table(&SacConfig::default()),
            build: |params, env, _seed, _rounds| build_sac("sac", params, env),
        },
        AgentEntry {
            kind: "bl_sac",
            summary: "band-limited SAC: the target critic smoothed over actions (kernel, sigma, N, filter placement configurable; sigma = 0 is SAC)",
            needs: "a Box action space with finite bounds (Pendulum-v1, MountainCarContinuous-v0)",
            defaults: || to_table(&bl_sac_defaults()),
            build: |params, env, _seed, _rounds| {
                let mut params = params.clone();
                params
                    .entry("band_limit")
                    .or_insert_with(|| toml::Value::Table(to_table(&BandLimitConfig::default())));
                build_sac("bl_sac", &params, env)
            },
        },
        AgentEntry {
            kind: "mdvi",
            summary: "exact KL/entropy-regularized value iteration MD-VI(λ, τ, m); λ = τ = 0 is VI",
            needs: "an env with a known model (garnet, gridworld, chain, riverswim, tabular-file)",
            defaults: || to_table(&MdviConfig::default()),
            build: |params, env, seed, _rounds| {
                let cfg: MdviConfig = parse_section(
                    "[agent] (kind = \"mdvi\")",
                    toml::Value::Table(params.clone()),
                )?;
                cfg.validate()
                    .map_err(|e| cfg_err(format!("[agent] (kind = \"mdvi\") {e}")))?;
                let EnvKind::Model(mdp) = &env.kind else {
                    return Err(cfg_err(format!(
                        "[agent] kind = \"mdvi\" needs an env with a known model (garnet, gridworld, chain, riverswim, tabular-file); `{}` has none",
                        env.id
                    )));
                };
                let mut resolved = toml::Table::new();
                resolved.insert("kind".into(), toml::Value::String("mdvi".into()));
                resolved.extend(to_table(&cfg));
                if cfg.sampler == Sampler::EnvShards {
                    let builder = SampledMdviBuilder {
                        cfg: cfg.clone(),
                        mdp: mdp.clone(),
                    };
                    let per_iteration = builder.samples_per_iteration();
                    return Ok(ResolvedAgent {
                        kind_name: "mdvi".into(),
                        params: resolved,
                        agent: AgentKind::Rollout(Arc::new(builder)),
                        key_metric: "tabular/q_error_inf",
                        runtime_shape: Some(RuntimeShape::Generative {
                            mdp: mdp.clone(),
                            per_iteration,
                        }),
                    });
                }
                let planner = Mdvi::new(cfg.clone(), mdp.clone(), seed)
                    .map_err(|e| cfg_err(e.to_string()))?;
                Ok(ResolvedAgent {
                    kind_name: "mdvi".into(),
                    params: resolved,
                    agent: AgentKind::Planner(Box::new(planner)),
                    key_metric: "tabular/q_error_inf",
                    runtime_shape: None,
                })
            },
        },
    ]
}

/// Resolves an `[agent]` table against the resolved env.
pub fn resolve_agent(
    table: &toml::Table,
    env: &ResolvedEnv,
    seed: u64,
    rounds: u64,
) -> Result<ResolvedAgent, ConfigError> {
    let entries = agents();
    let kind = match table.get("kind") {
        Some(toml::Value::String(s)) => s.clone(),
        Some(other) => {
            return Err(cfg_err(format!(
                "[agent] kind = {other}: must be a string, e.g. kind = \"mdvi\""
            )));
        }
        None => {
            return Err(cfg_err(
                "[agent] has no `kind`: name an agent, e.g. kind = \"mdvi\" (list them with `mirrorflow agents`)",
            ));
        }
    };
    let Some(entry) = entries.iter().find(|e| e.kind == kind) else {
        let hint = closest(&kind, entries.iter().map(|e| e.kind))
            .map(|h| format!("; did you mean `{h}`?"))
            .unwrap_or_default();
        return Err(cfg_err(format!(
            "[agent] kind = \"{kind}\": no such agent{hint} (list them with `mirrorflow agents`)"
        )));
    };
    let mut params = table.clone();
    params.remove("kind");
    (entry.build)(&params, env, seed, rounds)
}
