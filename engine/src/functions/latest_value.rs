//! `latest_value(value, ts, tiebreak)`: the value of the row with the latest `ts`, ties
//! going to the greatest `tiebreak`.
//!
//! It gives the same result as `last_value(value order by ts, tiebreak)` for rows whose
//! `ts` is set, but keeps one (ts, tiebreak, value) triple per group in flat vectors
//! instead of sorting each group's rows. The `latest` meters and the daily usage sums use
//! it: on 10 million events the ordered `last_value` took 11 s of a run, this takes a
//! fraction of a second.

use std::cmp::Ordering;
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Decimal128Array, StringArray,
    StringViewArray, TimestampNanosecondArray,
};
use arrow::datatypes::{DataType, Field, FieldRef, TimeUnit, TimestampNanosecondType};
use datafusion::common::{exec_err, Result, ScalarValue};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::utils::format_state_name;
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, EmitTo, GroupsAccumulator, Signature,
    Volatility,
};

use super::FunctionDoc;

/// The `latest_value` SQL aggregate.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct LatestValue {
    signature: Signature,
}

/// Returns the aggregate and its documentation.
pub fn udaf() -> (AggregateUDF, FunctionDoc) {
    let doc = FunctionDoc {
        name: "latest_value",
        signature: "latest_value(value, ts timestamp, tiebreak varchar) -> type of value",
        description: "Aggregate: the value of the row with the latest `ts`, ties going to the \
                      greatest `tiebreak` (a null tiebreak counts as the greatest); rows \
                      without `ts` are skipped. The same as \
                      `last_value(value order by ts, tiebreak)`, in one pass without sorting. \
                      `value` is a decimal, an integer (returned as a decimal) or text.",
        example: "select meter, latest_value(quantity, ts, event_id) from usage group by meter",
    };
    let signature = Signature::user_defined(Volatility::Immutable);
    (AggregateUDF::from(LatestValue { signature }), doc)
}

/// Returns the type of the aggregate's result for these argument types.
fn value_type(arg_types: &[DataType]) -> Result<DataType> {
    match arg_types.first() {
        Some(DataType::Decimal128(p, s)) => Ok(DataType::Decimal128(*p, *s)),
        Some(DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8) => {
            Ok(DataType::Utf8)
        }
        Some(other) => {
            exec_err!("latest_value takes a decimal or text value, not {other}")
        }
        None => exec_err!("latest_value takes 3 arguments: value, ts, tiebreak"),
    }
}

fn state_fields(name: &str, value: &DataType) -> Vec<FieldRef> {
    vec![
        Arc::new(Field::new(
            format_state_name(name, "value"),
            value.clone(),
            true,
        )),
        Arc::new(Field::new(
            format_state_name(name, "ts"),
            DataType::Timestamp(TimeUnit::Nanosecond, None),
            true,
        )),
        Arc::new(Field::new(
            format_state_name(name, "tiebreak"),
            DataType::Utf8,
            true,
        )),
    ]
}

impl AggregateUDFImpl for LatestValue {
    fn name(&self) -> &str {
        "latest_value"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        if arg_types.len() != 3 {
            return exec_err!("latest_value takes 3 arguments: value, ts, tiebreak");
        }
        let value = match &arg_types[0] {
            DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::Int64 => {
                DataType::Decimal128(38, 0)
            }
            DataType::LargeUtf8 | DataType::Null => DataType::Utf8,
            other => other.clone(),
        };
        value_type(std::slice::from_ref(&value))?;
        let tiebreak = match &arg_types[2] {
            DataType::Utf8View => DataType::Utf8View,
            _ => DataType::Utf8,
        };
        Ok(vec![
            value,
            DataType::Timestamp(TimeUnit::Nanosecond, None),
            tiebreak,
        ])
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        value_type(arg_types)
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(state_fields(args.name, args.return_type()))
    }

    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(LatestAccumulator::new(args.return_type())))
    }

    fn groups_accumulator_supported(&self, _args: AccumulatorArgs) -> bool {
        true
    }

    fn create_groups_accumulator(
        &self,
        args: AccumulatorArgs,
    ) -> Result<Box<dyn GroupsAccumulator>> {
        Ok(Box::new(LatestGroups::new(args.return_type())?))
    }
}

