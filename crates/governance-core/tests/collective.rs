//! Proposals and votes (§2.2): the triumvirate proposes, the senate votes,
//! threshold ⌊n/2⌋+1 (one seat one vote) or more than half the senate's
//! root stake (stake-weighted), early close, expiry, veto; the bootstrap
//! admin key hands its powers to the collective.

mod common;

use common::*;
use governance_core::event::*;
use governance_core::*;

/// Senate of hk(1..=5) (coldkeys ck(1..=5)) with the given root stakes.
fn senate_world(weighting: VoteWeighting, stakes: [u64; 5]) -> Governance {
    let mut s = world_with(Config {
        vote_weighting: weighting,
        root_max_registrations_per_block: 10,
        root_target_registrations_per_interval: 10,
        ..no_rate_limit()
    });
    let entries: Vec<_> = (1..=5u8)
        .map(|i| (hk(i), stakes[usize::from(i) - 1]))
        .collect();
    run(&mut s, [root_stakes(&entries)]);
    for i in 1..=5u8 {
        run(
            &mut s,
            [signed(ck(i), CommandBody::RootRegister { hotkey: hk(i) })],
        );
    }
    assert_eq!(s.senate.len(), 5);
    s
}

fn propose(who: keys::AccountId, action: AdminAction, duration: u64) -> Command {
    signed(who, CommandBody::Propose { action, duration })
}

fn limit(n: u16) -> AdminAction {
    AdminAction::SetGlobal(GlobalParam::SubnetLimit(n))
}

fn vote(i: u8, id: u64, approve: bool) -> Command {
    signed(
        ck(i),
        CommandBody::Vote {
            hotkey: hk(i),
            id,
            approve,
        },
    )
}

fn close(id: u64) -> Command {
    signed(ck(9), CommandBody::Close { id })
}

#[test]
fn one_seat_one_vote_passes_with_a_majority_of_seats_and_executes() {
    let mut s = senate_world(VoteWeighting::OneSeatOneVote, [1, 1, 1, 1, 1_000]);
    let ev = run(&mut s, [propose(triumvir(0), limit(64), 3_600)]);
    assert!(matches!(&ev[0], GovernanceEvent::ProposalCreated(p)
        if p.id == 0 && p.threshold == 3 && p.voters.len() == 5 && p.end == 1 + 3_600));
    // the big staker alone is one seat of five
    run(&mut s, [vote(5, 0, true), vote(1, 0, true)]);
    rejects(&s, close(0), Rejection::TooEarlyToCloseProposal);
    run(&mut s, [vote(2, 0, true)]);
    let s = given(s).when(close(0)).then(&[
        GovernanceEvent::ProposalClosed(ProposalClosed {
            id: 0,
            outcome: ProposalOutcome::Approved,
            yes: 3,
            no: 0,
        }),
        GovernanceEvent::GlobalParamSet(GlobalParamSet {
            param: GlobalParam::SubnetLimit(64),
        }),
    ]);
    assert_eq!(s.config.subnet_limit, 64);
    assert!(s.proposals.is_empty());
}

