//! The lake: a folder of input tables, found, registered as file-backed DataFusion tables
//! and exposed through typed views that follow the data contract.

pub mod register;
pub mod schema;
pub mod source;
pub mod validate;

pub use register::{register_inputs, typed_view_sql};
pub use source::{find_sources, TableSource};
pub use validate::validate_inputs;