/// Text read from a plain or a view string array.
enum Texts<'a> {
    Plain(&'a StringArray),
    View(&'a StringViewArray),
}

impl<'a> Texts<'a> {
    fn new(array: &'a ArrayRef) -> Result<Self> {
        match array.data_type() {
            DataType::Utf8 => Ok(Texts::Plain(array.as_string::<i32>())),
            DataType::Utf8View => Ok(Texts::View(array.as_string_view())),
            other => exec_err!("latest_value expected text, got {other}"),
        }
    }

    fn get(&self, i: usize) -> Option<&'a str> {
        match self {
            Texts::Plain(a) => (!a.is_null(i)).then(|| a.value(i)),
            Texts::View(a) => (!a.is_null(i)).then(|| a.value(i)),
        }
    }
}

/// The values of a batch, decimal or text.
enum Values<'a> {
    Decimal(&'a Decimal128Array),
    Text(Texts<'a>),
}

impl<'a> Values<'a> {
    fn new(array: &'a ArrayRef) -> Result<Self> {
        match array.data_type() {
            DataType::Decimal128(_, _) => Ok(Values::Decimal(array.as_primitive())),
            _ => Ok(Values::Text(Texts::new(array)?)),
        }
    }
}

/// Per-group values, decimal or text.
enum Stored {
    Decimal(Vec<Option<i128>>),
    Text(Vec<Option<String>>),
}

/// Returns whether a row at (ts, tiebreak) comes after the group's current latest row.
fn is_later(
    ts: i64,
    tiebreak: Option<&str>,
    current: Option<(i64, Option<&str>)>,
) -> bool {
    match current {
        None => true,
        Some((current_ts, current_tiebreak)) => match ts.cmp(&current_ts) {
            Ordering::Greater => true,
            Ordering::Less => false,
            // A null tiebreak counts as the greatest, as `order by tiebreak` puts nulls
            // last.
            Ordering::Equal => match (tiebreak, current_tiebreak) {
                (Some(a), Some(b)) => a > b,
                (None, Some(_)) => true,
                (_, None) => false,
            },
        },
    }
}

/// The groups accumulator: one slot per group in flat vectors.
struct LatestGroups {
    value_type: DataType,
    /// The latest ts per group; None while the group has seen no row with a ts.
    ts: Vec<Option<i64>>,
    tiebreak: Vec<Option<String>>,
    values: Stored,
    /// Bytes held by the strings, kept up to date so `size` stays cheap.
    text_bytes: usize,
}

impl LatestGroups {
    fn new(value_type: &DataType) -> Result<Self> {
        let values = match value_type {
            DataType::Decimal128(_, _) => Stored::Decimal(Vec::new()),
            DataType::Utf8 => Stored::Text(Vec::new()),
            other => return exec_err!("latest_value cannot return {other}"),
        };
        Ok(LatestGroups {
            value_type: value_type.clone(),
            ts: Vec::new(),
            tiebreak: Vec::new(),
            values,
            text_bytes: 0,
        })
    }

    fn resize(&mut self, groups: usize) {
        self.ts.resize(groups, None);
        self.tiebreak.resize(groups, None);
        match &mut self.values {
            Stored::Decimal(v) => v.resize(groups, None),
            Stored::Text(v) => v.resize(groups, None),
        }
    }

    /// Folds rows (value, ts, tiebreak) into their groups; rows without ts or filtered
    /// out are skipped.
    fn fold(
        &mut self,
        arrays: &[ArrayRef],
        groups: &[usize],
        filter: Option<&BooleanArray>,
        total_groups: usize,
    ) -> Result<()> {
        self.resize(total_groups);
        let values = Values::new(&arrays[0])?;
        let ts = arrays[1].as_primitive::<TimestampNanosecondType>();
        let tiebreaks = Texts::new(&arrays[2])?;
        for (row, &group) in groups.iter().enumerate() {
            if ts.is_null(row)
                || filter.is_some_and(|f| !f.is_valid(row) || !f.value(row))
            {
                continue;
            }
            let row_ts = ts.value(row);
            let tiebreak = tiebreaks.get(row);
            let current = self.ts[group].map(|t| (t, self.tiebreak[group].as_deref()));
            if !is_later(row_ts, tiebreak, current) {
                continue;
            }
            self.ts[group] = Some(row_ts);
            let old_tiebreak = self.tiebreak[group].take();
            self.text_bytes -= old_tiebreak.map_or(0, |s| s.len());
            self.text_bytes += tiebreak.map_or(0, str::len);
            self.tiebreak[group] = tiebreak.map(str::to_owned);
            match (&mut self.values, &values) {
                (Stored::Decimal(stored), Values::Decimal(array)) => {
                    stored[group] = (!array.is_null(row)).then(|| array.value(row));
                }
                (Stored::Text(stored), Values::Text(texts)) => {
                    let old = stored[group].take();
                    self.text_bytes -= old.map_or(0, |s| s.len());
                    let text = texts.get(row);
                    self.text_bytes += text.map_or(0, str::len);
                    stored[group] = text.map(str::to_owned);
                }
                _ => return exec_err!("latest_value got a value of an unexpected type"),
            }
        }
        Ok(())
    }

    fn take_values(&mut self, emit_to: EmitTo) -> Result<ArrayRef> {
        Ok(match &mut self.values {
            Stored::Decimal(stored) => {
                let taken = emit_to.take_needed(stored);
                let array =
                    Decimal128Array::from(taken).with_data_type(self.value_type.clone());
                Arc::new(array)
            }
            Stored::Text(stored) => {
                let taken = emit_to.take_needed(stored);
                self.text_bytes -= taken.iter().flatten().map(String::len).sum::<usize>();
                Arc::new(StringArray::from(taken))
            }
        })
    }
}

impl GroupsAccumulator for LatestGroups {
    fn update_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        opt_filter: Option<&BooleanArray>,
        total_num_groups: usize,
    ) -> Result<()> {
        self.fold(values, group_indices, opt_filter, total_num_groups)
    }

    fn evaluate(&mut self, emit_to: EmitTo) -> Result<ArrayRef> {
        let values = self.take_values(emit_to)?;
        let _ = emit_to.take_needed(&mut self.ts);
        let tiebreaks = emit_to.take_needed(&mut self.tiebreak);
        self.text_bytes -= tiebreaks.iter().flatten().map(String::len).sum::<usize>();
        Ok(values)
    }

    fn state(&mut self, emit_to: EmitTo) -> Result<Vec<ArrayRef>> {
        let values = self.take_values(emit_to)?;
        let ts = TimestampNanosecondArray::from(emit_to.take_needed(&mut self.ts));
        let tiebreaks = emit_to.take_needed(&mut self.tiebreak);
        self.text_bytes -= tiebreaks.iter().flatten().map(String::len).sum::<usize>();
        Ok(vec![
            values,
            Arc::new(ts),
            Arc::new(StringArray::from(tiebreaks)),
        ])
    }

    fn merge_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        total_num_groups: usize,
    ) -> Result<()> {
        self.fold(values, group_indices, None, total_num_groups)
    }

    fn convert_to_state(
        &self,
        values: &[ArrayRef],
        opt_filter: Option<&BooleanArray>,
    ) -> Result<Vec<ArrayRef>> {
        // One row is its own state; a filtered-out row gets a null ts, which merging skips.
        let ts = values[1].as_primitive::<TimestampNanosecondType>();
        let ts: TimestampNanosecondArray = match opt_filter {
            None => ts.clone(),
            Some(filter) => (0..ts.len())
                .map(|i| {
                    let kept = filter.is_valid(i) && filter.value(i);
                    (kept && !ts.is_null(i)).then(|| ts.value(i))
                })
                .collect(),
        };
        let value = match values[0].data_type() {
            DataType::Utf8View | DataType::LargeUtf8 => {
                arrow::compute::cast(&values[0], &DataType::Utf8)?
            }
            _ => Arc::clone(&values[0]),
        };
        let tiebreak = arrow::compute::cast(&values[2], &DataType::Utf8)?;
        Ok(vec![value, Arc::new(ts), tiebreak])
    }

    fn size(&self) -> usize {
        let values = match &self.values {
            Stored::Decimal(v) => v.capacity() * size_of::<Option<i128>>(),
            Stored::Text(v) => v.capacity() * size_of::<Option<String>>(),
        };
        self.ts.capacity() * size_of::<Option<i64>>()
            + self.tiebreak.capacity() * size_of::<Option<String>>()
            + values
            + self.text_bytes
    }
}

