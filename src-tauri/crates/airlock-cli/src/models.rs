//! `airlock models`: which models are present and which is used.

use std::process::ExitCode;

use airlock_agent::{model_status, ModelSource};

use crate::paths::Paths;

pub fn run(paths: &Paths) -> anyhow::Result<ExitCode> {
    let status = model_status(&paths.models_dir);
    println!("Models directory: {}", status.models_dir.display());
    for model in &status.available {
        let marker = if status.selected.as_ref() == Some(model) {
            "*"
        } else {
            " "
        };
        let source = match model.source {
            ModelSource::Manifest => "manifest",
            ModelSource::User => "user",
        };
        println!(
            "{marker} {:<32} {:>8.1} MiB  {source:<8}  {}",
            model.name,
            model.size_bytes as f64 / (1024.0 * 1024.0),
            model.path.display()
        );
    }
    if let Some(problem) = status.problem {
        eprintln!("{problem}");
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}
