use std::collections::{BTreeMap, BTreeSet};

use super::memory::MemoryOrganization;
use super::*;

const ORG: &str = "o-abcdefghij";
const ROOT: &str = "r-ab12";
const MGMT: &str = "999999999999";
const PROD: &str = "ou-ab12-prod0001";
const TEAM: &str = "ou-ab12-team0001";
const DEEP: &str = "ou-ab12-deep0001";
const SANDBOX: &str = "ou-ab12-sand0001";

/// root ─┬─ prod ─┬─ team-a ─── deep      (three levels of OUs)
///       │        └ 111 (tagged), 777 (PENDING_CLOSURE), management
///       │  team-a: 222 (tagged), 555 (SUSPENDED, tagged)
///       │  deep:   333 (tagged), 444 (untagged), 666 (PENDING_ACTIVATION)
///       └─ sandbox: 888 (tagged, outside `prod`)
fn org() -> MemoryOrganization {
    let mut o = MemoryOrganization::new(ORG, ROOT, MGMT);
    o.add_ou(ROOT, PROD, "prod");
    o.add_ou(PROD, TEAM, "team-a");
    o.add_ou(TEAM, DEEP, "deep");
    o.add_ou(ROOT, SANDBOX, "sandbox");
    o.move_account(MGMT, PROD);
    o.add_account(PROD, "111111111111", "Prod Core", AccountState::Active);
    o.add_account(PROD, "777777777777", "Closing", AccountState::PendingClosure);
    o.add_account(TEAM, "222222222222", "Team A", AccountState::Active);
    o.add_account(TEAM, "555555555555", "Gone", AccountState::Suspended);
    o.add_account(DEEP, "333333333333", "Deep One", AccountState::Active);
    o.add_account(DEEP, "444444444444", "Deep Untagged", AccountState::Active);
    o.add_account(DEEP, "666666666666", "New", AccountState::PendingActivation);
    o.add_account(SANDBOX, "888888888888", "Sandbox", AccountState::Active);
    for a in ["111111111111", "222222222222", "333333333333", "555555555555", "888888888888", MGMT] {
        o.tag(a, "capa", "enabled");
    }
    o.tag("111111111111", "env", "prod");
    o.tag("333333333333", "env", "prod");
    o.tag("444444444444", "env", "prod");
    o
}

fn sel(ou: &str) -> Selector {
    Selector { ou: ou.to_string(), ..Selector::default() }
}

fn with_tags(mut s: Selector, tags: &[(&str, &str)]) -> Selector {
    s.tags = tags.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    s
}

fn ids(found: &[Found]) -> Vec<&str> {
    found.iter().map(|f| f.account.id.as_str()).collect()
}

async fn run(o: &MemoryOrganization, selectors: &[Selector]) -> Discovery {
    let d = discover(o, selectors).await.unwrap();
    assert_eq!(d.calls, o.call_count(), "discovery counts every call it makes: {:?}", o.calls());
    d
}