/// The accumulator for a single group (no GROUP BY, or window use).
#[derive(Debug)]
struct LatestAccumulator {
    value: ScalarValue,
    ts: Option<i64>,
    tiebreak: Option<String>,
}

impl LatestAccumulator {
    fn new(value_type: &DataType) -> Self {
        let value = ScalarValue::try_from(value_type).unwrap_or(ScalarValue::Null);
        LatestAccumulator {
            value,
            ts: None,
            tiebreak: None,
        }
    }

    fn fold(&mut self, arrays: &[ArrayRef]) -> Result<()> {
        let ts = arrays[1].as_primitive::<TimestampNanosecondType>();
        let tiebreaks = Texts::new(&arrays[2])?;
        let value_type = self.value.data_type();
        for row in 0..ts.len() {
            if ts.is_null(row) {
                continue;
            }
            let tiebreak = tiebreaks.get(row);
            let current = self.ts.map(|t| (t, self.tiebreak.as_deref()));
            if is_later(ts.value(row), tiebreak, current) {
                self.ts = Some(ts.value(row));
                self.tiebreak = tiebreak.map(str::to_owned);
                self.value =
                    ScalarValue::try_from_array(&arrays[0], row)?.cast_to(&value_type)?;
            }
        }
        Ok(())
    }
}

