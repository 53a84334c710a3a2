//! The `billsheet` binary: parses the command line and runs a subcommand.

use std::process::ExitCode;

use clap::Parser;

use billsheet::cli::{format::write_result, shell::run_shell, Cli, Command};
use billsheet::{OpenOptions, Workbook};

fn main() -> ExitCode {
    let cli = Cli::parse();
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn"))
        .init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build();
    let runtime = match runtime {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(execute(cli.command)) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            if format!("{error:#}").contains("Resources exhausted") {
                eprintln!(
                    "hint: the query needs more memory than --memory-limit allows; \
                     raise the limit (operators that cannot spill, such as hash joins, \
                     need their whole input in memory)"
                );
            }
            ExitCode::FAILURE
        }
    }
}

async fn execute(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Sql {
            lake,
            as_of,
            format,
            output,
            reporting_currency,
            memory_limit,
            pivot,
            query,
        } => {
            let options = OpenOptions {
                as_of,
                reporting_currency,
                memory_limit,
            };
            let workbook = Workbook::open(&lake, options).await?;
            match query {
                Some(query) => {
                    let mut frame = workbook.sql(&query).await?;
                    if let Some(spec) = &pivot {
                        frame = billsheet::pivot::pivot(frame, spec).await?;
                    }
                    let schema = frame.schema().inner().clone();
                    let batches = frame.collect().await?;
                    write_result(&batches, schema, format, output.as_deref())?;
                }
                None if pivot.is_some() => {
                    anyhow::bail!(
                        "--pivot needs a query; the interactive shell does not pivot"
                    )
                }
                None => run_shell(&workbook).await?,
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Functions => {
            let defaults = OpenOptions::new(chrono::NaiveDate::default());
            let parameters = billsheet::functions::parameter_functions(
                defaults.as_of,
                &defaults.reporting_currency,
            );
            let scalars = billsheet::functions::all_functions();
            let aggregates = billsheet::functions::aggregate_functions();
            let docs = scalars.into_iter().map(|(_, doc)| doc);
            let docs = docs.chain(aggregates.into_iter().map(|(_, doc)| doc));
            for doc in docs.chain(parameters.into_iter().map(|(_, doc)| doc)) {
                println!(
                    "{}\n    {}\n    example: {}\n",
                    doc.signature, doc.description, doc.example
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Run {
            lake,
            as_of,
            out,
            reporting_currency,
            memory_limit,
        } => {
            let options = OpenOptions {
                as_of,
                reporting_currency,
                memory_limit,
            };
            let workbook = Workbook::open(&lake, options).await?;
            let out = out.unwrap_or_else(|| lake.join("out").join(as_of.to_string()));
            let manifest = billsheet::run::run(&workbook, &out).await?;
            for table in &manifest.tables {
                eprintln!("{:>16}: {} rows", table.name, table.rows);
            }
            for totals in &manifest.invoice_totals {
                eprintln!(
                    "{:>16}: {} invoices, total {} {}",
                    "invoices", totals.invoices, totals.total, totals.currency
                );
            }
            let usage = &manifest.usage;
            eprintln!(
                "{:>16}: {} deliveries = {} billed + {} pending + {} redelivered + {} rejected",
                "usage", usage.deliveries, usage.billed, usage.pending, usage.redelivered,
                usage.rejected
            );
            for line in manifest.ledger.report() {
                eprintln!("{line}");
            }
            eprintln!("wrote {}", out.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Validate { lake } => {
            let sources = billsheet::lake::find_sources(&lake)?;
            let problems = billsheet::lake::validate_inputs(&sources)?;
            if problems.is_empty() {
                println!("{}: every input follows the data contract", lake.display());
                Ok(ExitCode::SUCCESS)
            } else {
                for problem in &problems {
                    println!("{problem}");
                }
                let noun = if problems.len() == 1 {
                    "problem"
                } else {
                    "problems"
                };
                println!("{} {noun}", problems.len());
                Ok(ExitCode::FAILURE)
            }
        }
        Command::Generate {
            out,
            customers,
            events,
            seed,
            months,
        } => {
            let options = billsheet::generate::GenerateOptions {
                out,
                customers,
                events,
                seed,
                months,
                ..Default::default()
            };
            let summary = billsheet::generate::generate(&options)?;
            eprintln!(
                "wrote {} customers and {} usage rows in {} files to {}",
                summary.customers,
                summary.events,
                summary.files.len(),
                options.out.display()
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}