#[tokio::test]
async fn org_ou_selects_every_active_account_below_it_three_levels_deep() {
    let o = org();
    let d = run(&o, &[sel(PROD)]).await;
    assert_eq!(d.organization, OrgSummary { id: ORG.into(), management_account_id: MGMT.into() });
    assert_eq!(ids(&d.selected), ["111111111111", "222222222222", "333333333333", "444444444444"]);
    let paths: BTreeMap<&str, &str> = d.selected.iter().map(|f| (f.account.id.as_str(), f.ou_path.as_str())).collect();
    assert_eq!(paths["111111111111"], "o-abcdefghij/r-ab12/ou-ab12-prod0001/");
    assert_eq!(paths["222222222222"], "o-abcdefghij/r-ab12/ou-ab12-prod0001/ou-ab12-team0001/");
    assert_eq!(paths["333333333333"], "o-abcdefghij/r-ab12/ou-ab12-prod0001/ou-ab12-team0001/ou-ab12-deep0001/");
    assert!(d.selected.iter().all(|f| f.selector == 0 && f.also.is_empty() && f.tags.is_none()));

    // Not ACTIVE: reported with their state, never selected.
    let inactive: Vec<(&str, &AccountState)> =
        d.inactive.iter().map(|f| (f.account.id.as_str(), &f.account.state)).collect();
    assert_eq!(
        inactive,
        [
            ("555555555555", &AccountState::Suspended),
            ("666666666666", &AccountState::PendingActivation),
            ("777777777777", &AccountState::PendingClosure),
        ]
    );
    assert_eq!(d.excluded, [Excluded { account_id: MGMT.into(), selector: 0, reason: ExclusionReason::Management }]);
    assert_eq!(d.selectors, [SelectorCount { matched: 4, selected: 4, inactive: 3, below: 8 }]);

    // No tag filter: no tag read. Outside `prod` nothing is listed.
    assert_eq!(o.calls_of("ListTagsForResource"), 0);
    assert_eq!(o.listed_parents(), BTreeSet::from([PROD.to_string(), TEAM.to_string(), DEEP.to_string()]));
    // DescribeOrganization, ListParents(prod) → root, then two List calls per OU.
    assert_eq!(o.calls_of("DescribeOrganization"), 1);
    assert_eq!(o.calls_of("ListParents"), 1);
    assert_eq!(o.calls_of("ListAccountsForParent"), 3);
    assert_eq!(o.calls_of("ListOrganizationalUnitsForParent"), 3);
    assert_eq!(d.calls, 8);
}

#[tokio::test]
async fn org_tags_must_all_match_and_are_read_only_for_active_candidates() {
    let o = org();
    let d = run(&o, &[with_tags(sel(PROD), &[("capa", "enabled"), ("env", "prod")])]).await;
    assert_eq!(ids(&d.selected), ["111111111111", "333333333333"]);
    let tags = d.selected[0].tags.as_ref().unwrap();
    assert_eq!(tags.get("env").map(String::as_str), Some("prod"));
    // 222 has capa but not env, 444 env but not capa: neither selected.
    assert_eq!(d.selectors[0].matched, 2);
    // Suspended, pending and the management account: tags never read.
    let read = o.tags_read();
    assert_eq!(
        read,
        ["111111111111", "222222222222", "333333333333", "444444444444"].map(String::from).into_iter().collect()
    );
    assert_eq!(o.calls_of("ListTagsForResource"), 4);
    // Inactive accounts are reported whatever their tags.
    assert_eq!(ids(&d.inactive), ["555555555555", "666666666666", "777777777777"]);
}

#[tokio::test]
async fn org_except_and_management_are_never_selected() {
    let o = org();
    let mut s = sel(PROD);
    s.except = BTreeSet::from(["222222222222".to_string(), "555555555555".to_string()]);
    let d = run(&o, &[s]).await;
    assert_eq!(ids(&d.selected), ["111111111111", "333333333333", "444444444444"]);
    // An excepted account is not reported as inactive either.
    assert_eq!(ids(&d.inactive), ["666666666666", "777777777777"]);
    let mut excluded: Vec<(&str, ExclusionReason)> =
        d.excluded.iter().map(|e| (e.account_id.as_str(), e.reason)).collect();
    excluded.sort();
    assert_eq!(
        excluded,
        [
            ("222222222222", ExclusionReason::Except),
            ("555555555555", ExclusionReason::Except),
            (MGMT, ExclusionReason::Management)
        ]
    );

    // The management account even where a tag selects it, and under the root.
    let d = run(&org(), &[with_tags(sel(ROOT), &[("capa", "enabled")])]).await;
    assert!(!ids(&d.selected).contains(&MGMT));
    assert_eq!(ids(&d.selected), ["111111111111", "222222222222", "333333333333", "888888888888"]);
}

#[tokio::test]
async fn org_a_nested_ou_gets_its_path_from_list_parents() {
    let o = org();
    let d = run(&o, &[sel(DEEP)]).await;
    assert_eq!(ids(&d.selected), ["333333333333", "444444444444"]);
    assert_eq!(d.selected[0].ou_path, "o-abcdefghij/r-ab12/ou-ab12-prod0001/ou-ab12-team0001/ou-ab12-deep0001/");
    assert_eq!(o.calls_of("ListParents"), 3, "deep → team-a → prod → root");
    assert_eq!(o.listed_parents(), BTreeSet::from([DEEP.to_string()]));

    // The root as a selector: the whole organization, no ListParents at all.
    let o = org();
    let d = run(&o, &[sel(ROOT)]).await;
    assert_eq!(o.calls_of("ListParents"), 0);
    assert_eq!(ids(&d.selected), ["111111111111", "222222222222", "333333333333", "444444444444", "888888888888"]);
    assert_eq!(d.selected[4].ou_path, "o-abcdefghij/r-ab12/ou-ab12-sand0001/");
}

