//! One pass of an online learner over a LIBSVM stream with progressive validation (predict on
//! each example before learning from it): examples/s, progressive log-loss and accuracy.
//! Run by `scripts/bench_online.sh` next to Vowpal Wabbit and River on the same file.
//!
//!   cargo bench -p mirrorflow-agent-online --bench stream -- FILE [--learner ftrl|ogd]
//!       [--alpha A] [--beta B] [--l1 L] [--l2 L] [--eta E] [--no-bias] [--cache]
//!
//! `--cache` reads mirrorflow's binary example cache (`FILE.mfcache`, made by an untimed first
//! pass when missing, as the VW cache variant does). Prints one JSON line. A constant feature (index 0, value 1) is added unless `--no-bias`,
//! as VW does.

use mirrorflow_agent_online::linear::{FtrlProximal, FtrlProximalConfig, Ogd, StepSize};
use mirrorflow_core::online::{log_loss, sigmoid};
use mirrorflow_core::{Example, LinearLoss, OnlineLearner};
use mirrorflow_env_streams::{FileStream, LibsvmConfig, Malformed};
use std::time::Instant;

fn main() {
    let mut args = std::env::args().skip(1).filter(|a| a != "--bench");
    let mut file = None;
    let (mut learner, mut bias, mut cache) = ("ftrl".to_string(), true, false);
    let mut cfg = FtrlProximalConfig::default();
    let mut eta = 0.5;
    while let Some(a) = args.next() {
        let mut num = |name: &str| -> f64 {
            args.next()
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("{name} needs a number"))
        };
        match a.as_str() {
            "--learner" => learner = args.next().unwrap_or_default(),
            "--alpha" => cfg.alpha = num("--alpha"),
            "--beta" => cfg.beta = num("--beta"),
            "--l1" => cfg.l1 = num("--l1"),
            "--l2" => cfg.l2 = num("--l2"),
            "--eta" => eta = num("--eta"),
            "--no-bias" => bias = false,
            "--cache" => cache = true,
            f => file = Some(f.to_string()),
        }
    }
    let file = file.unwrap_or_else(|| panic!("usage: stream FILE [--learner ftrl|ogd] ..."));
    let mut model: Box<dyn OnlineLearner> = match learner.as_str() {
        "ftrl" => Box::new(FtrlProximal::new(cfg.clone())),
        "ogd" => Box::new(Ogd::new(StepSize::Adagrad { eta, delta: 1e-8 }, None)),
        other => panic!("unknown learner {other}"),
    };
    let stream = FileStream::Libsvm(LibsvmConfig {
        path: file.clone().into(),
        malformed: Malformed::Fatal,
        cache,
        cache_file: None,
    });
    let open = || stream.open(0, 1).unwrap_or_else(|e| panic!("{e}"));
    let mut ex = Example::default();
    if cache && !stream.cache_is_current() {
        let mut first = open();
        while first.next_into(&mut ex).unwrap_or_else(|e| panic!("{e}")) {}
    }
    let mut reader = open();
    let start = Instant::now();
    let (mut n, mut loss, mut correct) = (0u64, 0.0f64, 0u64);
    while reader.next_into(&mut ex).unwrap_or_else(|e| panic!("{e}")) {
        if bias {
            ex.features.index.push(0);
            ex.features.value.push(1.0);
        }
        let y = if ex.label > 0.0 { 1.0 } else { -1.0 };
        let m = model.predict(&ex.features);
        let p = sigmoid(m);
        loss += log_loss(p, y);
        correct += u64::from((p > 0.5) == (y > 0.0));
        model.learn(&ex.features, y, LinearLoss::Logistic);
        n += 1;
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{{\"learner\":\"{learner}\",\"cache\":{cache},\"examples\":{n},\"seconds\":{secs},\"examples_per_s\":{},\
         \"logloss\":{},\"accuracy\":{},\"alpha\":{},\"beta\":{},\"l1\":{},\"l2\":{},\"eta\":{eta}}}",
        n as f64 / secs,
        loss / n.max(1) as f64,
        correct as f64 / n.max(1) as f64,
        cfg.alpha,
        cfg.beta,
        cfg.l1,
        cfg.l2
    );
}
