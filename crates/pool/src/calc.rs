//! `taonet calc swap`: one swap on a pool given on the command line, as the JSON object of
//! `shared/spec/interfaces.md`. The CLI crate only parses flags into [`CalcSwapArgs`] and prints
//! what [`calc_swap`] returns; on `Err`, it prints [`rejection_code`] to stderr and exits non-zero.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::perquintill::Perquintill;
use crate::pool::{Pool, SwapRequest, DEFAULT_FEE_RATE};
use crate::SwapError;

/// Default `--quote-weight`: 0.5 in Perquintill parts (constant product).
pub const DEFAULT_QUOTE_WEIGHT: u64 = 500_000_000_000_000_000;

/// The flags of `taonet calc swap`. Exactly one of `buy_with_tao` and `sell_alpha` must be set.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CalcSwapArgs {
    /// `--tao-reserve RAO`.
    pub tao_reserve: u64,
    /// `--alpha-reserve RAO`.
    pub alpha_reserve: u64,
    /// `--quote-weight PERQUINTILL` (parts of 10^18); default [`DEFAULT_QUOTE_WEIGHT`].
    pub quote_weight: u64,
    /// `--fee-rate U16` (parts of 65535); default 33.
    pub fee_rate: u16,
    /// `--buy-with-tao RAO`.
    pub buy_with_tao: Option<u64>,
    /// `--sell-alpha RAO`.
    pub sell_alpha: Option<u64>,
    /// `--limit-price U64` (`price × 10^9`); default: the side's default limit.
    pub limit_price: Option<u64>,
}

impl CalcSwapArgs {
    /// Arguments with the defaults and no order set.
    pub fn new(tao_reserve: u64, alpha_reserve: u64) -> Self {
        CalcSwapArgs {
            tao_reserve,
            alpha_reserve,
            quote_weight: DEFAULT_QUOTE_WEIGHT,
            fee_rate: DEFAULT_FEE_RATE,
            buy_with_tao: None,
            sell_alpha: None,
            limit_price: None,
        }
    }
}

/// Run the swap and render `{"amount_in", "amount_out", "fee", "tao_reserve_after",
/// "alpha_reserve_after", "price_after"}`; `price_after` is a decimal string (the shortest
/// decimal that reads back as the same `U64F64`), the rest are integers.
pub fn calc_swap(args: &CalcSwapArgs) -> Result<Value, SwapError> {
    if args.quote_weight > crate::ACCURACY {
        return Err(SwapError::InvalidArguments(format!(
            "--quote-weight {} exceeds 10^18",
            args.quote_weight
        )));
    }
    let pool = Pool::new(
        args.tao_reserve,
        args.alpha_reserve,
        Perquintill::from_parts(args.quote_weight),
        args.fee_rate,
    )?;
    let request = match (args.buy_with_tao, args.sell_alpha) {
        (Some(tao), None) => SwapRequest::buy(tao),
        (None, Some(alpha)) => SwapRequest::sell(alpha),
        _ => {
            return Err(SwapError::InvalidArguments(
                "give exactly one of --buy-with-tao and --sell-alpha".into(),
            ))
        }
    };
    let request = match args.limit_price {
        Some(limit) => request.with_limit(limit),
        None => request,
    };
    let r = pool.swap(request)?;
    Ok(json!({
        "amount_in": r.amount_in,
        "amount_out": r.amount_out,
        "fee": r.fee,
        "tao_reserve_after": r.tao_reserve_after,
        "alpha_reserve_after": r.alpha_reserve_after,
        "price_after": r.price_after.to_string(),
    }))
}

/// The chain's name of the rule that refused the swap, e.g. `"PriceLimitExceeded"`.
pub fn rejection_code(error: &SwapError) -> &'static str {
    match error {
        SwapError::ReservesTooLow => "ReservesTooLow",
        SwapError::SwapInputTooLarge => "SwapInputTooLarge",
        SwapError::PriceLimitExceeded => "PriceLimitExceeded",
        SwapError::InsufficientLiquidity => "InsufficientLiquidity",
        SwapError::ReservesOutOfBalance => "ReservesOutOfBalance",
        SwapError::AmountTooLow => "AmountTooLow",
        SwapError::ZeroMaxStakeAmount => "ZeroMaxStakeAmount",
        SwapError::InvalidArguments(_) => "InvalidArguments",
    }
}
