//! billsheet: an analytical billing engine on Apache Arrow and DataFusion.
//!
//! A lake is a folder of input tables (customers, contracts, prices, usage …). Every
//! derived table, from rated usage to invoices, is a SQL view over the inputs, built from
//! the `.sql` files of the project's `sql/` folder and from billsheet's SQL functions for
//! exact money and the billing calendar. Open a lake with [`Workbook::open`].

pub mod cached_view;
pub mod calendar;
pub mod cli;
pub mod error;
pub mod functions;
pub mod generate;
pub mod lake;
pub mod ledger;
pub mod money;
pub mod pivot;
pub mod progress;
pub mod rating;
pub mod run;
pub mod views;
pub mod workbook;

pub use error::{BillsheetError, Result};
pub use workbook::{OpenOptions, Workbook};