#[test]
fn stake_weighted_votes_count_root_stake() {
    let mut s = senate_world(VoteWeighting::StakeWeighted, [100, 100, 100, 100, 1_000]);
    let ev = run(&mut s, [propose(triumvir(0), limit(64), 3_600)]);
    // total 1 400 ⇒ threshold 701
    assert!(matches!(&ev[0], GovernanceEvent::ProposalCreated(p) if p.threshold == 701));
    let ev = run(&mut s, [vote(5, 0, true)]);
    assert_eq!(
        ev,
        vec![GovernanceEvent::Voted(Voted {
            id: 0,
            hotkey: hk(5),
            approve: true,
            yes: 1_000,
            no: 0,
        })]
    );
    let (ev, _) = given(s).when(close(0)).then_ok();
    assert!(matches!(&ev[0], GovernanceEvent::ProposalClosed(c)
        if c.outcome == ProposalOutcome::Approved && c.yes == 1_000));

    // and four small senators cannot pass it against the big one
    let mut s = senate_world(VoteWeighting::StakeWeighted, [100, 100, 100, 100, 1_000]);
    run(
        &mut s,
        [
            propose(triumvir(0), limit(64), 3_600),
            vote(1, 0, true),
            vote(2, 0, true),
            vote(3, 0, true),
            vote(4, 0, true),
        ],
    );
    rejects(&s, close(0), Rejection::TooEarlyToCloseProposal);
    run(&mut s, [vote(5, 0, false)]);
    // 1 400 − 1 000 = 400 < 701: decided
    let (ev, _) = given(s).when(close(0)).then_ok();
    assert!(matches!(&ev[0], GovernanceEvent::ProposalClosed(c)
        if c.outcome == ProposalOutcome::Rejected && c.yes == 400 && c.no == 1_000));
}

#[test]
fn early_reject_and_expiry_count_abstentions_as_nay() {
    let mut s = senate_world(VoteWeighting::OneSeatOneVote, [1; 5]);
    run(
        &mut s,
        [
            propose(triumvir(0), limit(64), 3_600),
            vote(1, 0, false),
            vote(2, 0, false),
        ],
    );
    rejects(&s, close(0), Rejection::TooEarlyToCloseProposal);
    run(&mut s, [vote(3, 0, false)]);
    let (ev, mut s) = given(s).when(close(0)).then_ok();
    assert_eq!(ev.len(), 1, "rejected: nothing executes");
    assert_eq!(s.config.subnet_limit, 128);

    run(
        &mut s,
        [
            propose(triumvir(1), limit(32), 3_600),
            vote(1, 1, true),
            vote(2, 1, true),
        ],
    );
    advance_to(&mut s, 1 + 3_599);
    rejects(&s, close(1), Rejection::TooEarlyToCloseProposal);
    advance_to(&mut s, 1 + 3_600);
    let (ev, _) = given(s).when(close(1)).then_ok();
    assert!(matches!(&ev[0], GovernanceEvent::ProposalClosed(c)
        if c.outcome == ProposalOutcome::Rejected && c.yes == 2));
}

#[test]
fn votes_can_flip_but_not_repeat() {
    let mut s = senate_world(VoteWeighting::OneSeatOneVote, [1; 5]);
    run(
        &mut s,
        [propose(triumvir(0), limit(64), 3_600), vote(1, 0, true)],
    );
    rejects(&s, vote(1, 0, true), Rejection::DuplicateVote);
    let ev = run(&mut s, [vote(1, 0, false)]);
    assert!(matches!(&ev[0], GovernanceEvent::Voted(v) if v.yes == 0 && v.no == 1));
    rejects(&s, vote(1, 0, false), Rejection::DuplicateVote);
    rejects(&s, vote(1, 7, true), Rejection::ProposalNotExists);
    rejects(
        &s,
        signed(
            ck(2),
            CommandBody::Vote {
                hotkey: hk(1),
                id: 0,
                approve: true,
            },
        ),
        Rejection::NonAssociatedColdKey,
    );
    // a hotkey that is not in the senate
    run(
        &mut s,
        [signed(ck(7), CommandBody::RootRegister { hotkey: hk(7) })],
    );
    rejects(&s, vote(7, 0, true), Rejection::NotSenateMember);
}