impl Accumulator for LatestAccumulator {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        self.fold(values)
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        self.fold(states)
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok(vec![
            self.value.clone(),
            ScalarValue::TimestampNanosecond(self.ts, None),
            ScalarValue::Utf8(self.tiebreak.clone()),
        ])
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        Ok(self.value.clone())
    }

    fn size(&self) -> usize {
        size_of::<Self>()
            + self.value.size()
            + self.tiebreak.as_ref().map_or(0, String::len)
    }
}

#[cfg(test)]
mod tests {
    use datafusion::prelude::SessionContext;

    use super::*;

    async fn query(sql: &str) -> Vec<String> {
        let ctx = SessionContext::new();
        ctx.register_udaf(udaf().0);
        let batches = ctx.sql(sql).await.unwrap().collect().await.unwrap();
        let text = arrow::util::pretty::pretty_format_batches(&batches)
            .unwrap()
            .to_string();
        text.lines().map(str::to_owned).collect()
    }

    const ROWS: &str = "(values \
        ('a', cast(1.5 as decimal(38, 9)), timestamp '2026-01-01T10:00:00', 'e2'), \
        ('a', cast(2.5 as decimal(38, 9)), timestamp '2026-01-01T12:00:00', 'e1'), \
        ('a', cast(3.5 as decimal(38, 9)), timestamp '2026-01-01T12:00:00', 'e3'), \
        ('a', cast(9.5 as decimal(38, 9)), cast(null as timestamp), 'e9'), \
        ('b', cast(null as decimal(38, 9)), timestamp '2026-01-02T00:00:00', 'e4'), \
        ('b', cast(4.0 as decimal(38, 9)), timestamp '2026-01-01T00:00:00', 'e5'), \
        ('d', cast(1.0 as decimal(38, 9)), timestamp '2026-01-01T00:00:00', cast(null as varchar)), \
        ('d', cast(2.0 as decimal(38, 9)), timestamp '2026-01-01T00:00:00', 'e8'), \
        ('c', cast(7.0 as decimal(38, 9)), cast(null as timestamp), 'e6')) \
        as t(k, q, ts, id)";

    #[tokio::test]
    async fn latest_row_wins_ties_by_tiebreak() {
        let sql = format!(
            "select k, latest_value(q, ts, id) as q, latest_value(id, ts, id) as id \
             from {ROWS} group by k order by k"
        );
        let lines = query(&sql).await;
        // a: two rows at 12:00, e3 wins; the row without ts is skipped.
        assert!(lines[3].contains("| a | 3.500000000 | e3 |"), "{lines:?}");
        // b: the latest row has a null value, which is the result.
        assert!(lines[4].contains("| b |             | e4 |"), "{lines:?}");
        // c: no row with a ts.
        assert!(lines[5].contains("| c |             |    |"), "{lines:?}");
        // d: a tie whose second row has no tiebreak, which counts as the greatest.
        assert!(lines[6].contains("| d | 1.000000000 |    |"), "{lines:?}");
    }

    #[tokio::test]
    async fn agrees_with_ordered_last_value() {
        let sql = format!(
            "select count(*) from (select k, latest_value(q, ts, id) as fast, \
             last_value(q order by ts, id) as plain from {ROWS} where ts is not null group by k) \
             where fast is distinct from plain"
        );
        let lines = query(&sql).await;
        assert!(lines[3].contains("| 0 "), "{lines:?}");
    }

    #[tokio::test]
    async fn works_without_group_by() {
        let sql =
            format!("select latest_value(q, ts, id) as q from {ROWS} where k <> 'b'");
        let lines = query(&sql).await;
        assert!(lines[3].contains("3.500000000"), "{lines:?}");
    }
}