#[tokio::test]
async fn org_an_account_under_two_selectors_is_selected_once_for_the_first() {
    let o = org();
    let d = run(&o, &[with_tags(sel(PROD), &[("capa", "enabled")]), sel(TEAM)]).await;
    assert_eq!(ids(&d.selected), ["111111111111", "222222222222", "333333333333", "444444444444"]);
    let by: BTreeMap<&str, (usize, &[usize])> =
        d.selected.iter().map(|f| (f.account.id.as_str(), (f.selector, f.also.as_slice()))).collect();
    assert_eq!(by["111111111111"], (0, &[][..]));
    assert_eq!(by["222222222222"], (0, &[1][..]));
    assert_eq!(by["333333333333"], (0, &[1][..]));
    assert_eq!(by["444444444444"], (1, &[][..]));
    assert_eq!(d.selectors[0], SelectorCount { matched: 3, selected: 3, inactive: 3, below: 8 });
    assert_eq!(d.selectors[1], SelectorCount { matched: 3, selected: 1, inactive: 2, below: 5 });
    assert!(d.empty_selectors().is_empty());
    // team-a was walked under prod: listed once, and its path needed no ListParents.
    assert_eq!(o.calls_of("ListAccountsForParent"), 3);
    assert_eq!(o.calls_of("ListParents"), 1);
    // Inactive accounts once, for the first selector.
    assert_eq!(ids(&d.inactive), ["555555555555", "666666666666", "777777777777"]);
    assert!(d.inactive.iter().all(|f| f.selector == 0));
}

#[tokio::test]
async fn org_a_selector_that_finds_nothing_is_named() {
    let o = org();
    let d = run(&o, &[sel(TEAM), with_tags(sel(SANDBOX), &[("capa", "disabled")])]).await;
    assert_eq!(d.empty_selectors(), [1]);
    assert_eq!(d.selectors[1], SelectorCount { matched: 0, selected: 0, inactive: 0, below: 1 });
    // Tags are read only for the selector that filters by them.
    assert_eq!(o.tags_read(), BTreeSet::from(["888888888888".to_string()]));
}

#[tokio::test]
async fn org_every_page_is_followed_empty_ones_included() {
    let plain = run(&org(), &[with_tags(sel(ROOT), &[("capa", "enabled")])]).await;
    for o in [org().page_size(1), org().page_size(2).empty_pages(), org().page_size(1).empty_pages()] {
        let d = run(&o, &[with_tags(sel(ROOT), &[("capa", "enabled")])]).await;
        assert_eq!(d.selected, plain.selected);
        assert_eq!(d.inactive, plain.inactive);
        assert_eq!(d.selectors, plain.selectors);
        assert!(d.calls > plain.calls, "{} pages vs {}", d.calls, plain.calls);
    }
    // Page size 1 with empty pages: a list of n items takes 2n calls (an empty page first, then
    // one between every two items, none after the last), an empty list 2 (empty, then empty).
    let o = org().page_size(1).empty_pages();
    let d = run(&o, &[sel(TEAM)]).await;
    assert_eq!(ids(&d.selected), ["222222222222", "333333333333", "444444444444"]);
    // team-a: 2 accounts (4 calls), 1 OU (2); deep: 3 accounts (6), no OU (2).
    assert_eq!(o.calls_of("ListAccountsForParent"), 4 + 6);
    assert_eq!(o.calls_of("ListOrganizationalUnitsForParent"), 2 + 2);
    // ListParents: team-a → prod, prod → root, one parent each: 2 calls each.
    assert_eq!(o.calls_of("ListParents"), 4);
}

