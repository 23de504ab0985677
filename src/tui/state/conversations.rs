//! The session's conversations as the screen shows them: which conversation each exchange is
//! in (from `analysis`), and each conversation's running tokens, cost and context gauge, kept
//! up to date as exchanges start and finish so drawing a header row adds nothing up.

use std::collections::HashMap;

use crate::analysis::{
    Conversation, ConversationId, ConversationKind, Conversations, Cost, Gauge, PriceTable,
    RequestShape, Tokens,
};
use crate::capture::{ExchangeId, ExchangeStart};
use crate::llm::{decode_request, DecodedRequest, Dialect, Usage};

/// A conversation's figures so far.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tally {
    pub tokens: Tokens,
    pub cost: Cost,
    /// The latest finished request's prompt against its model's window.
    pub gauge: Option<Gauge>,
    /// The latest request's model.
    pub model: Option<String>,
}

/// What grouping needs of a request, when its body was not decoded already.
pub fn shape_of(start: &ExchangeStart) -> RequestShape {
    let decoded = decode_request(start.dialect, &start.request.body);
    let request = &start.request;
    RequestShape::of(&request.uri, &request.headers, decoded.as_ref())
}

/// Conversations, their tallies and the session's.
#[derive(Debug, Clone, Default)]
pub struct ConversationBook {
    grouping: Conversations,
    tallies: HashMap<ConversationId, Tally>,
    session: Tally,
    prices: PriceTable,
}

impl ConversationBook {
    pub fn new(prices: PriceTable) -> Self {
        Self {
            prices,
            ..Self::default()
        }
    }

    pub fn set_prices(&mut self, prices: PriceTable) {
        self.prices = prices;
    }

    /// Files a starting exchange; `decoded` saves decoding its body again when the caller
    /// has it. Returns its conversation and kind.
    pub fn started(
        &mut self,
        start: &ExchangeStart,
        decoded: Option<&DecodedRequest>,
    ) -> (ConversationId, ConversationKind) {
        let own;
        let decoded = match decoded {
            Some(decoded) => Some(decoded),
            None => {
                own = decode_request(start.dialect, &start.request.body);
                own.as_ref()
            }
        };
        let request = &start.request;
        let shape = RequestShape::of(&request.uri, &request.headers, decoded);
        let lineage = &start.lineage;
        let host = lineage.parent.or(lineage.repeats).or(lineage.beneath);
        self.observe(start.id, &shape, host)
    }

    /// Files exchange `id`, reduced to `shape`, under its conversation; `host` is the exchange
    /// it was resent from, repeats or serves, whose conversation it joins.
    pub fn observe(
        &mut self,
        id: ExchangeId,
        shape: &RequestShape,
        host: Option<ExchangeId>,
    ) -> (ConversationId, ConversationKind) {
        let id = self.grouping.observe(id, shape, host);
        let kind = self
            .grouping
            .get(id)
            .map_or(ConversationKind::Main, |c| c.kind);
        (id, kind)
    }

    /// Adds a finished exchange's usage to its conversation and the session. Provider calls
    /// (`beneath`) are left out: the agent's own exchange already counts those tokens.
    pub fn finished(
        &mut self,
        id: ExchangeId,
        dialect: Dialect,
        model: Option<&str>,
        usage: &Usage,
        beneath: bool,
    ) {
        // A reply that reported no usage (an error, an old record) is not an unpriced call.
        if beneath || *usage == Usage::default() {
            return;
        }
        let tokens = Tokens::from_usage(dialect, usage);
        let cost = Cost::of(&self.prices, model, &tokens);
        let gauge = Gauge::of(&self.prices, model, tokens.context());
        self.session.tokens += tokens;
        self.session.cost += cost;
        let Some(conversation) = self.grouping.of(id).map(|c| c.id) else {
            return;
        };
        let tally = self.tallies.entry(conversation).or_default();
        tally.tokens += tokens;
        tally.cost += cost;
        tally.model = model.map(str::to_string);
        if tokens.context() > 0 {
            tally.gauge = gauge;
        }
    }

    pub fn of(&self, id: ExchangeId) -> Option<&Conversation> {
        self.grouping.of(id)
    }

    pub fn get(&self, id: ConversationId) -> Option<&Conversation> {
        self.grouping.get(id)
    }

    pub fn tally(&self, id: ConversationId) -> Option<&Tally> {
        self.tallies.get(&id)
    }

    /// The whole session's tokens and cost.
    pub fn session(&self) -> &Tally {
        &self.session
    }

    /// The exchange before `id` in its conversation.
    pub fn previous(&self, id: ExchangeId) -> Option<ExchangeId> {
        self.grouping.previous(id)
    }

    pub fn prices(&self) -> &PriceTable {
        &self.prices
    }
}