#[test]
fn proposal_errors() {
    let mut s = senate_world(VoteWeighting::OneSeatOneVote, [1; 5]);
    rejects(&s, propose(ck(1), limit(64), 3_600), Rejection::NotMember);
    rejects(
        &s,
        propose(triumvir(0), limit(64), 3_599),
        Rejection::DurationLowerThanConfiguredMotionDuration,
    );
    run(&mut s, [propose(triumvir(0), limit(64), 3_600)]);
    rejects(
        &s,
        propose(triumvir(1), limit(64), 4_000),
        Rejection::DuplicateProposal,
    );
    for n in 1..10u16 {
        run(&mut s, [propose(triumvir(0), limit(n), 3_600)]);
    }
    rejects(
        &s,
        propose(triumvir(0), limit(99), 3_600),
        Rejection::TooManyActiveProposals,
    );
    rejects(&s, close(42), Rejection::ProposalNotExists);
}

#[test]
fn the_authority_vetoes_and_a_failed_action_is_reported() {
    let mut s = senate_world(VoteWeighting::OneSeatOneVote, [1; 5]);
    run(&mut s, [propose(triumvir(0), limit(64), 3_600)]);
    let s2 = given(s.clone())
        .when(admin_cmd(AdminAction::VetoProposal { id: 0 }))
        .then(&[GovernanceEvent::ProposalClosed(ProposalClosed {
            id: 0,
            outcome: ProposalOutcome::Vetoed,
            yes: 0,
            no: 0,
        })]);
    assert!(s2.proposals.is_empty());
    run(
        &mut s,
        [
            propose(
                triumvir(0),
                AdminAction::DissolveSubnet { netuid: 9 },
                3_600,
            ),
            vote(1, 1, true),
            vote(2, 1, true),
            vote(3, 1, true),
        ],
    );
    let (ev, _) = given(s).when(close(1)).then_ok();
    assert_eq!(
        ev[1],
        GovernanceEvent::ProposalExecutionFailed(ProposalExecutionFailed {
            id: 1,
            code: "SubnetNotExists".into(),
        })
    );
}

#[test]
fn a_passed_proposal_sets_a_hyperparameter_as_root() {
    let mut s = senate_world(VoteWeighting::OneSeatOneVote, [1; 5]);
    open_subnet(&mut s, ck(8), hk(8), "net");
    let action = AdminAction::SetHyperparameter {
        netuid: 1,
        param: Hyperparameter::Kappa(40_000),
    };
    run(
        &mut s,
        [
            propose(triumvir(2), action, 3_600),
            vote(1, 0, true),
            vote(2, 0, true),
            vote(3, 0, true),
        ],
    );
    let (ev, _) = given(s).when(close(0)).then_ok();
    assert_eq!(
        ev[1],
        GovernanceEvent::HyperparameterSet(HyperparameterSet {
            netuid: 1,
            param: Hyperparameter::Kappa(40_000),
            target: Target::Consensus,
            by_owner: false,
            block: 1,
        })
    );
}

#[test]
fn the_admin_hands_over_for_good() {
    let mut s = senate_world(VoteWeighting::OneSeatOneVote, [1; 5]);
    rejects(
        &s,
        signed(ck(1), CommandBody::HandOverToCollective),
        Rejection::BadOrigin,
    );
    let s2 = given(s.clone())
        .when(signed(admin(), CommandBody::HandOverToCollective))
        .then(&[GovernanceEvent::AuthorityHandedOver(AuthorityHandedOver {
            former_admin: admin(),
        })]);
    s = s2;
    assert_eq!(s.admin, None);
    rejects(&s, admin_cmd(limit(64)), Rejection::BadOrigin);
    rejects(
        &s,
        signed(admin(), CommandBody::HandOverToCollective),
        Rejection::BadOrigin,
    );
    // the collective still governs, including its own membership
    run(
        &mut s,
        [
            propose(
                triumvir(0),
                AdminAction::SetTriumvirate {
                    members: vec![triumvir(1)],
                },
                3_600,
            ),
            vote(1, 0, true),
            vote(2, 0, true),
            vote(3, 0, true),
            close(0),
        ],
    );
    assert_eq!(s.triumvirate, vec![triumvir(1)]);
    rejects(
        &s,
        propose(triumvir(0), limit(1), 3_600),
        Rejection::NotMember,
    );
}
