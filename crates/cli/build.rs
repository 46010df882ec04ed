//! Embeds the path of the libpython this build links against as an rpath, so the binary finds it
//! at run time without `LD_LIBRARY_PATH` (a pyenv or venv Python is not in the loader's
//! default directories).
fn main() {
    pyo3_build_config::add_libpython_rpath_link_args();
}
