//! A small dependency graph over addresses (petgraph underneath). It knows nothing of AWS: nodes
//! are addresses, an edge `a → b` means `b` depends on `a`.

use std::collections::{BTreeMap, HashSet};

use petgraph::algo::toposort;
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::Direction;

use crate::address::Address;

#[derive(Clone, Debug, Default)]
pub struct Graph {
    g: DiGraph<Address, ()>,
    index: BTreeMap<Address, NodeIndex>,
    /// The edges, for a constant-time duplicate check (petgraph's `update_edge` scans the
    /// node's edges: quadratic for the management role, which every trust depends on).
    edges: HashSet<(NodeIndex, NodeIndex)>,
}

impl Graph {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, a: Address) -> NodeIndex {
        self.node(&a)
    }

    fn node(&mut self, a: &Address) -> NodeIndex {
        if let Some(i) = self.index.get(a) {
            return *i;
        }
        let i = self.g.add_node(a.clone());
        self.index.insert(a.clone(), i);
        i
    }

    /// `dependent` runs after `dependency`.
    pub fn depends_on(&mut self, dependent: &Address, dependency: &Address) {
        let a = self.node(dependency);
        let b = self.node(dependent);
        if self.edges.insert((a, b)) {
            self.g.add_edge(a, b, ());
        }
    }

    pub fn contains(&self, a: &Address) -> bool {
        self.index.contains_key(a)
    }

    pub fn len(&self) -> usize {
        self.g.node_count()
    }

    pub fn is_empty(&self) -> bool {
        self.g.node_count() == 0
    }

    /// What `a` depends on, sorted.
    pub fn dependencies(&self, a: &Address) -> Vec<Address> {
        self.neighbors(a, Direction::Incoming)
    }

    /// What depends on `a`, sorted.
    pub fn dependents(&self, a: &Address) -> Vec<Address> {
        self.neighbors(a, Direction::Outgoing)
    }

    fn neighbors(&self, a: &Address, dir: Direction) -> Vec<Address> {
        let Some(i) = self.index.get(a) else { return Vec::new() };
        let mut v: Vec<Address> = self.g.neighbors_directed(*i, dir).map(|n| self.g[n].clone()).collect();
        v.sort();
        v
    }

    /// Addresses grouped into levels: everything in a level depends only on earlier levels.
    /// Within a level, addresses are sorted.
    pub fn levels(&self) -> Vec<Vec<Address>> {
        let order = toposort(&self.g, None).expect("the resource graph has no cycles");
        let mut depth: BTreeMap<NodeIndex, usize> = BTreeMap::new();
        for n in &order {
            let d = self.g.neighbors_directed(*n, Direction::Incoming).map(|p| depth[&p] + 1).max().unwrap_or(0);
            depth.insert(*n, d);
        }
        let mut levels: Vec<Vec<Address>> = Vec::new();
        for (n, d) in depth {
            if levels.len() <= d {
                levels.resize(d + 1, Vec::new());
            }
            levels[d].push(self.g[n].clone());
        }
        for l in &mut levels {
            l.sort();
        }
        levels
    }

    /// Graphviz DOT.
    pub fn to_dot(&self) -> String {
        let mut out = String::from("digraph xacct {\n  rankdir=LR;\n  node [shape=box];\n");
        for level in self.levels() {
            for a in level {
                out.push_str(&format!("  {};\n", quote(&a.to_string())));
            }
        }
        for e in self.sorted_edges() {
            out.push_str(&format!("  {} -> {};\n", quote(&e.0.to_string()), quote(&e.1.to_string())));
        }
        out.push_str("}\n");
        out
    }

    /// A Mermaid flowchart.
    pub fn to_mermaid(&self) -> String {
        let mut ids = BTreeMap::new();
        let mut out = String::from("flowchart LR\n");
        for (i, a) in self.levels().into_iter().flatten().enumerate() {
            out.push_str(&format!("  n{i}[\"{}\"]\n", a.to_string().replace('"', "#quot;")));
            ids.insert(a, i);
        }
        for (a, b) in self.sorted_edges() {
            out.push_str(&format!("  n{} --> n{}\n", ids[&a], ids[&b]));
        }
        out
    }

    fn sorted_edges(&self) -> Vec<(Address, Address)> {
        let mut edges: Vec<(Address, Address)> = self
            .g
            .edge_indices()
            .filter_map(|e| self.g.edge_endpoints(e))
            .map(|(a, b)| (self.g[a].clone(), self.g[b].clone()))
            .collect();
        edges.sort();
        edges
    }
}

fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_respect_dependencies() {
        let mut g = Graph::new();
        let role = Address::Role("dev".into());
        let trust = Address::Trust("dev".into());
        let m = Address::Manifest { workload: "dev".into(), path: "a.yaml".into() };
        g.depends_on(&m, &trust);
        g.depends_on(&trust, &role);
        assert_eq!(g.levels(), vec![vec![role.clone()], vec![trust.clone()], vec![m.clone()]]);
        assert_eq!(g.dependencies(&trust), vec![role]);
        assert_eq!(g.dependents(&trust), vec![m]);
        assert!(g.to_dot().contains("\"trust.dev\" -> \"manifest.dev[\\\"a.yaml\\\"]\""));
        assert!(g.to_mermaid().starts_with("flowchart LR\n"));
    }
}