#[tokio::test]
async fn org_errors_stop_discovery() {
    let o = org();
    let err = discover(&o, &[sel(PROD), sel("ou-ab12-missing1")]).await.unwrap_err();
    assert!(matches!(&err, OrgError::NotFound { .. }), "{err:?}");

    for bad in [
        Selector { ou: "prod".into(), ..Selector::default() },
        Selector { ou: "ou-".into(), ..Selector::default() },
        Selector { except: BTreeSet::from(["12345".to_string()]), ..sel(PROD) },
    ] {
        let o = org();
        let err = discover(&o, &[bad]).await.unwrap_err();
        assert!(matches!(&err, OrgError::InvalidSelector { .. }), "{err:?}");
        assert_eq!(o.call_count(), 0, "a bad selector is refused before any call");
    }
}

#[test]
fn org_account_state_falls_back_to_status() {
    assert_eq!(AccountState::from_api(Some("CLOSED"), Some("SUSPENDED")), AccountState::Closed);
    assert_eq!(AccountState::from_api(None, Some("SUSPENDED")), AccountState::Suspended);
    assert_eq!(AccountState::from_api(Some(""), Some("ACTIVE")), AccountState::Active);
    assert_eq!(AccountState::from_api(None, Some("PENDING_CLOSURE")), AccountState::PendingClosure);
    assert_eq!(AccountState::from_api(Some("PENDING_ACTIVATION"), None), AccountState::PendingActivation);
    assert_eq!(AccountState::from_api(None, None), AccountState::Unknown(String::new()));
    assert_eq!(AccountState::from_api(Some("MOVING"), None).as_str(), "MOVING");
}

fn acct(id: &str, name: &str) -> Account {
    Account { id: id.into(), name: name.into(), email: None, state: AccountState::Active }
}

#[test]
fn org_workload_names_are_valid_and_stable() {
    let long = "A".repeat(80);
    let cases = [
        ("Prod Core", "prod-core"),
        ("team_a.eu-west-1", "team-a-eu-west-1"),
        ("  --Dev--  ", "dev"),
        ("2024 Sandbox", "account-2024-sandbox"),
        ("Été 2024", "t-2024"),
        ("!!!", "account-111111111111"),
        ("", "account-111111111111"),
    ];
    for (name, want) in cases {
        let got = base_workload_name(&acct("111111111111", name));
        assert_eq!(got, want, "{name:?}");
        xacct_spec::rules::workload_name(&got).unwrap();
    }
    let cut = base_workload_name(&acct("111111111111", &long));
    assert_eq!(cut.len(), 63);
    // A cut that ends on a separator drops it.
    let name = format!("{}-x", "a".repeat(62));
    assert_eq!(base_workload_name(&acct("111111111111", &name)), "a".repeat(62));
}

#[test]
fn org_colliding_names_get_the_account_id_and_the_lowest_id_keeps_the_plain_name() {
    let accounts = [
        acct("333333333333", "Team A"),
        acct("111111111111", "team-a"),
        acct("222222222222", "TEAM_A"),
        acct("444444444444", "team-a-333333333333"),
        acct("555555555555", "Management"),
        acct("666666666666", &"b".repeat(70)),
        acct("777777777777", &"b".repeat(63)),
    ];
    let names = workload_names(&accounts);
    assert_eq!(names["111111111111"], "team-a");
    assert_eq!(names["222222222222"], "team-a-222222222222");
    // Its suffixed name is an account's own name: the fallback.
    assert_eq!(names["444444444444"], "team-a-333333333333");
    assert_eq!(names["333333333333"], "account-333333333333");
    assert_eq!(names["555555555555"], "management-555555555555", "`management` is reserved");
    assert_eq!(names["666666666666"], "b".repeat(63));
    assert_eq!(names["777777777777"], format!("{}-777777777777", "b".repeat(50)));
    let unique: BTreeSet<&String> = names.values().collect();
    assert_eq!(unique.len(), accounts.len());
    for n in names.values() {
        xacct_spec::rules::workload_name(n).unwrap();
    }
    // Order does not matter.
    let mut reversed = accounts.to_vec();
    reversed.reverse();
    assert_eq!(workload_names(&reversed), names);
}
