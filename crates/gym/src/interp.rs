//! The embedded interpreter: started on first use (never for native-only runs), pointed at the
//! project's packages, with the bridge module loaded.
//!
//! Which packages: the first of
//! 1. `MIRRORFLOW_PYTHON` — a venv directory or its `bin/python`;
//! 2. `.venv/` in the current directory or the nearest parent that has one (the project venv);
//! 3. `VIRTUAL_ENV` (an activated venv).
//!
//! Its `lib/pythonX.Y/site-packages` goes first on `sys.path`. The venv must be for the same
//! X.Y as the interpreter mirrorflow was built against (a clear error says which otherwise).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use pyo3::prelude::*;
use pyo3::types::PyModule;

use crate::GymError;

/// The bridge's Python source (numpy-buffer shards, API checks).
const BRIDGE: &std::ffi::CStr = {
    const SRC: &str = concat!(include_str!("bridge.py"), "\0");
    match std::ffi::CStr::from_bytes_with_nul(SRC.as_bytes()) {
        Ok(c) => c,
        Err(_) => panic!("bridge.py contains a NUL byte"),
    }
};

static READY: OnceLock<Result<Setup, String>> = OnceLock::new();

/// What the interpreter was set up with (for `mirrorflow envs` and error messages).
#[derive(Clone, Debug)]
pub struct Setup {
    /// `major.minor.micro` of the embedded interpreter.
    pub version: String,
    /// The site-packages directory put first on `sys.path`, if a venv was found.
    pub site_packages: Option<PathBuf>,
    /// Where that venv came from ("MIRRORFLOW_PYTHON", ".venv", "VIRTUAL_ENV").
    pub source: Option<&'static str>,
}

/// Starts the interpreter once and returns its setup; later calls return the first outcome.
pub fn ensure() -> Result<Setup, GymError> {
    READY
        .get_or_init(|| {
            Python::attach(setup).map_err(|e| match e {
                GymError::Setup(m) => m,
                other => other.to_string(),
            })
        })
        .clone()
        .map_err(GymError::Setup)
}

/// The bridge module.
pub(crate) fn bridge(py: Python<'_>) -> PyResult<Bound<'_, PyModule>> {
    py.import("mirrorflow_bridge")
}

fn venv_candidate() -> Option<(PathBuf, &'static str)> {
    if let Some(p) = std::env::var_os("MIRRORFLOW_PYTHON").filter(|p| !p.is_empty()) {
        let p = PathBuf::from(p);
        // an interpreter path (venv/bin/python) names its venv two levels up
        let root = if p.is_file() {
            p.parent()
                .and_then(Path::parent)
                .map(Path::to_path_buf)
                .unwrap_or(p)
        } else {
            p
        };
        return Some((root, "MIRRORFLOW_PYTHON"));
    }
    let mut dir = std::env::current_dir().ok();
    while let Some(d) = dir {
        let v = d.join(".venv");
        if v.join("pyvenv.cfg").is_file() {
            return Some((v, ".venv"));
        }
        dir = d.parent().map(Path::to_path_buf);
    }
    std::env::var_os("VIRTUAL_ENV")
        .filter(|p| !p.is_empty())
        .map(|p| (PathBuf::from(p), "VIRTUAL_ENV"))
}

fn setup(py: Python<'_>) -> Result<Setup, GymError> {
    let v = py.version_info();
    let version = format!("{}.{}.{}", v.major, v.minor, v.patch);
    let mut out = Setup {
        version: version.clone(),
        site_packages: None,
        source: None,
    };
    if let Some((root, source)) = venv_candidate() {
        let want = root
            .join("lib")
            .join(format!("python{}.{}", v.major, v.minor))
            .join("site-packages");
        if !want.is_dir() {
            let found: Vec<String> = std::fs::read_dir(root.join("lib"))
                .map(|rd| {
                    rd.filter_map(|e| e.ok())
                        .map(|e| e.file_name().to_string_lossy().into_owned())
                        .filter(|n| n.starts_with("python"))
                        .collect()
                })
                .unwrap_or_default();
            return Err(GymError::Setup(format!(
                "{source} names the Python environment {} but it has no lib/python{}.{}/\
                 site-packages (found: {}); mirrorflow embeds Python {version}: create the venv \
                 with that Python (`python{}.{} -m venv {}`) or unset {source}",
                root.display(),
                v.major,
                v.minor,
                if found.is_empty() {
                    "none".to_string()
                } else {
                    found.join(", ")
                },
                v.major,
                v.minor,
                root.display()
            )));
        }
        let sys = py.import("sys").map_err(py_setup)?;
        let path = sys.getattr("path").map_err(py_setup)?;
        let sp = want.to_string_lossy().into_owned();
        path.call_method1("insert", (0, sp.clone()))
            .map_err(py_setup)?;
        // .pth files of the venv (editable installs)
        py.import("site")
            .and_then(|site| site.call_method1("addsitedir", (sp,)))
            .map_err(py_setup)?;
        out.site_packages = Some(want);
        out.source = Some(source);
    }
    let module = PyModule::from_code(py, BRIDGE, c"mirrorflow_bridge.py", c"mirrorflow_bridge")
        .map_err(|e| {
            let packages = match (&out.site_packages, out.source) {
                (Some(p), Some(src)) => format!("packages from {} ({src})", p.display()),
                _ => "no venv found: no MIRRORFLOW_PYTHON, no .venv/ in the current directory \
                      or its parents, no VIRTUAL_ENV"
                    .to_string(),
            };
            GymError::Setup(format!(
                "loading mirrorflow's Python bridge (Python {version}, {packages}) failed; it \
                 needs numpy and gymnasium: create the project venv with `scripts/test` or \
                 `python3 -m venv .venv && .venv/bin/pip install gymnasium==1.4.0`, or point \
                 MIRRORFLOW_PYTHON at a venv that has them. {}",
                crate::format_py_error(py, &e)
            ))
        })?;
    py.import("sys")
        .and_then(|sys| sys.getattr("modules"))
        .and_then(|m| m.set_item("mirrorflow_bridge", module))
        .map_err(py_setup)?;
    Ok(out)
}

fn py_setup(e: PyErr) -> GymError {
    GymError::Setup(format!("setting up the embedded Python: {e}"))
}
